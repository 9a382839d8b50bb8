"""opencv.py and the OpenCV runner: crashes reported (never suffered), the OpenCV-ready .pb matches Keras.

Measured on OpenCV 5.0.0: a frozen Keras Conv2D with a bias kills readNetFromTensorflow with
SIGSEGV, and the `optimize --target portable` graph fails in OpenCV 5's engine. The tests
pin those facts only on that build (other builds may crash differently or not at all);
everything else holds on any OpenCV 5.0.x.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, assert_one_line_error, run_cli

cv2 = pytest.importorskip("cv2")

from graphfreeze_helpers import contenders  # noqa: E402
from graphfreeze_helpers.errors import ShapeError, UnsupportedGraphError  # noqa: E402
from graphfreeze_helpers.opencv import (  # noqa: E402
    diagnose_opencv,
    export_opencv,
    likely_cause,
    rewrite_for_opencv,
    suspicious_ops,
)
from graphfreeze_helpers.runner import OpenCVRunner, blocker_source, detect_kind, load_runner, tf_free_command  # noqa: E402

TOL = 1e-5
MEASURED_BUILD = cv2.__version__ == "5.0.0"


def _randomize_batchnorm(model, seed=1):
    """Give BatchNorm non-trivial statistics, as training would (weights=None leaves mean 0, variance 1)."""
    import keras

    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([gamma * rng.uniform(0.5, 1.5, gamma.shape), beta + rng.normal(0, 0.1, beta.shape),
                               mean + rng.normal(0, 0.1, mean.shape), var * rng.uniform(0.5, 1.5, var.shape)])
    return model


@pytest.fixture(scope="module")
def biased_pb(tmp_path_factory):
    """The tutorial CNN with Keras' default Conv2D(use_bias=True): the graph that crashes OpenCV 5.0.0."""
    import keras

    from graphfreeze_helpers.freeze import freeze
    from graphfreeze_helpers.tfimport import import_tensorflow

    import_tensorflow()
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 1), name="image")
    x = inputs
    for block in range(2):
        x = keras.layers.Conv2D(8 * 2**block, 3, padding="same", name=f"conv{block}")(x)
        x = keras.layers.BatchNormalization(name=f"bn{block}")(x)
        x = keras.layers.ReLU(name=f"relu{block}")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="probabilities")(x)
    model = _randomize_batchnorm(keras.Model(inputs, outputs))
    path = tmp_path_factory.mktemp("biased") / "biased.pb"
    freeze(model).save(path)
    return path, model


@pytest.fixture(scope="module")
def tutorial_export(frozen_graph, trained_model, digits):
    return export_opencv(frozen_graph, inputs=[digits.x_test[:64]],
                         reference=lambda x: trained_model(x, training=False))


# --- the OpenCV-ready graph matches Keras -----------------------------------------------------


def test_tutorial_model_through_opencv_matches_keras(tutorial_export, trained_model, digits, tmp_path):
    assert tutorial_export.diagnosis.ok and tutorial_export.max_abs_diff <= TOL
    assert tutorial_export.nodes_after < tutorial_export.nodes_before
    assert "BiasAdd" in tutorial_export.ops and "Rsqrt" not in tutorial_export.ops
    assert suspicious_ops(tutorial_export.data) == []
    path = tutorial_export.save(tmp_path / "digits_opencv.pb")
    assert (tmp_path / "digits_opencv.json").is_file()  # the sidecar, as for every .pb we write
    runner = load_runner(path)  # in this process: the export's subprocess check passed first
    assert isinstance(runner, OpenCVRunner) and runner.input_names == ["image:0"]
    for batch in (1, 7):
        x = digits.x_test[:batch]
        np.testing.assert_allclose(runner(x), trained_model(x, training=False).numpy(), atol=TOL)
    with pytest.raises(ShapeError, match="wants shape"):
        runner(np.zeros((1, 9, 9, 1), np.float32))


def test_mobilenetv2_through_opencv_matches_keras():
    import keras

    from graphfreeze_helpers.freeze import freeze

    model = _randomize_batchnorm(keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3), alpha=0.35))
    x = np.random.default_rng(0).random((2, 96, 96, 3), dtype=np.float32)
    exported = export_opencv(freeze(model, inputs=[x]), inputs=[x], reference=lambda a: model(a, training=False))
    assert exported.diagnosis.ok and exported.max_abs_diff <= TOL, exported.diagnosis
    # the depthwise BatchNorm scales are folded into the filters, every BatchNorm shift is a BiasAdd
    assert "Mul" not in exported.ops and exported.ops["BiasAdd"] == 52
    assert any("depthwise filter" in change for change in exported.rewrites)


def test_the_biased_graph_loads_after_export(biased_pb):
    path, model = biased_pb
    x = np.random.default_rng(0).random((5, 8, 8, 1), dtype=np.float32)
    exported = export_opencv(path, inputs=[x], reference=lambda a: model(a, training=False))
    assert exported.diagnosis.ok and exported.max_abs_diff <= TOL


# --- an unsupported graph is reported, never suffered -----------------------------------------


def test_a_crash_is_reported_by_its_signal(biased_pb):
    path, _ = biased_pb
    report = diagnose_opencv(path)  # this process survives: OpenCV ran in a subprocess
    assert not report.ok and report.status in ("crashed", "error")
    assert report.findings[0].kind == "computed-weight" and report.findings[0].op == "BiasAdd"
    assert "computed from constants" in likely_cause(report.findings)
    if MEASURED_BUILD:
        assert report.status == "crashed" and report.signal == "SIGSEGV" and report.stage == "load"
    with pytest.raises(UnsupportedGraphError, match="graphfreeze export GRAPH.pb --to opencv"):
        report.raise_if_failed()


def test_cli_check_opencv_exit_3_one_line(biased_pb, tmp_path):
    path, _ = biased_pb
    result = run_cli("check-opencv", path)
    line = assert_one_line_error(result, 3, "OpenCV cannot")
    assert "likely cause: a layer's weights are computed from constants" in line
    if MEASURED_BUILD:
        assert "died with SIGSEGV in readNetFromTensorflow" in line
    assert "suspicious" in result.stdout and "Squeeze" in result.stdout
    as_json = run_cli("check-opencv", path, "--json", "--no-compare")
    assert as_json.returncode == 3
    payload = json.loads(as_json.stdout)
    assert payload["ok"] is False and payload["suspicious_ops"][0]["kind"] == "computed-weight"
    assert list(tmp_path.iterdir()) == []


def test_cli_check_opencv_on_the_portable_optimization(saved_pb, tmp_path):
    """optimize --target portable leaves AddV2(conv, Const): OpenCV 5's engine refuses its Shift layer."""
    optimized = tmp_path / "portable.pb"
    assert run_cli("optimize", saved_pb, "-o", optimized).returncode == 0
    result = run_cli("check-opencv", optimized, "--no-compare")
    if MEASURED_BUILD:
        line = assert_one_line_error(result, 3, "per-channel Add of a constant")
        assert "end <= dims" in line
    assert "AddV2" in result.stdout


def test_cli_check_opencv_passes_the_plain_tutorial_graph(saved_pb):
    """The tutorial CNN (Conv2D without bias) loads unoptimized: OpenCV pattern-matches Keras' BatchNorm."""
    result = run_cli("check-opencv", saved_pb, "--json")
    payload = json.loads(result.stdout)
    assert result.returncode == 0, result.stderr
    assert payload["ok"] and payload["max_abs_diff"] <= TOL
    assert {f["kind"] for f in payload["suspicious_ops"]} == {"unfolded-batchnorm"}


def test_cli_export_to_opencv(saved_pb, tmp_path):
    graph = tmp_path / "digits.pb"
    graph.write_bytes(saved_pb.read_bytes())
    graph.with_suffix(".json").write_bytes(saved_pb.with_suffix(".json").read_bytes())
    result = run_cli("export", graph, "--to", "opencv", "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["output"].endswith("digits_opencv.pb") and payload["max_abs_diff"] <= TOL
    assert payload["format"] == "opencv" and "BiasAdd" in payload["ops"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["digits.json", "digits.pb", "digits_opencv.json",
                                                          "digits_opencv.pb"]
    assert_one_line_error(run_cli("export", graph, "--to", "opencv"), 2, "already exists")
    assert_one_line_error(run_cli("export", graph, "--to", "opencv", "-o", graph, "--force"), 2, "is the input graph")
    assert run_cli("check-opencv", tmp_path / "digits_opencv.pb").returncode == 0


def test_cli_check_opencv_bad_input(tmp_path):
    assert_one_line_error(run_cli("check-opencv", tmp_path / "missing.pb"), 2, "does not exist")
    bogus = tmp_path / "bogus.pb"
    bogus.write_bytes(b"\xff" * 50)
    assert_one_line_error(run_cli("check-opencv", bogus), 2)


# --- without TensorFlow -----------------------------------------------------------------------


def test_tf_free_runner_cannot_import_tensorflow(tutorial_export, trained_model, digits, tmp_path):
    pb = tutorial_export.save(tmp_path / "digits_opencv.pb")
    x = digits.x_test[:10]
    np.save(tmp_path / "x.npy", x)
    probe = blocker_source() + (
        "import cv2, graphfreeze_helpers.runner\n"
        "try:\n    import tensorflow\nexcept ImportError as exc:\n    print('blocked:', exc)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("blocked: tensorflow is blocked")
    command = tf_free_command(pb, "--input", tmp_path / "x.npy", "-o", tmp_path / "y.npy")
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr  # 97 would mean TensorFlow was importable there
    assert "with opencv" in result.stdout
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), trained_model(x, training=False).numpy(), atol=TOL)


def test_suspicious_ops_and_rewrites_without_tensorflow(biased_pb):
    path, _ = biased_pb
    code = (
        "import sys, graphfreeze_helpers.opencv as o\n"
        f"found = o.suspicious_ops({str(path)!r})\n"
        "print(found[0].kind, len(found))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))\n"
    )
    result = subprocess.run([sys.executable, "-c", blocker_source() + code], capture_output=True, text=True,
                            timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["computed-weight 4", "[]"]


def test_rewrite_makes_bias_adds():
    from tensorboard.compat.proto import graph_pb2

    graph_def = graph_pb2.GraphDef()
    for name, op, inputs in [("x", "Placeholder", []), ("w", "Const", []), ("b", "Const", []),
                             ("conv", "Conv2D", ["x", "w"]), ("add", "AddV2", ["b", "conv"]), ("out", "Relu", ["add"])]:
        node = graph_def.node.add(name=name, op=op)
        node.input.extend(inputs)
    graph_def.node[2].attr["value"].tensor.tensor_shape.dim.add().size = 4
    changes = rewrite_for_opencv(graph_def, keep=["x", "out"])
    ops = {node.name: node.op for node in graph_def.node}
    assert ops["add"] == "BiasAdd" and list(graph_def.node[4].input) == ["conv", "b"]
    assert len(changes) == 2


def test_detect_kind_pb():
    assert detect_kind("model.pb", b"\n\x05image") == "opencv"


# --- the benchmark contender ------------------------------------------------------------------


def test_opencv_dnn_contender_row(saved_pb):
    result = contenders.compare(saved_pb, contenders=["frozen", "opencv_dnn"], batch_sizes=[1, 3],
                                 time_budget_s=0.02, warmup=1, min_calls=2)
    assert result.contenders == ["frozen", "opencv_dnn"]
    assert {(r.contender, r.batch) for r in result.rows} >= {("opencv_dnn", 1), ("opencv_dnn", 3)}
    assert result.worst_diff() <= TOL
    assert "checked in a subprocess" in result.settings["notes"]["opencv_dnn"]


def test_opencv_dnn_contender_times_the_export_of_a_graph_that_crashes_plain(biased_pb):
    """The plain graph kills OpenCV; the contender times its export, after a subprocess check, in this process."""
    path, _ = biased_pb
    contender = contenders.opencv_dnn(contenders.prepare(path))
    assert contender is not None and contender.name == "opencv_dnn"
    run = contender.make(2)
    assert run().shape == (2, 10)


# --- graphs we did not make: several inputs and outputs, by name (issue 12) -------------------

TWO_BY_TWO = """
node { name: "a" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } }
  attr { key: "shape" value { shape { dim { size: -1 } dim { size: 4 } } } } }
node { name: "b" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } }
  attr { key: "shape" value { shape { dim { size: -1 } dim { size: 4 } } } } }
node { name: "difference" op: "Sub" input: "a" input: "b" attr { key: "T" value { type: DT_FLOAT } } }
node { name: "product" op: "Mul" input: "a" input: "b" attr { key: "T" value { type: DT_FLOAT } } }
"""


@pytest.fixture(scope="module")
def two_by_two_pb(tmp_path_factory):
    """Two inputs (a, b) and two outputs (difference = a - b, product = a * b) that OpenCV runs."""
    from google.protobuf import text_format
    from tensorboard.compat.proto import graph_pb2

    path = tmp_path_factory.mktemp("two") / "two.pb"
    path.write_bytes(text_format.Parse(TWO_BY_TWO, graph_pb2.GraphDef()).SerializeToString())
    return path


def test_check_opencv_feeds_several_inputs_by_name_and_compares_outputs_by_name(two_by_two_pb, tmp_path):
    from graphfreeze_helpers.load import load_frozen

    a, b = np.ones((2, 4), np.float32), np.full((2, 4), 3.0, np.float32)
    report = diagnose_opencv(two_by_two_pb, inputs={"b": b, "a:0": a}, reference=load_frozen(two_by_two_pb))
    assert report.ok, report.reason()
    assert report.output_names == ["difference:0", "product:0"]
    assert [c.name for c in report.verification.outputs] == ["difference:0", "product:0"]
    np.testing.assert_array_equal(report.outputs[0], a - b)  # a - b, not b - a: the inputs went in by name
    np.testing.assert_array_equal(report.outputs[1], a * b)
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    # (an .npz of named arrays is read by the same code: tests/test_cli_io.py; --rtol's check: tests/test_cli.py)
    inputs = ["--input", f"b={tmp_path / 'b.npy'}", "--input", f"a={tmp_path / 'a.npy'}"]
    result = run_cli("check-opencv", two_by_two_pb, *inputs, "--rtol", "0", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["max_abs_diff"] == 0.0
    assert_one_line_error(run_cli("check-opencv", two_by_two_pb, "--input", tmp_path / "a.npy"), 2,
                          "takes 2 input(s) ['a:0', 'b:0'], got 1")
    assert_one_line_error(run_cli("check-opencv", two_by_two_pb, "--input", f"c={tmp_path / 'a.npy'}",
                                  "--input", f"b={tmp_path / 'b.npy'}"), 2, "no input named ['c:0']")


def test_check_opencv_on_a_tf1_autoencoder(tmp_path):
    """A TF1 autoencoder runs in OpenCV and matches TensorFlow on its sink, the reconstruction. Its
    code also feeds the decoder: asked for both outputs, OpenCV 5.0.0 refuses (one line, exit 3)."""
    import tf1_graphs

    graph = tf1_graphs.autoencoder()
    path = graph.write(tmp_path / "autoencoder.pb")
    result = run_cli("check-opencv", path, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["max_abs_diff"] <= TOL
    both = run_cli("check-opencv", path, "--outputs", *graph.outputs)
    assert both.returncode in (0, 3), both.stderr
    if MEASURED_BUILD:
        assert_one_line_error(both, 3, "the number of requested and actual outputs must be the same")


def test_check_opencv_on_a_tf1_graph_with_a_uint8_image_and_is_training(tmp_path):
    """v1 cond and while, a uint8 image and an is_training default: OpenCV cannot read it, said in one line."""
    import tf1_graphs

    graph = tf1_graphs.control_flow()
    path = graph.write(tmp_path / "control_flow.pb")
    np.save(tmp_path / "image.npy", graph.feed(batch=2)["image:0"])
    result = run_cli("check-opencv", path, "--input", f"image={tmp_path / 'image.npy'}")
    line = assert_one_line_error(result, 3, "OpenCV cannot")
    assert "Traceback" not in result.stderr and "one input" not in line
    assert "Enter" in result.stdout  # the v1 loop's ops are listed as suspicious
    # the inputs sampled for it are uint8 images, as the graph takes
    from graphfreeze_helpers.load import load_frozen

    report = diagnose_opencv(path, reference=load_frozen(path))
    assert report.inputs[0].dtype == np.uint8 and report.inputs[0].shape[1:] == (8, 8, 3)
    assert not report.ok
