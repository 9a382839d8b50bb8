"""edit.py and `graphfreeze edit`: every edit verified, on v1 and v2 graphs, with and without functions."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest
import tf1_graphs

from graphfreeze_helpers.edit import Binding, edit, parse_shape, read_value
from graphfreeze_helpers.errors import InputError, ShapeError, TensorNameError, UnsafeGraphError, VerificationError
from graphfreeze_helpers.load import LoadedGraph, load_frozen
from graphfreeze_helpers.tensors import parse_tensor_arg

from conftest import assert_one_line_error, run_cli


@functools.lru_cache(maxsize=None)
def v2_graph():
    """A TF2 graph that keeps its function library: a v2 ``cond`` (``StatelessIf``) on a bool input.

    Inputs ``image`` [?, 4], ``extra`` [?, 3], ``flag`` bool [], ``scale`` float32 [];
    outputs ``features`` (relu(image @ w) * scale, or image @ w + 1, plus extra) and ``probs``.
    Returns (graph_def, inputs, outputs) with tensor names.
    """
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    rng = np.random.default_rng(7)
    w = tf.Variable(rng.standard_normal((4, 3)).astype(np.float32) * 0.5)
    w2 = tf.Variable(rng.standard_normal((3, 100)).astype(np.float32) * 0.5)
    specs = [tf.TensorSpec([None, 4], tf.float32, name="image"), tf.TensorSpec([None, 3], tf.float32, name="extra"),
             tf.TensorSpec([], tf.bool, name="flag"), tf.TensorSpec([], tf.float32, name="scale")]

    @tf.function(input_signature=specs)
    def model(image, extra, flag, scale):
        h = tf.matmul(image, w)
        h = tf.cond(flag, lambda: tf.nn.relu(h) * scale, lambda: h + 1.0)
        features = tf.identity(h + extra, name="features")
        return tf.identity(features, name="features_out"), tf.nn.softmax(tf.matmul(features, w2), name="probs")

    frozen = convert_variables_to_constants_v2(model.get_concrete_function(), lower_control_flow=False)
    graph_def = frozen.graph.as_graph_def()
    assert graph_def.library.function and any(n.op == "StatelessIf" for n in graph_def.node)
    return graph_def, ["image:0", "extra:0", "flag:0", "scale:0"], [t.name for t in frozen.outputs]


def _loaded(graph_def, inputs, outputs) -> LoadedGraph:
    return LoadedGraph(graph_def, [parse_tensor_arg(t) if isinstance(t, str) else t for t in inputs],
                       [parse_tensor_arg(t) if isinstance(t, str) else t for t in outputs])


def _ops(graph_def) -> set[str]:
    return {node.op for node in graph_def.node}


def _feed(seed=0, batch=3):
    rng = np.random.default_rng(seed)
    return rng.random((batch, 4)).astype(np.float32), rng.random((batch, 3)).astype(np.float32)


# --- --set ----------------------------------------------------------------------------------------


def test_set_on_a_v1_cond_drops_the_dead_branch():
    graph = tf1_graphs.control_flow()
    result = edit(graph.graph_def, set_values=["is_training=true"])
    step = result.step("set")
    assert step.verification.ok and "is_training=true" in step.verified_on and "part that stays" in step.verified_on
    names = {node.name for node in result.graph_def.node}
    assert "is_training" not in names and not any(n.startswith("train_cond/Switch") for n in names)
    assert "Enter" in _ops(result.graph_def)  # the while loop stays
    feed = graph.feed()
    expected = graph.reference({**feed, "is_training:0": True})
    got = LoadedGraph(result.graph_def, result.frozen.inputs, result.frozen.outputs)(feed["image:0"])
    np.testing.assert_allclose(got[0], expected["probabilities:0"], atol=1e-6)
    default = graph.reference(feed)["probabilities:0"]
    assert np.abs(got[0] - default).max() > 1e-3  # the bound value, not the default, decides


def test_set_on_a_v2_cond_takes_the_branch_and_inlines_it():
    graph_def, inputs, outputs = v2_graph()
    result = edit(graph_def, set_values={"flag": True, "scale": 2.0})
    assert not _ops(result.graph_def) & {"StatelessIf", "If", "PartitionedCall"}
    assert not result.graph_def.library.function
    assert [t.name for t in result.frozen.inputs] == ["image:0", "extra:0"]
    assert any("takes branch" in change for change in result.step("set").changes)
    image, extra = _feed()
    original = _loaded(graph_def, inputs, outputs)(image, extra, np.array(True), np.array(2.0, np.float32))
    edited = LoadedGraph(result.graph_def, result.frozen.inputs, result.frozen.outputs)(image, extra)
    for want, got in zip(original, edited):
        np.testing.assert_allclose(got, want, atol=1e-6)


def test_a_graph_with_unsafe_ops_is_refused_unless_allowed():
    graph_def = tf1_graphs.two_inputs().graph_def
    path = graph_def.node.add(name="path", op="Const")
    path.attr["dtype"].type = 7  # DT_STRING
    path.attr["value"].tensor.dtype = 7
    path.attr["value"].tensor.string_val.append(b"/etc/hostname")
    graph_def.node.add(name="contents", op="ReadFile").input.append("path")
    with pytest.raises(UnsafeGraphError, match="ReadFile"):
        edit(graph_def, outputs=["total"])
    assert edit(graph_def, outputs=["total"], allow_unsafe=True).step("cut").verification.ok


def test_set_refuses_names_and_values_it_cannot_bind():
    graph_def, _, _ = v2_graph()
    with pytest.raises(InputError, match="holds bool; give true or false"):
        edit(graph_def, set_values=["flag=0.5"])
    with pytest.raises(InputError, match="holds float32; give a number"):
        edit(graph_def, set_values=["scale=true"])
    with pytest.raises(TensorNameError, match="the graph's are"):
        edit(graph_def, set_values=["MatMul=1"])
    with pytest.raises(InputError, match="a scalar fills only a fully known shape"):
        read_value(Binding("image:0", "1.0"), "float32", (None, 4))
    np.testing.assert_array_equal(read_value(Binding("v:0", "[1, 2]"), "int32", (2,)), [1, 2])


# --- --inputs / --outputs ----------------------------------------------------------------------------


def test_cut_at_a_tensor_with_two_inputs():
    graph = tf1_graphs.two_inputs()
    result = edit(graph.graph_def, inputs=["mul:0", "b"], outputs=["total"])
    step = result.step("cut")
    assert "fed at mul:0" in step.verified_on and step.verification.ok
    names = {node.name for node in result.graph_def.node}
    assert "a" not in names and "difference" not in names
    assert [t.name for t in result.frozen.inputs] == ["mul:0", "b:0"]
    m, b = np.ones((2, 4), np.float32), np.full((2, 4), 2.0, np.float32)
    np.testing.assert_allclose(LoadedGraph(result.graph_def, result.frozen.inputs, result.frozen.outputs)(m, b), 3.0)


def test_new_outputs_strip_what_they_do_not_need():
    graph = tf1_graphs.control_flow()
    result = edit(graph.graph_def, outputs=["MatMul:0"])
    assert not _ops(result.graph_def) & {"Enter", "Exit", "Softmax", "Switch"}
    assert result.nodes_after < 10 and result.step("cut").verification.ok
    assert "optional" not in result.step("cut").verified_on


def test_cut_a_graph_with_functions_keeps_the_cond():
    graph_def, inputs, outputs = v2_graph()
    result = edit(graph_def, inputs=["MatMul:0", "extra", "flag", "scale"], outputs=[outputs[0]])
    assert "fed at MatMul:0" in result.step("cut").verified_on and result.step("cut").verification.ok
    assert "image" not in {n.name for n in result.graph_def.node}
    assert "StatelessIf" in _ops(result.graph_def) and len(result.graph_def.library.function) == 2


def test_cut_that_leaves_an_input_unfed_is_refused():
    graph = tf1_graphs.two_inputs()
    with pytest.raises(InputError, match="still need input 'b'"):
        edit(graph.graph_def, inputs=["mul:0"], outputs=["total"])


# --- --shape, --rename, --strip ------------------------------------------------------------------------


def test_shape_fixes_the_batch_of_a_v1_control_flow_graph():
    graph = tf1_graphs.control_flow()
    result = edit(graph.graph_def, shapes=["image=[1,8,8,3]"])
    assert result.frozen.inputs[0].shape == (1, 8, 8, 3)
    assert result.step("shape").verification.samples == 1


def test_shape_the_graph_rejects_is_one_line():
    graph = tf1_graphs.two_inputs()
    with pytest.raises(ShapeError, match="cannot take the shape given for a:0: Dimensions must be equal"):
        edit(graph.graph_def, shapes=["a=[2,5]"])
    with pytest.raises(ShapeError, match="does not change the rank"):
        edit(graph.graph_def, shapes=["a=[2,4,1]"])
    assert parse_shape("x[?,3]").shape == (None, 3)


def test_shape_relaxed_must_really_run():
    graph = tf1_graphs.two_inputs()
    fixed = edit(graph.graph_def, shapes=["a=[2,4]", "b=[2,4]"])
    relaxed = edit(fixed.graph_def, shapes=["a=[?,4]", "b=[?,4]"])
    assert relaxed.frozen.inputs[0].shape == (None, 4) and relaxed.step("shape").verification.ok


def test_rename_and_strip_on_a_graph_with_functions(tmp_path):
    graph_def, inputs, outputs = v2_graph()
    out_node = outputs[1].split(":")[0]
    result = edit(graph_def, renames=["image=pixels", f"{out_node}=probabilities"],
                  strip="devices,colocation,default-attrs")
    assert [t.name for t in result.frozen.inputs][0] == "pixels:0"
    assert result.frozen.outputs[1].name == "probabilities:0"
    strip = result.step("strip")
    assert strip.verification.ok and "the same function" in strip.verified_on
    assert int(strip.changes[2].split()[2]) > 0  # default-attrs: removed N attrs
    path = result.save(tmp_path / "renamed.pb")
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert sorted(t["name"] for t in sidecar["inputs"]) == ["extra:0", "flag:0", "pixels:0", "scale:0"]
    image, extra = _feed()
    flag, scale = np.array(False), np.array(1.0, np.float32)
    got = load_frozen(path).run({"pixels": image, "extra": extra, "flag": flag, "scale": scale})
    original = _loaded(graph_def, inputs, outputs)(image, extra, flag, scale)
    np.testing.assert_allclose(got["probabilities:0"], original[1], atol=1e-6)


def test_strip_devices_and_dangling_colocation():
    graph = tf1_graphs.pinned_devices()
    result = edit(graph.graph_def, strip=["devices", "colocation"])
    assert not any(node.device or "_class" in node.attr for node in result.graph_def.node)
    assert result.step("strip").verification.ok


# --- --weights float16, --repair-training -----------------------------------------------------------


def test_float16_weights_halve_the_constants_within_tolerance():
    graph_def, _, _ = v2_graph()
    result = edit(graph_def, weights="float16")
    step = result.step("weights")
    assert step.bytes_after < step.bytes_before
    assert step.added_ops.get("Cast", 0) >= 1 and 0 < step.verification.max_abs_diff <= 1e-2
    halves = [n for n in result.graph_def.node if n.op == "Const" and n.attr["dtype"].type == 19]  # DT_HALF
    assert halves and all(n.name.endswith("/float16") for n in halves)
    with pytest.raises(VerificationError, match="weights edit differs"):
        edit(graph_def, weights="float16", weights_tolerance=1e-9)


def test_float16_weights_in_a_v1_loop():
    graph = tf1_graphs.control_flow()
    result = edit(graph.graph_def, weights="float16", min_weight_elements=4)
    assert result.step("weights").verification.ok and result.bytes_after < result.bytes_before


def test_repair_training_makes_a_residue_graph_run():
    graph = tf1_graphs.training_residue()
    with pytest.raises(Exception, match="float_ref"):
        _loaded(graph.graph_def, ["x:0"], ["y:0"])
    result = edit(graph.graph_def, repair_training=True, set_values=["is_training=false"])
    repair = result.step("repair-training")
    assert repair.verification is None and "does not load" in repair.verified_on
    assert any("RefSwitch" in c for c in repair.changes) and any("AssignSub" in c for c in repair.changes)
    assert not _ops(result.graph_def) & {"RefSwitch", "AssignSub", "Switch", "Merge"}
    assert "repaired input graph" in result.step("set").verified_on
    x = np.random.default_rng(1).random((3, 4)).astype(np.float32)
    got = LoadedGraph(result.graph_def, result.frozen.inputs, result.frozen.outputs)(x)
    np.testing.assert_allclose(got, tf1_graphs.residue_reference(graph, x), atol=1e-6)


# --- the command ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def control_flow_pb(tmp_path_factory):
    return tf1_graphs.control_flow().write(tmp_path_factory.mktemp("edit") / "control_flow.pb")


def test_cli_edit_writes_a_verified_graph_and_its_sidecar(control_flow_pb, tmp_path):
    out = tmp_path / "edited.pb"
    result = run_cli("edit", control_flow_pb, "-o", out, "--set", "is_training=false", "--shape",
                     "image=[1,8,8,3]", "--rename", "probabilities=probs", "--weights", "float16", "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert [e["edit"] for e in record["edits"]] == ["set", "shape", "rename", "weights"]
    assert all(e["verification"]["ok"] for e in record["edits"])
    assert record["nodes_after"] < record["nodes_before"] and record["bytes_after"] < record["bytes_before"]
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert [t["name"] for t in sidecar["outputs"]] == ["probs:0", "classes:0"]
    assert sidecar["inputs"][0]["shape"] == [1, 8, 8, 3]
    again = run_cli("edit", control_flow_pb, "-o", out, "--strip", "devices")
    assert_one_line_error(again, 2, "already exists")


@pytest.mark.parametrize("args, contains", [
    (["--set", "nope=1"], "'nope' is not in the graph"),
    (["--set", "is_training=maybe"], "holds bool"),
    (["--shape", "image=[1,8,8]"], "does not change the rank"),
])  # more refusals, in one process: tests/test_tensorflow_free.py
def test_cli_bad_requests_are_one_line_before_tensorflow(control_flow_pb, tmp_path, args, contains):
    out = tmp_path / "out.pb"
    result = run_cli("edit", control_flow_pb, "-o", out, *args)
    assert_one_line_error(result, 2, contains)
    assert not out.exists() and not out.with_suffix(".json").exists()


def test_cli_shape_the_graph_rejects(tmp_path):
    graph = tf1_graphs.two_inputs().write(tmp_path / "two.pb")
    result = run_cli("edit", graph, "-o", tmp_path / "out.pb", "--shape", "a=[2,5]")
    assert_one_line_error(result, 2, "cannot take the shape given for a:0")
    assert list(tmp_path.iterdir()) == [graph]


# --- every edit on every kind of graph ------------------------------------------------------------------


def _graphs():
    """name -> (graph_def, a renamable input node, an input tensor with its rank)."""
    v2 = v2_graph()[0]
    return {
        "two inputs, two outputs": (tf1_graphs.two_inputs().graph_def, "a", "a=[3,4]"),
        "v1 cond and while_loop": (tf1_graphs.control_flow().graph_def, "image", "image=[2,8,8,3]"),
        "v2 cond, function library": (v2, "image", "image=[5,4]"),
    }


@pytest.mark.parametrize("kind", ["two inputs, two outputs", "v1 cond and while_loop", "v2 cond, function library"])
def test_every_edit_on_every_kind_of_graph(kind):
    graph_def, name, shape = _graphs()[kind]
    result = edit(graph_def, repair_training=True, strip="devices,colocation,default-attrs", shapes=[shape],
                  renames=[f"{name}=renamed"], weights="float16", min_weight_elements=4)
    assert [s.name for s in result.steps] == ["repair-training", "strip", "shape", "rename", "weights"]
    assert all(s.verification is not None and s.verification.ok for s in result.steps), result.table()
    assert result.step("repair-training").changes == ["no training residue found"]
    renamed = next(t for t in result.frozen.inputs if t.name == "renamed:0")
    assert renamed.shape == parse_shape(shape).shape
    assert result.step("weights").added_ops.get("Cast", 0) >= 1
    assert "the same function" in result.step("rename").verified_on
