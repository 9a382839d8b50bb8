"""Speed target of issue 12: the loader on a graph with TF1 control flow, against a v1 Session callable.

    .venv/bin/python benchmarks/legacy_load.py                 # the target, about half a minute
    .venv/bin/python benchmarks/legacy_load.py --batch 1,32 --budget 20

A TF1-style graph is built here with ``tf.compat.v1`` (ref variables, a v1 ``cond`` on an
``is_training`` default, a v1 ``while_loop``, a uint8 image input, two outputs) and frozen
the TF1 way (``convert_variables_to_constants``) into a temporary folder. Its v1 loop
frames cannot be imported inside a ``tf.function``, so ``load_frozen`` runs it in a
``Session``. Three contenders are timed interleaved (``graphfreeze_helpers.bench``), on the
same NumPy batch:

- ``loader``: ``load_frozen(path)(x)``, the public call, input checks included;
- ``session_callable``: what a TF1 user writes by hand, ``import_graph_def`` into a
  ``tf.Graph``, then ``Session.make_callable(fetches, feed_list)(x)``;
- ``wrap_prune`` (for information): ``wrap_function`` + ``prune``, called bare, then ``.numpy()``.

The target pair (``loader``, ``session_callable``) is timed on its own, so that each follows
the other in the round-robin (a third, slower contender would slow whichever runs after it);
``wrap_prune`` is timed against ``loader`` in a second, shorter sweep of the same process.
Target, on the medians of this one run: ``loader / session_callable <= 1.1`` at batch 1.
It prints the tables, the ratios and PASS/FAIL, and exits 1 if the target fails.
``--quick`` (tests/test_benchmarks.py) runs a few calls and prints the ratio marked
``quick``, checking nothing. The machine is shared and noisy: quote medians of several runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graphfreeze_helpers import bench  # noqa: E402
from graphfreeze_helpers.load import LoadedGraph, load_frozen  # noqa: E402
from graphfreeze_helpers.tfimport import import_tensorflow  # noqa: E402

LIMIT = 1.1  # loader / session_callable at batch 1, at most


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", default="1", help="batch sizes (default 1; the target is checked at 1)")
    parser.add_argument("--budget", type=float, default=15.0, help="measuring seconds for the sweep (default 15)")
    parser.add_argument("--min-calls", type=int, default=300, help="timed calls per contender and batch (default 300)")
    parser.add_argument("--quick", action="store_true", help="a few calls, no target checked: does the script run?")
    args = parser.parse_args(argv)
    if args.quick:
        args.batch, args.budget, args.min_calls = "1", 0.5, 3
    try:
        args.batch_sizes = [int(b) for b in args.batch.split(",")]
    except ValueError:
        parser.error(f"--batch must be whole numbers separated by commas, got {args.batch!r}")
    if any(b < 1 for b in args.batch_sizes):
        parser.error(f"--batch must be positive, got {args.batch!r}")
    return args


def build_tf1_graph(path: Path) -> None:
    """A TF1 classifier with a v1 cond and a v1 while_loop, frozen with convert_variables_to_constants."""
    tf = import_tensorflow()
    v1 = tf.compat.v1
    was_v2 = v1.control_flow_v2_enabled()
    v1.disable_control_flow_v2()  # build Switch/Merge/Enter/Exit, as TF1 did
    try:
        rng = np.random.default_rng(0)
        with tf.Graph().as_default() as graph:
            image = v1.placeholder(tf.uint8, [None, 16, 16, 3], name="image")
            is_training = v1.placeholder_with_default(False, [], name="is_training")
            x = tf.reshape(tf.cast(image, tf.float32) / 255.0, [-1, 16 * 16 * 3])
            w_in = v1.Variable(rng.standard_normal((768, 32)).astype(np.float32) * 0.05, use_resource=False)
            w_loop = v1.Variable(rng.standard_normal((32, 32)).astype(np.float32) * 0.2, use_resource=False)
            w_out = v1.Variable(rng.standard_normal((32, 10)).astype(np.float32) * 0.2, use_resource=False)
            h = tf.matmul(x, w_in)
            h = v1.cond(is_training, lambda: tf.nn.dropout(h, rate=0.5), lambda: h, name="dropout_cond")

            def body(i: Any, state: Any) -> tuple[Any, Any]:
                return i + 1, tf.tanh(tf.matmul(state, w_loop))

            _, h = v1.while_loop(lambda i, _: i < 4, body, [tf.constant(0), h], name="refine")
            logits = tf.matmul(h, w_out)
            tf.nn.softmax(logits, name="probabilities")
            tf.argmax(logits, axis=1, name="classes")
            with v1.Session(graph=graph) as session:
                session.run(v1.global_variables_initializer())
                frozen = v1.graph_util.convert_variables_to_constants(
                    session, graph.as_graph_def(), ["probabilities", "classes"]
                )
    finally:
        if was_v2:
            v1.enable_control_flow_v2()
    path.write_bytes(frozen.SerializeToString())


def contenders(path: Path, images: dict[int, np.ndarray]) -> tuple[list[bench.Contender], str]:
    tf = import_tensorflow()
    loaded = load_frozen(path)
    outputs = [t.name for t in loaded.outputs]

    def loader(batch: int) -> bench.Run:
        x = images[batch]
        return lambda: loaded(x)

    graph = tf.Graph()
    with graph.as_default():
        graph_def = tf.compat.v1.GraphDef()
        graph_def.ParseFromString(path.read_bytes())
        tf.compat.v1.import_graph_def(graph_def, name="")
    session = tf.compat.v1.Session(graph=graph)
    call = session.make_callable([graph.get_tensor_by_name(n) for n in outputs], [graph.get_tensor_by_name("image:0")])

    def session_callable(batch: int) -> bench.Run:
        x = images[batch]
        return lambda: call(x)

    pruned = LoadedGraph(loaded.graph_def, loaded.inputs, loaded.outputs, method="prune").function

    def wrap_prune(batch: int) -> bench.Run:
        x = tf.constant(images[batch])
        return lambda: [o.numpy() for o in pruned(x)]

    chosen = [
        bench.Contender("loader", loader, f"load_frozen(path)(x); method {loaded.method!r}"),
        bench.Contender("session_callable", session_callable, "Session.make_callable(fetches, [image])(x)"),
        bench.Contender("wrap_prune", wrap_prune, "wrap_function + prune, called bare, then .numpy()"),
    ]
    return chosen, loaded.method


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rng = np.random.default_rng(1)
    images = {b: rng.integers(0, 256, size=(b, 16, 16, 3), dtype=np.uint8) for b in args.batch_sizes}
    with tempfile.TemporaryDirectory(prefix="graphfreeze-legacy-") as scratch:
        path = Path(scratch) / "tf1_control_flow.pb"
        build_tf1_graph(path)
        (loader, session_callable, wrap_prune), method = contenders(path, images)
        result = bench.run_benchmark([loader, session_callable], args.batch_sizes, time_budget_s=args.budget,
                                     min_calls=args.min_calls)
        info = bench.run_benchmark([loader, wrap_prune], args.batch_sizes, time_budget_s=args.budget / 3,
                                   min_calls=max(args.min_calls // 10, 3))
    env = result.environment
    print(f"# {env['cpu_model']}, {env['cores']} cores, TensorFlow {env.get('tensorflow')}; "
          f"the loader chose method {method!r}")
    print(result.table())
    print()
    print(info.table())
    print()
    failed = False
    worst = max(result.worst_diff(), info.worst_diff())
    ok = worst <= 1e-5
    failed |= not ok
    print(f"{'PASS' if ok else 'FAIL'}  outputs agree: max |diff| {worst:.2g} <= 1e-05")
    for batch in args.batch_sizes:
        ratio = result.ratio("loader", "session_callable", batch)
        if args.quick:
            label = "quick"
        elif batch == 1:
            label = "PASS" if ratio <= LIMIT else "FAIL"
            failed |= ratio > LIMIT
        else:
            label = "info"
        print(f"{label}  batch {batch}: loader / session_callable = {ratio:.2f} (target <= {LIMIT} at batch 1)")
        print(f"info  batch {batch}: wrap_prune / loader = {info.ratio('wrap_prune', 'loader', batch):.2f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
