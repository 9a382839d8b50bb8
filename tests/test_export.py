"""export.py and runner.py: LiteRT/ONNX artifacts, the unfrozen-TFLite pitfall, and a TF-free run."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from graphfreeze_helpers.errors import GraphFormatError, InputError, OutputExistsError, ShapeError
from graphfreeze_helpers.export import export, tflite_from_unfrozen
from graphfreeze_helpers.runner import blocker_source, load_runner, save_outputs, tf_free_command

from conftest import ROOT, assert_one_line_error, run_cli

TOL = 1e-5


@pytest.fixture(scope="module")
def keras_reference(trained_model):
    return lambda x: trained_model(x, training=False)


@pytest.fixture(scope="module")
def artifacts(frozen_graph, digits, keras_reference, tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    made = {}
    for to in ("tflite", "onnx"):
        exported = export(frozen_graph, to, inputs=[digits.x_test[:64]], reference=keras_reference)
        made[to] = (exported, exported.save(folder / f"digits.{to}"))
    return made


@pytest.mark.parametrize("to", ["tflite", "onnx"])
def test_export_matches_keras(artifacts, to, digits, keras_reference):
    exported, path = artifacts[to]
    assert exported.max_abs_diff is not None and exported.max_abs_diff <= TOL
    assert path.read_bytes() == exported.data
    runner = load_runner(path)
    x = digits.x_test[:1]  # batch 1, then a different batch: the runner resizes
    np.testing.assert_allclose(runner(x), keras_reference(x), atol=TOL)
    x = digits.x_test[:7]
    np.testing.assert_allclose(runner(x), keras_reference(x), atol=TOL)


def test_exported_ops(artifacts):
    assert {"CONV_2D", "FULLY_CONNECTED", "SOFTMAX"} <= set(artifacts["tflite"][0].ops)
    assert not {"READ_VARIABLE", "VAR_HANDLE", "DELEGATE"} & set(artifacts["tflite"][0].ops)
    assert {"Conv", "Softmax"} <= set(artifacts["onnx"][0].ops)


def test_the_unfrozen_tflite_pitfall(trained_model, digits):
    """Converting the live model's own concrete function keeps the variables: wrong output or failure."""
    data = tflite_from_unfrozen(trained_model)
    runner = load_runner(data)
    assert "READ_VARIABLE" in runner.ops() and "VAR_HANDLE" in runner.ops()
    try:
        y = runner(digits.x_test[:2])
    except (RuntimeError, ValueError):
        return  # failing outright is the other outcome we measured
    # Nothing initializes the variables: usually NaN, sometimes whatever the memory held.
    expected = trained_model.predict(digits.x_test[:2], verbose=0)
    assert not np.allclose(y, expected, atol=1e-3), y


def test_tensorflow_only_ops_are_refused(frozen_graph, digits):
    from graphfreeze_helpers.optimize import optimize

    fused = optimize(frozen_graph, target="tensorflow", inputs=[digits.x_test[:4]])
    for to in ("tflite", "onnx"):
        with pytest.raises(GraphFormatError, match="TensorFlow-only fused ops"):
            export(fused.frozen, to)


def test_runner_checks_shapes(artifacts):
    runner = load_runner(artifacts["onnx"][1])
    with pytest.raises(ShapeError, match="wants shape"):
        runner(np.zeros((1, 9, 9, 1), np.float32))
    runner = load_runner(artifacts["tflite"][1])
    with pytest.raises(ShapeError, match="wants shape"):
        runner(np.zeros((1, 9, 9, 1), np.float32))


# --- without TensorFlow ----------------------------------------------------------------------


def test_the_blocker_really_blocks_tensorflow():
    code = blocker_source() + "import tensorflow\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "ImportError: tensorflow is blocked" in result.stderr


def test_importing_the_runner_does_not_import_tensorflow():
    code = (
        "import sys, graphfreeze_helpers, graphfreeze_helpers.runner\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("to", ["tflite", "onnx"])
def test_runner_runs_without_tensorflow(artifacts, to, digits, keras_reference, tmp_path):
    x = digits.x_test[:10]
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "y.npy"
    command = tf_free_command(artifacts[to][1], "--input", tmp_path / "x.npy", "-o", out)
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr  # 97 would mean TensorFlow was importable
    assert "litert" in result.stdout or "onnxruntime" in result.stdout
    assert result.stderr.strip() == ""
    np.testing.assert_allclose(np.load(out), keras_reference(x), atol=TOL)
    again = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_save_outputs_writes_one_as_npy_and_several_as_npz(tmp_path):
    a, b = np.arange(3, dtype=np.float32), np.ones((2, 2))
    np.testing.assert_array_equal(np.load(save_outputs(tmp_path / "y.npy", [a])), a)
    with pytest.raises(InputError, match="2 outputs; give an output file ending in .npz"):
        save_outputs(tmp_path / "two.npy", [a, b])
    with np.load(save_outputs(tmp_path / "y.npz", [a, b])) as saved:
        assert saved.files == ["output_0", "output_1"]
        np.testing.assert_array_equal(saved["output_1"], b)
    with pytest.raises(OutputExistsError):
        save_outputs(tmp_path / "y.npy", [b])
    np.testing.assert_array_equal(np.load(save_outputs(tmp_path / "y.npy", [b], force=True)), b)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["y.npy", "y.npz"]


def test_runner_cli_errors(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((1, 8, 8, 1), np.float32))
    bogus = tmp_path / "model.bin"
    bogus.write_bytes(b"hello" * 20)
    command = tf_free_command(bogus, "--input", tmp_path / "x.npy", "-o", tmp_path / "y.npy")
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "neither a .tflite" in result.stderr
    assert not (tmp_path / "y.npy").exists()


# --- graphfreeze export -----------------------------------------------------------------------


def test_cli_export(saved_pb, tmp_path):
    out = tmp_path / "digits.tflite"
    result = run_cli("export", saved_pb, "--to", "tflite", "-o", out, "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["format"] == "tflite" and payload["max_abs_diff"] <= TOL
    assert out.read_bytes()[4:8] == b"TFL3"
    assert_one_line_error(run_cli("export", saved_pb, "--to", "tflite", "-o", out), 2, "already exists")
    assert_one_line_error(run_cli("export", saved_pb, "--to", "coreml", "-o", tmp_path / "x"), 2, "invalid choice")
    assert_one_line_error(run_cli("export", tmp_path / "nope.pb", "--to", "onnx"), 2, "does not exist")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["digits.tflite"]
