"""The graphfreeze command as a user runs it: in a subprocess, with files on disk."""

import json
import os

import numpy as np
import pytest

from conftest import assert_one_line_error, assert_refusal, run_cli


def test_help_lists_subcommands():
    result = run_cli("--help")
    assert result.returncode == 0
    for name in ("freeze", "run"):
        assert name in result.stdout


def test_freeze_json_contract(keras_file, tmp_path):
    out = tmp_path / "model.pb"
    result = run_cli("freeze", keras_file, "-o", out, "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # TensorFlow's start-up lines are quieted
    payload = json.loads(result.stdout)
    assert set(payload) == {"output", "inputs", "outputs", "nodes", "bytes", "max_abs_diff", "loader"}
    assert payload["loader"] == "keras.models.load_model"
    assert payload["output"] == str(out)
    assert payload["inputs"] == [{"name": "image:0", "dtype": "float32", "shape": [None, 8, 8, 1]}]
    assert payload["outputs"][0]["shape"] == [None, 10]
    assert payload["bytes"] == out.stat().st_size
    assert payload["max_abs_diff"] <= 1e-5
    assert (tmp_path / "model.json").is_file()


def test_freeze_text_report_with_real_inputs(keras_file, digits, tmp_path):
    x = tmp_path / "x.npy"
    np.save(x, digits.x_test[:16])
    result = run_cli("freeze", keras_file, "-o", tmp_path / "m.pb", "--input", x)
    assert result.returncode == 0, result.stderr
    for word in ("input   image:0", "output  Identity:0", "nodes", "size", "max |frozen - original|"):
        assert word in result.stdout


def test_freeze_savedmodel_directory(trained_model, tmp_path):
    trained_model.export(str(tmp_path / "sm"), verbose=False)
    result = run_cli("freeze", tmp_path / "sm", "-o", tmp_path / "sm.pb", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["nodes"] > 10


def test_freeze_never_overwrites_without_force(keras_file, tmp_path):
    out = tmp_path / "m.pb"
    out.write_bytes(b"precious")
    assert_one_line_error(run_cli("freeze", keras_file, "-o", out), 2, "already exists")
    assert out.read_bytes() == b"precious"
    assert sorted(os.listdir(tmp_path)) == ["m.pb"]
    assert run_cli("freeze", keras_file, "-o", out, "--force").returncode == 0
    assert out.read_bytes() != b"precious"


def test_existing_sidecar_also_blocks(keras_file, tmp_path):
    (tmp_path / "m.json").write_text("{}")
    assert_one_line_error(run_cli("freeze", keras_file, "-o", tmp_path / "m.pb"), 2, "m.json")
    assert sorted(os.listdir(tmp_path)) == ["m.json"]


def test_freeze_missing_model(tmp_path):
    assert_one_line_error(run_cli("freeze", tmp_path / "nope.keras", "-o", tmp_path / "m.pb"), 2, "does not exist")
    assert os.listdir(tmp_path) == []


def test_freeze_corrupt_model_leaves_nothing(tmp_path):
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"\x00" * 100)
    assert_one_line_error(run_cli("freeze", bad, "-o", tmp_path / "m.pb"), 2, "cannot load")
    assert os.listdir(tmp_path) == ["bad.keras"]


def test_freeze_input_of_wrong_shape_is_one_line(keras_file, tmp_path):
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((2, 3), np.float32))
    line = assert_one_line_error(run_cli("freeze", keras_file, "-o", tmp_path / "m.pb", "--input", x), 2, "wants shape")
    assert "(None, 8, 8, 1)" in line and "(2, 3)" in line
    assert os.listdir(tmp_path) == ["x.npy"]


@pytest.mark.parametrize("command", [["freeze", "MODEL"], ["optimize", "GRAPH"], ["export", "GRAPH", "--to", "opencv"]])
def test_json_output_name_would_be_its_own_sidecar(command, keras_file, saved_pb, tmp_path):
    args = [{"MODEL": keras_file, "GRAPH": saved_pb}.get(a, a) for a in command]
    result = run_cli(*args, "-o", tmp_path / "m.json")
    assert_one_line_error(result, 2, "ends in .json, the name of its own sidecar; give the graph a .pb name")
    assert os.listdir(tmp_path) == []


def test_freeze_refusal_exits_3(tmp_path):
    import tensorflow as tf

    class CallsPython(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32)])
        def serve(self, x):
            return tf.py_function(lambda t: t * 2, [x], tf.float32)

    module = CallsPython()
    tf.saved_model.save(module, str(tmp_path / "py"), signatures={"serving_default": module.serve})
    result = run_cli("freeze", tmp_path / "py", "-o", tmp_path / "m.pb")
    assert_refusal(result, "EagerPyFunc")  # the SavedModel's scan refuses it before TensorFlow loads it
    result = run_cli("freeze", tmp_path / "py", "-o", tmp_path / "m.pb", "--allow-unsafe")
    assert_one_line_error(result, 3, "EagerPyFunc")  # and trusted, freezing refuses to keep a Python call
    assert sorted(os.listdir(tmp_path)) == ["py"]


def test_negative_tolerance_is_a_usage_error(keras_file, tmp_path):
    assert_one_line_error(run_cli("freeze", keras_file, "-o", tmp_path / "m.pb", "--tolerance", "-1"), 2, ">= 0")


@pytest.mark.parametrize("value", ["-1", "nan"])
@pytest.mark.parametrize("command", [["optimize", "-o", "o.pb"], ["export", "--to", "tflite"], ["check-opencv"]])
def test_bad_tolerance_is_a_usage_error_for_every_command(command, value, saved_pb, tmp_path):
    result = run_cli(command[0], saved_pb, *command[1:], "--tolerance", value, cwd=tmp_path)
    assert_one_line_error(result, 2, f"--tolerance must be a number >= 0, got {value}")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("command", [["freeze", "-o", "o.pb"], ["check-opencv"]])
def test_bad_rtol_is_a_usage_error(command, saved_pb, tmp_path):
    result = run_cli(command[0], saved_pb, *command[1:], "--rtol", "-1", cwd=tmp_path)
    assert_one_line_error(result, 2, "--rtol must be a number >= 0, got -1")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("command", ["inspect", "check-opencv"])
def test_negative_top_is_a_usage_error(command, saved_pb):
    assert_one_line_error(run_cli(command, saved_pb, "--top", "-1"), 2, "--top: must be a whole number >= 0")


def test_usage_errors_are_one_line():
    assert_one_line_error(run_cli("freeze"), 2, "required")
    assert_one_line_error(run_cli("bogus"), 2, "invalid choice")
    assert_one_line_error(run_cli("freeze", "m.keras", "-o", "x.pb", "--tolerance", "abc"), 2, "invalid float")


def test_run_writes_outputs(saved_pb, trained_model, digits, tmp_path):
    x, y = tmp_path / "x.npy", tmp_path / "y.npy"
    np.save(x, digits.x_test[:10])
    result = run_cli("run", saved_pb, "--input", x, "-o", y)
    assert result.returncode == 0, result.stderr
    np.testing.assert_allclose(np.load(y), trained_model(digits.x_test[:10], training=False), atol=1e-5)


def test_run_wrong_shape_is_one_line(saved_pb, tmp_path):
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((3, 8, 8), np.float32))
    result = run_cli("run", saved_pb, "--input", x, "-o", tmp_path / "y.npy")
    line = assert_one_line_error(result, 2, "wants shape")
    assert "(None, 8, 8, 1)" in line and "(3, 8, 8)" in line
    assert not (tmp_path / "y.npy").exists()


def test_run_wrong_tensor_name_suggests(saved_pb, tmp_path):
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((1, 8, 8, 1), np.float32))
    result = run_cli("run", saved_pb, "--input", x, "-o", tmp_path / "y.npy", "--inputs", "imagee")
    assert_one_line_error(result, 2, "did you mean 'image:0'")


def test_run_refuses_existing_output(saved_pb, tmp_path):
    x, y = tmp_path / "x.npy", tmp_path / "y.npy"
    np.save(x, np.zeros((1, 8, 8, 1), np.float32))
    y.write_bytes(b"keep")
    assert_one_line_error(run_cli("run", saved_pb, "--input", x, "-o", y), 2, "already exists")
    assert y.read_bytes() == b"keep"


@pytest.mark.parametrize("payload", [b"", b"\x0a\xff\xff\xff", b"PK\x03\x04zipzip"])
def test_run_bad_graph_files(tmp_path, payload):
    graph, x = tmp_path / "g.pb", tmp_path / "x.npy"
    graph.write_bytes(payload)
    np.save(x, np.zeros((1, 8, 8, 1), np.float32))
    assert_one_line_error(run_cli("run", graph, "--input", x, "-o", tmp_path / "y.npy"), 2)
    assert not (tmp_path / "y.npy").exists()


def test_run_several_outputs_need_npz(saved_pb, tmp_path):
    x, y = tmp_path / "x.npy", tmp_path / "y.npy"
    np.save(x, np.zeros((1, 8, 8, 1), np.float32))
    result = run_cli("run", saved_pb, "--input", x, "-o", y, "--outputs", "Identity", "image")
    line = assert_one_line_error(result, 2, "ending in .npz")
    assert "2 outputs ['Identity:0', 'image:0']" in line
    assert sorted(os.listdir(tmp_path)) == ["x.npy"]
    result = run_cli("run", saved_pb, "--input", x, "-o", tmp_path / "y.npz", "--outputs", "Identity", "image")
    assert result.returncode == 0, result.stderr
    with np.load(tmp_path / "y.npz") as saved:
        assert saved.files == ["Identity", "image"] and saved["image"].shape == (1, 8, 8, 1)


@pytest.mark.parametrize("command", [["run", "-o", "y.npy"], ["bench", "--budget", "0.01", "--min-calls", "1",
                                                                "--runtimes", "frozen,frozen_session"]])
def test_commands_read_the_graph_once(command, saved_pb, tmp_path, monkeypatch):
    from graphfreeze_helpers import cli, graphfile

    x = tmp_path / "x.npy"
    np.save(x, np.zeros((1, 8, 8, 1), np.float32))
    reads = []
    real = graphfile.read_graph_def
    monkeypatch.setattr(graphfile, "read_graph_def", lambda *a, **k: reads.append(a[0]) or real(*a, **k))
    monkeypatch.chdir(tmp_path)
    extra = ["--input", str(x)] if command[0] == "run" else ["--batch", "1", "--json"]
    assert cli.main([command[0], str(saved_pb), *command[1:], *extra]) == 0
    assert reads == [saved_pb]


def test_run_bad_input_file(saved_pb, tmp_path):
    x = tmp_path / "x.npy"
    x.write_text("not numpy")
    assert_one_line_error(run_cli("run", saved_pb, "--input", x, "-o", tmp_path / "y.npy"), 2, ".npy")


def test_closed_pipe_is_quiet(saved_pb):
    import subprocess
    import sys

    command = f'{sys.executable} -m graphfreeze_helpers.cli inspect --json {saved_pb} | true; echo "${{PIPESTATUS[0]}}"'
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    # 141 when the reader left before the write (a closed pipe), 0 when the output fitted in the pipe first
    assert result.stdout.strip() in ("0", "141"), result.stdout
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr
