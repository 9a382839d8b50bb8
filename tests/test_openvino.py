"""openvino_ir.py and the OpenVINO runner: IR from the frozen .pb, run at float32 unless told, without TensorFlow."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from graphfreeze_helpers.errors import InputError
from graphfreeze_helpers.export import export
from graphfreeze_helpers.runner import (
    OpenVINORunner,
    detect_kind,
    load_runner,
    main,
    openvino_error_line,
    tf_free_command,
)

from conftest import ROOT, assert_one_line_error, run_cli

pytest.importorskip("openvino")


RUNNER_ERROR = "python -m graphfreeze_helpers.runner: error: "


@pytest.fixture(scope="module")
def ir(frozen_graph, digits):
    return export(frozen_graph, "openvino", inputs=[digits.x_test[:64]])


@pytest.fixture(scope="module")
def fused_pb(saved_pb, digits, tmp_path_factory):
    """The graph with TensorFlow-only _FusedConv2D/_FusedMatMul, which OpenVINO has no conversion rule for."""
    from graphfreeze_helpers.optimize import optimize

    path = tmp_path_factory.mktemp("fused") / "fused.pb"
    optimize(saved_pb, target="tensorflow", inputs=[digits.x_test[:4]]).save(path)
    return path


def assert_one_runner_error(code: int, stderr: str, contains: str) -> str:
    """The runner's contract for a user's mistake: exit 2, one stderr line with its own prefix, no traceback."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, (code, stderr)
    assert lines[0].startswith(RUNNER_ERROR) and contains in lines[0], lines[0]
    return lines[0]


def test_export_writes_float32_ir_checked_against_the_frozen_graph(ir, frozen_graph, tmp_path):
    assert ir.precision == "f32" and ir.max_abs_diff <= 1e-5
    assert {"Convolution", "MatMul"} <= set(ir.ops)
    assert b'element_type="f16"' not in ir.xml  # save_model's default would store float16 weights
    xml = ir.save(tmp_path / "ir", name="digits")
    assert sorted(p.name for p in xml.parent.iterdir()) == ["digits.bin", "digits.xml"]
    assert detect_kind(xml) == "openvino"
    with pytest.raises(Exception, match="already exists"):
        ir.save(tmp_path / "ir", name="digits")


def test_the_runner_asks_for_float32_and_says_what_it_used(ir, trained_model, digits):
    x = digits.x_test[:32]
    expected = trained_model(x, training=False).numpy()
    f32 = OpenVINORunner((ir.xml, ir.bin))
    assert f32.precision == "f32" and np.abs(f32(x) - expected).max() <= 1e-5
    chosen = OpenVINORunner((ir.xml, ir.bin), precision="default")  # the CPU plugin's own pick (bf16 on AMX)
    assert chosen.precision in ("f32", "bf16", "f16")
    if chosen.precision != "f32":
        assert np.abs(chosen(x) - expected).max() > 1e-4  # the precision trap: why the runner asks for f32
    with pytest.raises(InputError, match="unknown OpenVINO precision"):
        OpenVINORunner((ir.xml, ir.bin), precision="int4")


def test_runner_runs_xml_and_pb_without_tensorflow(ir, saved_pb, digits, tmp_path):
    xml = ir.save(tmp_path / "ir")
    np.save(tmp_path / "x.npy", digits.x_test[:10])
    outputs = {}
    for name, model, extra in (("xml", xml, []), ("pb", saved_pb, ["--runtime", "openvino", "--precision", "f32"])):
        out = tmp_path / f"y_{name}.npy"
        command = tf_free_command(model, "--input", tmp_path / "x.npy", "-o", out, *extra)
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert result.returncode == 0, result.stderr  # 97 would mean TensorFlow was importable
        assert "with openvino (f32)" in result.stdout
        outputs[name] = np.load(out)
    np.testing.assert_allclose(outputs["xml"], outputs["pb"], atol=1e-6)
    with pytest.raises(InputError, match="from its .xml path"):
        load_runner(b"<net/>", kind="openvino")


def test_cli_export_openvino(saved_pb, tmp_path):
    out = tmp_path / "ir"
    result = run_cli("export", saved_pb, "--to", "openvino", "-o", out, "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["precision"] == "f32" and payload["max_abs_diff"] <= 1e-5
    assert sorted(p.name for p in out.iterdir()) == ["digits.bin", "digits.xml"]
    assert_one_line_error(run_cli("export", saved_pb, "--to", "openvino", "-o", out), 2, "already exists")
    (tmp_path / "file").write_text("x")
    assert_one_line_error(run_cli("export", saved_pb, "--to", "openvino", "-o", tmp_path / "file"), 2, "is a file")


def test_openvino_contender_reports_its_precision(saved_pb):
    from graphfreeze_helpers.contenders import compare

    result = compare(saved_pb, batch_sizes=[4], contenders=["frozen", "openvino"], time_budget_s=0.2, min_calls=3)
    assert "in f32 (INFERENCE_PRECISION_HINT f32)" in result.settings["notes"]["openvino"]
    assert "checked at f32 first" in result.settings["notes"]["openvino"]
    assert result.row("openvino", 4).max_abs_diff <= 1e-5 and not result.mismatches()
    with pytest.raises(InputError, match="unknown OpenVINO precision"):
        compare(saved_pb, contenders=["openvino"], precision="int4")


def test_openvino_contender_at_the_plugins_own_precision(saved_pb):
    from graphfreeze_helpers.contenders import compare

    result = compare(saved_pb, batch_sizes=[4], contenders=["frozen", "openvino"], time_budget_s=0.2, min_calls=3,
                     precision="default")
    note = result.settings["notes"]["openvino"]
    used = note.split(" on the CPU plugin in ")[1].split()[0]
    assert used in ("f32", "bf16", "f16") and "INFERENCE_PRECISION_HINT default" in note
    if used != "f32":  # the trap, shown in the table's max|diff| where the CPU has bfloat16
        assert result.row("openvino", 4).max_abs_diff > 1e-4



def test_error_line_is_openvinos_reason_not_where_it_was_raised(fused_pb, ir, tmp_path):
    import openvino as ov

    with pytest.raises(Exception) as unconverted:
        ov.convert_model(str(fused_pb))
    assert str(unconverted.value).startswith("Check 'false' failed at ")  # the line that used to be shown
    line = openvino_error_line(unconverted.value)
    assert line.startswith("No conversion rule found for operations: _FusedConv2D, _FusedMatMul")
    assert "optimize --target portable" in line and "\n" not in line
    lonely = tmp_path / "lonely.xml"  # IR without its .bin
    lonely.write_bytes(ir.xml)
    with pytest.raises(RuntimeError) as no_weights:
        ov.Core().read_model(str(lonely))
    assert str(no_weights.value).startswith("Exception from ")
    assert "bin file cannot be found" in openvino_error_line(no_weights.value)
    assert openvino_error_line(RuntimeError("plain\nsecond")) == "plain"
    assert openvino_error_line(RuntimeError()) == "RuntimeError"


def test_cli_export_names_the_ops_openvino_cannot_convert(fused_pb, tmp_path):
    out = tmp_path / "ir"
    line = assert_one_line_error(run_cli("export", fused_pb, "--to", "openvino", "-o", out), 2,
                                 "OpenVINO conversion failed: No conversion rule found for operations: _FusedConv2D, "
                                 "_FusedMatMul")
    assert "optimize --target portable" in line and "failed at" not in line
    assert not out.exists()


def test_runner_says_why_it_cannot_load_an_xml_without_its_bin(ir, digits, tmp_path):
    (tmp_path / "lonely.xml").write_bytes(ir.xml)
    np.save(tmp_path / "x.npy", digits.x_test[:2])
    command = tf_free_command(tmp_path / "lonely.xml", "--input", tmp_path / "x.npy", "-o", tmp_path / "y.npy")
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)
    line = assert_one_runner_error(result.returncode, result.stderr, "OpenVINO cannot load the model: ")
    assert "bin file cannot be found" in line and "Exception from" not in line
    assert not (tmp_path / "y.npy").exists()


def test_runner_keeps_openvinos_parser_noise_off_stderr(digits, tmp_path):
    """An .xml that is not IR: OpenVINO's frontends write their own complaints on stderr first; one line is left."""
    (tmp_path / "broken.xml").write_text("<net>")
    np.save(tmp_path / "x.npy", digits.x_test[:2])
    command = tf_free_command(tmp_path / "broken.xml", "--input", tmp_path / "x.npy", "-o", tmp_path / "y.npy")
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert_one_runner_error(result.returncode, result.stderr, "OpenVINO cannot load the model: ")
    assert not (tmp_path / "y.npy").exists()


def test_runner_precision_is_for_openvino_only(saved_pb, tmp_path, capfd):
    np.save(tmp_path / "x.npy", np.zeros((1, 8, 8, 1), np.float32))
    tflite = tmp_path / "m.tflite"
    tflite.write_bytes(b"\0\0\0\0TFL3" + bytes(56))  # read no further than its kind
    for model, runs_with in ((tflite, "litert"), (saved_pb, "opencv")):
        code = main([str(model), "--input", str(tmp_path / "x.npy"), "-o", str(tmp_path / "y.npy"),
                     "--precision", "bf16"])
        line = assert_one_runner_error(code, capfd.readouterr().err, "--precision applies to OpenVINO only")
        assert line.endswith(f"runs with {runs_with}")
    assert not (tmp_path / "y.npy").exists()
