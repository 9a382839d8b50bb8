"""Latency targets of issue 4, measured side by side in one run.

    .venv/bin/python benchmarks/latency.py                 # the targets, about a minute
    .venv/bin/python benchmarks/latency.py --contenders all --json build/latency.json

It builds the tutorial CNN, freezes it into a temporary folder and times the contenders
interleaved (``graphfreeze_helpers.contenders.compare``), each with at least ``--min-calls`` single
calls per batch size. Then it checks, on the medians of this one run:

- ``frozen / tf_function <= 1.05`` at every batch size: the project's loader costs no more
  per call than the model's own ``tf.function``;
- ``frozen_prune / frozen >= 2`` at batch 1: the commonly copied ``wrap_function`` +
  ``prune`` loader is at least twice as slow as the project's loader.

It prints the table, the ratios and PASS/FAIL, and exits 1 if a target fails. ``--quick``
(tests/test_benchmarks.py) runs a small model at batch 1 and 4 for a few calls and prints
the same ratios marked ``quick``, checking no target: it proves the script runs. The machine
is shared and noisy (about ±30% run to run): run it a few times and quote the medians.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graphfreeze_helpers import bench, contenders  # noqa: E402  (importing contenders registers them)

DEFAULT = ("keras_eager", "tf_function", "saved_model", "frozen_prune", "frozen", "frozen_session")
LOADER_LIMIT = 1.05  # frozen / tf_function, at most
PRUNE_FLOOR = 2.0  # frozen_prune / frozen at batch 1, at least


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", default="1,256", help="batch sizes (default 1,256)")
    parser.add_argument("--budget", type=float, default=20.0, help="measuring seconds for the sweep (default 20)")
    parser.add_argument("--min-calls", type=int, default=200, help="timed calls per contender and batch (default 200)")
    parser.add_argument(
        "--contenders",
        default=",".join(DEFAULT),
        help="comma-separated names, or 'all' (adds keras_predict: about 50 ms a call, so it slows the run)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the result as JSON (with the environment)")
    parser.add_argument("--progress", action="store_true", help="show a progress bar on stderr")
    parser.add_argument("--quick", action="store_true",
                        help="a small model, batch 1,4, a few calls, no target checked: does the script still run?")
    args = parser.parse_args(argv)
    if args.quick:
        args.batch, args.budget, args.min_calls = "1,4", 0.5, 3
    try:
        args.batch_sizes = [int(b) for b in args.batch.split(",")]
    except ValueError:
        parser.error(f"--batch must be whole numbers separated by commas, got {args.batch!r}")
    if any(b < 1 for b in args.batch_sizes):
        parser.error(f"--batch must be positive, got {args.batch!r}")
    names = list(bench.FACTORIES) if args.contenders == "all" else args.contenders.split(",")
    for needed in ("tf_function", "frozen", "frozen_prune"):
        if needed not in names:
            names.append(needed)
    args.names = [n for n in bench.FACTORIES if n in names]
    unknown = sorted(set(names) - set(bench.FACTORIES))
    if unknown:
        parser.error(f"unknown contender(s) {unknown}; known are {list(bench.FACTORIES)}")
    return args


def target(met: bool, quick: bool) -> tuple[str, bool]:
    """A speed target's label and whether it fails the run; ``--quick`` shows the ratio and checks nothing."""
    if quick:
        return "quick", False
    return ("PASS", False) if met else ("FAIL", True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from graphfreeze_helpers.freeze import freeze
    from graphfreeze_helpers.model import build_model

    model = build_model(width=8, depth=1) if args.quick else build_model()
    with tempfile.TemporaryDirectory(prefix="graphfreeze-latency-") as scratch:
        graph = Path(scratch) / "digits_cnn.pb"
        freeze(model).save(graph)
        result = contenders.compare(
            graph,
            model,
            batch_sizes=args.batch_sizes,
            contenders=args.names,
            time_budget_s=args.budget,
            min_calls=args.min_calls,
            progress=args.progress,
        )
    env = result.environment
    print(f"# {env['cpu_model']}, {env['cores']} cores, TensorFlow {env.get('tensorflow')}, "
          f"threads intra/inter {env.get('intra_op_threads')}/{env.get('inter_op_threads')} (0 = default)")
    print(result.table())
    print()
    failed = False
    worst = result.worst_diff()
    ok = worst <= 1e-5
    failed |= not ok
    print(f"{'PASS' if ok else 'FAIL'}  outputs agree: max |diff| {worst:.2g} <= 1e-05")
    for batch in args.batch_sizes:
        ratio = result.ratio("frozen", "tf_function", batch)
        label, missed = target(ratio <= LOADER_LIMIT, args.quick)
        failed |= missed
        print(f"{label}  batch {batch}: frozen / tf_function = {ratio:.2f} (target <= {LOADER_LIMIT})")
    if 1 in args.batch_sizes:
        ratio = result.ratio("frozen_prune", "frozen", 1)
        label, missed = target(ratio >= PRUNE_FLOOR, args.quick)
        failed |= missed
        print(f"{label}  batch 1: frozen_prune / frozen = {ratio:.2f} (target >= {PRUNE_FLOOR})")
    for batch in args.batch_sizes:
        if batch != 1:
            print(f"info  batch {batch}: frozen_prune / frozen = {result.ratio('frozen_prune', 'frozen', batch):.2f}")
    if args.json:
        result.to_json(args.json, force=True)
        print(f"wrote {args.json}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
