"""Every kind of wrong file or argument: one line on stderr, exit 2, no traceback, nothing left behind.

Each case runs the real command in a subprocess. Graph-file cases run against ``scan``,
``inspect`` and ``run``; all of them are answered before TensorFlow starts, so they are fast.

We run as root in CI, where ``chmod`` does not stop writes; an unwritable output directory
is therefore made as a path *under a regular file* (and as a directory that does not exist).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import assert_one_line_error, run_cli

GRAPH_COMMANDS = ["scan", "inspect", "run"]


def snapshot(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def call_on_graph(command: str, graph: Path, tmp_path: Path, *extra: str):
    if command == "run":
        x = tmp_path / "x.npy"
        if not x.exists():
            np.save(x, np.zeros((2, 8, 8, 1), np.float32))
        return run_cli("run", graph, "--input", x, "-o", tmp_path / "y.npy", *extra)
    return run_cli(command, graph, *extra)


# --- files that are not a GraphDef ---------------------------------------------------------

ONNX_BYTES = b"\x08\x08\x12\x07pytorch\x1a\x052.3.0:\x10\n\x0e\n\x01x\x12\x01y\x1a\x04Relu\"\x04ReluB\x02\x10\x11"
TFLITE_BYTES = b"\x1c\x00\x00\x00TFL3\x00\x00\x12\x00\x1c\x00\x04\x00\x08\x00" + bytes(64)
HDF5_BYTES = b"\x89HDF\r\n\x1a\n" + bytes(64)


def make_bad_graph(kind: str, folder: Path, saved_pb: Path) -> Path:
    good = saved_pb.read_bytes()
    path = folder / f"{kind}.pb"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif kind == "cut_at_node":  # whole nodes missing: it parses, only the dangling edges show the damage
        from graphfreeze_helpers.graphfile import read_graph_def

        graph_def = read_graph_def(saved_pb)
        del graph_def.node[1 : len(graph_def.node) // 2]
        path.write_bytes(graph_def.SerializeToString())
    elif kind == "random":
        path.write_bytes(np.random.default_rng(0).bytes(4096))
    elif kind == "savedmodel":
        path = folder / "saved_model_dir"
        path.mkdir()
        (path / "saved_model.pb").write_bytes(b"\x08\x01\x12\x00")
        (path / "variables").mkdir()
    elif kind == "keras":
        path = folder / "model.keras"
        path.write_bytes(b"PK\x03\x04" + bytes(60))
    elif kind == "h5":
        path = folder / "model.h5"
        path.write_bytes(HDF5_BYTES)
    elif kind == "onnx":
        path = folder / "model.onnx"
        path.write_bytes(ONNX_BYTES)
    elif kind == "tflite":
        path = folder / "model.tflite"
        path.write_bytes(TFLITE_BYTES)
    elif kind == "bad_pbtxt":
        path = folder / "broken.pbtxt"
        path.write_text('node { name: "x" op: "Placeholder" \n  attr { key: "dtype" value { type: DT_FLOAT }\n')
    elif kind == "missing":
        path = folder / "nowhere.pb"
    elif kind == "sha_mismatch":
        path = folder / "tampered.pb"
        damaged = bytearray(good)
        damaged[len(damaged) // 2] ^= 0x01  # one bit in a weight: still parses, hash differs
        path.write_bytes(bytes(damaged))
        shutil.copy(saved_pb.with_suffix(".json"), path.with_suffix(".json"))
    else:
        raise AssertionError(kind)
    return path


BAD_GRAPHS = {
    "empty": "empty file",
    "truncated": "truncated",
    "cut_at_node": "truncated",
    "random": "not a graphdef",
    "savedmodel": "savedmodel directory",
    "keras": ".keras",
    "h5": "hdf5",
    "onnx": "onnx",
    "tflite": "tflite",
    "bad_pbtxt": "pbtxt",
    "missing": "does not exist",
    "sha_mismatch": "sha256",
}


@pytest.mark.parametrize("command", GRAPH_COMMANDS)
@pytest.mark.parametrize("kind", sorted(BAD_GRAPHS))
def test_bad_graph_file(kind, command, tmp_path, saved_pb):
    folder = tmp_path / "in"
    folder.mkdir()
    graph = make_bad_graph(kind, folder, saved_pb)
    np.save(tmp_path / "x.npy", np.zeros((2, 8, 8, 1), np.float32))
    before = snapshot(tmp_path)
    result = call_on_graph(command, graph, tmp_path)
    line = assert_one_line_error(result, 2, BAD_GRAPHS[kind])
    assert "tensorflow" not in result.stderr.lower() or kind == "savedmodel", line
    assert snapshot(tmp_path) == before


def test_text_pbtxt_is_read(saved_pb, tmp_path):
    from google.protobuf import text_format

    from graphfreeze_helpers.graphfile import read_graph_def

    text = tmp_path / "digits.pbtxt"
    text.write_text(text_format.MessageToString(read_graph_def(saved_pb)))
    for command in ("scan", "inspect"):
        result = run_cli(command, text, "--json")
        assert result.returncode == 0, result.stderr
    # Beside the binary's sidecar (whose sha256 is of the .pb bytes), the text form still runs.
    shutil.copy(saved_pb.with_suffix(".json"), text.with_suffix(".json"))
    np.save(tmp_path / "x.npy", np.zeros((3, 8, 8, 1), np.float32))
    result = run_cli("run", text, "--input", tmp_path / "x.npy", "-o", tmp_path / "y.npy")
    assert result.returncode == 0, result.stderr
    assert np.load(tmp_path / "y.npy").shape == (3, 10)


def test_real_keras_file_where_pb_is_expected(keras_file, tmp_path):
    assert_one_line_error(run_cli("scan", keras_file), 2, "freeze it first")


# --- tensors: names, shapes, dtypes --------------------------------------------------------


def test_wrong_input_name_lists_real_names_and_suggests(saved_pb, tmp_path):
    line = assert_one_line_error(call_on_graph("run", saved_pb, tmp_path, "--inputs", "imag"), 2, "did you mean")
    assert "'image:0'" in line and "inputs are" in line


def test_wrong_output_name_lists_real_names_and_suggests(saved_pb, tmp_path):
    from graphfreeze_helpers.graphfile import read_sidecar

    real = read_sidecar(saved_pb)["outputs"][0]["name"]
    wrong = real.replace(":0", "x:0")
    line = assert_one_line_error(call_on_graph("run", saved_pb, tmp_path, "--outputs", wrong), 2, "did you mean")
    assert repr(real) in line


def test_wrong_shape_gives_expected_and_actual(saved_pb, tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((2, 9, 8, 1), np.float32))
    line = assert_one_line_error(call_on_graph("run", saved_pb, tmp_path), 2, "shape")
    assert "(None, 8, 8, 1)" in line and "(2, 9, 8, 1)" in line


def test_wrong_dtype_gives_expected_and_actual(saved_pb, tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((2, 8, 8, 1), bool))
    line = assert_one_line_error(call_on_graph("run", saved_pb, tmp_path), 2, "dtype")
    assert "float32" in line and "bool" in line


# --- outputs -------------------------------------------------------------------------------


def test_existing_output_is_not_overwritten(saved_pb, tmp_path):
    out = tmp_path / "y.npy"
    out.write_bytes(b"keep me")
    assert_one_line_error(call_on_graph("run", saved_pb, tmp_path), 2, "--force")
    assert out.read_bytes() == b"keep me"


@pytest.mark.parametrize("where", ["under_a_file", "missing_dir"])
def test_unwritable_output_directory(where, saved_pb, keras_file, tmp_path):
    # chmod cannot stop root, so the "directory" is a regular file, or does not exist.
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a directory")
    out_dir = blocker if where == "under_a_file" else tmp_path / "no" / "such"
    np.save(tmp_path / "x.npy", np.zeros((2, 8, 8, 1), np.float32))
    before = snapshot(tmp_path)
    expected = "not a directory" if where == "under_a_file" else "does not exist"
    for args in (
        ("run", saved_pb, "--input", tmp_path / "x.npy", "-o", out_dir / "y.npy"),
        ("freeze", keras_file, "-o", out_dir / "model.pb"),
    ):
        assert_one_line_error(run_cli(*args), 2, expected)
    assert snapshot(tmp_path) == before


def test_missing_model_file_for_freeze(tmp_path):
    assert_one_line_error(run_cli("freeze", tmp_path / "nope.keras", "-o", tmp_path / "o.pb"), 2, "does not exist")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("kind", ["onnx", "tflite", "random"])
def test_freeze_says_what_a_wrong_model_file_is(kind, tmp_path, saved_pb):
    folder = tmp_path / "in"
    folder.mkdir()
    model = make_bad_graph(kind, folder, saved_pb)
    before = snapshot(tmp_path)
    assert_one_line_error(run_cli("freeze", model, "-o", tmp_path / "o.pb"), 2, "not a .keras or .h5")
    assert snapshot(tmp_path) == before
