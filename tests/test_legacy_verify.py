"""Verification on graphs we did not make: outputs by name, NaN, tolerance, sample inputs (issue 12)."""

from __future__ import annotations

import numpy as np
import pytest
import tf1_graphs

from graphfreeze_helpers.errors import InputError, VerificationError
from graphfreeze_helpers.freeze import consumer_shape, runnable_sample_inputs, sample_inputs, tiny_png
from graphfreeze_helpers.tensors import TensorInfo
from graphfreeze_helpers.verify import Verification, input_list, max_abs_diff

# --- comparing outputs (no TensorFlow) ---------------------------------------------------------


def test_outputs_are_matched_by_name_not_position():
    scores, classes = np.array([465.3, 290.5], np.float32), np.array([1, 0])
    expected = {"scores:0": scores, "classes:0": classes}
    actual = [classes, scores]  # a converter returned them in another order
    assert max_abs_diff(list(expected.values()), actual) > 100  # by position: nonsense
    result = Verification.from_outputs(expected, actual, [np.zeros((2, 3))], actual_names=["classes", "scores"])
    assert result.ok, result
    assert [c.name for c in result.outputs] == ["scores:0", "classes:0"]
    assert "2 outputs by name" in result.summary()


def test_a_missing_output_is_named():
    result = Verification.from_outputs({"a:0": np.zeros(2), "b:0": np.zeros(2)}, {"a:0": np.zeros(2)}, [])
    assert not result.ok
    assert "output 'b:0': missing" in result.problem


def test_nan_in_the_same_places_counts_as_equal():
    a = np.array([1.0, np.nan, 3.0, np.inf])
    result = Verification.from_outputs([a], [a.copy()], [a])
    assert result.ok and result.max_abs_diff == 0.0


def test_nan_on_one_side_is_counted_never_printed_as_nan():
    result = Verification.from_outputs([np.array([1.0, 2.0, 3.0])], [np.array([1.0, np.nan, 3.0])], [])
    assert not result.ok
    assert "1 of 3 values are NaN or infinite in only one of the two" in result.problem
    with pytest.raises(VerificationError) as error:
        result.raise_if_failed("the onnx export", "the frozen graph")
    assert "nan" not in str(error.value).replace("NaN", "")
    assert "inf" not in str(error.value).replace("infinite", "")


def test_every_output_nan_is_said_not_passed():
    nan = np.full((2, 3), np.nan, np.float32)
    result = Verification.from_outputs({"y:0": nan, "z:0": nan[0]}, {"y:0": nan, "z:0": nan[0]}, [nan])
    assert result.all_nan and not result.ok
    with pytest.raises(VerificationError, match="every output is NaN on these inputs.*--input NAME=FILE.npy"):
        result.raise_if_failed("optimized graph", "the frozen graph")


def test_one_nan_output_among_others_still_compares_the_rest():
    result = Verification.from_outputs({"y:0": np.full(2, np.nan), "z:0": np.ones(2)},
                                       {"y:0": np.full(2, np.nan), "z:0": np.ones(2) + 0.5}, [])
    assert not result.all_nan and not result.ok
    assert "output 'z:0'" in result.problem


def test_a_shape_mismatch_is_its_own_message_not_inf():
    result = Verification.from_outputs([np.zeros(4)], [np.zeros(3)], [], names=["y:0"])
    assert not result.ok and result.max_abs_diff == 0.0
    assert result.problem == "output 'y:0': shape (3,) here but (4,) in the reference"
    with pytest.raises(VerificationError) as error:
        result.raise_if_failed()
    assert "inf" not in str(error.value)


def test_tolerance_scales_with_the_outputs():
    hundreds = np.array([465.3034, 290.5147, -512.0], np.float32)
    off = hundreds + np.float32(6e-5)  # two float32 steps at 500
    result = Verification.from_outputs([hundreds], [off], [])
    assert result.ok, result
    assert result.max_abs_diff > 1e-5  # refused by the absolute tolerance alone
    assert not Verification.from_outputs([hundreds], [off], [], rtol=0.0).ok
    assert "tolerance 1e-05 + 1e-05 x |reference|" in result.summary()
    small = np.array([0.01, 0.02])  # near zero only the absolute part counts
    refused = Verification.from_outputs([small], [small + 6e-5], [], names=["p:0"])
    assert not refused.ok
    assert "2 of 2 values beyond the tolerance" in refused.problem
    assert "where |reference| = 0.01 (allowed there: 1.01e-05)" in refused.problem


def test_the_tolerance_applied_is_reported():
    result = Verification.from_outputs([np.ones(2)], [np.ones(2)], [], tolerance=1e-3, rtol=0.01)
    assert result.tolerance_text == "0.001 + 0.01 x |reference|"
    assert result.summary() in repr(result)


def test_real_inputs_by_name():
    specs = [TensorInfo("image:0", "uint8", (None, 2)), TensorInfo("length:0", "int32", ())]
    image, length = np.zeros((3, 2), np.uint8), np.array(2, np.int32)
    arrays = input_list(specs, {"length": length, "image:0": image})
    assert arrays[0] is not None and arrays[0].shape == (3, 2) and int(arrays[1]) == 2
    with pytest.raises(InputError, match=r"missing \['length:0'\]"):
        input_list(specs, {"image": image})
    with pytest.raises(InputError, match=r"no input named \['lenght:0'\]"):
        input_list(specs, {"image": image, "lenght": length})


# --- sample inputs that make sense ---------------------------------------------------------------


def test_sample_inputs_respect_dtype_and_sense():
    specs = [
        TensorInfo("image:0", "uint8", (None, 16, 16, 3)),
        TensorInfo("length:0", "int32", (None,)),
        TensorInfo("is_training:0", "bool", ()),
        TensorInfo("mask:0", "bool", (None, 8)),
        TensorInfo("name:0", "string", (None,)),
        TensorInfo("x:0", "float32", (None, 3)),
    ]
    image, length, is_training, mask, name, x = sample_inputs(specs, batch=4)
    assert image.dtype == np.uint8 and image.shape == (4, 16, 16, 3)
    assert image.max() > 200 and image.min() < 50  # images use the whole 0..255 range
    assert length.dtype == np.int32 and length.min() >= 1  # never a zero length or divisor
    assert is_training.shape == () and not is_training  # inference mode
    assert mask.dtype == bool and mask.any() and not mask.all()
    assert name.dtype == object and name[0] == b"graphfreeze"
    assert x.dtype == np.float32 and x.shape == (4, 3)


def test_a_string_input_read_by_an_image_decoder_gets_an_image():
    import tensorflow as tf

    with tf.Graph().as_default() as graph:
        data = tf.compat.v1.placeholder(tf.string, [], name="jpeg")
        tf.image.decode_jpeg(data, channels=3, name="decoded")
    graph_def = graph.as_graph_def()
    (sample,) = sample_inputs([TensorInfo("jpeg:0", "string", ())], graph_def=graph_def)
    assert sample.item() == tiny_png()
    assert tf.io.decode_jpeg(sample.item()).shape == (8, 8, 3)  # JPEG decoders read PNG


def test_unknown_rank_is_read_from_the_consumers():
    graph = tf1_graphs.regression()
    assert graph.shapes["x:0"] is None
    assert consumer_shape(graph.graph_def, "x:0") == (None, 4)
    (x,) = sample_inputs([TensorInfo("x:0", "float32", None)], graph_def=graph.graph_def)
    assert x.shape == (4, 4)


def test_consumer_shapes_of_common_layers():
    import tensorflow as tf

    with tf.Graph().as_default() as graph:
        v1 = tf.compat.v1
        a, b, c = (v1.placeholder(tf.float32, None, name=n) for n in "abc")
        tf.matmul(tf.nn.relu(a), tf.constant(np.ones((7, 2), np.float32)))
        tf.nn.conv2d(b, tf.constant(np.ones((3, 3, 5, 4), np.float32)), 1, "VALID")
        tf.reshape(c, [-1, 28, 28, 1])
    graph_def = graph.as_graph_def()
    assert consumer_shape(graph_def, "a") == (None, 7)
    assert consumer_shape(graph_def, "b:0") == (None, 32, 32, 5)
    assert consumer_shape(graph_def, "c") == (None, 784)


def test_a_shape_the_graph_does_not_tell_is_asked_for_in_one_line():
    import tensorflow as tf

    from graphfreeze_helpers.load import LoadedGraph

    with tf.Graph().as_default() as graph:
        x = tf.compat.v1.placeholder(tf.float32, None, name="x")
        tf.matmul(x, x, transpose_b=True, name="gram")  # rank 2, but no constant says so
    loaded = LoadedGraph(graph.as_graph_def(), [TensorInfo("x:0", "float32", None)], [TensorInfo("gram:0", "", None)])
    with pytest.raises(InputError) as error:
        runnable_sample_inputs(loaded.inputs, loaded, graph_def=loaded.graph_def)
    message = str(error.value)
    assert "\n" not in message
    assert "the graph fails on sampled inputs (x:0 (4,))" in message
    assert "--inputs 'x[?,...]'" in message and "--input NAME=FILE.npy" in message


def test_larger_free_sizes_are_tried_before_giving_up():
    import tensorflow as tf

    from graphfreeze_helpers.load import LoadedGraph

    with tf.Graph().as_default() as graph:  # a 7x7 VALID pooling needs more than 5 pixels
        x = tf.compat.v1.placeholder(tf.float32, [None, None, None, 2], name="x")
        tf.nn.max_pool2d(x, 7, 7, "VALID", name="pooled")
    loaded = LoadedGraph(graph.as_graph_def(), [TensorInfo("x:0", "float32", (None, None, None, 2))],
                         [TensorInfo("pooled:0", "", None)])
    arrays, outputs = runnable_sample_inputs(loaded.inputs, loaded, graph_def=loaded.graph_def)
    assert arrays[0].shape == (4, 32, 32, 2) and np.asarray(outputs).shape == (4, 4, 4, 2)


def test_sampled_lengths_keep_the_outputs_finite():
    from graphfreeze_helpers.load import LoadedGraph

    graph = tf1_graphs.length_nan()
    loaded = LoadedGraph(graph.graph_def, [TensorInfo(n, "", None) for n in graph.inputs],
                         [TensorInfo(n, "", None) for n in graph.outputs])
    zero_length = loaded(np.ones((2, 8), np.float32), np.array(0, np.int32))
    assert np.isnan(zero_length).all()  # what a random 0 used to do
    arrays, outputs = runnable_sample_inputs(loaded.inputs, loaded, graph_def=loaded.graph_def)
    assert int(arrays[1]) >= 1 and np.isfinite(outputs).all()


def test_a_dtype_numpy_cannot_hold_asks_for_real_inputs():
    with pytest.raises(InputError, match=r"cannot sample input 'h:0' of dtype resource; give real inputs"):
        sample_inputs([TensorInfo("h:0", "resource", ())])


def test_a_dict_keyed_by_other_names_counts_in_key_order():
    keras = {"dense_b": np.ones(2), "dense_a": np.zeros(2)}  # a model's own output names
    frozen = [np.zeros(2), np.ones(2)]  # the frozen graph's outputs, flattened in key order
    result = Verification.from_outputs(keras, frozen, [], names=["Identity:0", "Identity_1:0"])
    assert result.ok, result
