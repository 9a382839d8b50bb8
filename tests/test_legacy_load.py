"""Loading and running graphs we did not make (issue 12): TF1 control flow, device pins and
colocation, any tensor as an input, static shapes, PlaceholderWithDefault as an optional input.

The graphs are built at test time with ``tf.compat.v1`` (tests/tf1_graphs.py) and frozen the
TF1 way; every result is compared with a v1 ``Session`` run of the same graph.
"""

from __future__ import annotations

import numpy as np
import pytest
import tf1_graphs

from graphfreeze_helpers import graphfile
from graphfreeze_helpers.errors import InputError, ShapeError, TensorNameError
from graphfreeze_helpers.load import LoadedGraph, import_as_function, load_frozen, prepare_graph_def
from graphfreeze_helpers.summary import summarize
from graphfreeze_helpers.tensors import TensorArg, TensorInfo, output_key, parse_tensor_arg, parse_tensor_args


@pytest.fixture(scope="module")
def control_flow_pb(tmp_path_factory):
    graph = tf1_graphs.control_flow()
    return graph, graph.write(tmp_path_factory.mktemp("legacy") / "control_flow.pb")


@pytest.fixture(scope="module")
def control_flow_loaded(control_flow_pb):
    return load_frozen(control_flow_pb[1])


# --- tensor names on the command line ------------------------------------------------------


@pytest.mark.parametrize("text, name, shape", [
    ("x", "x:0", None),
    ("x:0", "x:0", None),
    ("split:1", "split:1", None),
    ("image[?,224,224,3]", "image:0", (None, 224, 224, 3)),
    ("image_tensor[1,224,224,3]", "image_tensor:0", (1, 224, 224, 3)),
    ("Mul:0[-1,299,299,3]", "Mul:0", (None, 299, 299, 3)),
    ("length[]", "length:0", ()),
    ("scope/inner/x [ 2 , ? ]".replace(" ", ""), "scope/inner/x:0", (2, None)),
])
def test_parse_tensor_arg(text, name, shape):
    assert parse_tensor_arg(text) == TensorArg(name, shape)


@pytest.mark.parametrize("text", ["", "x[a]", "x[1", "x]", "^x", "x[1.5]", "x y"])
def test_parse_tensor_arg_refuses_in_one_line(text):
    with pytest.raises(InputError) as caught:
        parse_tensor_arg(text)
    assert "\n" not in str(caught.value) and "like image[?,224,224,3]" in str(caught.value)


def test_parse_tensor_args_refuses_a_name_given_twice():
    with pytest.raises(InputError, match="named twice"):
        parse_tensor_args(["x", "x:0"])


def test_output_key():
    assert [output_key(n) for n in ("probs:0", "split:1", "a/b:0")] == ["probs", "split:1", "a/b"]


# --- v1 control flow -----------------------------------------------------------------------


def test_v1_control_flow_graph_holds_the_frame_ops(control_flow_pb):
    ops = {node.op for node in control_flow_pb[0].graph_def.node}
    assert {"Switch", "Merge", "Enter", "Exit", "NextIteration", "LoopCond"} <= ops
    assert graphfile.has_v1_control_flow(control_flow_pb[0].graph_def)


def test_import_in_a_tf_function_breaks_v1_frames(control_flow_pb):
    """The reason the loader chooses a Session: today's fast method fails on v1 loops at call time."""
    import tensorflow as tf

    graph, _ = control_flow_pb
    image = TensorInfo("image:0", "uint8", (None, 8, 8, 3))
    outputs = [TensorInfo(n, "", None) for n in graph.outputs]
    forced = LoadedGraph(graph.graph_def, [image], outputs, method="import")
    with pytest.raises(tf.errors.InvalidArgumentError, match="different frames"):
        forced(graph.feed()["image:0"])


def test_loader_runs_v1_control_flow_in_a_session(control_flow_pb, control_flow_loaded):
    graph, _ = control_flow_pb
    loaded = control_flow_loaded
    assert loaded.method == "session"
    assert [t.name for t in loaded.inputs] == ["image:0"]
    assert [t.name for t in loaded.optional_inputs] == ["is_training:0"]
    assert [(t.name, t.dtype) for t in loaded.outputs] == [("probabilities:0", "float32"), ("classes:0", "int64")]
    feed = graph.feed(batch=3)
    expected = graph.reference(feed)
    probabilities, classes = loaded(feed["image:0"])
    np.testing.assert_allclose(probabilities, expected["probabilities:0"], rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(classes, expected["classes:0"])


def test_optional_input_is_fed_when_given_and_its_default_otherwise(control_flow_pb, control_flow_loaded):
    graph, _ = control_flow_pb
    loaded = control_flow_loaded
    x = graph.feed(batch=4)["image:0"]
    trained = graph.reference({"image:0": x, "is_training:0": True})
    default = graph.reference({"image:0": x})
    assert not np.allclose(trained["probabilities:0"], default["probabilities:0"])  # the feed matters
    np.testing.assert_allclose(loaded(x, is_training=True)[0], trained["probabilities:0"], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(loaded(x)[0], default["probabilities:0"], rtol=1e-6, atol=1e-6)
    by_name = loaded.run({"image": x, "is_training:0": np.array(True)})
    assert list(by_name) == ["probabilities:0", "classes:0"]
    np.testing.assert_allclose(by_name["probabilities:0"], trained["probabilities:0"], rtol=1e-6, atol=1e-6)
    with pytest.raises(TensorNameError, match="optional inputs are"):
        loaded(x, keep_prob=0.5)


def test_run_by_name_says_what_is_missing_or_unknown(control_flow_loaded):
    with pytest.raises(TensorNameError, match=r"no array for input\(s\) \['image:0'\]"):
        control_flow_loaded.run({"is_training": True})
    x = np.zeros((1, 8, 8, 3), np.uint8)
    with pytest.raises(TensorNameError, match="takes no input 'label:0'"):
        control_flow_loaded.run({"image": x, "label": x})


@pytest.mark.parametrize("method", ["prune", "prune_tf_function"])
def test_wrap_function_methods_keep_the_frames_too(control_flow_pb, method):
    graph, path = control_flow_pb
    loaded = load_frozen(path, method=method)
    feed = graph.feed()
    np.testing.assert_allclose(loaded(feed["image:0"])[0], graph.reference(feed)["probabilities:0"], atol=1e-6)


def test_import_as_function_wraps_a_v1_graph_as_a_concrete_function(control_flow_pb, control_flow_loaded):
    import tensorflow as tf

    graph, _ = control_flow_pb
    function = import_as_function(graph.graph_def, control_flow_loaded.inputs, control_flow_loaded.outputs)
    feed = graph.feed()
    out = function(tf.constant(feed["image:0"]))
    np.testing.assert_allclose(out[0].numpy(), graph.reference(feed)["probabilities:0"], atol=1e-6)


def test_dynamic_rnn_with_keep_prob_runs(tmp_path):
    graph = tf1_graphs.rnn_dynamic()
    loaded = load_frozen(graph.write(tmp_path / "rnn.pb"))
    assert loaded.method == "session" and [t.name for t in loaded.optional_inputs] == ["keep_prob:0"]
    feed = graph.feed()
    np.testing.assert_allclose(loaded(feed["sequence:0"]), graph.reference(feed)["logits:0"], rtol=1e-5, atol=1e-6)
    dropped = loaded(feed["sequence:0"], keep_prob=np.float32(0.5))
    assert dropped.shape == (2, 2) and not np.allclose(dropped, graph.reference(feed)["logits:0"])


def test_graph_without_v1_control_flow_keeps_the_fast_import(tmp_path):
    graph = tf1_graphs.two_inputs()
    loaded = load_frozen(graph.write(tmp_path / "two.pb"))
    assert loaded.method == "import"
    feed = graph.feed()
    expected = graph.reference(feed)
    got = loaded.run(feed)
    for name in graph.outputs:
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-6)


# --- devices and colocation ----------------------------------------------------------------


def test_device_pins_and_dangling_colocation_stop_a_plain_import():
    import tensorflow as tf

    with tf.Graph().as_default(), pytest.raises(ValueError, match="colocated with unknown node"):
        tf.compat.v1.import_graph_def(tf1_graphs.pinned_devices().graph_def, name="")


def test_loader_clears_pins_and_colocation_on_a_copy(tmp_path):
    graph = tf1_graphs.pinned_devices()
    original = graph.graph_def
    loaded = load_frozen(graph.write(tmp_path / "pinned.pb"))
    x = graph.feed()["x:0"]
    w = next(n for n in original.node if n.name == "w")
    from graphfreeze_helpers.tensorproto import tensor_to_numpy

    np.testing.assert_allclose(loaded(x), x @ tensor_to_numpy(w.attr["value"].tensor), rtol=1e-6)
    assert graphfile.device_pins(loaded.graph_def) == {} and graphfile.dangling_colocation(loaded.graph_def) == []
    assert graphfile.device_pins(original) == {tf1_graphs.WORKER_DEVICE: len(original.node)}  # untouched
    prepared, _ = prepare_graph_def(original, [TensorInfo("x:0", "float32", (None, 4))], [TensorArg("y:0")])
    assert prepared is not original and graphfile.dangling_colocation(original) == [("y", "side_branch")]


def test_inspect_reports_pins_colocation_and_optional_inputs():
    pinned = summarize(tf1_graphs.pinned_devices().graph_def)
    assert pinned.device_pins == {tf1_graphs.WORKER_DEVICE: 4}
    assert pinned.dangling_colocation == [("y", "side_branch")]
    text = pinned.table()
    assert "4 node(s) pinned" in text and "y -> side_branch" in text
    flow = summarize(tf1_graphs.control_flow().graph_def)
    assert flow.optional_inputs == [{"name": "is_training:0", "dtype": "bool", "shape": [], "default": "False"}]
    assert "Optional inputs" in flow.table() and flow.to_dict()["optional_inputs"][0]["default"] == "False"
    assert [t.name for t in flow.inputs] == ["image:0"]
    rnn = summarize(tf1_graphs.rnn_static().graph_def)
    assert rnn.optional_inputs[0]["name"] == "keep_prob:0" and rnn.optional_inputs[0]["default"] == "1.0"


# --- inputs that are not placeholders, and static shapes -----------------------------------


def test_an_input_may_be_any_tensor_the_graph_is_cut_there(tmp_path):
    graph = tf1_graphs.two_inputs()
    path = graph.write(tmp_path / "two.pb")
    loaded = load_frozen(path, inputs=["mul", "b:0"], outputs=["total"])
    assert [(t.name, t.dtype) for t in loaded.inputs] == [("mul:0", "float32"), ("b:0", "float32")]
    nodes = {node.name: node for node in loaded.graph_def.node}
    assert nodes["mul"].op == "Placeholder" and "a" not in nodes  # what only fed the cut is gone
    m, b = np.full((2, 4), 3.0, np.float32), np.ones((2, 4), np.float32)
    np.testing.assert_allclose(loaded(m, b), m + b)


def test_a_shape_sets_the_static_shape(tmp_path):
    graph = tf1_graphs.two_inputs()
    loaded = load_frozen(graph.write(tmp_path / "two.pb"), inputs=["a[2,4]", "b[?,4]"])
    assert [t.shape for t in loaded.inputs] == [(2, 4), (None, 4)]
    node = next(n for n in loaded.graph_def.node if n.name == "a")
    assert [d.size for d in node.attr["shape"].shape.dim] == [2, 4]
    with pytest.raises(ShapeError, match=r"wants shape \(2, 4\)"):
        loaded(np.zeros((3, 4), np.float32), np.zeros((3, 4), np.float32))


def test_cutting_at_a_later_output_is_refused(tmp_path):
    graph = tf1_graphs.two_inputs()
    with pytest.raises(InputError, match="only a node's first output"):
        load_frozen(graph.write(tmp_path / "two.pb"), inputs=["mul:1"], outputs=["total"])


def test_unknown_input_name_suggests(tmp_path):
    graph = tf1_graphs.two_inputs()
    with pytest.raises(TensorNameError, match="did you mean"):
        load_frozen(graph.write(tmp_path / "two.pb"), inputs=["mull"])


# --- bench ----------------------------------------------------------------------------------


def test_bench_times_a_v1_control_flow_graph(control_flow_pb):
    from graphfreeze_helpers.contenders import FROZEN_CONTENDERS, compare

    result = compare(control_flow_pb[1], contenders=FROZEN_CONTENDERS, batch_sizes=(1,), time_budget_s=0.2,
                     warmup=1, min_calls=2)
    assert sorted(result.contenders) == sorted(FROZEN_CONTENDERS)
    assert result.worst_diff() <= 1e-5
    assert "Session callable" in result.settings["notes"]["frozen"]


def test_a_refswitch_left_in_a_frozen_graph_becomes_a_switch(control_flow_pb):
    graph, _ = control_flow_pb
    graph_def = graph.graph_def
    for node in graph_def.node:
        if node.op == "Switch" and node.name.startswith("train_cond/mul/"):
            node.op = "RefSwitch"  # what an older freezer left: a ref op fed by a constant
    assert graphfile.stale_ref_ops(graph_def)
    loaded = LoadedGraph(graph_def, [TensorInfo("image:0", "uint8", None)], [TensorArg(n) for n in graph.outputs])
    assert not graphfile.stale_ref_ops(loaded.graph_def) and graphfile.stale_ref_ops(graph_def)  # on a copy
    feed = graph.feed()
    expected = graph.reference({**feed, "is_training:0": True})
    np.testing.assert_allclose(loaded(feed["image:0"], is_training=True)[0], expected["probabilities:0"], atol=1e-6)


def _inception_style_graph():
    """JPEG bytes in (a string placeholder, DecodeJpeg), then a ``Mul`` that scales the image, then a classifier."""
    import tensorflow as tf

    with tf1_graphs.v1_control_flow(), tf.Graph().as_default() as graph:
        contents = tf.compat.v1.placeholder(tf.string, [], name="DecodeJpeg/contents")
        image = tf.cast(tf.io.decode_jpeg(contents, channels=3), tf.float32)
        batch = tf.image.resize(tf.expand_dims(image, 0), [8, 8])
        scaled = tf.multiply(batch, 1.0 / 255.0, name="Mul")
        weights = tf.constant(np.random.default_rng(0).standard_normal((192, 3)).astype(np.float32))
        tf.nn.softmax(tf.matmul(tf.reshape(scaled, [-1, 192]), weights), name="softmax")
        return graph.as_graph_def()


def test_an_inception_style_graph_is_fed_at_mul_skipping_its_jpeg_decoding(tmp_path):
    graph_def = _inception_style_graph()
    path = tmp_path / "inception_style.pb"
    path.write_bytes(graph_def.SerializeToString())
    loaded = load_frozen(path, inputs=["Mul:0[?,8,8,3]"], outputs=["softmax"])
    assert [(t.name, t.dtype, t.shape) for t in loaded.inputs] == [("Mul:0", "float32", (None, 8, 8, 3))]
    kept = {node.op for node in loaded.graph_def.node} | {node.name for node in loaded.graph_def.node}
    assert "DecodeJpeg" not in kept and "DecodeJpeg/contents" not in kept
    x = np.random.default_rng(1).random((2, 8, 8, 3)).astype(np.float32)
    expected = tf1_graphs.run_graph_def(graph_def, {"Mul:0": x[:1]}, ["softmax:0"])["softmax:0"]
    np.testing.assert_allclose(loaded(x)[:1], expected, rtol=1e-5, atol=1e-6)
    assert loaded(x).shape == (2, 3)  # the cut graph takes a batch the JPEG path never could


def test_cutting_where_another_output_of_the_node_is_used_is_refused():
    import tensorflow as tf

    with tf.Graph().as_default() as graph:
        x = tf.compat.v1.placeholder(tf.float32, [None, 4], name="x")
        left, right = tf.split(x, 2, axis=1, name="halves")
        tf.add(left, right, name="total")
    with pytest.raises(InputError, match="also uses 'halves:1'"):
        LoadedGraph(graph.as_graph_def(), [TensorArg("halves:0")], [TensorArg("total:0")])


def test_cutting_where_the_other_output_is_not_needed_works():
    import tensorflow as tf

    with tf.Graph().as_default() as graph:
        x = tf.compat.v1.placeholder(tf.float32, [None, 4], name="x")
        left, right = tf.split(x, 2, axis=1, name="halves")
        tf.multiply(left, 2.0, name="doubled")
        tf.add(left, right, name="total")
    loaded = LoadedGraph(graph.as_graph_def(), [TensorArg("halves:0")], [TensorArg("doubled:0")])
    np.testing.assert_allclose(loaded(np.ones((1, 2), np.float32)), [[2.0, 2.0]])
