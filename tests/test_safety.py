"""The safety scan: catalogue ops anywhere (top level, library, nested If/While/Case), unknown ops, path constants."""

import subprocess
import sys

import pytest
from google.protobuf import text_format
from tensorboard.compat.proto import graph_pb2, node_def_pb2

from graphfreeze_helpers import safety
from graphfreeze_helpers.safety import UnsafeOp, looks_like_path_or_url, scan, shipped_known_ops


def graph(text: str):
    return text_format.Parse(text, graph_pb2.GraphDef())


CLEAN = """
node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }
node { name: "w" op: "Const" attr { key: "value" value { tensor { dtype: DT_FLOAT float_val: 2.0 } } } }
node { name: "y" op: "Mul" input: "x" input: "w" }
"""


def test_clean_graph_has_no_findings():
    assert scan(graph(CLEAN)) == []


def test_top_level_catalogue_op_is_flagged():
    found = scan(graph(CLEAN + 'node { name: "rf" op: "ReadFile" input: "x" }'))
    assert [(f.node, f.op, f.function) for f in found] == [("rf", "ReadFile", None)]
    assert "reads files" in found[0].reason


NESTED = """
node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }
node { name: "c" op: "Placeholder" attr { key: "dtype" value { type: DT_BOOL } } }
node { name: "if" op: "If" input: "c" input: "x"
  attr { key: "then_branch" value { func { name: "then_fn" } } }
  attr { key: "else_branch" value { func { name: "else_fn" } } } }
node { name: "case" op: "Case" input: "x"
  attr { key: "branches" value { list { func { name: "b0" } func { name: "b1" } } } } }
library {
  function { signature { name: "then_fn" }
    node_def { name: "loop" op: "While"
      attr { key: "cond" value { func { name: "cond_fn" } } }
      attr { key: "body" value { func { name: "body_fn" } } } } }
  function { signature { name: "else_fn" } node_def { name: "id" op: "Identity" } }
  function { signature { name: "cond_fn" } node_def { name: "less" op: "Less" } }
  function { signature { name: "body_fn" }
    node_def { name: "call" op: "PartitionedCall"
      attr { key: "f" value { func { name: "inner_fn"
        attr { key: "g" value { func { name: "deep_fn" } } } } } } } }
  function { signature { name: "inner_fn" } node_def { name: "py" op: "EagerPyFunc" } }
  function { signature { name: "deep_fn" } node_def { name: "w" op: "WriteFile" } }
  function { signature { name: "b0" } node_def { name: "pr" op: "PrintV2"
    attr { key: "output_stream" value { s: "file:///tmp/leak.txt" } } } }
  function { signature { name: "b1" } node_def { name: "send" op: "_Send" } }
  function { signature { name: "orphan" } node_def { name: "rpc" op: "RpcCall" } }
  function { signature { name: "called_by_op" } node_def { name: "sv" op: "SaveV2" } }
}
node { name: "direct" op: "called_by_op" }
"""


def test_functions_named_by_attrs_are_walked_recursively():
    found = {(f.function, f.node, f.op) for f in scan(graph(NESTED))}
    assert found == {
        ("inner_fn", "py", "EagerPyFunc"),  # While body -> PartitionedCall f
        ("deep_fn", "w", "WriteFile"),  # a func attr inside a func attr
        ("b0", "pr", "PrintV2"),  # Case branch
        ("b1", "send", "_Send"),
        ("orphan", "rpc", "RpcCall"),  # in the library although nothing calls it
        ("called_by_op", "sv", "SaveV2"),  # called with the function's name as the op type
    }
    printed = next(f for f in scan(graph(NESTED)) if f.op == "PrintV2")
    assert "file:///tmp/leak.txt" in printed.reason


def test_unknown_ops_are_flagged_but_library_functions_are_not():
    g = graph(CLEAN + 'node { name: "z" op: "TotallyCustomOp" input: "y" }')
    found = scan(g)
    assert [(f.node, f.op) for f in found] == [("z", "TotallyCustomOp")]
    assert "does not know" in found[0].reason
    assert scan(g, known_ops=None) == []  # the check can be switched off
    assert scan(graph(NESTED), known_ops={"Placeholder"}) and not any(
        f.op in {"If", "Identity", "called_by_op"} for f in scan(graph(NESTED))
    )


def test_shipped_known_ops_is_the_tensorflow_registry():
    ops = shipped_known_ops()
    assert len(ops) > 1500
    assert {"Conv2D", "MatMul", "If", "While", "StatefulPartitionedCall", "Const", "Placeholder"} <= ops
    assert "TotallyCustomOp" not in ops


@pytest.mark.parametrize(
    "text",
    ["/etc/passwd", "C:\\Users\\me", "\\\\server\\share", "..\\up", "./here", "~/x", "data/vocab.txt",
     "file:///tmp/x", "http://example.com", "https://example.com/m", "gs://bucket/o", "s3://b/k", "hdfs://nn/p"],
)
def test_paths_and_urls_are_recognised(text):
    assert looks_like_path_or_url(text)


@pytest.mark.parametrize("text", ["", "hello", "the cat/dog sat", "a/", "x:y", "yes", "x" * 5000 + "/y"])
def test_ordinary_strings_are_not_paths(text):
    assert not looks_like_path_or_url(text)


def test_string_constants_with_paths_are_flagged_in_functions_too():
    const = (
        'node_def {{ name: "{name}" op: "Const" '
        'attr {{ key: "value" value {{ tensor {{ dtype: DT_STRING {vals} }} }} }} }}'
    )
    vals = 'string_val: "hello" string_val: "gs://bucket/secret" string_val: "/etc/shadow"'
    g = graph(
        CLEAN
        + 'node { name: "s" op: "Const" '
        'attr { key: "value" value { tensor { dtype: DT_STRING string_val: "cat" } } } }'
        + 'node { name: "p" op: "Const" '
        'attr { key: "value" value { tensor { dtype: DT_STRING string_val: "https://x.org/a" } } } }'
        + "library { function { signature { name: \"f\" } " + const.format(name="inner", vals=vals) + " } }"
    )
    found = {(f.function, f.node): f.reason for f in scan(g)}
    assert set(found) == {(None, "p"), ("f", "inner")}
    assert "'https://x.org/a'" in found[(None, "p")]
    assert "'gs://bucket/secret' (and 1 more)" in found[("f", "inner")]


def test_unsafe_op_keeps_its_fields():
    item = UnsafeOp("n", "ReadFile", None, "reads files from disk")
    assert item.to_dict() == {"node": "n", "op": "ReadFile", "function": None, "reason": "reads files from disk",
                              "nested_in": []}
    assert "n (ReadFile)" in str(item)
    inner = UnsafeOp("n", "ReadFile", "f", "reads", ("blob.value[0]", "g/b2.value[3]"))
    assert str(inner) == "n (ReadFile) in function 'f' inside the graph in blob.value[0] > g/b2.value[3]: reads"


def test_refusal_message_is_one_line_per_node():
    found = [UnsafeOp(f"n{i}", "ReadFile", "f" if i else None, "reads files") for i in range(25)]
    lines = safety.refusal_message("'g.pb'", found).split("\n")
    assert "25 op(s) not known to be safe (ReadFile)" in lines[0]
    assert "--allow-unsafe" in lines[0] and "sandbox" in lines[0]
    assert lines[1] == "graphfreeze: refused: n0 (ReadFile): reads files"
    assert lines[5] == "graphfreeze: refused: n4 (ReadFile) in function 'f': reads files"
    assert len(lines) == 1 + safety.MAX_LISTED + 1 and "and 5 more" in lines[-1]
    evil = safety.refusal_message("'g.pb'", [UnsafeOp("a\nfake line\x1b[2J", "X\r", None, "why")])
    assert evil.count("\n") == 1 and "\\x0a" in evil and "\\x1b" in evil and "\\x0d" in evil


def test_tensorflow_built_control_flow_is_scanned(tmp_path):
    """A real tf.function with tf.cond / tf.while_loop: ReadFile inside a branch, PrintV2 in a loop body."""
    from graphfreeze_helpers.tfimport import import_tensorflow

    tf = import_tensorflow()

    @tf.function(input_signature=[tf.TensorSpec((), tf.bool), tf.TensorSpec((), tf.string)])
    def f(flag, path):
        text = tf.cond(flag, lambda: tf.io.read_file(path), lambda: tf.constant("none"))

        def body(i):
            tf.print(i, output_stream="file:///tmp/graphfreeze-leak.txt")
            return (i + 1,)

        (n,) = tf.while_loop(lambda i: i < 3, body, [tf.constant(0)])
        return text, n

    graph_def = f.get_concrete_function().graph.as_graph_def()
    tb_graph = graph_pb2.GraphDef.FromString(graph_def.SerializeToString())
    found = scan(tb_graph)
    ops = {(f.op, f.function is not None) for f in found}
    assert ("ReadFile", True) in ops and ("PrintV2", True) in ops
    assert not [f for f in found if f.reason == safety.UNKNOWN_OP_REASON]


def test_scan_does_not_import_tensorflow():
    code = (
        "import sys; from tensorboard.compat.proto import graph_pb2; from graphfreeze_helpers import safety;"
        "g = graph_pb2.GraphDef(); n = g.node.add(); n.name='r'; n.op='ReadFile';"
        "assert safety.scan(g)[0].op == 'ReadFile'; assert 'tensorflow' not in sys.modules, 'tf imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


# --- refusing to load, and the scan command -------------------------------------------------

UNSAFE_GRAPH = """
node { name: "path" op: "Placeholder"
       attr { key: "dtype" value { type: DT_STRING } } attr { key: "shape" value { shape { } } } }
node { name: "contents" op: "ReadFile" input: "path" }
"""


@pytest.fixture()
def unsafe_pb(tmp_path):
    path = tmp_path / "reader.pb"
    path.write_bytes(graph(UNSAFE_GRAPH).SerializeToString())
    return path


def test_load_frozen_refuses_unsafe_graph_unless_allowed(unsafe_pb, tmp_path):
    import numpy as np

    from graphfreeze_helpers.errors import UnsafeGraphError
    from graphfreeze_helpers.load import load_frozen

    with pytest.raises(UnsafeGraphError, match=r"(?s)allow_unsafe.*contents \(ReadFile\)"):
        load_frozen(unsafe_pb)
    secret = tmp_path / "secret.txt"
    secret.write_text("a file the graph reads")
    fn = load_frozen(unsafe_pb, inputs=["path"], outputs=["contents"], allow_unsafe=True)
    assert fn(np.array(str(secret).encode())) == b"a file the graph reads"  # why the default refuses


def test_load_frozen_refuses_ops_tensorflow_does_not_know(tmp_path):
    from graphfreeze_helpers.errors import UnsafeGraphError
    from graphfreeze_helpers.load import RegisteredOps, load_frozen

    path = tmp_path / "custom.pb"
    path.write_bytes(graph(CLEAN + 'node { name: "z" op: "MyCustomKernel" input: "y" }').SerializeToString())
    with pytest.raises(UnsafeGraphError, match=r"z \(MyCustomKernel\).*does not know"):
        load_frozen(path)
    assert "MatMul" in RegisteredOps() and "MyCustomKernel" not in RegisteredOps()


def test_scan_command_exit_codes_and_json(unsafe_pb, saved_pb, tmp_path):
    import json

    from conftest import run_cli

    clean = run_cli("scan", saved_pb)
    assert clean.returncode == 0 and "clean" in clean.stdout, clean.stderr
    flagged = run_cli("scan", unsafe_pb)
    assert flagged.returncode == 3 and "contents (ReadFile)" in flagged.stdout
    report = json.loads(run_cli("scan", unsafe_pb, "--json").stdout)
    assert report["clean"] is False
    assert [{k: u[k] for k in ("node", "op", "function")} for u in report["unsafe_ops"]] == [
        {"node": "contents", "op": "ReadFile", "function": None}
    ]
    assert json.loads(run_cli("scan", saved_pb, "--json").stdout)["unsafe_ops"] == []


def test_scan_json_matches_inspect_unsafe_ops(tmp_path):
    import json

    from conftest import run_cli

    path = tmp_path / "nested.pb"
    path.write_bytes(graph(NESTED).SerializeToString())
    scanned = json.loads(run_cli("scan", path, "--json").stdout)["unsafe_ops"]
    inspected = json.loads(run_cli("inspect", path, "--json").stdout)["unsafe_ops"]
    key = ("node", "op", "function")
    assert [tuple(u[k] for k in key) for u in scanned] == [tuple(u[k] for k in key) for u in inspected]
    assert len(scanned) == 6


def test_run_refuses_unsafe_graph_before_tensorflow(unsafe_pb, tmp_path):
    import numpy as np

    from conftest import assert_refusal, run_cli

    np.save(tmp_path / "x.npy", np.array(b"/etc/hostname"))
    out = tmp_path / "y.npy"
    lines = assert_refusal(run_cli("run", unsafe_pb, "--input", tmp_path / "x.npy", "-o", out), "contents (ReadFile)")
    assert "--allow-unsafe" in lines[0] and len(lines) == 2
    assert not out.exists()
    assert_refusal(run_cli("bench", unsafe_pb), "ReadFile")


def test_scan_command_does_not_import_tensorflow(unsafe_pb):
    code = (
        "import sys; from graphfreeze_helpers.cli import main;"
        f"rc = main(['scan', {str(unsafe_pb)!r}]);"
        "assert rc == 3, rc; assert 'tensorflow' not in sys.modules, 'scan imported TensorFlow'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_shipped_op_list_matches_installed_tensorflow():
    """known_ops.txt must be regenerated (tools/gen_known_ops.py) when TensorFlow changes."""
    from pathlib import Path

    tool = Path(__file__).resolve().parent.parent / "tools" / "gen_known_ops.py"
    result = subprocess.run([sys.executable, str(tool), "--check"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


def test_print_to_the_console_is_not_a_finding_but_print_to_a_file_is():
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def console(x):
        tf.print(x)
        tf.print(x, output_stream=sys.stdout)
        return x * 2

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def to_file(x):
        tf.print(x, output_stream="file:///tmp/graphfreeze-print.txt")
        return x * 2

    assert [f.op for f in scan(console.get_concrete_function().graph.as_graph_def())] == []
    found = scan(to_file.get_concrete_function().graph.as_graph_def())
    assert [f.op for f in found] == ["PrintV2"] and "file://" in found[0].reason


# --- a scanner that cannot be fooled or hung ----------------------------------------------------

FAKE_CLEAN = "\x1b[2K\x1b[1A\x1b[2K\rclean.pb: clean (no file, network, Python or unknown ops)\n\x9b2J\u202e"


def _control_code_graph(tmp_path):
    """A ReadFile in a function nothing calls, named so that a terminal would erase the findings above it."""
    g = graph(CLEAN)
    fdef = g.library.function.add()
    fdef.signature.name = "orphan" + FAKE_CLEAN
    fdef.node_def.add(name="reader" + FAKE_CLEAN, op="ReadFile")
    g.node[2].name = "y" + FAKE_CLEAN  # the output: printed by inspect
    path = tmp_path / "control.pb"
    path.write_bytes(g.SerializeToString())
    return path


def _assert_no_control_characters(text: str) -> None:
    lines = text.split("\n")
    for line in lines:
        bad = [ch for ch in line if ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F or ch in "\u202e\u2028"]
        assert not bad, (bad, line)


def test_names_with_terminal_control_codes_are_escaped_in_scan_and_inspect(tmp_path):
    import json

    from conftest import run_cli

    path = _control_code_graph(tmp_path)
    scanned = run_cli("scan", path)
    assert scanned.returncode == 3, scanned.stderr
    _assert_no_control_characters(scanned.stdout.rstrip("\n"))
    assert "\\x1b[2K" in scanned.stdout and "ReadFile" in scanned.stdout
    assert not any(line.startswith("clean.pb") for line in scanned.stdout.splitlines())
    for args in (("scan", path, "--json"), ("inspect", path, "--json"), ("inspect", path),
                 ("inspect", path, "--structure", "--flops")):
        result = run_cli(*args)
        _assert_no_control_characters(result.stdout.rstrip("\n"))
        assert "\\x1b" in result.stdout or "\\u001b" in result.stdout, args
    report = json.loads(run_cli("scan", path, "--json").stdout)
    assert [u["node"] for u in report["unsafe_ops"]] == ["reader" + FAKE_CLEAN]  # JSON keeps the real name


def test_error_lines_escape_names(tmp_path):
    import numpy as np

    from conftest import run_cli

    path = _control_code_graph(tmp_path)
    np.save(tmp_path / "x.npy", np.zeros((), np.float32))
    result = run_cli("run", path, "--input", tmp_path / "x.npy", "-o", tmp_path / "y.npy")
    assert result.returncode == 3 and "reader\\x1b[2K" in result.stderr, result.stderr
    _assert_no_control_characters(result.stderr.rstrip("\n"))


def test_sixty_thousand_uncalled_functions_scan_in_linear_time(tmp_path):
    """1.4 MB of tiny functions nothing calls took 96 s (a quadratic walk); now well under a second.

    The bound is a hang guard, 20x the time measured here: speed targets live in benchmarks/scan_speed.py.
    """
    import time

    g = graph(CLEAN)
    for i in range(60_000):
        fdef = g.library.function.add()
        fdef.signature.name = f"f{i}"
        fdef.node_def.add(name="n", op="NoOp")
    fdef.node_def.add(name="w", op="WriteFile")  # the last function's finding must still be seen
    start = time.perf_counter()
    found = scan(graph_pb2.GraphDef.FromString(g.SerializeToString()))
    assert time.perf_counter() - start < 20
    assert [(f.function, f.op) for f in found] == [("f59999", "WriteFile")]
    assert len(safety.reachable_functions(g)) == 0 and sum(1 for _ in safety.walk(g)) == 3 + 60_001


# The nodes a small tf.function (x * 2 + 1) traces to, as every copy of it in a library holds them.
TRACED = (
    'node_def { name: "mul/y" op: "Const" attr { key: "dtype" value { type: DT_FLOAT } } '
    'attr { key: "value" value { tensor { dtype: DT_FLOAT float_val: 2.0 } } } } '
    'node_def { name: "mul" op: "Mul" input: "x" input: "mul/y:output:0" attr { key: "T" value { type: DT_FLOAT } } } '
    'node_def { name: "Identity" op: "Identity" input: "mul:z:0" attr { key: "T" value { type: DT_FLOAT } } }'
)


def _copies(count: int, odd: dict[int, str] | None = None) -> graph_pb2.GraphDef:
    """CLEAN and a library of ``count`` copies of TRACED (f0, f1, ...), function i also holding ``odd[i]``."""
    g = graph(CLEAN + f'library {{ function {{ {TRACED} }} }}')
    template = g.library.function.pop()
    for i in range(count):
        fdef = g.library.function.add()
        fdef.CopyFrom(template)
        fdef.signature.name = f"f{i}"
        if odd and i in odd:
            fdef.MergeFrom(graph(f"library {{ function {{ {odd[i]} }} }}").library.function[0])
    return g


_STRING_CONST = ('node_def {{ name: "{name}" op: "Const" attr {{ key: "dtype" value {{ type: DT_STRING }} }} '
                 'attr {{ key: "value" value {{ tensor {{ dtype: DT_STRING string_val: "{value}" }} }} }} }}')
_PROGRAM = "".join(f"\\{b:03o}" for b in graph('node { name: "r" op: "ReadFile" }').SerializeToString())
_WRITE = 'node_def { name: "w" op: "WriteFile" }'
BULK_CASES = {
    "clean copies": lambda: _copies(300),
    "an op outside the list in one copy": lambda: _copies(300, {150: _WRITE}),
    "the same finding in every copy": lambda: _copies(300, dict.fromkeys(range(300), _WRITE)),
    "a path constant in one copy": lambda: _copies(300, {7: _STRING_CONST.format(name="p", value="/etc/passwd")}),
    "a serialized graph in one copy": lambda: _copies(300, {299: _STRING_CONST.format(name="blob", value=_PROGRAM)}),
    "a variant constant in one copy": lambda: _copies(300, {0: 'node_def { name: "v" op: "Const" attr { key: "value" '
                                                               'value { tensor { dtype: DT_VARIANT } } } }'}),
    "a func attr naming an op in one copy": lambda: _copies(300, {3: 'node_def { name: "c" op: "PartitionedCall" '
                                                                     'attr { key: "f" value { func { name: "ReadFile" '
                                                                     '} } } }'}),
    "a call of a copy": lambda: _copies(300, {5: 'node_def { name: "c" op: "f6" }'}),
    "nested control flow": lambda: graph(NESTED),
}


@pytest.mark.parametrize("case", list(BULK_CASES))
def test_a_library_read_in_bulk_gives_the_node_by_node_report(case):
    g = BULK_CASES[case]()
    expected = safety.check(g)
    assert safety.check(g, serialized=g.SerializeToString()) == expected
    assert expected.clean == (case in ("clean copies", "a call of a copy"))
    if case == "the same finding in every copy":  # one distinct node, each place it sits reported
        assert [u.function for u in expected.refusals()] == [f"f{i}" for i in range(300)]


def test_a_library_of_copies_is_read_once_in_bulk(monkeypatch):
    """The bulk read holds every function's nodes, in library order, as the GraphDef parser reads them,
    also when the library is written in pieces (protobuf merges them, and so does the reader)."""
    halves = [_copies(200, {199: _WRITE}), _copies(100)]
    for i, fdef in enumerate(halves[1].library.function):
        fdef.signature.name = f"g{i}"
    data = b"".join(half.SerializeToString() for half in halves)
    g = graph_pb2.GraphDef.FromString(data)
    merged = safety.merged_library(data)
    # Compared as parsed nodes: serializing a node again may write its attr map in another order.
    nodes = [n for f in g.library.function for n in f.node_def]
    assert len(merged.node_def) == len(nodes)
    parsed = [node_def_pb2.NodeDef.FromString(raw) for raw in merged.node_def]
    differing = [i for i, (mine, node) in enumerate(zip(parsed, nodes)) if mine != node]
    assert differing == [], f"{len(differing)} nodes differ, the first at {differing[:1]}"
    assert len(merged.node_def) == 901 and len(set(merged.node_def)) == 4 and len(merged.signature) == 300
    read = []
    monkeypatch.setattr(safety, "merged_library", lambda serialized: read.append(serialized) or merged)
    report = safety.check(g, serialized=data)
    assert read == [data] and [(u.function, u.node) for u in report.refusals()] == [("f199", "w")]


def test_bytes_that_are_not_the_graphs_leave_the_scan_node_by_node():
    """A wrong ``serialized`` (another graph, or text) is noticed by its function count: the report is the graph's."""
    g = _copies(50, {20: _WRITE})
    for other in (_copies(49).SerializeToString(), b"node { }", b"\xff" * 64):
        assert safety.check(g, serialized=other) == safety.check(g) != safety.check(_copies(50))


def test_read_graph_file_gives_the_binary_bytes_it_parsed(tmp_path):
    from google.protobuf import text_format as tf_text

    from graphfreeze_helpers import graphfile

    g = _copies(3)
    (tmp_path / "g.pb").write_bytes(g.SerializeToString())
    (tmp_path / "g.pbtxt").write_text(tf_text.MessageToString(g))
    parsed, data = graphfile.read_graph_file(tmp_path / "g.pb", check_edges=True)
    assert parsed == g and data == g.SerializeToString()
    parsed, data = graphfile.read_graph_file(tmp_path / "g.pbtxt")
    assert parsed == g and data is None


def test_walk_visits_a_name_defined_twice_both_times():
    g = graph(CLEAN + 'library { function { signature { name: "f" } node_def { name: "a" op: "Identity" } } '
              'function { signature { name: "f" } node_def { name: "b" op: "ReadFile" } } }')
    assert [(f, n.name) for f, n in safety.walk(g) if f] == [("f", "a"), ("f", "b")]
    assert [f.node for f in scan(g)] == ["b"]


def _deep_pbtxt(levels: int) -> str:
    open_ = 'func { name: "g" attr { key: "k" value { '
    return ('node { name: "a" op: "NoOp" attr { key: "k" value { ' + open_ * levels + "} } }" * levels
            + " } } }")


@pytest.mark.parametrize("command", ["scan", "inspect"])
def test_deeply_nested_text_graph_is_one_line_exit_2(tmp_path, command):
    from conftest import assert_one_line_error, run_cli

    path = tmp_path / "deep.pbtxt"
    path.write_text(_deep_pbtxt(5_000))
    line = assert_one_line_error(run_cli(command, path), 2, "levels deep")
    assert "at most 100" in line


def test_text_graph_within_the_depth_limit_still_parses(tmp_path):
    from graphfreeze_helpers.graphfile import MAX_TEXT_DEPTH, parse_graph_def, text_depth

    text = _deep_pbtxt(30).encode()
    assert text_depth(text) <= MAX_TEXT_DEPTH
    assert parse_graph_def(text).node[0].name == "a"
    assert text_depth(b'node { name: "{{{" } # {{{{\n') == 1


def test_text_graph_that_is_not_utf8_past_its_head_is_one_line_exit_2(tmp_path):
    from conftest import assert_one_line_error, run_cli

    path = tmp_path / "bad.pbtxt"
    path.write_bytes(CLEAN.encode() * 60 + b'node { name: "\xff\xfe" op: "NoOp" }')
    assert_one_line_error(run_cli("scan", path), 2, "not UTF-8")


# --- the allow-list ------------------------------------------------------------------------------


def test_allow_list_file_puts_every_registry_op_in_one_group_with_a_reason():
    import json

    from graphfreeze_helpers.ops import ALLOWED_OPS_FILE, allowed_ops

    record = json.loads(ALLOWED_OPS_FILE.read_text())
    groups = [*record["allowed"].values(), *record["excluded"].values()]
    names = [op for group in groups for op in group["ops"]]
    assert len(names) == len(set(names)) == record["registry"]["ops"]
    assert set(names) == shipped_known_ops()  # the same registry as known_ops.txt
    assert all(group["reason"] and group["ops"] for group in groups)
    allow = allowed_ops()
    assert {"Conv2D", "MatMul", "If", "While", "StatefulPartitionedCall", "Const", "Placeholder", "NoOp",
            "TensorListReserve", "Switch", "Merge", "Enter", "_FusedConv2D"} <= allow.allowed
    for op, family in [("ReadFile", "deny_list"), ("DatasetFromGraph", "nested_program"), ("MapDataset",
                       "nested_program"), ("TensorDataset", "tf_data"), ("VarHandleOp", "shared_state"),
                       ("HashTableV2", "shared_state"), ("Abort", "process"), ("GenerateVocabRemapping",
                       "reads_files"), ("XlaCallModule", "nested_program"), ("KernelLabel", "test_and_debug")]:
        assert op not in allow and allow.family(op) == family, (op, allow.family(op))
    assert "not an op of TensorFlow" in allow.reason("MyCustomKernel")


def test_allow_list_matches_the_installed_tensorflow_registry():
    """allowed_ops.json records the registry it was made from; regenerate it (and review) when TensorFlow changes."""
    from pathlib import Path

    tool = Path(__file__).resolve().parent.parent / "tools" / "gen_allowed_ops.py"
    result = subprocess.run([sys.executable, str(tool), "--check"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


def test_every_op_outside_the_list_is_not_known_safe_and_deny_findings_stay_separate():
    g = graph(CLEAN + 'node { name: "t" op: "TensorDataset" } node { name: "rf" op: "ReadFile" input: "x" }'
              ' node { name: "z" op: "MyCustomKernel" }')
    report = safety.check(g)
    assert [(u.node, u.op) for u in report.unsafe] == [("rf", "ReadFile"), ("z", "MyCustomKernel")]
    assert [(u.node, u.op) for u in report.not_known_safe] == [("t", "TensorDataset"), ("rf", "ReadFile"),
                                                               ("z", "MyCustomKernel")]
    assert "tf.data" in report.not_known_safe[0].reason
    assert [u.node for u in report.refusals()] == ["rf", "z", "t"]
    assert safety.check(graph(CLEAN)).clean and safety.check(graph(NESTED)).not_known_safe


def test_a_func_attr_naming_an_op_is_checked_as_that_op():
    """TensorFlow runs a primitive op named by a func attr as a function: PartitionedCall(f=ReadFile) reads files."""
    g = graph(CLEAN + 'node { name: "call" op: "PartitionedCall" input: "x" '
              'attr { key: "f" value { func { name: "ReadFile" } } } }')
    report = safety.check(g)
    assert [(u.node, u.op) for u in report.not_known_safe] == [("call", "ReadFile")]
    assert [(u.node, u.op) for u in report.unsafe] == [("call", "ReadFile")]
    fine = graph(CLEAN + 'node { name: "call" op: "PartitionedCall" '
                 'attr { key: "f" value { func { name: "Relu" } } } }')
    assert safety.check(fine).clean


def test_a_variant_constant_is_not_known_safe():
    g = graph(CLEAN + 'node { name: "v" op: "Const" attr { key: "value" value { tensor { dtype: DT_VARIANT } } } }')
    assert [(u.node, u.reason.split(":")[0]) for u in safety.check(g).not_known_safe] == [("v", "a variant constant")]


def test_a_function_named_like_an_op_is_not_a_call():
    """TensorFlow refuses a library function named like a registered op, so the node runs the op."""
    g = graph(CLEAN + 'node { name: "r" op: "TensorDataset" } '
              'library { function { signature { name: "TensorDataset" } node_def { name: "i" op: "Identity" } } }')
    assert [u.node for u in safety.check(g).not_known_safe] == ["r"]


def _nested_program_graph(tmp_path):
    """A tf.data graph that reads a file, serialized into a string constant and run by DatasetFromGraph.

    The string is joined with an empty string computed from the input, so that grappler cannot fold
    the dataset away before it runs.
    """
    import tensorflow as tf

    secret = tmp_path / "secret.txt"
    secret.write_text("the contents of a file the graph was not given")
    ds = tf.data.Dataset.from_tensors(tf.constant(str(secret))).map(tf.io.read_file)
    blob = tf.raw_ops.DatasetToGraphV2(input_dataset=ds._variant_tensor, external_state_policy=0,
                                       strip_device_assignment=True).numpy()
    g = tf.Graph()
    with g.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None], name="x")
        empty = tf.strings.reduce_join(tf.strings.as_string(x)[:0])
        program = tf.strings.join([tf.constant(blob, name="program"), empty])
        (contents,) = tf.raw_ops.DatasetToSingleElement(dataset=tf.raw_ops.DatasetFromGraph(graph_def=program),
                                                        output_types=[tf.string], output_shapes=[[]])
        tf.identity(contents, name="contents")
    path = tmp_path / "nested.pb"
    path.write_bytes(g.as_graph_def().SerializeToString())
    return path, secret


def test_a_graph_serialized_in_a_string_is_scanned_and_refused(tmp_path):
    import json

    import numpy as np

    from graphfreeze_helpers.errors import UnsafeGraphError
    from graphfreeze_helpers.load import load_frozen

    from conftest import assert_refusal, run_cli

    path, secret = _nested_program_graph(tmp_path)
    report = json.loads(run_cli("scan", path, "--json").stdout)
    inner = [(u["op"], u["nested_in"]) for u in report["unsafe_ops"]]
    assert ("ReadFile", ["program.value[0]"]) in inner  # found inside the nested graph, with the path to it
    assert any(u["op"] == "Const" and "file path" in u["reason"] and u["nested_in"] for u in report["unsafe_ops"])
    outside = {u["op"] for u in report["not_known_safe"] if not u["nested_in"]}
    assert {"DatasetFromGraph", "DatasetToSingleElement", "Const"} <= outside
    np.save(tmp_path / "x.npy", np.array([1.0], np.float32))
    run = ("run", path, "--input", f"x={tmp_path / 'x.npy'}", "--outputs", "contents", "-o", tmp_path / "y.npy")
    assert_refusal(run_cli(*run), "DatasetFromGraph")
    with pytest.raises(UnsafeGraphError, match="DatasetFromGraph"):
        load_frozen(path, outputs=["contents"])
    assert run_cli(*run, "--allow-unsafe").returncode == 0  # what the refusal prevents: the file is read
    assert np.load(tmp_path / "y.npy") == secret.read_bytes()


def test_nested_graphs_deeper_than_the_limit_are_not_scanned_further():
    inner = graph('node { name: "r" op: "ReadFile" }')
    for _ in range(safety.MAX_NESTED_DEPTH + 2):
        outer = graph_pb2.GraphDef()
        node = outer.node.add(name="blob", op="Const")
        node.attr["value"].tensor.dtype = 7
        node.attr["value"].tensor.string_val.append(inner.SerializeToString())
        inner = outer
    report = safety.check(inner)
    assert max(len(u.nested_in) for u in report.not_known_safe) == safety.MAX_NESTED_DEPTH
    assert any("not scanned further" in u.reason for u in report.not_known_safe)
    assert not report.unsafe  # the ReadFile lies deeper than the scan goes; the carriers are still refused


def test_strings_that_parse_as_a_graph_by_accident_are_not_graphs():
    assert safety.nested_graph(b"\n\x0eVARIABLE_VALUE\x12\nVariable_7\x1a&variables/0/.ATTRIBUTES/VARIABLE") is None
    assert safety.nested_graph(b"/etc/passwd") is None and safety.nested_graph(b"") is None
    assert safety.nested_graph(graph(CLEAN).SerializeToString()) is not None


def test_an_op_the_running_process_registers_is_still_refused(tmp_path):
    """KernelLabel is registered by TensorFlow's own test kernels, linked into the library the host loaded:
    the live registry knows it, the shipped allow-list does not allow it, and the list decides."""
    from graphfreeze_helpers.errors import UnsafeGraphError
    from graphfreeze_helpers.load import RegisteredOps, load_frozen

    assert "KernelLabel" in RegisteredOps() and "KernelLabel" in shipped_known_ops()
    path = tmp_path / "host_op.pb"
    path.write_bytes(graph(CLEAN + 'node { name: "k" op: "KernelLabel" }').SerializeToString())
    with pytest.raises(UnsafeGraphError, match=r"k \(KernelLabel\)"):
        load_frozen(path)
    assert not safety.refuse_unless_safe(graph(CLEAN + 'node { name: "k" op: "KernelLabel" }'), "g",
                                         allow_unsafe=True).clean


@pytest.mark.parametrize("command", ["optimize", "export", "check-opencv"])
def test_commands_that_load_a_graph_refuse_unsafe_ones(unsafe_pb, tmp_path, command):
    from conftest import assert_refusal, run_cli

    extra = {"optimize": ["-o", tmp_path / "o.pb"], "export": ["--to", "onnx", "-o", tmp_path / "o.onnx"],
             "check-opencv": ["--no-compare"]}[command]
    assert_refusal(run_cli(command, unsafe_pb, *extra), "contents (ReadFile)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reader.pb"]


def _saved_model_that_reads_files(tmp_path):
    import tensorflow as tf

    class Reader(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([], tf.string)])
        def serve(self, path):
            return {"contents": tf.io.read_file(path)}

    module = Reader()
    tf.saved_model.save(module, str(tmp_path / "reader"), signatures={"serving_default": module.serve})
    return tmp_path / "reader"


def test_saved_models_are_scanned_before_they_run(tmp_path, saved_pb):
    from graphfreeze_helpers.errors import UnsafeGraphError
    from graphfreeze_helpers.freeze import load_model

    from conftest import assert_refusal, run_cli

    model = _saved_model_that_reads_files(tmp_path)
    report = safety.check_saved_model(model)
    assert [u.op for u in report.unsafe] == ["ReadFile"] and report.unsafe[0].function
    with pytest.raises(UnsafeGraphError, match="ReadFile"):
        load_model(model)
    assert load_model(model, allow_unsafe=True) is not None
    assert_refusal(run_cli("freeze", model, "-o", tmp_path / "m.pb"), "ReadFile")
    assert not (tmp_path / "m.pb").exists()
    assert_refusal(run_cli("bench", saved_pb, "--model", model), "ReadFile")


def test_a_plain_saved_model_is_clean(tmp_path):
    """Variables, and the checkpoint ops and paths of the saver's own functions, are what a SavedModel is."""
    import tensorflow as tf

    class Scale(tf.Module):
        def __init__(self):
            self.v = tf.Variable([1.0, 2.0])

        @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32)])
        def serve(self, x):
            return x * self.v

    module = Scale()
    tf.saved_model.save(module, str(tmp_path / "scale"), signatures={"serving_default": module.serve})
    assert safety.check_saved_model(tmp_path / "scale").clean
    graph_def = safety.saved_model_meta_graphs((tmp_path / "scale" / "saved_model.pb").read_bytes())[0].graph_def
    assert {u.op for u in safety.scan(graph_def)} == {"SaveV2", "RestoreV2", "MergeV2Checkpoints", "Const"}


def test_a_damaged_saved_model_is_one_line_exit_2(tmp_path):
    from conftest import assert_one_line_error, run_cli

    model = tmp_path / "broken"
    model.mkdir()
    (model / "saved_model.pb").write_bytes(b"\x08\x01\x12\xff\xff\xff\x0f")
    assert_one_line_error(run_cli("freeze", model, "-o", tmp_path / "m.pb"), 2, "does not parse as a SavedModel")
