"""graphfreeze bench GRAPH.pb without --model: every runtime available, each verified first; --runtimes picks some."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import assert_one_line_error, run_cli


def test_bench_times_every_runtime_available(saved_pb, digits, tmp_path):
    np.save(tmp_path / "cal.npy", digits.x_train[:100])
    result = run_cli("bench", saved_pb, "--batch", "2", "--budget", "0.5", "--min-calls", "2", "--json",
                     "--calibration", tmp_path / "cal.npy")
    assert result.returncode == 0, result.stderr
    timed = {row["contender"] for row in json.loads(result.stdout)}
    assert {"frozen", "frozen_prune", "frozen_session", "optimized", "litert", "litert_int8", "onnxruntime",
            "openvino"} <= timed
    assert not timed & {"keras_eager", "keras_predict", "tf_function", "saved_model"}  # no --model, no mention
    skipped = [line for line in result.stderr.splitlines() if line.startswith("graphfreeze: skipped ")]
    assert {line.split()[2].rstrip(":") for line in skipped} | timed >= {"opencv_dnn"}


def test_runtimes_picks_some_and_says_why_one_cannot_run(saved_pb, digits, tmp_path):
    from graphfreeze_helpers.optimize import optimize

    fused = tmp_path / "fused.pb"  # TensorFlow-only _FusedConv2D: no converter reads it
    optimize(saved_pb, target="tensorflow", inputs=[digits.x_test[:4]]).save(fused)
    result = run_cli("bench", fused, "--batch", "1", "--budget", "0.1", "--min-calls", "2",
                     "--runtimes", "frozen,litert,litert_int8,onnxruntime,openvino")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("frozen ") for line in lines)
    assert [line.split(":")[0] for line in lines if line.startswith("skipped ")] == [
        "skipped litert", "skipped litert_int8", "skipped onnxruntime", "skipped openvino"]
    assert "TensorFlow-only fused ops" in next(line for line in lines if line.startswith("skipped litert:"))
    assert "--calibration" in next(line for line in lines if line.startswith("skipped litert_int8:"))
    openvino = next(line for line in lines if line.startswith("skipped openvino:"))  # OpenVINO's reason, one line
    assert "No conversion rule found for operations: _FusedConv2D, _FusedMatMul" in openvino
    assert "optimize --target portable" in openvino and "failed at" not in openvino


@pytest.mark.parametrize("value", ["bogus", "frozen,nope", ","])
def test_unknown_runtime_is_one_line(saved_pb, value):
    assert_one_line_error(run_cli("bench", saved_pb, "--runtimes", value), 2, "--runtimes must be names")


def test_no_runtime_that_can_run_it_is_one_line(saved_pb, digits, tmp_path):
    from graphfreeze_helpers.optimize import optimize

    fused = tmp_path / "fused.pb"
    optimize(saved_pb, target="tensorflow", inputs=[digits.x_test[:4]]).save(fused)
    line = assert_one_line_error(run_cli("bench", fused, "--runtimes", "onnxruntime", "--budget", "0.1"), 2)
    assert "no runtime can run this graph: onnxruntime: cannot run this graph" in line


def test_contender_options_reach_their_factory():
    from graphfreeze_helpers.bench import FACTORIES, Contender, Subject, register, standard_contenders
    from graphfreeze_helpers.contenders import available_contenders

    seen = []

    @register("test_options")
    def factory(subject, *, precision="f32"):
        seen.append(precision)
        return Contender("test_options", lambda batch: lambda: None)

    try:
        subject = Subject(options={"test_options": {"precision": "bf16"}})
        assert [c.name for c in standard_contenders(subject, ["test_options"])] == ["test_options"]
        assert [c.name for c in available_contenders(subject, ["test_options"])[0]] == ["test_options"]
        standard_contenders(Subject(), ["test_options"])
        assert seen == ["bf16", "bf16", "f32"]
    finally:
        del FACTORIES["test_options"]
