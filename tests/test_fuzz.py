"""Fuzz the TensorFlow-free reading path with random and mutated GraphDef bytes.

Every byte string goes through what ``graphfreeze inspect`` and ``graphfreeze scan`` do:
``graphfile.describe_file``, ``graphfile.parse_graph_def``, ``safety.scan``,
``summary.summarize`` (with its JSON and table renderings). The only exceptions allowed
are :class:`GraphFreezeError` subclasses; a per-example deadline catches hangs.

The seeds are real frozen graphs (a small Keras model, and a tf.function with tf.cond and
tf.while_loop so that the mutations also reach the function library). Mutations: bit flips,
byte overwrites, truncations, insertions, deletions, duplicated spans and splices of two seeds.

Three more properties draw a tenth as many examples (all of them in ``make fuzz``): mutated
and deeply nested text ``.pbtxt`` (odd escapes, unbalanced braces) is parsed or refused with a
GraphFreezeError; an op outside the allow-list, wherever it sits (top level, a function, one of
many functions, a func attr, a graph serialized in a string), is always refused, with the library
read node by node or in bulk (``safety.check(..., serialized=...)``, also compared on every parsed
mutation); and no name a graph holds prints a control character in ``scan``'s, ``inspect``'s or a
refusal's text.

``make fuzz`` runs more examples: ``GRAPHFREEZE_FUZZ_EXAMPLES=200000 make fuzz``.
Without that variable the run is derandomized (the same 4,000 examples every time).
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphfreeze_helpers import graphfile, safety
from graphfreeze_helpers.errors import GraphFreezeError
from graphfreeze_helpers.summary import summarize

EXAMPLES = int(os.environ.get("GRAPHFREEZE_FUZZ_EXAMPLES", "4000"))
LONG_RUN = "GRAPHFREEZE_FUZZ_EXAMPLES" in os.environ
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=timedelta(seconds=2),  # a generous ceiling per example: a hang, not a slow machine
    derandomize=not LONG_RUN,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)


def _seed_graphs() -> list[bytes]:
    from graphfreeze_helpers.tfimport import import_tensorflow

    tf = import_tensorflow()
    import keras

    from graphfreeze_helpers.freeze import freeze

    inp = keras.Input((4,), name="x")
    hidden = keras.layers.Dense(3, activation="relu")(inp)
    model = keras.Model(inp, keras.layers.Dense(2, activation="softmax")(hidden))
    dense = freeze(model).serialize()

    @tf.function(input_signature=[tf.TensorSpec((None,), tf.float32), tf.TensorSpec((), tf.bool)])
    def looped(x, flag):
        y = tf.cond(flag, lambda: x * 2.0, lambda: x - 1.0)
        _, y = tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, tf.sin(v)), [tf.constant(0), y])
        return tf.strings.as_string(y)

    control = looped.get_concrete_function().graph.as_graph_def().SerializeToString()
    return [dense, control]


@pytest.fixture(scope="module")
def seeds() -> list[bytes]:
    return _seed_graphs()


def mutate(data: bytes, other: bytes, ops: list[tuple[int, int, int, bytes]]) -> bytes:
    buf = bytearray(data)
    for kind, a, b, extra in ops:
        n = len(buf)
        i = a % (n + 1)
        if kind == 0 and n:  # flip one bit
            buf[i % n] ^= 1 << (b % 8)
        elif kind == 1 and n:  # overwrite a byte with an interesting value
            buf[i % n] = (0x00, 0x01, 0x7F, 0x80, 0xFF, 0x0A, 0x12, 0x1A, 0x22, 0x08)[b % 10]
        elif kind == 2:  # truncate
            del buf[i:]
        elif kind == 3:  # insert bytes
            buf[i:i] = extra
        elif kind == 4:  # delete a span
            del buf[i : i + 1 + b % 64]
        elif kind == 5:  # duplicate a span
            buf[i:i] = buf[i : i + 1 + b % 256]
        elif kind == 6:  # splice: our head, the other seed's tail
            j = b % (len(other) + 1)
            buf = buf[:i] + bytearray(other[j:])
        elif kind == 7:  # a huge length prefix (varint) where a length is expected
            buf[i:i] = b"\x0a\xff\xff\xff\xff\x0f"
    return bytes(buf)


mutation = st.tuples(
    st.integers(0, 7), st.integers(0, 1 << 20), st.integers(0, 1 << 16), st.binary(min_size=1, max_size=16)
)
gentle = st.tuples(
    st.integers(0, 1), st.integers(0, 1 << 20), st.integers(0, 1 << 16), st.binary(min_size=1, max_size=1)
)
# Three fifths mutated seeds (one fifth only flipped or overwritten bytes, which often still
# parse and so reach scan and summarize), one fifth random bytes, one fifth random bytes
# behind a GraphDef-like head.
case = st.one_of(
    st.tuples(st.just("mutated"), st.integers(0, 1), st.integers(0, 1), st.lists(gentle, min_size=1, max_size=3)),
    st.tuples(st.just("mutated"), st.integers(0, 1), st.integers(0, 1), st.lists(mutation, min_size=1, max_size=6)),
    st.tuples(st.just("mutated"), st.integers(0, 1), st.integers(0, 1), st.lists(mutation, min_size=1, max_size=2)),
    st.tuples(st.just("random"), st.binary(max_size=512)),
    st.tuples(st.just("headed"), st.binary(max_size=256)),
)


def build(seeds: list[bytes], drawn: tuple) -> bytes:
    if drawn[0] == "mutated":
        _, which, other, ops = drawn
        return mutate(seeds[which], seeds[other], ops)
    if drawn[0] == "random":
        return drawn[1]
    return b"\x0a" + bytes([min(len(drawn[1]), 127)]) + drawn[1]


def exercise(data: bytes) -> str:
    """What inspect and scan do with a file's bytes; returns how far it got."""
    try:
        kind = graphfile.describe_file(Path("fuzz.pb"), data)
        if kind is not None:
            return "described"
        graph_def = graphfile.parse_graph_def(data, name="'fuzz.pb'")
        found = safety.scan(graph_def)
        if not graphfile.looks_like_text(data):  # the library read in bulk: the same findings
            assert safety.check(graph_def, serialized=data).unsafe == found
        json.dumps([u.to_dict() for u in found])
        summary = summarize(graph_def)
        json.dumps(summary.to_dict())
        summary.table()
        graphfile.dangling_inputs(graph_def)
        return "parsed"
    except GraphFreezeError:
        return "refused"


def test_fuzz_inspect_and_scan_never_crash(seeds):
    outcomes: dict[str, int] = {}

    @FUZZ_SETTINGS
    @given(case)
    def run(drawn):
        outcome = exercise(build(seeds, drawn))
        outcomes[outcome] = outcomes.get(outcome, 0) + 1

    run()
    total = sum(outcomes.values())
    assert total >= min(EXAMPLES, 10_000), outcomes
    # The mutations must reach the deep path, not only the parser's refusal.
    assert outcomes.get("parsed", 0) > total // 10 and outcomes.get("refused", 0) > total // 10, outcomes


def test_seeds_are_clean_and_parse(seeds):
    for data in seeds:
        assert exercise(data) == "parsed"
        assert safety.scan(graphfile.parse_graph_def(data)) == []


def test_regression_unknown_dtype_enum():
    """Found by ``make fuzz``: one flipped bit made a Placeholder's dtype 42, which protobuf cannot name."""
    from tensorboard.compat.proto import graph_pb2

    graph_def = graph_pb2.GraphDef()
    node = graph_def.node.add(name="x", op="Placeholder")
    node.attr["dtype"].type = 42
    assert [t.dtype for t in graphfile.placeholder_inputs(graph_def)] == ["dtype_42"]
    assert exercise(graph_def.SerializeToString()) == "parsed"


# --- the text format, the allow-list decision and the escaping of names ----------------------------

# The three properties below draw a tenth as many examples as the byte fuzzing (all of them in ``make fuzz``).
SMALL_SETTINGS = settings(FUZZ_SETTINGS, max_examples=EXAMPLES if LONG_RUN else max(EXAMPLES // 10, 200))

TEXT_PIECES = [
    "node", "{", "}", "<", ">", ":", " ", "\n", "name", "op", "input", "attr", "key", "value", "func", "library",
    "function", "signature", "node_def", "tensor", "dtype", "DT_FLOAT", "DT_STRING", "string_val", "float_val",
    '"', "'", "\\", "\\x", "\\u00", "\\U0001", "\\0", "\\377", "\\n", "\\\"", "#", "1e999", "-0", "0x7fffffffffffffff",
    "99999999999999999999999", "nan", "inf", "true", "[", "]", ",", ";", "\u202e", "\x1b[2J", "é", "\x00",
]


def text_seeds(seeds: list[bytes]) -> list[str]:
    from google.protobuf import text_format

    return [text_format.MessageToString(graphfile.parse_graph_def(data)) for data in seeds]


text_case = st.tuples(
    st.integers(0, 1),  # which seed
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 1 << 20), st.lists(st.sampled_from(TEXT_PIECES), max_size=6)),
             min_size=1, max_size=4),
    st.integers(0, 400),  # extra nesting
)


def build_text(texts: list[str], drawn: tuple) -> bytes:
    which, edits, depth = drawn
    text = texts[which]
    for kind, at, pieces in edits:
        i = at % (len(text) + 1)
        piece = "".join(pieces)
        if kind == 0:  # insert tokens
            text = text[:i] + piece + text[i:]
        elif kind == 1:  # cut a span
            text = text[:i] + text[i + 1 + at % 97:]
        elif kind == 2:  # truncate
            text = text[:i]
        else:  # wrap what follows in nested messages
            text = text[:i] + 'attr { key: "k" value { func { name: "f" ' + text[i:] + " } } }"
    nest = 'attr { key: "k" value { func { name: "g" '
    text = 'node { name: "n" op: "NoOp" ' + nest * depth + "} } }" * depth + " }\n" + text
    return text.encode()


def test_fuzz_text_format_never_crashes(seeds):
    texts = text_seeds(seeds)
    outcomes: dict[str, int] = {}

    @SMALL_SETTINGS
    @given(text_case)
    def run(drawn):
        outcome = exercise(build_text(texts, drawn))
        outcomes[outcome] = outcomes.get(outcome, 0) + 1

    run()
    assert outcomes.get("parsed", 0) and outcomes.get("refused", 0), outcomes


def _allowed_plain_ops() -> list[str]:
    from graphfreeze_helpers.ops import allowed_ops

    return sorted(allowed_ops().plain - {"Const"})


def _allowed() -> frozenset[str]:
    from graphfreeze_helpers.ops import allowed_ops

    return allowed_ops().allowed


def _outside_ops() -> list[str]:
    from graphfreeze_helpers.ops import allowed_ops

    return sorted(allowed_ops().excluded)


# An op outside the list: one the registry has and the list leaves out, or a made-up name (a custom op).
outside_op = st.one_of(
    st.sampled_from(_outside_ops()),
    st.from_regex(r"[A-Z][A-Za-z0-9_]{0,20}", fullmatch=True).filter(lambda name: name not in _allowed()),
)
placement = st.sampled_from(["top level", "function", "one of many functions", "called function", "func attr",
                             "nested graph"])


def _graph_with(op: str, where: str, padding: list[str]):
    """A graph of allowed ops (``padding``) holding ``op`` at ``where``."""
    from tensorboard.compat.proto import graph_pb2

    g = graph_pb2.GraphDef()
    for i, name in enumerate(padding):
        g.node.add(name=f"pad{i}", op=name)
    if where == "top level":
        g.node.add(name="target", op=op)
    elif where in ("function", "one of many functions", "called function"):
        for i in range(40 if where == "one of many functions" else 0):  # copies of an allowed one, around it
            g.library.function.add().signature.name = f"copy{i}"
            g.library.function[-1].node_def.add(name="n", op=padding[0] if padding else "Identity")
        fdef = g.library.function.add()
        fdef.signature.name = "holder"
        fdef.node_def.add(name="target", op=op)
        if where == "called function":
            g.node.add(name="call", op="PartitionedCall").attr["f"].func.name = "holder"
    elif where == "func attr":
        g.node.add(name="target", op="StatefulPartitionedCall").attr["f"].func.name = op
    else:
        inner = graph_pb2.GraphDef()
        inner.node.add(name="target", op=op)
        const = g.node.add(name="blob", op="Const")
        const.attr["value"].tensor.dtype = 7
        const.attr["value"].tensor.string_val.append(inner.SerializeToString())
    return g


@SMALL_SETTINGS
@given(outside_op, placement, st.lists(st.sampled_from(_allowed_plain_ops()), max_size=5))
def test_fuzz_an_op_outside_the_allow_list_is_always_refused(op, where, padding):
    from graphfreeze_helpers.errors import UnsafeGraphError

    g = _graph_with(op, where, padding)
    data = g.SerializeToString()
    report = safety.check(graphfile.parse_graph_def(data))
    assert any(u.op == op for u in report.not_known_safe), (op, where, report)
    assert safety.check(graphfile.parse_graph_def(data), serialized=data) == report  # the library read in bulk
    with pytest.raises(UnsafeGraphError) as refused:
        safety.refuse_unless_safe(g, "'g.pb'")
    assert op in str(refused.value)
    assert safety.check(_graph_with("Identity", "top level", padding)).clean  # the same graph, allowed op: clean


# Names as a graph's author may write them: any text protobuf can hold (valid UTF-8), controls included.
any_name = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=30)
TERMINAL_CONTROLS = {chr(c) for c in range(0x20)} | {chr(c) for c in range(0x7F, 0xA0)} | {
    "\u2028", "\u2029", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067",
    "\u2068", "\u2069"}


def _printed_lines_are_clean(text: str) -> None:
    for line in text.split("\n"):
        assert not TERMINAL_CONTROLS & set(line), repr(line)


@SMALL_SETTINGS
@given(any_name, any_name, any_name)
def test_fuzz_every_printed_name_is_escaped(node, op, function):
    from tensorboard.compat.proto import graph_pb2

    from graphfreeze_helpers.formatting import json_line, printable

    g = graph_pb2.GraphDef()
    g.node.add(name=node, op=op)
    fdef = g.library.function.add()
    fdef.signature.name = function
    fdef.node_def.add(name=node, op="ReadFile")
    g = graphfile.parse_graph_def(g.SerializeToString())
    report = safety.check(g)
    assert not report.clean
    _printed_lines_are_clean(safety.report_text(node, report))
    _printed_lines_are_clean(safety.refusal_message(repr(node), report.refusals()))
    summary = summarize(g)
    _printed_lines_are_clean(summary.table())
    line = json_line({"report": report.to_dict(), "summary": summary.to_dict()})
    assert "\n" not in line and not TERMINAL_CONTROLS & set(line)
    assert json.loads(line)["report"]["unsafe_ops"][0]["node"] == node  # JSON escapes, and keeps the name
    assert not TERMINAL_CONTROLS & set(printable(node + op + function))
