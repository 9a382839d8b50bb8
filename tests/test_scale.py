"""Large graphs on small ones: constants fed from NumPy (bigload), thresholds lowered so a 1 MiB kernel counts."""

from __future__ import annotations

import numpy as np
import pytest

from graphfreeze_helpers import bigload
from graphfreeze_helpers.tensorproto import tensor_to_numpy


@pytest.fixture(scope="module")
def mlp():
    """An MLP whose first kernel takes exactly 1 MiB (256 x 1024 float32), the smallest constant fed."""
    from graphfreeze_helpers.tfimport import import_tensorflow

    import_tensorflow()
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((256,), name="x")
    hidden = keras.layers.Dense(1024, activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Dense(10)(hidden))


@pytest.fixture(scope="module")
def frozen_mlp(mlp):
    from graphfreeze_helpers.freeze import freeze

    return freeze(mlp)


def big_constants(graph_def):
    return [node.name for node in bigload.fed_constants(graph_def)]


def test_only_the_large_constant_is_fed(frozen_mlp):
    names = big_constants(frozen_mlp.graph_def)
    assert len(names) == 1
    assert bigload.fed_bytes(frozen_mlp.graph_def) == 256 * 1024 * 4
    assert not bigload.is_large(frozen_mlp.graph_def)  # far below LARGE_GRAPH_BYTES


def test_split_constants_keeps_the_graph_and_aligns_the_values(frozen_mlp):
    graph_def = frozen_mlp.graph_def
    before = graph_def.SerializeToString()
    small, values = bigload.split_constants(graph_def)
    assert graph_def.SerializeToString() == before, "the argument is never changed"
    [name] = values
    node = next(n for n in small.node if n.name == name)
    assert node.op == "Placeholder" and not node.input
    assert [d.size for d in node.attr["shape"].shape.dim] == [256, 1024]
    original = next(n for n in graph_def.node if n.name == name)
    np.testing.assert_array_equal(values[name], tensor_to_numpy(original.attr["value"].tensor))
    assert values[name].ctypes.data % 64 == 0
    assert [n.name for n in small.node] == [n.name for n in graph_def.node]
    assert small.ByteSize() < 100_000


def test_fed_loader_matches_the_model_and_the_import_loader(frozen_mlp, mlp):
    from graphfreeze_helpers.load import LoadedGraph

    x = np.random.default_rng(1).random((3, 256), dtype=np.float32)
    fed = LoadedGraph(frozen_mlp.graph_def, frozen_mlp.inputs, frozen_mlp.outputs, method="fed")
    imported = LoadedGraph(frozen_mlp.graph_def, frozen_mlp.inputs, frozen_mlp.outputs, method="import")
    assert fed.outputs == imported.outputs
    np.testing.assert_allclose(fed(x), imported(x), atol=1e-5)
    np.testing.assert_allclose(fed(x), mlp(x, training=False).numpy(), atol=1e-5)
    assert fed.run({"x": x})[fed.outputs[0].name].shape == (3, 10)


def test_auto_feeds_a_graph_above_the_threshold(frozen_mlp, monkeypatch):
    from graphfreeze_helpers.load import LoadedGraph, choose_method

    assert choose_method(frozen_mlp.graph_def) == "import"
    monkeypatch.setattr(bigload, "LARGE_GRAPH_BYTES", 1 << 20)
    assert choose_method(frozen_mlp.graph_def) == "fed"
    assert LoadedGraph(frozen_mlp.graph_def, frozen_mlp.inputs, frozen_mlp.outputs).method == "fed"
