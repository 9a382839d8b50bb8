"""optimize.py: offline grappler, tidying, stable names, verification, and `graphfreeze optimize`."""

from __future__ import annotations

import json

import numpy as np
import pytest
from tensorboard.compat.proto import graph_pb2

from graphfreeze_helpers.errors import InputError, VerificationError
from graphfreeze_helpers.optimize import _restore_names, optimize, pass_report, tidy

from conftest import assert_one_line_error, run_cli

TOL = 1e-5


@pytest.fixture(scope="module")
def optimized(frozen_graph, trained_model, digits):
    return optimize(frozen_graph, inputs=[digits.x_test[:64]], reference=lambda x: trained_model(x, training=False))


def test_optimize_shrinks_the_graph_and_matches_keras(optimized, frozen_graph):
    assert optimized.nodes_before == frozen_graph.nodes
    assert optimized.nodes_after < optimized.nodes_before
    assert optimized.max_abs_diff is not None and optimized.max_abs_diff <= TOL
    ops = {node.op for node in optimized.graph_def.node}
    # BatchNorm's arithmetic on constants is folded away; no forwarding chains are left.
    assert not ops & {"Rsqrt", "Sub", "NoOp"}, ops
    assert optimized.removed_ops["Rsqrt"] == 2
    identities = [n.name for n in optimized.graph_def.node if n.op == "Identity"]
    assert identities == [t.op_name for t in frozen_graph.outputs]
    assert optimized.added_ops == {}


def test_input_and_output_names_are_stable(optimized, frozen_graph, digits, tmp_path):
    assert [t.name for t in optimized.frozen.inputs] == [t.name for t in frozen_graph.inputs]
    assert [t.name for t in optimized.frozen.outputs] == [t.name for t in frozen_graph.outputs]
    path = optimized.save(tmp_path / "optimized.pb")
    from graphfreeze_helpers.load import load_frozen

    fn = load_frozen(path, inputs=["image:0"], outputs=[frozen_graph.outputs[0].name])
    reference = load_frozen(path)  # names from the sidecar
    x = digits.x_test[:5]
    np.testing.assert_allclose(fn(x), reference(x), atol=TOL)
    record = json.loads(path.with_suffix(".json").read_text())
    assert record["nodes"] == optimized.nodes_after


def test_portable_target_keeps_standard_ops_and_tensorflow_target_fuses(optimized, frozen_graph, digits):
    assert not any(node.op.startswith("_") for node in optimized.graph_def.node)
    fused = optimize(frozen_graph, target="tensorflow", inputs=[digits.x_test[:16]])
    assert fused.added_ops.get("_FusedConv2D") == 2, fused.added_ops
    assert fused.nodes_after < optimized.nodes_after
    assert fused.max_abs_diff <= TOL


def test_a_wrong_result_is_refused(frozen_graph, trained_model, digits):
    with pytest.raises(VerificationError, match="optimized graph differs"):
        optimize(frozen_graph, inputs=[digits.x_test[:8]], reference=lambda x: trained_model(x, training=False) + 1e-3)


def test_unknown_target_or_pass(frozen_graph):
    with pytest.raises(InputError, match="unknown target 'fast'"):
        optimize(frozen_graph, target="fast")
    with pytest.raises(InputError, match="unknown grappler pass"):
        optimize(frozen_graph, passes=["constfold", "turbo"])


def test_pass_report_attributes_the_removals(frozen_graph, optimized, digits):
    steps = pass_report(frozen_graph, inputs=[digits.x_test[:8]])
    names = [step.name for step in steps]
    assert names[0] == "frozen" and names[-1] == "tidy" and "constfold" in names
    assert steps[0].nodes == frozen_graph.nodes
    assert steps[-1].nodes == optimized.nodes_after
    by_name = {step.name: step for step in steps}
    assert by_name["constfold"].removed_ops.get("Rsqrt") == 2
    assert by_name["dependency"].removed_ops.get("Identity", 0) > 0
    assert all(step.max_abs_diff is not None and step.max_abs_diff <= TOL for step in steps)


def _node(graph, name, op, *inputs):
    node = graph.node.add()
    node.name, node.op = name, op
    node.input.extend(inputs)
    return node


def test_tidy_bypasses_forwarding_nodes_and_drops_noops():
    graph = graph_pb2.GraphDef()
    _node(graph, "x", "Placeholder")
    _node(graph, "noop", "NoOp")
    _node(graph, "a", "Identity", "x", "^noop")
    _node(graph, "stop", "StopGradient", "a")
    _node(graph, "r", "Relu", "stop", "^noop")
    _node(graph, "unused", "Relu", "x")
    _node(graph, "out", "Identity", "r")
    tidy(graph, ["x", "out"])
    assert [n.name for n in graph.node] == ["x", "r", "out"]
    assert list(graph.node[1].input) == ["x"]
    assert list(graph.node[2].input) == ["r"]


def test_a_removed_output_identity_is_put_back(optimized, frozen_graph):
    graph = type(optimized.graph_def)()
    graph.CopyFrom(optimized.graph_def)
    out = frozen_graph.outputs[0].op_name
    kept = [n for n in graph.node if n.name != out]
    del graph.node[:]
    graph.node.extend(kept)
    _restore_names(graph, optimized.graph_def, optimized.frozen)
    restored = [n for n in graph.node if n.name == out]
    assert len(restored) == 1 and restored[0].op == "Identity"


# --- graphfreeze optimize ----------------------------------------------------------------


def test_cli_optimize_json(saved_pb, tmp_path):
    out = tmp_path / "opt.pb"
    result = run_cli("optimize", saved_pb, "-o", out, "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert {"nodes_before", "nodes_after", "max_abs_diff", "output"} <= set(payload)
    assert payload["nodes_after"] < payload["nodes_before"]
    assert payload["max_abs_diff"] <= TOL
    assert payload["output"] == str(out)
    assert out.is_file() and out.with_suffix(".json").is_file()
    again = run_cli("optimize", saved_pb, "-o", out)
    assert_one_line_error(again, 2, "already exists")


def test_cli_optimize_bad_inputs_fail_fast_without_files(tmp_path, saved_pb):
    junk = tmp_path / "junk.pb"
    junk.write_bytes(b"\x00not a graph" * 10)
    out = tmp_path / "out.pb"
    assert_one_line_error(run_cli("optimize", junk, "-o", out), 2, "not a GraphDef")
    assert_one_line_error(run_cli("optimize", tmp_path / "missing.pb", "-o", out), 2, "does not exist")
    assert_one_line_error(run_cli("optimize", saved_pb, "-o", out, "--target", "fast"), 2, "invalid choice")
    assert_one_line_error(run_cli("optimize", saved_pb, "-o", saved_pb, "--force"), 2, "is the input graph")
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.pb"]


@pytest.mark.slow
def test_mobilenet_v2_shrinks_to_a_quarter():
    """MobileNetV2 (weights=None, small input and alpha: the node count does not depend on them)."""
    from graphfreeze_helpers.freeze import freeze
    from graphfreeze_helpers.tfimport import import_tensorflow

    import_tensorflow()
    import keras

    model = keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3), alpha=0.35)
    frozen = freeze(model)
    result = optimize(frozen)
    assert result.nodes_after <= 0.25 * result.nodes_before, result
    assert result.max_abs_diff <= TOL
