"""optimize and export on graphs we did not make: v1 control flow, two outputs, lengths, unknown ranks (issue 12).

Every graph is built at test time with ``tf.compat.v1`` (:mod:`tf1_graphs`) and written
alone, without a sidecar, as a user receives it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tf1_graphs

from graphfreeze_helpers.errors import GraphFormatError, VerificationError
from graphfreeze_helpers.export import export, io_names, tensor_arrays_as_lists
from graphfreeze_helpers.freeze import as_frozen_graph
from graphfreeze_helpers.ops import V1_CONTROL_FLOW_OPS
from graphfreeze_helpers.optimize import optimize
from graphfreeze_helpers.runner import load_runner

from conftest import run_cli

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("legacy")


def write(folder: Path, graph: tf1_graphs.TF1Graph) -> Path:
    path = folder / f"{graph.name}.pb"
    return path if path.exists() else graph.write(path)


def by_name(runner, frozen, feed: dict) -> dict:
    """Run an exported model on ``feed`` (by input name); its outputs by the frozen graph's names."""
    positions, names = io_names(runner, frozen.inputs, frozen.outputs)
    arrays = [feed[t.name] for t in frozen.inputs]
    outputs = runner(*[arrays[p] for p in positions])
    return dict(zip(names, outputs if isinstance(outputs, list) else [outputs]))


def assert_close_by_name(got: dict, expected: dict, atol: float = 1e-5) -> None:
    for name, value in expected.items():
        match = got.get(name, got.get(name.split(":")[0]))
        assert match is not None, (name, list(got))
        np.testing.assert_allclose(match, value, rtol=1e-5, atol=atol, err_msg=name)


# --- v1 control flow ------------------------------------------------------------------------------


def test_optimize_keeps_v1_control_flow_working(folder):
    graph = tf1_graphs.control_flow()
    result = optimize(write(folder, graph))
    ops = {node.op for node in result.graph_def.node}
    assert {"Switch", "Merge", "Enter", "Exit", "NextIteration", "LoopCond"} <= ops
    assert result.verification is not None and result.verification.ok
    assert [c.name for c in result.verification.outputs] == list(graph.outputs)
    # the optimized graph, run in a plain v1 Session, gives what the original gives
    feed = graph.feed(batch=3)
    assert_close_by_name(tf1_graphs.run_graph_def(result.graph_def, feed, graph.outputs), graph.reference(feed))


def test_tidy_keeps_the_cond_pivots(folder):
    """The Identity after a Switch is a branch's pivot: bypassing it runs both branches into the Merge."""
    graph = tf1_graphs.control_flow()
    result = optimize(write(folder, graph))
    nodes = {node.name: node for node in result.graph_def.node}
    pivots = [n for n in nodes.values() if n.op == "Identity" and n.input
              and nodes.get(n.input[0].split(":")[0].lstrip("^")) is not None
              and nodes[n.input[0].split(":")[0]].op == "Switch"]
    assert pivots, "the cond's pivots were removed"
    feed = {**graph.feed(batch=2), "is_training:0": np.array(True)}
    assert_close_by_name(tf1_graphs.run_graph_def(result.graph_def, feed, graph.outputs), graph.reference(feed))


@pytest.mark.parametrize("to", ["onnx", "tflite"])
def test_export_of_v1_control_flow_is_verified(folder, to):
    graph = tf1_graphs.control_flow()
    exported = export(write(folder, graph), to)
    assert exported.verification is not None and exported.verification.ok
    assert exported.verification.samples == 4
    if to == "onnx":
        assert {"Loop", "If"} & set(exported.ops)
    else:
        assert "WHILE" in exported.ops
    assert not V1_CONTROL_FLOW_OPS & set(exported.ops)
    # independently of the check: the artifact agrees with a v1 Session on other inputs
    frozen = as_frozen_graph(folder / "control_flow.pb")
    feed = graph.feed(batch=5, seed=3)
    runner = load_runner(exported.data, kind="litert" if to == "tflite" else "onnxruntime")
    assert_close_by_name(by_name(runner, frozen, feed), graph.reference(feed))


def test_dynamic_rnn_exports_to_onnx(folder):
    graph = tf1_graphs.rnn_dynamic()
    exported = export(write(folder, graph), "onnx")
    assert exported.verification.ok and "Loop" in exported.ops


def test_dynamic_rnn_to_litert_without_a_fixed_batch_is_one_line_asking_for_it(folder):
    """LiteRT lowers TensorLists only with static element shapes: the TensorArray's batch must be fixed."""
    with pytest.raises(GraphFormatError) as error:
        export(write(folder, tf1_graphs.rnn_dynamic()), "tflite")
    message = str(error.value)
    assert "\n" not in message
    assert "TensorArray 'TensorArray'" in message and "(None, 3)" in message
    assert "--inputs 'sequence[1,5,3]'" in message and "--to onnx" in message


@pytest.mark.parametrize("batch", [1, 2])
def test_dynamic_rnn_to_litert_with_a_fixed_batch(folder, batch):
    graph = tf1_graphs.rnn_dynamic()
    exported = export(write(folder, graph), "tflite", input_names=[f"sequence[{batch},5,3]"])
    assert exported.verification.ok and exported.verification.samples == batch
    assert "WHILE" in exported.ops and not any(op.startswith("TensorArray") for op in exported.ops)
    frozen = as_frozen_graph(folder / "rnn_dynamic.pb", inputs=[f"sequence[{batch},5,3]"])
    feed = graph.feed(batch=batch, seed=4)
    assert_close_by_name(by_name(load_runner(exported.data, kind="litert"), frozen, feed), graph.reference(feed))


def writing_rnn() -> tf1_graphs.TF1Graph:
    """A v1 while_loop that reads one TensorArray and writes another, then stacks it (dynamic_rnn's outputs)."""
    import tensorflow as tf

    with tf1_graphs.v1_control_flow(), tf.Graph().as_default() as graph:
        x = tf.compat.v1.placeholder(tf.float32, [2, 4, 3], name="steps")
        inputs = tf.TensorArray(tf.float32, size=4).unstack(tf.transpose(x, [1, 0, 2]))
        outputs = tf.TensorArray(tf.float32, size=4)
        w = tf.constant(np.linspace(-1, 1, 9, dtype=np.float32).reshape(3, 3))

        def body(i, state, out):
            state = tf.tanh(tf.matmul(inputs.read(i), w) + state)
            return i + 1, state, out.write(i, state * 2.0)

        _, last, out = tf.compat.v1.while_loop(lambda i, *_: i < 4, body, [0, tf.zeros([2, 3]), outputs])
        tf.transpose(out.stack(), [1, 0, 2], name="sequence_out")
        tf.identity(last, name="last")
    names = ("sequence_out:0", "last:0")
    return tf1_graphs.TF1Graph("writing_rnn", graph.as_graph_def().SerializeToString(), ("steps:0",), names,
                               {}, {"steps:0": "float32"}, {"steps:0": (2, 4, 3)})


def test_tensor_arrays_become_tensor_lists_with_the_same_outputs():
    graph = writing_rnn()
    rewritten, shapes = tensor_arrays_as_lists(graph.graph_def)
    ops = {node.op for node in rewritten.node}
    assert {"TensorListFromTensor", "TensorListGetItem", "TensorListSetItem", "TensorListStack"} <= ops
    assert shapes and all(shape == [2, 3] for shape in shapes.values())
    feed = graph.feed(seed=5)
    assert_close_by_name(tf1_graphs.run_graph_def(rewritten, feed, graph.outputs), graph.reference(feed), atol=0)


def test_a_loop_writing_a_tensor_array_exports_to_litert(folder):
    graph = writing_rnn()
    exported = export(write(folder, graph), "tflite", output_names=list(graph.outputs))
    assert exported.verification.ok and len(exported.verification.outputs) == 2
    assert not any(op.startswith("TensorArray") for op in exported.ops)


# --- outputs by name ---------------------------------------------------------------------------


def reordering_graph():
    """Three outputs that LiteRT returns in another order than the graph lists them."""
    import tensorflow as tf

    with tf.Graph().as_default() as graph:
        x = tf.compat.v1.placeholder(tf.float32, [None, 3], name="x")
        tf.identity(x * 2.0, name="zeta")
        tf.reduce_sum(x, axis=1, name="alpha")
        tf.nn.relu(x - 0.5, name="mid")
    return graph.as_graph_def()


def test_litert_output_order_does_not_matter(folder):
    path = folder / "reorder.pb"
    path.write_bytes(reordering_graph().SerializeToString())
    frozen = as_frozen_graph(path, outputs=["zeta", "alpha", "mid"])
    exported = export(frozen, "tflite")
    runner = load_runner(exported.data, kind="litert")
    _, names = io_names(runner, frozen.inputs, frozen.outputs)
    assert names != [t.name for t in frozen.outputs]  # LiteRT did reorder them
    assert sorted(names) == sorted(t.name for t in frozen.outputs)
    assert exported.verification.ok and len(exported.verification.outputs) == 3


def test_two_inputs_two_outputs_export_with_real_inputs_by_name(folder):
    graph = tf1_graphs.two_inputs()
    feed = graph.feed(batch=6, seed=1)
    for to in ("tflite", "onnx"):
        exported = export(write(folder, graph), to, inputs={"b": feed["b:0"], "a:0": feed["a:0"]})
        assert exported.verification.ok and exported.verification.samples == 6


# --- NaN, lengths, large outputs, unknown ranks ------------------------------------------------


def test_an_int_length_input_no_longer_refuses_a_correct_export(folder):
    path = write(folder, tf1_graphs.length_nan())
    result = optimize(path)
    assert result.verification.ok and not result.verification.all_nan
    for to in ("onnx", "tflite"):
        assert export(path, to).verification.ok


def test_real_inputs_that_make_every_output_nan_are_refused_in_words(folder):
    path = write(folder, tf1_graphs.length_nan())
    feed = {"x": np.ones((2, 8), np.float32), "length": np.array(0, np.int32)}
    with pytest.raises(VerificationError, match="every output is NaN on these inputs"):
        optimize(path, inputs=feed)


def hundreds_graph():
    """Outputs in the thousands (``level``) and near 1e9 (``energy``), summed in an order converters may change."""
    import tensorflow as tf

    rng = np.random.default_rng(7)
    with tf.Graph().as_default() as graph:
        x = tf.compat.v1.placeholder(tf.float32, [None, 64], name="x")
        w = tf.constant(rng.uniform(0.5, 1.5, (64, 16)).astype(np.float32))
        h = tf.matmul(x * 255.0, w)
        tf.reduce_sum(h * h, axis=1, name="energy")  # about 1e9
        tf.reduce_mean(h, axis=1, name="level")  # about 4e3
    return graph.as_graph_def()


def test_large_outputs_pass_with_a_relative_tolerance(folder):
    path = folder / "hundreds.pb"
    path.write_bytes(hundreds_graph().SerializeToString())
    exported = export(path, "onnx", output_names=["energy", "level"])
    check = exported.verification
    assert check.ok and check.rtol == 1e-5
    assert check.max_abs_diff > 1e-5  # the absolute tolerance alone would have refused it
    with pytest.raises(VerificationError, match="values beyond the tolerance"):
        export(path, "onnx", output_names=["energy", "level"], rtol=0.0)


def test_an_input_of_unknown_rank_exports_with_the_rank_its_consumers_tell(folder):
    path = write(folder, tf1_graphs.regression())
    for to in ("onnx", "tflite"):
        exported = export(path, to)
        runner = load_runner(exported.data, kind="litert" if to == "tflite" else "onnxruntime")
        assert exported.verification.ok
        x = np.ones((3, 4), np.float32)
        assert np.asarray(runner(x)).shape == (3,)


# --- the command --------------------------------------------------------------------------------


def test_cli_optimize_and_export_v1_control_flow(folder, tmp_path):
    graph = write(folder, tf1_graphs.control_flow())
    out = tmp_path / "opt.pb"
    result = run_cli("optimize", graph, "-o", out)
    assert result.returncode == 0, result.stderr
    assert "1e-05 + 1e-05 x |reference|" in result.stdout
    result = run_cli("export", out, "--to", "tflite", "-o", tmp_path / "cf.tflite")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "cf.tflite").stat().st_size > 0


def test_cli_export_verifies_on_real_inputs_by_name(folder, tmp_path):
    graph = tf1_graphs.two_inputs()
    feed = graph.feed(batch=5, seed=2)
    np.save(tmp_path / "a.npy", feed["a:0"])
    np.save(tmp_path / "b.npy", feed["b:0"])
    result = run_cli("export", write(folder, graph), "--to", "onnx", "-o", tmp_path / "two.onnx",
                     "--input", f"b={tmp_path / 'b.npy'}", "--input", f"a={tmp_path / 'a.npy'}", "--rtol", "0")
    assert result.returncode == 0, result.stderr
    assert "(tolerance 1e-05)" in result.stdout  # --rtol 0: the absolute part alone


def test_cli_refuses_real_inputs_that_make_every_output_nan_in_one_line(folder, tmp_path):
    np.save(tmp_path / "x.npy", np.ones((2, 8), np.float32))
    np.save(tmp_path / "length.npy", np.array(0, np.int32))
    out = tmp_path / "opt.pb"
    result = run_cli("optimize", write(folder, tf1_graphs.length_nan()), "-o", out,
                     "--input", f"x={tmp_path / 'x.npy'}", "--input", f"length={tmp_path / 'length.npy'}")
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "every output is NaN on these inputs" in lines[0]
    assert not out.exists()
