"""Freezing refuses to lie: leftover state, Python callbacks, lookup tables, graphs over 2 GiB."""

from types import SimpleNamespace

import numpy as np
import pytest

from graphfreeze_helpers import freeze as freeze_module
from graphfreeze_helpers.errors import NotFrozenError, TooLargeError, UnsafeGraphError
from graphfreeze_helpers.freeze import (
    check_estimated_size,
    estimate_variable_bytes,
    freeze,
    is_stateful_op,
    not_frozen_reason,
)
from graphfreeze_helpers.tfimport import import_tensorflow


def test_py_function_is_refused():
    tf = import_tensorflow()
    import keras

    class PyLayer(keras.layers.Layer):
        def call(self, x):
            y = tf.py_function(lambda a: a * 2, [x], tf.float32)
            y.set_shape(x.shape)
            return y

    inp = keras.Input((3,), name="x")
    model = keras.Model(inp, keras.layers.Dense(2)(PyLayer()(inp)))
    with pytest.raises(NotFrozenError, match="EagerPyFunc.*py_function"):
        freeze(model)


def test_string_lookup_model_is_refused_not_silently_frozen():
    # Plain convert_variables_to_constants_v2 returns a graph for this model without complaint,
    # but the graph needs the table's resource handle as an extra input and cannot run alone.
    import_tensorflow()
    import keras

    inp = keras.Input((3,), dtype="string", name="words")
    model = keras.Model(inp, keras.layers.StringLookup(vocabulary=["a", "b", "c"])(inp))
    with pytest.raises(NotFrozenError, match="lookup table") as info:
        freeze(model)
    assert "LookupTableFindV2" in str(info.value) and "Placeholder(resource)" in str(info.value)


def test_static_hash_table_savedmodel_is_refused(tmp_path):
    tf = import_tensorflow()

    class Table(tf.Module):
        def __init__(self):
            init = tf.lookup.KeyValueTensorInitializer(tf.constant(["a", "b"]), tf.constant([1, 2], tf.int64))
            self.table = tf.lookup.StaticHashTable(init, -1)

        @tf.function(input_signature=[tf.TensorSpec((None,), tf.string, name="words")])
        def __call__(self, words):
            return {"ids": self.table.lookup(words)}

    module = Table()
    tf.saved_model.save(module, str(tmp_path / "sm"), signatures=module.__call__)
    with pytest.raises(UnsafeGraphError, match="HashTableV2"):  # the SavedModel's scan, before it loads
        freeze(tmp_path / "sm")
    with pytest.raises(NotFrozenError, match="lookup table"):  # trusted, it still cannot be frozen
        freeze(tmp_path / "sm", allow_unsafe=True)


def test_variable_update_in_call_is_refused():
    import_tensorflow()
    import keras

    class Counter(keras.layers.Layer):
        def build(self, shape):
            self.n = self.add_weight(shape=(), initializer="zeros", trainable=False)

        def call(self, x):
            self.n.assign_add(1.0)
            return x + self.n

    inp = keras.Input((3,), name="x")
    with pytest.raises(NotFrozenError, match="training"):
        freeze(keras.Model(inp, Counter()(inp)))


def test_reasons_name_the_usual_causes():
    assert "training=False" in not_frozen_reason([("opt/step", "ResourceApplyAdam")])
    assert "py_function" in not_frozen_reason([("f", "PyFunc")])
    assert "lookup table" in not_frozen_reason([("t", "HashTableV2")])
    generic = not_frozen_reason([("v", "Placeholder(resource)")] * 7)
    assert "and 2 more" in generic and "lookup table" in generic
    assert is_stateful_op("AssignAddVariableOp") and is_stateful_op("ResourceScatterAdd")
    assert not is_stateful_op("MatMul")


def test_estimate_uses_shapes_only():
    # 60,000 x 10,000 float32 = 2.4 GB: estimated from shapes, never allocated.
    huge = SimpleNamespace(shape=(60_000, 10_000), dtype="float32")
    small = SimpleNamespace(shape=(10,), dtype="float64")
    assert estimate_variable_bytes([huge, small, small]) == 60_000 * 10_000 * 4 + 10 * 8  # each variable once
    with pytest.raises(TooLargeError, match="2.00 GiB.*SavedModel"):
        check_estimated_size(SimpleNamespace(variables=[huge]))
    assert check_estimated_size(SimpleNamespace(variables=[small])) == 80


def test_estimate_matches_real_variable_bytes(trained_model):
    expected = sum(np.asarray(v).nbytes for v in trained_model.variables)
    assert estimate_variable_bytes(trained_model.variables) == expected


def test_too_large_model_is_refused_before_tracing(monkeypatch, trained_model):
    import_tensorflow()
    from tensorflow.python.framework import convert_to_constants

    def must_not_run(*args, **kwargs):
        raise AssertionError("conversion ran although the estimate was over the limit")

    monkeypatch.setattr(convert_to_constants, "convert_variables_to_constants_v2", must_not_run)
    monkeypatch.setattr(freeze_module, "MAX_GRAPH_BYTES", 1000)
    with pytest.raises(TooLargeError, match="GiB.*SavedModel"):
        freeze(trained_model)


def test_bytesize_is_checked_before_writing(monkeypatch, frozen_graph, tmp_path):
    monkeypatch.setattr(freeze_module, "MAX_GRAPH_BYTES", frozen_graph.bytes - 1)
    with pytest.raises(TooLargeError, match="protobuf"):
        frozen_graph.save(tmp_path / "big.pb")
    assert list(tmp_path.iterdir()) == []
