"""Fuzz the TensorFlow-free reading path with random and mutated GraphDef bytes.

Every byte string goes through what ``graphfreeze inspect`` and ``graphfreeze scan`` do:
``graphfile.describe_file``, ``graphfile.parse_graph_def``, ``safety.scan``,
``summary.summarize`` (with its JSON and table renderings). The only exceptions allowed
are :class:`GraphFreezeError` subclasses; a per-example deadline catches hangs.

The seeds are real frozen graphs (a small Keras model, and a tf.function with tf.cond and
tf.while_loop so that the mutations also reach the function library). Mutations: bit flips,
byte overwrites, truncations, insertions, deletions, duplicated spans and splices of two seeds.

``make fuzz`` runs more examples: ``GRAPHFREEZE_FUZZ_EXAMPLES=200000 make fuzz``.
Without that variable the run is derandomized (the same 10,000 examples every time).
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

EXAMPLES = int(os.environ.get("GRAPHFREEZE_FUZZ_EXAMPLES", "10000"))
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
