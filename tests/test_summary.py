"""summary.py (summary, diff), tensorproto (const_value), tensorboard_log, safety.scan basics, plots,
and `graphfreeze inspect`."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from graphfreeze_helpers import graphfile, ops, plots, safety, summary, tensorboard_log, tensorproto
from graphfreeze_helpers.errors import TensorNameError

from conftest import assert_one_line_error, run_cli


def _tb_graph_def(tf_graph_def):
    """TensorFlow's GraphDef -> TensorBoard's proto class (what the TF-free code reads from disk)."""
    from tensorboard.compat.proto import graph_pb2

    graph_def = graph_pb2.GraphDef()
    graph_def.ParseFromString(tf_graph_def.SerializeToString())
    return graph_def


@pytest.fixture(scope="module")
def tf():
    from graphfreeze_helpers.tfimport import import_tensorflow

    return import_tensorflow()


@pytest.fixture(scope="module")
def control_flow_graph(tf, tmp_path_factory):
    """A tf.function with If, While (whose body holds another If), Case and a nested tf.function call,
    and a WriteFile inside the true branch of the first cond. Control flow v2 keeps the branches
    as library functions."""
    target = str(tmp_path_factory.mktemp("never-written") / "x.txt")

    @tf.function
    def helper(v):
        return v * 3.0

    @tf.function(input_signature=[tf.TensorSpec([], tf.float32), tf.TensorSpec([], tf.int32)])
    def f(x, k):
        def write_then_add():
            tf.io.write_file(target, tf.strings.as_string(x))
            return x + 1.0

        y = tf.cond(x > 0, write_then_add, lambda: x - 1.0)

        def body(i, acc):
            return i + 1, tf.cond(acc > 2.0, lambda: acc * 2.0, lambda: acc + 1.0)

        _, y = tf.while_loop(lambda i, acc: i < 3, body, [tf.constant(0), y])
        y = tf.switch_case(k, [lambda: y, lambda: -y])
        return helper(y)

    concrete = f.get_concrete_function()
    return _tb_graph_def(concrete.graph.as_graph_def())


@pytest.fixture(scope="module")
def unfrozen_graph(tf, trained_model):
    """The tutorial model traced but not frozen: resource Placeholders and ReadVariableOp."""
    fn = tf.function(lambda x: trained_model(x, training=False), input_signature=[tf.TensorSpec((None, 8, 8, 1))])
    return _tb_graph_def(fn.get_concrete_function().graph.as_graph_def())


@pytest.fixture(scope="module")
def frozen_tb(saved_pb):
    return graphfile.read_graph_def(saved_pb)


# --- summarize --------------------------------------------------------------------------


def test_summary_of_the_frozen_tutorial_graph(saved_pb, frozen_graph, trained_model):
    s = summary.summarize(saved_pb)
    assert s.nodes == len(frozen_graph.graph_def.node)
    assert [t.name for t in s.inputs] == ["image:0"]
    assert s.inputs[0].dtype == "float32" and s.inputs[0].shape == (None, 8, 8, 1)
    assert s.outputs_from == "sidecar" and s.outputs == frozen_graph.outputs
    assert s.ops["Const"] == s.const_count == sum(n.op == "Const" for n in frozen_graph.graph_def.node)
    assert sum(s.ops.values()) == s.nodes
    weight_bytes = sum(int(np.prod(w.shape)) * 4 for w in trained_model.weights)
    assert weight_bytes <= s.const_bytes < weight_bytes + 256
    assert s.const_params >= trained_model.count_params()
    assert s.largest_consts[0].bytes == max(c.bytes for c in s.largest_consts)
    assert s.variable_ops == [] and s.variable_free
    assert s.unsafe_ops == [] and s.functions == [] and s.control_flow == []
    assert s.producer and s.producer > 0
    assert s.missing_inputs == []
    assert s.graph_bytes == saved_pb.stat().st_size


def test_outputs_from_sinks_without_a_sidecar(frozen_tb, frozen_graph):
    s = summary.summarize(frozen_tb)
    assert s.outputs_from == "sinks"
    assert [t.name for t in s.outputs] == [t.name for t in frozen_graph.outputs]
    assert s.outputs[0].dtype == "float32"


def test_summary_views_are_readable(saved_pb):
    s = summary.summarize(saved_pb)
    text, html = repr(s), s._repr_html_()
    assert text.startswith("GraphSummary(") and "image:0" in text and "0 variable ops" in text
    assert "<table" in html and "image:0" in html and "Conv2D" in html
    table = s.table()
    assert "Inputs" in table and "Outputs (from sidecar)" in table and "none (frozen)" in table
    payload = json.loads(json.dumps(s.to_dict()))
    assert {"nodes", "ops", "inputs", "outputs", "const_bytes", "variable_ops", "unsafe_ops"} <= set(payload)


def test_unfrozen_graph_lists_its_variable_ops(unfrozen_graph, trained_model):
    s = summary.summarize(unfrozen_graph)
    ops = {v["op"] for v in s.variable_ops}
    assert ops == {"ReadVariableOp", "Placeholder"}
    resource_placeholders = [v for v in s.variable_ops if v["op"] == "Placeholder"]
    assert len(resource_placeholders) == len(trained_model.weights)
    assert [t.name for t in s.inputs] == ["x:0"]  # resource Placeholders are not inputs
    assert not s.variable_free and "NOT frozen" in s.table()


def test_diff_shows_read_variable_ops_becoming_constants(unfrozen_graph, frozen_tb, trained_model):
    d = summary.diff(unfrozen_graph, frozen_tb)
    n_weights = len(trained_model.weights)
    assert d.removed == {"ReadVariableOp": n_weights}
    assert d.added == {}
    before_const, after_const = d.changed["Const"]
    assert after_const - before_const == n_weights
    assert d.changed["Placeholder"] == (n_weights + 1, 1)
    assert d.bytes_after > d.bytes_before and d.const_bytes_after > d.const_bytes_before
    assert "ReadVariableOpx" in repr(d) and "removed" in d.table() and "<table" in d._repr_html_()
    # a summary can stand in for a graph
    assert summary.diff(summary.summarize(unfrozen_graph), frozen_tb).to_dict() == d.to_dict()


# --- functions and control flow -------------------------------------------------------


def test_functions_are_walked_through_if_while_case_and_calls(control_flow_graph):
    s = summary.summarize(control_flow_graph)
    names = [f.name for f in s.functions]
    assert len(names) == len(control_flow_graph.library.function) >= 8
    assert all(f.reachable for f in s.functions)
    top_ops = {c["op"] for c in s.control_flow if c["function"] is None}
    assert {"If", "StatelessWhile"} <= top_ops and top_ops & {"Case", "StatelessCase"}
    assert top_ops & {"PartitionedCall", "StatefulPartitionedCall"}
    nested = [c for c in s.control_flow if c["function"] and c["function"].startswith("while_body")]
    assert nested and nested[0]["op"] in {"If", "StatelessIf"}
    assert all(callee in names for c in s.control_flow for callee in c["calls"])
    body = next(f for f in s.functions if f.name.startswith("while_body"))
    assert len(body.calls) == 2  # the two branches of the inner cond
    assert s.function_ops["WriteFile"] == 1 and "WriteFile" in s.all_ops


def test_scan_finds_write_file_inside_a_cond_branch(control_flow_graph):
    found = [u for u in safety.scan(control_flow_graph) if u.op == "WriteFile"]
    assert len(found) == 1
    assert found[0].function.startswith("cond_true") and found[0].node.endswith("WriteFile")
    assert "writes files" in found[0].reason
    s = summary.summarize(control_flow_graph)
    assert any(u.op == "WriteFile" and u.function == found[0].function for u in s.unsafe_ops)


def _node(graph_def, name, op, inputs=(), **attrs):
    node = graph_def.node.add(name=name, op=op)
    node.input.extend(inputs)
    for key, value in attrs.items():
        node.attr[key].CopyFrom(value)
    return node


def test_scan_basics_top_level_unreferenced_functions_and_order():
    from tensorboard.compat.proto import attr_value_pb2, graph_pb2

    g = graph_pb2.GraphDef()
    _node(g, "x", "Placeholder", dtype=attr_value_pb2.AttrValue(type=1))
    _node(g, "read", "ReadFile", ["x"])
    _node(g, "callback", "EagerPyFunc", ["x"])
    _node(g, "p", "PrintV2", ["x"], output_stream=attr_value_pb2.AttrValue(s=b"file:///tmp/leak.txt"))
    orphan = g.library.function.add()
    orphan.signature.name = "never_called"
    orphan.node_def.add(name="w", op="WriteFile")
    found = safety.scan(g)
    pairs = [(u.node, u.op, u.function) for u in found]
    assert pairs[:4] == [("read", "ReadFile", None), ("callback", "EagerPyFunc", None),
                         ("p", "PrintV2", None), ("w", "WriteFile", "never_called")]
    assert "file" in found[2].reason and "/tmp/leak.txt" in found[2].reason
    assert safety.scan(g) == found  # deterministic
    assert [u.to_dict()["function"] for u in found][:3] == [None, None, None]
    assert all(op in ops.UNSAFE_OPS for op in ["ReadFile", "WriteFile", "SaveV2", "RestoreV2", "PyFunc",
                                                   "TFRecordDataset", "DebugIdentity", "WriteSummary", "_Send",
                                                   "_Recv", "CollectiveReduce", "TextLineReaderV2"])


def test_scan_is_clean_on_the_frozen_tutorial_graph(frozen_tb):
    assert safety.scan(frozen_tb) == []


# --- const_value ------------------------------------------------------------------------


def test_const_value_reads_back_every_keras_weight(frozen_tb, trained_model):
    consts = {n.name: tensorproto.const_value(frozen_tb, n.name) for n in frozen_tb.node if n.op == "Const"}
    for weight in trained_model.weights:
        value = np.asarray(weight.numpy())
        matches = [name for name, c in consts.items() if c.shape == value.shape and np.array_equal(c, value)]
        assert len(matches) == 1, (weight.path, matches)
        assert consts[matches[0]].dtype == np.float32


@pytest.mark.parametrize(
    "value",
    [
        np.arange(12, dtype=np.float32).reshape(3, 4),
        np.array([1, -2, 3], dtype=np.int64),
        np.array([True, False]),
        np.array([0.5, -1.25], dtype=np.float16),
        np.array([1 + 2j, 3 - 4j], dtype=np.complex64),
        np.array([-3, 4], dtype=np.int8),
        np.array([[7]], dtype=np.uint8),
        np.array([1.5, 2.5], dtype=np.float64),
        np.array([b"a", b"bc"], dtype=object),
        np.float32(2.0),
    ],
    ids=lambda v: str(np.asarray(v).dtype),
)
def test_tensor_to_numpy_matches_tensorflow(tf, value):
    from tensorboard.compat.proto import tensor_pb2

    for proto in (tf.make_tensor_proto(value), tf.make_tensor_proto(value, shape=np.shape(value))):
        tb = tensor_pb2.TensorProto()
        tb.ParseFromString(proto.SerializeToString())
        got = tensorproto.tensor_to_numpy(tb)
        expected = tf.make_ndarray(proto)
        assert got.shape == expected.shape and got.dtype == expected.dtype
        assert np.array_equal(got, expected)


def test_tensor_to_numpy_fills_splat_and_empty_value_lists(tf):
    from tensorboard.compat.proto import tensor_pb2

    splat = tensor_pb2.TensorProto(dtype=1, float_val=[1.5])
    splat.tensor_shape.dim.add(size=2)
    splat.tensor_shape.dim.add(size=3)
    assert np.array_equal(tensorproto.tensor_to_numpy(splat), np.full((2, 3), 1.5, np.float32))
    zeros = tensor_pb2.TensorProto(dtype=3)
    zeros.tensor_shape.dim.add(size=4)
    assert np.array_equal(tensorproto.tensor_to_numpy(zeros), np.zeros(4, np.int32))


def test_const_value_errors_name_the_problem(frozen_tb):
    with pytest.raises(TensorNameError, match="no node 'nope'"):
        tensorproto.const_value(frozen_tb, "nope")
    with pytest.raises(TensorNameError, match="is a Placeholder, not a Const"):
        tensorproto.const_value(frozen_tb, "image")


# --- TensorBoard ---------------------------------------------------------------------------


def _read_records(path: Path) -> list[bytes]:
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

    data, records, i = path.read_bytes(), [], 0
    while i < len(data):
        (length,) = struct.unpack("<Q", data[i : i + 8])
        assert struct.unpack("<I", data[i + 8 : i + 12])[0] == masked_crc32c(data[i : i + 8])
        body = data[i + 12 : i + 12 + length]
        assert struct.unpack("<I", data[i + 12 + length : i + 16 + length])[0] == masked_crc32c(body)
        records.append(body)
        i += 16 + length
    return records


def test_export_for_tensorboard_writes_a_graph_event(frozen_tb, tmp_path):
    from tensorboard.compat.proto import event_pb2, graph_pb2

    path = tensorboard_log.export_for_tensorboard(frozen_tb, tmp_path / "logs")
    assert path.parent == tmp_path / "logs" and path.name.startswith("events.out.tfevents.")
    events = [event_pb2.Event.FromString(r) for r in _read_records(path)]
    assert events[0].file_version == "brain.Event:2"
    graph = graph_pb2.GraphDef.FromString(events[1].graph_def)
    assert graph == frozen_tb
    assert [p.name for p in (tmp_path / "logs").iterdir()] == [path.name]


# --- plots -----------------------------------------------------------------------------------


def test_plots_return_figures(frozen_tb, unfrozen_graph, control_flow_graph):
    from matplotlib.figure import Figure

    fig = plots.plot_op_histograms(unfrozen_graph, frozen_tb)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert "ReadVariableOp" in [t.get_text() for t in fig.axes[0].get_yticklabels()]
    whole = plots.draw_graph(frozen_tb)
    assert isinstance(whole, Figure) and len(whole.axes[0].patches) == len(frozen_tb.node)
    scoped = plots.draw_graph(frozen_tb, max_nodes=14)
    assert 1 < len(scoped.axes[0].patches) <= 14 and "name scopes" in scoped.axes[0].get_title()
    top = plots.draw_graph(frozen_tb, mode="top", max_nodes=10, show_consts=True)
    assert len(top.axes[0].patches) == 10
    assert isinstance(plots.draw_graph(control_flow_graph), Figure)
    with pytest.raises(ValueError, match="mode"):
        plots.draw_graph(frozen_tb, mode="sideways")


def test_layered_layout_puts_parents_above_children_and_survives_cycles():
    pos = plots.layered_layout(["a", "b", "c", "d"], [("a", "b"), ("b", "c"), ("a", "c"), ("c", "b"), ("c", "d")])
    assert set(pos) == {"a", "b", "c", "d"}
    assert pos["a"][1] > pos["d"][1]
    assert plots.op_category("Conv2D")[0] == "conv / matmul" and plots.op_category("WriteFile")[0] == "unsafe"


# --- graphfile.describe_file --------------------------------------------------------------


def test_describe_file_recognises_other_formats(tmp_path):
    onnx = tmp_path / "m.onnx"
    onnx.write_bytes(b"\x08\x07\x12\x07pytorch\x1a\x052.1.0:\x04\n\x02\n\x00")
    saved = tmp_path / "saved_model.pb"
    saved.write_bytes(b"\x08\x01\x12\x02\x0a\x00")
    assert "ONNX" in graphfile.describe_file(onnx)
    assert "SavedModel" in graphfile.describe_file(saved)


# --- the command -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory, saved_pb, frozen_tb):
    d = tmp_path_factory.mktemp("bad")
    data = saved_pb.read_bytes()
    (d / "empty.pb").write_bytes(b"")
    (d / "cut.pb").write_bytes(data[: len(data) // 2])
    (d / "random.pb").write_bytes(np.random.default_rng(0).bytes(4096))
    (d / "model.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64))
    with zipfile.ZipFile(d / "model.keras", "w") as z:
        z.writestr("config.json", "{}")
    (d / "model.onnx").write_bytes(b"\x08\x08\x12\x07pytorch\x1a\x052.1.0:\x04\n\x02\n\x00")
    (d / "model.tflite").write_bytes(b"\x1c\x00\x00\x00TFL3" + bytes(64))
    (d / "saved").mkdir()
    (d / "saved" / "saved_model.pb").write_bytes(b"\x08\x01\x12\x00")
    (d / "broken.pbtxt").write_text('node { name: "x" op: "Placeholder" \n')
    headless = type(frozen_tb)()
    headless.CopyFrom(frozen_tb)
    del headless.node[0]  # the Placeholder: every edge from it now dangles
    (d / "headless.pb").write_bytes(headless.SerializeToString())
    return d


@pytest.mark.parametrize(
    "name, says",
    [
        ("empty.pb", "empty"),
        ("cut.pb", "truncated"),
        ("random.pb", "not a GraphDef"),
        ("model.h5", "HDF5"),
        ("model.keras", ".keras"),
        ("model.onnx", "ONNX"),
        ("model.tflite", "TFLite"),
        ("saved", "SavedModel directory"),
        ("saved/saved_model.pb", "SavedModel"),
        ("broken.pbtxt", "text .pbtxt"),
        ("headless.pb", "truncated or damaged"),
        ("missing.pb", "does not exist"),
    ],
)
def test_cli_inspect_bad_files_exit_2_with_one_line(bad_files, name, says):
    before = sorted(p.name for p in bad_files.rglob("*"))
    result = run_cli("inspect", bad_files / name, "--json")
    assert_one_line_error(result, 2, says)
    assert result.stdout == ""
    assert sorted(p.name for p in bad_files.rglob("*")) == before


def test_cli_inspect_json_and_tables(saved_pb, frozen_graph):
    result = run_cli("inspect", saved_pb, "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["nodes"] == len(frozen_graph.graph_def.node)
    assert payload["inputs"] == [t.to_dict() for t in frozen_graph.inputs]
    assert payload["outputs"] == [t.to_dict() for t in frozen_graph.outputs]
    assert payload["ops"]["Const"] > 0 and payload["const_bytes"] > 0
    assert payload["variable_ops"] == [] and payload["unsafe_ops"] == []
    text = run_cli("inspect", saved_pb)
    assert text.returncode == 0 and "image:0" in text.stdout and "Op types" in text.stdout


def test_cli_inspect_reports_nested_unsafe_ops_and_reads_pbtxt(control_flow_graph, tmp_path):
    from google.protobuf import text_format

    path = tmp_path / "flow.pbtxt"
    path.write_text(text_format.MessageToString(control_flow_graph))
    result = run_cli("inspect", path, "--json")
    assert result.returncode == 0, result.stderr
    unsafe = [u for u in json.loads(result.stdout)["unsafe_ops"] if u["op"] == "WriteFile"]
    assert len(unsafe) == 1 and unsafe[0]["function"].startswith("cond_true")


def test_cli_inspect_does_not_import_tensorflow(saved_pb):
    code = (
        "import sys, io, contextlib\n"
        "from graphfreeze_helpers.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['inspect', {str(saved_pb)!r}, '--json']) == 0\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
