"""Real Keras architectures through the whole pipeline: freeze, verify, inspect, scan, save, reload.

Built with ``weights=None`` (no downloads) and small inputs to keep the file near a minute
on two cores. Marked ``slow``; CI still runs it (``make test``; ``make test-fast`` skips it).
"""

from __future__ import annotations

import numpy as np
import pytest

from graphfreeze_helpers import safety
from graphfreeze_helpers.freeze import freeze, sample_inputs, stateful_nodes
from graphfreeze_helpers.load import load_frozen
from graphfreeze_helpers.summary import summarize
from graphfreeze_helpers.tensors import TensorInfo
from graphfreeze_helpers.tfimport import import_tensorflow
from graphfreeze_helpers.verify import as_output_list, max_abs_diff

pytestmark = pytest.mark.slow


def mobilenet_v2():
    import keras

    return keras.applications.MobileNetV2(weights=None, input_shape=(64, 64, 3), alpha=0.35, classes=10)


def resnet50():
    import keras

    return keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3), classes=10)


def gru_model():
    import keras

    inp = keras.Input((12, 6), name="sequence")
    x = keras.layers.GRU(16, return_sequences=True)(inp)
    x = keras.layers.LSTM(8)(x)
    return keras.Model(inp, keras.layers.Dense(3, activation="softmax")(x), name="gru_lstm")


def multi_io_model():
    import keras

    image = keras.Input((16, 16, 1), name="image")
    meta = keras.Input((5,), name="meta")
    tokens = keras.Input((7,), dtype="int32", name="tokens")
    x = keras.layers.Conv2D(4, 3, activation="relu")(image)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    t = keras.layers.Embedding(10, 4)(tokens)
    t = keras.layers.GlobalAveragePooling1D()(t)
    joined = keras.layers.Concatenate()([x, keras.layers.Dense(4)(meta), t])
    label = keras.layers.Dense(3, activation="softmax", name="label")(joined)
    score = keras.layers.Dense(1, name="score")(joined)
    return keras.Model([image, meta, tokens], [label, score], name="multi_io")


ARCHITECTURES = {
    "mobilenet_v2": mobilenet_v2,
    "resnet50": resnet50,
    "gru_lstm": gru_model,
    "multi_io": multi_io_model,
}


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_real_architecture_round_trip(name, tmp_path):
    import_tensorflow()
    model = ARCHITECTURES[name]()
    specs = [TensorInfo(t.name, str(t.dtype), (None, *tuple(t.shape)[1:])) for t in model.inputs]
    arrays = sample_inputs(specs, batch=2, seed=1)
    expected = as_output_list(model(arrays[0] if len(arrays) == 1 else arrays, training=False))

    frozen = freeze(model, inputs=arrays)  # verifies: raises if outputs differ beyond 1e-5
    assert frozen.verification is not None and frozen.verification.ok
    assert stateful_nodes(frozen.graph_def) == []
    assert len(frozen.inputs) == len(model.inputs) and len(frozen.outputs) == len(expected)

    summary = summarize(frozen)
    assert summary.variable_ops == [] and summary.unsafe_ops == []
    assert summary.const_bytes >= sum(np.asarray(v).nbytes for v in model.weights) * 0.9
    assert sorted(t.name for t in summary.inputs) == sorted(t.name for t in frozen.inputs)  # graph order
    assert safety.scan(frozen.graph_def) == []

    path = frozen.save(tmp_path / f"{name}.pb")
    loaded = load_frozen(path)  # refuses unsafe graphs by default, so this also says "clean"
    got = as_output_list(loaded(*arrays))
    assert max_abs_diff(expected, got) <= 1e-5
