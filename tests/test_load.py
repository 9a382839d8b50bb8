import json
import shutil

import numpy as np
import pytest

from graphfreeze_helpers.errors import GraphFormatError, IntegrityError, ShapeError, TensorNameError
from graphfreeze_helpers.load import load_frozen


@pytest.fixture
def pb_copy(saved_pb, tmp_path):
    target = tmp_path / "g.pb"
    shutil.copy(saved_pb, target)
    shutil.copy(saved_pb.with_suffix(".json"), target.with_suffix(".json"))
    return target


@pytest.mark.parametrize("method", ["import", "prune", "prune_tf_function"])
def test_every_loader_matches_the_model(saved_pb, trained_model, digits, method):
    fn = load_frozen(saved_pb, method=method)
    x = digits.x_test[:20]
    np.testing.assert_allclose(fn(x), trained_model(x, training=False).numpy(), atol=1e-5)


def test_names_come_from_the_sidecar(saved_pb, frozen_graph):
    fn = load_frozen(saved_pb)
    assert fn.inputs == frozen_graph.inputs
    assert [t.name for t in fn.outputs] == [t.name for t in frozen_graph.outputs]


def test_names_are_discovered_without_sidecar(pb_copy, trained_model, digits):
    pb_copy.with_suffix(".json").unlink()
    fn = load_frozen(pb_copy)
    assert [t.name for t in fn.inputs] == ["image:0"]
    assert [t.name for t in fn.outputs] == ["Identity:0"]
    assert fn.outputs[0].dtype == "float32"
    np.testing.assert_allclose(fn(digits.x_test[:3]), trained_model(digits.x_test[:3], training=False), atol=1e-5)


def test_explicit_names(saved_pb):
    fn = load_frozen(saved_pb, inputs=["image"], outputs=["Identity:0"])
    assert fn.inputs[0].name == "image:0"


def test_wrong_input_name_lists_names_and_suggests(saved_pb):
    with pytest.raises(TensorNameError) as info:
        load_frozen(saved_pb, inputs=["imag:0"])
    message = str(info.value)
    assert "no input tensor 'imag:0'" in message
    assert "['image:0']" in message and "did you mean 'image:0'" in message


def test_wrong_output_name(saved_pb):
    with pytest.raises(TensorNameError, match="did you mean 'Identity:0'"):
        load_frozen(saved_pb, outputs=["Identiti:0"])


def test_wrong_shape_and_dtype(saved_pb):
    fn = load_frozen(saved_pb)
    with pytest.raises(ShapeError, match=r"wants shape \(None, 8, 8, 1\).*got \(2, 8, 8\)"):
        fn(np.zeros((2, 8, 8), np.float32))
    with pytest.raises(ShapeError, match="wants dtype float32, got str32"):
        fn(np.full((1, 8, 8, 1), "a"))
    with pytest.raises(ShapeError, match="takes 1 input"):
        fn(np.zeros((1, 8, 8, 1)), np.zeros((1, 8, 8, 1)))
    assert fn(np.zeros((1, 8, 8, 1), np.float64)).shape == (1, 10)  # same kind: cast


def test_sha_mismatch_is_reported(pb_copy):
    data = bytearray(pb_copy.read_bytes())
    data[-1] ^= 0xFF
    pb_copy.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="does not match the sha256"):
        load_frozen(pb_copy)


def test_broken_sidecar_is_reported(pb_copy):
    pb_copy.with_suffix(".json").write_text("{not json")
    with pytest.raises(GraphFormatError, match="not valid JSON"):
        load_frozen(pb_copy)


def test_seed_recipe_loader_fails_on_a_graphdef(saved_pb):
    import tensorflow as tf

    with pytest.raises(OSError):
        tf.saved_model.load(str(saved_pb))


def test_multi_input_multi_output_round_trip(tmp_path):
    import keras

    from graphfreeze_helpers.freeze import freeze, sample_inputs

    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    merged = keras.layers.Concatenate()([a, b])
    model = keras.Model([a, b], [keras.layers.Dense(4)(merged), keras.layers.Dense(1)(merged)])
    frozen = freeze(model)
    frozen.save(tmp_path / "mm.pb")
    fn = load_frozen(tmp_path / "mm.pb")
    xs = sample_inputs(frozen.inputs, batch=5)
    got = fn(*xs)
    want = model(xs, training=False)
    assert len(got) == 2
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, atol=1e-5)
    assert json.loads((tmp_path / "mm.json").read_text())["inputs"][1]["name"] == "b:0"


def test_stacked_lstm_round_trip(tmp_path):
    import keras

    from graphfreeze_helpers.freeze import freeze, sample_inputs

    inputs = keras.Input((7, 3))
    x = keras.layers.LSTM(5, return_sequences=True)(inputs)
    model = keras.Model(inputs, keras.layers.GRU(4)(x))
    freeze(model).save(tmp_path / "rnn.pb")
    x = sample_inputs([load_frozen(tmp_path / "rnn.pb").inputs[0]], batch=3)[0]
    for method in ("import", "prune"):
        np.testing.assert_allclose(load_frozen(tmp_path / "rnn.pb", method=method)(x), model(x), atol=1e-5)
