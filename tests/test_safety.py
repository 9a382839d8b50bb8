"""The safety scan: catalogue ops anywhere (top level, library, nested If/While/Case), unknown ops, path constants."""

import subprocess
import sys

import pytest
from google.protobuf import text_format
from tensorboard.compat.proto import graph_pb2

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
    assert item.to_dict() == {"node": "n", "op": "ReadFile", "function": None, "reason": "reads files from disk"}
    assert "n (ReadFile)" in str(item)


def test_refusal_message_is_one_line_and_names_each_node():
    found = [UnsafeOp(f"n{i}", "ReadFile", "f" if i else None, "reads files") for i in range(7)]
    message = safety.refusal_message("'g.pb'", found)
    assert "\n" not in message
    assert "n0 (ReadFile)" in message and "n4 (ReadFile) in function 'f'" in message and "and 2 more" in message
    assert "--allow-unsafe" in message and "sandbox" in message


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

    with pytest.raises(UnsafeGraphError, match=r"contents \(ReadFile\).*allow_unsafe"):
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

    from conftest import assert_one_line_error, run_cli

    np.save(tmp_path / "x.npy", np.array(b"/etc/hostname"))
    out = tmp_path / "y.npy"
    line = assert_one_line_error(run_cli("run", unsafe_pb, "--input", tmp_path / "x.npy", "-o", out), 3)
    assert "contents (ReadFile)" in line and "--allow-unsafe" in line
    assert not out.exists()
    bench = run_cli("bench", unsafe_pb)
    assert_one_line_error(bench, 3, "ReadFile")


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
    for args in (("scan", path, "--json"), ("inspect", path, "--json"), ("inspect", path)):
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
