"""flops.py and structure.py: FLOPs checked against TensorFlow's profiler, the node listing, known problems."""

from __future__ import annotations

import functools
import os

import numpy as np
import pytest
import tf1_graphs
from google.protobuf import text_format
from tensorboard.compat.proto import graph_pb2

from graphfreeze_helpers.errors import InputError
from graphfreeze_helpers.flops import count_flops, infer_shapes
from graphfreeze_helpers.structure import addon_package, examine, known_problems, structure


@functools.lru_cache(maxsize=None)
def conv_net():
    """A small Keras CNN frozen to a GraphDef: Conv2D, BatchNorm (folded to Mul/Add), Relu, MaxPool,
    DepthwiseConv2dNative, AvgPool, a strided 1x1 Conv2D, global average pooling (Mean), Dense, Softmax."""
    import keras
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    keras.utils.set_random_seed(0)
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(8, 3, padding="same")(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.DepthwiseConv2D(3, padding="valid")(x)
    x = keras.layers.AveragePooling2D(2)(x)
    x = keras.layers.Conv2D(4, 1, strides=2)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))
    spec = tf.TensorSpec([None, 16, 16, 3], tf.float32, name="image")
    function = tf.function(lambda image: model(image, training=False)).get_concrete_function(spec)
    return convert_variables_to_constants_v2(function).graph.as_graph_def()


def profiler_flops(graph_def, batch: int) -> int:
    """TensorFlow's own count: tf.compat.v1.profiler on the graph imported with a fixed batch."""
    import tensorflow as tf

    with tf.Graph().as_default() as graph:
        image = tf.compat.v1.placeholder(tf.float32, [batch, 16, 16, 3])
        tf.compat.v1.import_graph_def(graph_def, input_map={"image:0": image}, name="")
        options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
        options["output"] = "none"
        return tf.compat.v1.profiler.profile(graph, options=options).total_float_ops


@pytest.mark.parametrize("batch", [1, 3])
def test_flops_match_tensorflows_profiler(batch):
    graph_def = conv_net()
    report = count_flops(graph_def, {"image": (batch, 16, 16, 3)})
    assert report.unknown == 0 and report.flops > 0
    assert report.flops == profiler_flops(graph_def, batch)
    rows = {row.op: row for row in report.rows}
    assert rows["Conv2D"].nodes == 2 and rows["Conv2D"].macs * 2 == rows["Conv2D"].flops
    assert report.macs == sum(rows[op].flops // 2 for op in ("Conv2D", "DepthwiseConv2dNative", "MatMul"))
    assert report.not_counted == {"Relu": 1}
    assert "total" in report.table() and report.to_dict()["flops"] == report.flops


def test_free_sizes_need_a_shape():
    text = """
    node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } }
      attr { key: "shape" value { shape { dim { size: -1 } dim { size: -1 } } } } }
    node { name: "w" op: "Const" attr { key: "dtype" value { type: DT_FLOAT } }
      attr { key: "value" value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: 5 } dim { size: 2 } }
        float_val: 1.0 } } } }
    node { name: "y" op: "MatMul" input: "x" input: "w" attr { key: "T" value { type: DT_FLOAT } } }
    """
    graph_def = text_format.Parse(text, graph_pb2.GraphDef())
    assert count_flops(graph_def).unknown == 1
    assert count_flops(graph_def, {"x": (4, 5)}).flops == 2 * 5 * 4 * 2
    assert infer_shapes(graph_def, {"x:0": (4, 5)})["y"] == (4, 2)


def test_structure_lists_nodes_with_shapes_and_counts_control_edges():
    graph = tf1_graphs.training_residue()
    listing = structure(graph.graph_def, pattern="^y$|matmul")
    assert [row.op for row in listing.rows] == ["MatMul", "Identity"]
    assert listing.rows[0].shape == (None, 3)
    assert listing.control_edges >= 1 and listing.nodes == len(graph.graph_def.node)
    with pytest.raises(InputError, match="not a regular expression"):
        structure(graph.graph_def, pattern="((")
    pinned = structure(tf1_graphs.pinned_devices().graph_def)
    assert pinned.devices == {tf1_graphs.WORKER_DEVICE: pinned.nodes}


def test_known_problems_name_their_fix():
    residue = {p.kind: p for p in known_problems(tf1_graphs.training_residue().graph_def)}
    assert "--repair-training" in residue["v1 training residue"].fix
    assert "AssignMovingAvg" in residue["v1 training residue"].nodes
    pinned = {p.kind: p for p in known_problems(tf1_graphs.pinned_devices().graph_def)}
    assert "--strip colocation" in pinned["dangling colocation"].fix and "device pins" in pinned
    assert known_problems(tf1_graphs.two_inputs().graph_def) == []
    graph_def = tf1_graphs.two_inputs().graph_def
    graph_def.node.add(name="rotate", op="Addons>ImageProjectiveTransformV3")
    graph_def.node.add(name="tokens", op="WordpieceTokenizeWithOffsets")
    graph_def.node.add(name="future", op="FancyOpFromTomorrow")
    graph_def.node[2].attr["grad_scale"].f = 1.0  # an attr TF 2.21's op does not have
    found = {p.kind: p for p in known_problems(graph_def)}
    assert found["add-on ops (tensorflow-addons)"].fix.startswith("pip install tensorflow-addons")
    assert "WordpieceTokenizeWithOffsets" in found["add-on ops (tensorflow-text)"].message
    assert "FancyOpFromTomorrow" in found["version skew (ops)"].message
    assert f"{graph_def.node[2].op}.grad_scale" in found["version skew (attrs)"].message
    assert addon_package("IO>AudioReadableInit") == "tensorflow-io" and addon_package("MatMul") is None


def test_examine_bundles_problems_flops_and_listing():
    found = examine(conv_net(), flops=True, pattern="DepthwiseConv2dNative", shapes={"image": (1, 16, 16, 3)})
    record = found.to_dict()
    assert record["problems"] == [] and record["flops"]["flops"] == found.flops.flops
    assert record["listed"] == 1 and any("FLOPs" in line for line in found.lines())
    assert np.all([row.shape[0] == 1 for row in found.structure.rows])


def test_shipped_attr_list_matches_installed_tensorflow():
    """known_attrs.txt must be regenerated (tools/gen_known_attrs.py) when TensorFlow changes.

    In a fresh process: modules other tests import (LiteRT, converters) register more ops."""
    import subprocess
    import sys
    from pathlib import Path

    tool = Path(__file__).resolve().parent.parent / "tools" / "gen_known_attrs.py"
    result = subprocess.run([sys.executable, str(tool), "--check"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_fuzz_examine_never_crashes():
    """inspect's problems, FLOPs and node listing on damaged graphs (bytes flipped, overwritten, cut, repeated):
    a one-line refusal or a result, never a crash."""
    import json
    from datetime import timedelta

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from graphfreeze_helpers import graphfile
    from graphfreeze_helpers.errors import GraphFreezeError

    seeds = [conv_net().SerializeToString(), tf1_graphs.control_flow().serialized, v2_cond_graph()]
    outcomes = {"parsed": 0, "refused": 0}
    edit = st.tuples(st.integers(0, 3), st.integers(0, 1 << 20), st.integers(0, 255))

    @settings(max_examples=EXAMINE_EXAMPLES, deadline=timedelta(seconds=2), derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.integers(0, len(seeds) - 1), st.lists(edit, min_size=1, max_size=4))
    def run(which, edits):
        data = bytearray(seeds[which])
        for kind, at, value in edits:
            i = at % len(data)
            if kind == 0:
                data[i] ^= 1 << (value % 8)
            elif kind == 1:
                data[i] = value
            elif kind == 2:
                del data[max(i, 1):]
            else:
                data[i:i] = data[i:i + 1 + value]
        try:
            graph_def = graphfile.parse_graph_def(bytes(data), name="'fuzz.pb'")
            found = examine(graph_def, flops=True, listing=True)
            json.dumps(found.to_dict())
            found.lines()
            outcomes["parsed"] += 1
        except GraphFreezeError:
            outcomes["refused"] += 1

    run()
    assert outcomes["parsed"] > EXAMINE_EXAMPLES // 10, outcomes


def v2_cond_graph() -> bytes:
    """A v2 cond and while_loop (functions in the library), serialized."""
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec((None, 4), tf.float32), tf.TensorSpec((), tf.bool)])
    def looped(x, flag):
        y = tf.cond(flag, lambda: tf.nn.relu(x) * 2.0, lambda: x - 1.0)
        _, y = tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, tf.tanh(v)), [tf.constant(0), y])
        return tf.reduce_mean(y, axis=1)

    return looped.get_concrete_function().graph.as_graph_def().SerializeToString()


EXAMINE_EXAMPLES = int(os.environ.get("GRAPHFREEZE_FUZZ_EXAMPLES", "1000"))
