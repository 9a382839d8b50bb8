"""quantize.py and export(..., quantize=...): dynamic, float16 and full-integer int8 LiteRT, checked by accuracy."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from graphfreeze_helpers.errors import InputError, ShapeError, VerificationError
from graphfreeze_helpers.export import export, strip_tflite
from graphfreeze_helpers.quantize import (
    QUANTIZED_TOLERANCE,
    check_labels,
    compare_quantized,
    op_output_names,
    ops_named,
)
from graphfreeze_helpers.runner import load_runner, tf_free_command

from conftest import ROOT, assert_one_line_error, run_cli


@pytest.fixture(scope="module")
def quantized(frozen_graph, digits):
    """Each mode exported once, checked on the labelled test split."""
    made = {}
    for mode in ("dynamic", "float16", "int8"):
        made[mode] = export(frozen_graph, "tflite", quantize=mode, inputs=[digits.x_test], labels=digits.y_test,
                            calibration=digits.x_train[:300] if mode == "int8" else None)
    return made


@pytest.fixture(scope="module")
def float_size(frozen_graph):
    return export(frozen_graph, "tflite", check=False).bytes


@pytest.mark.parametrize("mode", ["dynamic", "float16", "int8"])
def test_each_mode_is_smaller_and_checked_by_accuracy(quantized, float_size, mode):
    exported = quantized[mode]
    check = exported.quantized_check
    assert exported.quantize == mode and check.ok
    assert exported.bytes < float_size
    assert check.samples == 359 and check.accuracy is not None
    assert check.accuracy_drop <= 0.01 and check.agreement >= 0.95
    assert exported.max_abs_diff == check.max_abs_diff > 0  # quantized: never the float model's output exactly


def test_int8_is_full_integer_and_the_runner_takes_floats(quantized, digits):
    runner = load_runner(quantized["int8"].data)
    assert runner.quantized_io and [d.name for d in runner.input_dtypes] == ["int8"]
    scale, _ = runner.input_quantization[0]
    assert scale == pytest.approx(1 / 255, rel=1e-3)  # calibrated on images in [0, 1]
    y = runner(digits.x_test[:16])  # floats in, dequantized floats out
    assert y.dtype == np.float32 and y.shape == (16, 10)
    assert np.allclose(y.sum(-1), 1.0, atol=0.05)
    ops = set(quantized["int8"].ops)
    assert {"CONV_2D", "FULLY_CONNECTED"} <= ops and "DEQUANTIZE" not in ops


def test_strip_drops_the_names_and_keeps_the_signature_and_outputs(quantized, digits):
    original = quantized["int8"].data
    stripped = strip_tflite(original)
    before, after = load_runner(original), load_runner(stripped)
    assert len(stripped) < len(original)
    assert all(d["name"] for d in before.interpreter.get_tensor_details())
    assert not any(d["name"] for d in after.interpreter.get_tensor_details())
    assert after.interpreter.get_signature_list() == before.interpreter.get_signature_list()
    signature = before.interpreter.get_signature_list()["serving_default"]
    assert after.input_names == signature["inputs"] and after.output_names == signature["outputs"]
    assert after.input_quantization == before.input_quantization
    assert np.array_equal(after(digits.x_test), before(digits.x_test))
    with pytest.raises(InputError, match="not one"):
        strip_tflite(b"\x08\x07onnx" + bytes(16))


def test_stripped_export_is_checked_and_marked(frozen_graph, float_size, digits):
    exported = export(frozen_graph, "tflite", strip=True, inputs=[digits.x_test[:64]])
    assert exported.stripped and "stripped" in repr(exported) and exported.verification.ok
    assert exported.bytes < float_size
    with pytest.raises(InputError, match="--strip is for --to tflite"):
        export(frozen_graph, "onnx", strip=True)


def test_bad_calibration_loses_accuracy_and_is_refused(frozen_graph, digits):
    """Calibration on raw pixel values (0..16) instead of the model's [0, 1] inputs: 16 levels left."""
    with pytest.raises(VerificationError, match="below the float model"):
        export(frozen_graph, "tflite", quantize="int8", calibration=digits.x_train[:300] * 16,
               inputs=[digits.x_test], labels=digits.y_test)


def test_without_labels_a_stated_tolerance_judges():
    expected = np.array([[0.9, 0.1], [0.2, 0.8]], np.float32)
    close = compare_quantized(expected, expected + 0.02, "int8")
    assert close.ok and close.tolerance == QUANTIZED_TOLERANCE["int8"] and close.agreement == 1.0
    far = compare_quantized(expected, expected[:, ::-1], "float16")
    assert not far.ok and "beyond the stated tolerance 0.01" in far.problems[0]
    labelled = compare_quantized(expected, expected[:, ::-1], "int8", labels=np.array([0, 1]))
    assert labelled.accuracy == 0.0 and labelled.float_accuracy == 1.0 and len(labelled.problems) == 2


def test_mode_and_calibration_mistakes(frozen_graph, digits):
    with pytest.raises(InputError, match="needs calibration inputs"):
        export(frozen_graph, "tflite", quantize="int8")
    with pytest.raises(InputError, match="only int8 does"):
        export(frozen_graph, "tflite", quantize="float16", calibration=digits.x_train[:10])
    with pytest.raises(InputError, match="for --to tflite"):
        export(frozen_graph, "onnx", quantize="dynamic")
    with pytest.raises(InputError, match="labels need the inputs"):
        export(frozen_graph, "tflite", quantize="dynamic", labels=digits.y_test)


def test_cli_int8_with_labels_then_run_without_tensorflow(saved_pb, digits, tmp_path):
    np.save(tmp_path / "cal.npy", digits.x_train[:200])
    np.save(tmp_path / "x.npy", digits.x_test)
    np.save(tmp_path / "y.npy", digits.y_test)
    out = tmp_path / "digits_int8.tflite"
    result = run_cli("export", saved_pb, "--to", "tflite", "--quantize", "int8", "--calibration", tmp_path / "cal.npy",
                     "--input", tmp_path / "x.npy", "--labels", tmp_path / "y.npy", "-o", out, "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["quantize"] == "int8" and payload["quantized_check"]["ok"]
    assert payload["quantized_check"]["samples"] == 359 and payload["quantized_check"]["float_accuracy"] > 0.3
    command = tf_free_command(out, "--input", tmp_path / "x.npy", "-o", tmp_path / "probs.npy")
    ran = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert ran.returncode == 0, ran.stderr
    accuracy = float(np.mean(np.load(tmp_path / "probs.npy").argmax(-1) == digits.y_test))
    assert accuracy == pytest.approx(payload["quantized_check"]["accuracy"])


def test_keep_float_leaves_the_named_conv_in_float_and_is_checked(frozen_graph, digits):
    exported = export(frozen_graph, "tflite", quantize="int8", calibration=digits.x_train[:300], keep_float=["conv0"],
                      inputs=[digits.x_test], labels=digits.y_test)
    assert exported.kept_float == ("conv0",) and exported.quantized_check.ok
    runner = load_runner(exported.data)
    assert not runner.quantized_io and [d.name for d in runner.input_dtypes] == ["float32"]
    assert runner.ops()[:3] == ["CONV_2D", "QUANTIZE", "CONV_2D"]  # conv0 in float, then int8 from conv1 on
    details = runner.interpreter.get_tensor_details()
    types = {d["name"]: d["dtype"].__name__ for d in details}
    assert [types[n] for n in op_output_names(exported.data)[:3]] == ["float32", "int8", "int8"]
    with pytest.raises(InputError, match="names no op of the model.*conv0_1"):
        export(frozen_graph, "tflite", quantize="int8", calibration=digits.x_train[:20], keep_float=["conv9"],
               check=False)
    with pytest.raises(InputError, match="for --quantize int8"):
        export(frozen_graph, "tflite", quantize="dynamic", keep_float=["conv0"])


def weight_scale_counts(data: bytes) -> list[int]:
    """How many scales each constant int8 tensor (a weight) of a .tflite has."""
    from tensorflow.lite.python.schema_py_generated import TensorType
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(data))
    return [len(t.quantization.scale) for subgraph in model.subgraphs for t in subgraph.tensors
            if t.type == TensorType.INT8 and model.buffers[t.buffer].data is not None]


def test_per_tensor_gives_each_weight_one_scale_and_a_smaller_file(frozen_graph, digits, quantized):
    # export --per-tensor rests on the converter's private _experimental_disable_per_channel: this fails if it stops
    # having its effect (per channel, each conv kernel has one scale per output channel)
    exported = export(frozen_graph, "tflite", quantize="int8", calibration=digits.x_train[:300], per_tensor=True,
                      check=False)
    per_channel = weight_scale_counts(quantized["int8"].data)
    assert per_channel and max(per_channel) > 1
    assert weight_scale_counts(exported.data) == [1] * len(per_channel)
    assert exported.per_tensor and exported.bytes < quantized["int8"].bytes
    with pytest.raises(InputError, match="--per-tensor is for --quantize int8"):
        export(frozen_graph, "tflite", quantize="float16", per_tensor=True)


def test_ops_named_picks_layers_and_nodes_not_prefixes():
    names = ["m/net_1/relu0_1/Relu;m/net_1/conv0_1/convolution", "m/net_1/conv10_1/convolution", "m/net_1/pool_1/Mean"]
    assert ops_named(names, ["conv0"]) == names[:1]
    assert ops_named(names, ["net_1/conv10_1/convolution", "pool"]) == names[1:]
    with pytest.raises(InputError, match="'conv'.*conv0_1"):
        ops_named(names, ["conv"])


def test_cli_quantize_mistakes_are_one_line(saved_pb, tmp_path):
    np.save(tmp_path / "y.npy", np.zeros(4, np.int64))
    out = tmp_path / "q.tflite"
    assert_one_line_error(run_cli("export", saved_pb, "--to", "tflite", "--quantize", "int8", "-o", out), 2,
                          "needs calibration inputs")
    assert_one_line_error(run_cli("export", saved_pb, "--to", "tflite", "--labels", tmp_path / "y.npy", "-o", out),
                          2, "add --quantize")
    assert_one_line_error(run_cli("export", saved_pb, "--to", "tflite", "--quantize", "dynamic", "--labels",
                                  tmp_path / "y.npy", "-o", out), 2, "needs the inputs")
    assert_one_line_error(run_cli("export", saved_pb, "--to", "tflite", "--opset", "13", "-o", out), 2,
                          "--opset is for --to onnx")
    assert_one_line_error(run_cli("export", saved_pb, "--to", "onnx", "--strip", "-o", tmp_path / "q.onnx"), 2,
                          "--strip is for --to tflite")
    assert_one_line_error(run_cli("export", saved_pb, "--to", "tflite", "--quantize", "dynamic", "--keep-float",
                                  "conv0", "-o", out), 2, "--keep-float is for --quantize int8")
    assert_one_line_error(run_cli("export", saved_pb, "--to", "tflite", "--per-tensor", "-o", out), 2,
                          "--per-tensor is for --quantize int8")
    assert not (tmp_path / "q.onnx").exists()
    assert not out.exists()


BAD_LABELS = {  # the digits test split has 359 inputs; the tutorial CNN scores 10 classes
    "out of range": (np.full(359, 50), "class numbers from 0 to 9 (the model's output has 10 classes); 359 of 359"),
    "negative": (np.full(359, -1), "class numbers from 0 up; 359 of 359 are not (e.g. -1)"),
    "fractional": (np.linspace(0, 0.99, 359), "must be whole class numbers, and 358 of 359 are not"),
    "one-hot": (np.eye(10, dtype=np.float32)[np.arange(359) % 10], "shape (359, 10) looks one-hot"),
}


@pytest.mark.parametrize("kind", BAD_LABELS)
def test_cli_bad_labels_are_one_line_and_write_nothing(saved_pb, digits, tmp_path, kind):
    labels, message = BAD_LABELS[kind]
    np.save(tmp_path / "x.npy", digits.x_test)
    np.save(tmp_path / "y.npy", labels)
    out = tmp_path / "q.tflite"
    line = assert_one_line_error(run_cli("export", saved_pb, "--to", "tflite", "--quantize", "dynamic", "--input",
                                         tmp_path / "x.npy", "--labels", tmp_path / "y.npy", "-o", out), 2, message)
    assert line.startswith("graphfreeze: error: --labels")
    assert ("y.argmax(-1)" in line) == (kind == "one-hot")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["x.npy", "y.npy"]  # no output, no partial file


BAD_CALIBRATION = {
    "strings": (np.array(["0.5"] * 200), "--calibration must hold numbers, got an array of dtype str"),
    "wrong shape": (np.zeros((200, 64), np.float32),
                    "--calibration does not fit the graph: input 'image:0' wants shape (None, 8, 8, 1) "
                    "(None = any size), got (200, 64)"),
}


@pytest.mark.parametrize("kind", BAD_CALIBRATION)
def test_cli_bad_calibration_is_one_line_and_writes_nothing(saved_pb, tmp_path, kind):
    calibration, message = BAD_CALIBRATION[kind]
    np.save(tmp_path / "cal.npy", calibration)
    out = tmp_path / "q.tflite"
    assert_one_line_error(run_cli("export", saved_pb, "--to", "tflite", "--quantize", "int8", "--calibration",
                                  tmp_path / "cal.npy", "-o", out), 2, message)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cal.npy"]  # no output, no partial file


def test_export_checks_labels_and_calibration_against_the_graph(frozen_graph, digits):
    """The Python API raises the same errors, before converting: classes from the output's last dimension."""
    with pytest.raises(InputError, match=r"from 0 to 9 \(the model's output has 10 classes\); 1 of 359"):
        export(frozen_graph, "tflite", quantize="dynamic", inputs=[digits.x_test],
               labels=np.where(np.arange(359) == 7, 10, digits.y_test))
    with pytest.raises(InputError, match="looks one-hot"):
        export(frozen_graph, "tflite", quantize="dynamic", inputs=[digits.x_test], labels=np.eye(10)[digits.y_test])
    with pytest.raises(ShapeError, match=r"input 'image:0' wants shape \(None, 8, 8, 1\).*got \(300, 8, 8\)"):
        export(frozen_graph, "tflite", quantize="int8", calibration=digits.x_train[:300, :, :, 0])
    with pytest.raises(InputError, match="--calibration must hold numbers"):
        export(frozen_graph, "tflite", quantize="int8", calibration={"image": np.array([["a"]])})
    with pytest.raises(InputError, match="labels are for a quantized export"):
        export(frozen_graph, "tflite", inputs=[digits.x_test], labels=digits.y_test)


def test_check_labels_takes_whole_numbers_one_per_input():
    assert check_labels(np.array([0.0, 2.0, 9.0]), 3, 10).tolist() == [0, 2, 9]
    assert check_labels(np.array([3, 1], np.uint8), 2, None).dtype == np.int64
    with pytest.raises(InputError, match="3 labels for 4 inputs"):
        check_labels(np.array([0, 1, 2]), 4, 10)
    assert check_labels(np.array([[0], [1], [2]]), 3, 10).tolist() == [0, 1, 2]  # one column
    with pytest.raises(InputError, match=r"1-D array of class numbers, one per input; got shape \(3, 1, 1\)"):
        check_labels(np.array([[[0]], [[1]], [[2]]]), 3, 10)
    with pytest.raises(InputError, match="e.g. nan"):
        check_labels(np.array([0.0, np.nan]), 2, 10)
    with pytest.raises(InputError, match="got booleans"):
        check_labels(np.array([True, False]), 2, 10)
    with pytest.raises(InputError, match="must hold numbers"):
        check_labels(np.array(["cat", "dog"]), 2, 10)
    with pytest.raises(InputError, match=r"one value per input \(a binary score\?\)"):
        check_labels(np.array([0, 1]), 2, 1)
    with pytest.raises(InputError, match="from 0 to 1 .*2 classes"):  # compare_quantized: classes from the outputs
        compare_quantized(np.eye(2, dtype=np.float32), np.eye(2, dtype=np.float32), "int8", labels=np.array([0, 2]))


def test_cli_onnx_opset(saved_pb, tmp_path):
    import onnx

    out = tmp_path / "digits13.onnx"
    result = run_cli("export", saved_pb, "--to", "onnx", "--opset", "13", "-o", out)
    assert result.returncode == 0, result.stderr
    assert [o.version for o in onnx.load(out).opset_import if o.domain in ("", "ai.onnx")] == [13]


def test_litert_int8_contender_is_verified_then_timed(saved_pb, digits):
    from graphfreeze_helpers.contenders import compare

    result = compare(saved_pb, batch_sizes=[4], contenders=["litert", "litert_int8"], time_budget_s=0.2, min_calls=3,
                     calibration=digits.x_train[:100])
    assert result.contenders == ["litert", "litert_int8"]
    assert "int8 .tflite" in result.settings["notes"]["litert_int8"] and "agreement" in result.settings["notes"][
        "litert_int8"]
    assert 0 < result.row("litert_int8", 4).max_abs_diff <= 0.5 and not result.mismatches()
    from graphfreeze_helpers.bench import standard_contenders
    from graphfreeze_helpers.contenders import prepare

    assert standard_contenders(prepare(saved_pb), ["litert_int8"]) == []  # no calibration inputs: nothing to time


def test_plot_accuracy_tradeoff():
    from graphfreeze_helpers.plots import plot_accuracy_tradeoff

    fig = plot_accuracy_tradeoff({"float": 0.98, "int8": 0.97}, {"float": 23_000, "int8": 10_000},
                                 {"float": 1800.0, "int8": 1500.0}, batch=256)
    left, right = fig.axes
    assert left.get_xlabel() == "file size, KB" and "batch 256" in right.get_xlabel()
    assert [t.get_text() for t in left.texts] == ["float", "int8"]
