"""The command line's inputs and outputs on graphs we did not make (issue 12): ``--input``
(NAME=FILE.npy, FILE.npz, FILE.npy), ``--inputs NAME[SHAPE]``/``--outputs NAME`` on every
command that reads a .pb, several outputs in an .npz keyed by name, the TF-free runner with
several inputs, and one line instead of a traceback for an error nobody expected.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import tf1_graphs

from graphfreeze_helpers import cli
from graphfreeze_helpers.errors import InputError
from graphfreeze_helpers.runner import arrange_feeds, read_input_files, save_outputs, tf_free_command

from conftest import assert_one_line_error, run_cli


@pytest.fixture(scope="module")
def graphs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli_io")
    return {name: getattr(tf1_graphs, name)().write(folder / f"{name}.pb")
            for name in ("control_flow", "two_inputs", "pinned_devices")}


def main(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# --- reading --input ----------------------------------------------------------------------


def test_read_input_files_takes_named_npz_and_bare_files(tmp_path):
    a, b = np.ones((2, 4), np.float32), np.zeros((2, 4), np.float32)
    np.save(tmp_path / "a.npy", a)
    np.savez(tmp_path / "ab.npz", a=a, b=b)
    given = read_input_files([f"a={tmp_path / 'a.npy'}", str(tmp_path / "ab.npz"), str(tmp_path / "a.npy")])
    assert [name for name, _ in given] == ["a", "a", "b", None]
    with pytest.raises(InputError, match="does not exist"):
        read_input_files([f"a={tmp_path / 'nope.npy'}"])
    with pytest.raises(InputError, match="without NAME="):
        read_input_files([f"x={tmp_path / 'ab.npz'}"])


def test_arrange_feeds_matches_names_and_says_what_is_wrong():
    x = np.zeros(1)
    assert list(arrange_feeds([("b", x), ("a:0", x)], ["a:0", "b:0"])) == ["b:0", "a:0"]
    assert list(arrange_feeds([(None, x)], ["image:0"], ["is_training:0"])) == ["image:0"]
    assert list(arrange_feeds([("a", x)], ["serving_default_a:0"])) == ["serving_default_a:0"]
    with pytest.raises(InputError, match=r"no array for input\(s\) \['b:0'\]"):
        arrange_feeds([("a", x)], ["a:0", "b:0"])
    with pytest.raises(InputError, match="no input 'c'; the model takes"):
        arrange_feeds([("a", x), ("c", x)], ["a:0"])
    with pytest.raises(InputError, match="one input"):
        arrange_feeds([(None, x)], ["a:0", "b:0"])
    with pytest.raises(InputError, match="given twice"):
        arrange_feeds([("a", x), ("a:0", x)], ["a:0"])


def test_save_outputs_keys_an_npz_by_output_name(tmp_path):
    a, b = np.ones(2), np.zeros(3)
    with np.load(save_outputs(tmp_path / "y.npz", [a, b], names=["probs:0", "split:1"])) as saved:
        assert saved.files == ["probs", "split:1"]
    with np.load(save_outputs(tmp_path / "d.npz", {"total:0": a})) as saved:
        assert saved.files == ["total"]


# --- run ------------------------------------------------------------------------------------


def test_run_two_inputs_named_and_from_npz(graphs, tmp_path, capsys):
    graph = tf1_graphs.two_inputs()
    feed = graph.feed()
    expected = graph.reference(feed)
    np.save(tmp_path / "a.npy", feed["a:0"])
    np.save(tmp_path / "b.npy", feed["b:0"])
    np.savez(tmp_path / "ab.npz", a=feed["a:0"], b=feed["b:0"])
    code, out, _ = main(capsys, "run", graphs["two_inputs"], "--input", f"b={tmp_path / 'b.npy'}",
                        "--input", f"a:0={tmp_path / 'a.npy'}", "-o", tmp_path / "named.npz")
    assert code == 0 and "total (2, 4), difference (2, 4)" in out
    code, _, _ = main(capsys, "run", graphs["two_inputs"], "--input", tmp_path / "ab.npz", "-o", tmp_path / "z.npz")
    assert code == 0
    for name in ("named", "z"):
        with np.load(tmp_path / f"{name}.npz") as saved:
            assert saved.files == ["total", "difference"]
            np.testing.assert_allclose(saved["total"], expected["total:0"], rtol=1e-6)
            np.testing.assert_allclose(saved["difference"], expected["difference:0"], rtol=1e-6)


def test_run_a_bare_npy_on_a_two_input_graph_is_one_line(graphs, tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((2, 4), np.float32))
    result = run_cli("run", graphs["two_inputs"], "--input", tmp_path / "a.npy", "-o", tmp_path / "y.npz")
    line = assert_one_line_error(result, 2, "NAME=FILE.npy")
    assert "['a:0', 'b:0']" in line and not (tmp_path / "y.npz").exists()


def test_run_feeds_is_training_only_when_given(graphs, tmp_path, capsys):
    graph = tf1_graphs.control_flow()
    x = graph.feed(batch=3)["image:0"]
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "t.npy", np.array(True))
    assert main(capsys, "run", graphs["control_flow"], "--input", tmp_path / "x.npy", "-o", tmp_path / "d.npz")[0] == 0
    code, _, _ = main(capsys, "run", graphs["control_flow"], "--input", f"image={tmp_path / 'x.npy'}",
                      "--input", f"is_training={tmp_path / 't.npy'}", "-o", tmp_path / "t.npz")
    assert code == 0
    for name, feed in (("d", {"image:0": x}), ("t", {"image:0": x, "is_training:0": True})):
        expected = graph.reference(feed)
        with np.load(tmp_path / f"{name}.npz") as saved:
            assert saved.files == ["probabilities", "classes"]
            np.testing.assert_allclose(saved["probabilities"], expected["probabilities:0"], rtol=1e-5, atol=1e-6)
            np.testing.assert_array_equal(saved["classes"], expected["classes:0"])


def test_run_cut_at_a_tensor_with_a_shape(graphs, tmp_path, capsys):
    m, b = np.full((2, 4), 2.0, np.float32), np.ones((2, 4), np.float32)
    np.savez(tmp_path / "in.npz", mul=m, b=b)
    code, _, err = main(capsys, "run", graphs["two_inputs"], "--inputs", "mul[?,4]", "b", "--outputs", "total",
                        "--input", tmp_path / "in.npz", "-o", tmp_path / "y.npy")
    assert code == 0, err
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), m + b)


def test_run_on_a_graph_pinned_to_another_machine(graphs, tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.ones((2, 4), np.float32))
    code, out, err = main(capsys, "run", graphs["pinned_devices"], "--input", tmp_path / "x.npy",
                          "-o", tmp_path / "y.npy")
    assert code == 0, err
    assert np.load(tmp_path / "y.npy").shape == (2, 2)


def test_bad_tensor_shape_text_is_one_line_before_tensorflow(graphs, tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((1, 8, 8, 3), np.uint8))
    result = run_cli("run", graphs["control_flow"], "--inputs", "image[?,8,eight,3]", "--input",
                     tmp_path / "x.npy", "-o", tmp_path / "y.npz")
    assert_one_line_error(result, 2, "whole number or ?")


# --- the other commands ---------------------------------------------------------------------


def test_inspect_takes_inputs_and_outputs(graphs, capsys):
    code, out, _ = main(capsys, "inspect", graphs["two_inputs"], "--inputs", "mul[?,4]", "b", "--outputs", "total",
                        "--json")
    record = json.loads(out)
    assert code == 0
    assert [(t["name"], t["shape"]) for t in record["inputs"]] == [("mul:0", [None, 4]), ("b:0", [None, 4])]
    assert [t["name"] for t in record["outputs"]] == ["total:0"] and record["outputs_from"] == "argument"


def test_inspect_json_lists_optional_inputs_pins_and_colocation(graphs, capsys):
    record = json.loads(main(capsys, "inspect", graphs["control_flow"], "--json")[1])
    assert record["optional_inputs"] == [{"name": "is_training:0", "dtype": "bool", "shape": [], "default": "False"}]
    record = json.loads(main(capsys, "inspect", graphs["pinned_devices"], "--json")[1])
    assert record["device_pins"] == {tf1_graphs.WORKER_DEVICE: 4}
    assert record["dangling_colocation"] == [["y", "side_branch"]]


def test_bench_runs_a_v1_control_flow_graph(graphs, capsys):
    code, out, err = main(capsys, "bench", graphs["control_flow"], "--batch", "1", "--budget", "0.05",
                          "--min-calls", "1", "--json", "--runtimes", "frozen,frozen_prune,frozen_session")
    assert code == 0, err
    assert {row["contender"] for row in json.loads(out)} == {"frozen", "frozen_prune", "frozen_session"}


def test_bench_takes_inputs_and_outputs(graphs, capsys):
    code, out, err = main(capsys, "bench", graphs["two_inputs"], "--inputs", "a", "b", "--outputs", "total",
                          "--batch", "1", "--budget", "0.05", "--min-calls", "1", "--json",
                          "--runtimes", "frozen,frozen_prune,frozen_session")
    assert code == 0, err
    assert {row["contender"] for row in json.loads(out)} == {"frozen", "frozen_prune", "frozen_session"}


@pytest.mark.parametrize("command", [["run", "--input", "x.npy", "-o", "y.npy"], ["bench"], ["optimize", "-o", "o.pb"],
                                     ["export", "--to", "onnx"], ["check-opencv"], ["inspect"]], ids=lambda c: c[0])
def test_every_graph_command_takes_inputs_and_outputs(command):
    argv = [command[0], "g.pb", *command[1:], "--inputs", "image[?,224,224,3]", "--outputs", "probs"]
    args = cli.build_parser().parse_args(argv)
    assert [str(t) for t in args.inputs] == ["image:0[?,224,224,3]"] and [t.name for t in args.outputs] == ["probs:0"]


# --- the TF-free runner with several inputs -------------------------------------------------


def test_runner_takes_several_named_inputs_without_tensorflow(tmp_path):
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="a"),
                                  tf.TensorSpec([None, 4], tf.float32, name="b")])
    def two(a, b):
        return {"total": a + 2.0 * b, "difference": a - b}

    converter = tf.lite.TFLiteConverter.from_concrete_functions([two.get_concrete_function()], two)
    (tmp_path / "two.tflite").write_bytes(converter.convert())
    a, b = np.ones((2, 4), np.float32), np.full((2, 4), 3.0, np.float32)
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    command = tf_free_command(tmp_path / "two.tflite", "--input", f"b={tmp_path / 'b.npy'}",
                              "--input", f"a={tmp_path / 'a.npy'}", "-o", tmp_path / "out.npz")
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    with np.load(tmp_path / "out.npz") as saved:
        got = sorted(np.asarray(saved[k]).ravel()[0] for k in saved.files)
    assert got == [-2.0, 7.0]  # a - b and a + 2b, by output name
    bare = subprocess.run(tf_free_command(tmp_path / "two.tflite", "--input", tmp_path / "a.npy", "-o",
                                          tmp_path / "bare.npz"), capture_output=True, text=True, timeout=120)
    lines = [line for line in bare.stderr.splitlines() if line.strip()]
    assert bare.returncode == 2 and len(lines) == 1 and "NAME=FILE.npy" in lines[0]


# --- no traceback, ever ---------------------------------------------------------------------


def test_an_unexpected_error_is_one_line_naming_stage_and_type(graphs, monkeypatch, capsys):
    from graphfreeze_helpers import summary

    def broken(*args, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(summary, "summarize", broken)
    code, out, err = main(capsys, "inspect", graphs["two_inputs"])
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1 and len(lines) == 1 and "Traceback" not in err
    assert lines[0].startswith("graphfreeze: error: inspect: summary: RuntimeError: boom")
    code, _, err = main(capsys, "inspect", graphs["two_inputs"], "--debug")
    assert code == 1 and "Traceback (most recent call last)" in err and err.rstrip().splitlines()[-1].startswith(
        "graphfreeze: error: inspect")
    monkeypatch.setenv("GRAPHFREEZE_DEBUG", "1")
    code, _, err = main(capsys, "inspect", graphs["two_inputs"])
    assert code == 1 and "Traceback (most recent call last)" in err


def test_a_tensorflow_error_in_a_subprocess_is_one_line(graphs, tmp_path):
    """A run that fails inside TensorFlow (here: a negative dimension reaching a Reshape) never shows a traceback."""
    np.save(tmp_path / "x.npy", np.zeros((2, 5), np.float32))
    result = subprocess.run(
        [sys.executable, "-m", "graphfreeze_helpers.cli", "run", str(graphs["two_inputs"]), "--inputs", "a[?,?]",
         "b[?,?]", "--input", f"a={tmp_path / 'x.npy'}", "--input", f"b={tmp_path / 'x.npy'}",
         "-o", str(tmp_path / "y.npz")],
        capture_output=True, text=True, timeout=300,
    )
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 1 and len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("graphfreeze: error: run: ") and "Error: " in lines[0]
    assert not (tmp_path / "y.npz").exists()


def test_optimize_and_export_take_inputs_and_outputs(graphs, tmp_path, capsys):
    from graphfreeze_helpers.graphfile import read_sidecar

    code, _, err = main(capsys, "optimize", graphs["two_inputs"], "-o", tmp_path / "total.pb", "--outputs", "total")
    assert code == 0, err
    assert [t["name"] for t in read_sidecar(tmp_path / "total.pb")["outputs"]] == ["total:0"]
    code, _, err = main(capsys, "export", graphs["two_inputs"], "--to", "onnx", "-o", tmp_path / "cut.onnx",
                        "--inputs", "mul[?,4]", "b", "--outputs", "total", "--json")
    assert code == 0, err
    import onnx

    model = onnx.load(str(tmp_path / "cut.onnx"))
    assert len(model.graph.input) == 2 and len(model.graph.output) == 1
