import json

import numpy as np
import pytest

from graphfreeze_helpers import files
from graphfreeze_helpers.errors import ModelLoadError, NotFrozenError, OutputExistsError, VerificationError
from graphfreeze_helpers.freeze import freeze, sample_inputs, sidecar_path, stateful_nodes
from graphfreeze_helpers.tensors import TensorInfo


def _ops(graph_def):
    return {node.op for node in graph_def.node}


def test_freeze_removes_every_variable(frozen_graph):
    ops = _ops(frozen_graph.graph_def)
    assert "Const" in ops
    assert not ops & {"ReadVariableOp", "VarHandleOp", "AssignVariableOp"}
    assert stateful_nodes(frozen_graph.graph_def) == []


def test_freeze_keeps_the_batch_dynamic_and_names(frozen_graph):
    (inp,) = frozen_graph.inputs
    assert inp.name == "image:0" and inp.dtype == "float32" and inp.shape == (None, 8, 8, 1)
    (out,) = frozen_graph.outputs
    assert out.shape == (None, 10)


def test_frozen_graph_is_inference_mode(frozen_graph, trained_model, digits):
    from graphfreeze_helpers.load import LoadedGraph

    fn = LoadedGraph(frozen_graph.graph_def, frozen_graph.inputs, frozen_graph.outputs)
    for batch in (1, 7, 64):
        x = digits.x_test[:batch]
        np.testing.assert_allclose(fn(x), trained_model(x, training=False).numpy(), atol=1e-5)
    # Dropout's random ops are gone: two calls agree exactly.
    np.testing.assert_array_equal(fn(digits.x_test[:16]), fn(digits.x_test[:16]))
    assert not _ops(frozen_graph.graph_def) & {"RandomUniform", "StatelessRandomUniformV2"}


def test_verification_is_recorded(frozen_graph):
    assert frozen_graph.verification.ok
    assert frozen_graph.verification.max_abs_diff <= 1e-5
    assert frozen_graph.verification.samples == 32
    assert "FrozenGraph(nodes=" in repr(frozen_graph)
    assert "<table>" in frozen_graph._repr_html_()


def test_save_writes_pb_and_sidecar(saved_pb, frozen_graph):
    record = json.loads(sidecar_path(saved_pb).read_text())
    assert record["sha256"] == files.sha256_file(saved_pb)
    assert record["bytes"] == saved_pb.stat().st_size
    assert record["inputs"] == [t.to_dict() for t in frozen_graph.inputs]
    assert record["outputs"][0]["name"] == frozen_graph.outputs[0].name
    assert record["tensorflow"].startswith("2.") and record["keras"].startswith("3.")
    assert record["nodes"] == frozen_graph.nodes


def test_save_refuses_to_overwrite(frozen_graph, tmp_path):
    target = tmp_path / "m.pb"
    frozen_graph.save(target)
    before = target.read_bytes()
    with pytest.raises(OutputExistsError):
        frozen_graph.save(target)
    assert target.read_bytes() == before
    frozen_graph.save(target, force=True)


def test_freeze_from_keras_file(keras_file, digits):
    frozen = freeze(keras_file, inputs=[digits.x_test[:8]])
    assert frozen.source == str(keras_file)
    assert frozen.verification.ok


def test_freeze_from_h5_file(trained_model, digits, tmp_path):
    path = tmp_path / "m.h5"
    trained_model.save(path)
    assert freeze(path, inputs=[digits.x_test[:8]]).verification.ok


def test_freeze_from_savedmodel_directory(trained_model, digits, tmp_path):
    export_dir = tmp_path / "saved"
    trained_model.export(str(export_dir), verbose=False)
    frozen = freeze(export_dir, inputs=[digits.x_test[:8]])
    assert frozen.verification.ok
    assert frozen.inputs[0].shape == (None, 8, 8, 1)


@pytest.mark.parametrize("name", ["missing.keras", "model.txt", "notsaved"])
def test_bad_model_paths(tmp_path, name):
    path = tmp_path / name
    if name == "model.txt":
        path.write_text("hello")
    if name == "notsaved":
        path.mkdir()
    with pytest.raises(ModelLoadError):
        freeze(path)


def test_corrupt_keras_file(tmp_path):
    path = tmp_path / "broken.keras"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ModelLoadError, match="cannot load Keras model"):
        freeze(path)


def test_nondeterministic_model_fails_verification():
    import keras
    import tensorflow as tf

    class AlwaysNoisy(keras.layers.Layer):
        def call(self, x):
            return x + tf.random.normal(tf.shape(x))  # noise even in inference

    inputs = keras.Input((4,))
    model = keras.Model(inputs, AlwaysNoisy()(inputs))
    with pytest.raises(VerificationError, match="differs from the original"):
        freeze(model)


def test_stateful_nodes_finds_leftovers():
    from tensorboard.compat.proto import graph_pb2

    graph = graph_pb2.GraphDef()
    graph.node.add(name="v", op="VarHandleOp")
    graph.node.add(name="r", op="ReadVariableOp", input=["v"])
    ph = graph.node.add(name="h", op="Placeholder")
    ph.attr["dtype"].type = 20
    fn = graph.library.function.add()
    fn.signature.name = "body"
    fn.node_def.add(name="py", op="EagerPyFunc")
    assert sorted(stateful_nodes(graph)) == [
        ("body/py", "EagerPyFunc"), ("h", "Placeholder(resource)"), ("r", "ReadVariableOp"), ("v", "VarHandleOp")
    ]


def test_freeze_checks_given_inputs_before_calling_the_model(trained_model):
    from graphfreeze_helpers.errors import ShapeError

    with pytest.raises(ShapeError, match=r"wants shape \(None, 8, 8, 1\).*got \(2, 3\)"):
        freeze(trained_model, inputs=[np.zeros((2, 3), np.float32)])
    frozen = freeze(trained_model, inputs=[np.zeros((2, 8, 8, 1), np.float64)])  # cast like at run time
    assert frozen.verification.ok and frozen.verification.samples == 2


def test_save_refuses_a_json_name(frozen_graph, tmp_path):
    from graphfreeze_helpers.errors import InputError

    with pytest.raises(InputError, match="own sidecar"):
        frozen_graph.save(tmp_path / "m.json")
    assert list(tmp_path.iterdir()) == []


def test_freeze_and_inspect_agree_on_variable_ops():
    from graphfreeze_helpers import ops
    from graphfreeze_helpers.freeze import is_stateful_op

    # everything `graphfreeze inspect` calls "NOT frozen" is refused by freeze's own check too
    assert [op for op in sorted(ops.VARIABLE_OPS) if not is_stateful_op(op)] == []
    assert is_stateful_op("VarIsInitializedOp") and is_stateful_op("ResourceGatherNd")


def test_leftover_variables_are_refused(monkeypatch, trained_model):
    monkeypatch.setattr("graphfreeze_helpers.freeze.stateful_nodes", lambda g: [("x", "ReadVariableOp")])
    with pytest.raises(NotFrozenError, match="lookup table"):
        freeze(trained_model)


def test_sample_inputs_fit_specs():
    specs = [TensorInfo("a:0", "float32", (None, 3)), TensorInfo("b:0", "int32", (None, None))]
    a, b = sample_inputs(specs, batch=2)
    assert a.shape == (2, 3) and a.dtype == np.float32
    assert b.shape == (2, 5) and b.dtype == np.int32


@pytest.mark.slow
def test_mobilenet_v2_freezes_within_tolerance():
    import keras

    model = keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3))
    frozen = freeze(model, inputs=sample_inputs([TensorInfo("x:0", "float32", (None, 96, 96, 3))], batch=2))
    assert frozen.verification.max_abs_diff <= 1e-5
    assert stateful_nodes(frozen.graph_def) == []
    assert frozen.nodes > 500  # BatchNorm split into Rsqrt/Mul/Sub/AddV2 on constants
    assert "Rsqrt" in _ops(frozen.graph_def)


@pytest.mark.slow
def test_lstm_model_freezes_within_tolerance():
    import keras

    inputs = keras.Input((12, 6))
    x = keras.layers.LSTM(16, return_sequences=True)(inputs)
    x = keras.layers.LSTM(8)(x)
    model = keras.Model(inputs, keras.layers.Dense(3)(x))
    frozen = freeze(model)
    assert frozen.verification.max_abs_diff <= 1e-5
    assert stateful_nodes(frozen.graph_def) == []
