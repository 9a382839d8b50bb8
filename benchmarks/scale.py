"""Scale targets of issue 14: every stage against model size, beside the bare recipes, in one run.

    .venv/bin/python benchmarks/scale.py                 # 1M .. 250M parameters, about 15 minutes
    .venv/bin/python benchmarks/scale.py --big           # and 450M (1.8 GB): freeze and run only
    .venv/bin/python benchmarks/scale.py --sizes 1M,10M,50M --plot build/scale.png

For each size it builds a Keras MLP with a ``(None, 1024)`` input and four hidden layers
(``graphfreeze_helpers.scaling.mlp_for_params``, cached as ``.keras`` in ``--cache``), then
runs each stage in a fresh process and records its wall time and its own peak RSS
(``os.wait4``):

- ``freeze`` (``graphfreeze freeze``, verification included) beside ``bare_freeze``: trace,
  ``convert_variables_to_constants_v2``, ``SerializeToString``, write;
- ``run`` (``graphfreeze run``, batch 4) beside ``bare_run``: TensorFlow's v1 ``Session``
  loader (parse, ``import_graph_def``, one ``Session.run``);
- ``inspect``, ``scan``, ``optimize`` and ``export`` (``--to onnx``; ``bare_export`` is
  ``tf2onnx.convert.from_graph_def``, run up to 10M parameters only: it needs about 50 times
  the graph's size in memory).

It prints the table, the fitted growth exponent of each stage (the slope of time and of
peak memory against parameters on log-log axes, from 10M up: 1.0 grows linearly), writes
the log-log plot (``--plot``), and checks at the largest size with bare recipes (250M):

- freeze / bare_freeze: time <= 1.2, peak RSS <= 0.6;
- run / bare_run: time <= 0.3, peak RSS <= 0.5;
- with ``--big``: the 450M model (1.8 GB) freezes and runs (its bare recipes are not run:
  they would need about 24 GB).

It exits 1 if a target fails. The machine is shared (about ±30% run to run on time).
``--quick`` (tests/test_benchmarks.py) runs one tiny model (freeze, inspect, scan, run and
the bare recipes) in a temporary folder and marks the ratios ``quick`` instead of checking
them: it proves the script runs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graphfreeze_helpers.scaling import Cost, growth_exponent, measure_command  # noqa: E402

SIZES = "1M,10M,50M,100M,250M"
BIG = "450M"
QUICK_SIZES = "0.1M"
BARE_LIMIT = 300_000_000  # no bare recipe above this many parameters: it would pass 14 GB
BARE_EXPORT_LIMIT = 10_000_000  # tf2onnx needs about 50x the graph's size in memory
TARGETS = {  # (stage, anchor, metric): at most
    ("freeze", "bare_freeze", "time"): 1.2,
    ("freeze", "bare_freeze", "peak RSS"): 0.6,
    ("run", "bare_run", "time"): 0.3,
    ("run", "bare_run", "peak RSS"): 0.5,
}
STAGES = ("freeze", "bare_freeze", "inspect", "scan", "optimize", "run", "bare_run", "export", "bare_export")
PY = sys.executable


def parse_size(text: str) -> int:
    text = text.strip().upper()
    scale = {"K": 1e3, "M": 1e6, "G": 1e9}.get(text[-1:], 1)
    return int(float(text.rstrip("KMG")) * scale)


def size_label(params: int) -> str:
    return f"{params / 1e6:g}M"


def graphfreeze(*args: str) -> list[str]:
    script = Path(PY).with_name("graphfreeze")
    head = [str(script)] if script.is_file() else [PY, "-m", "graphfreeze_helpers.cli"]
    return [*head, *args]


# --- the stages that are not graphfreeze commands (run by this script in a fresh process) ---------


def stage_build(params: int, out: str) -> None:
    from graphfreeze_helpers.scaling import mlp_for_params

    mlp_for_params(params).save(out)


def stage_bare_freeze(model_path: str, out: str) -> None:
    import keras
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    model = keras.models.load_model(model_path, compile=False)
    spec = tf.TensorSpec((None, *model.inputs[0].shape[1:]), model.inputs[0].dtype, name="x")
    function = tf.function(lambda x: model(x, training=False), input_signature=[spec]).get_concrete_function()
    frozen = convert_variables_to_constants_v2(function)
    data = frozen.graph.as_graph_def().SerializeToString()
    Path(out).write_bytes(data)


def stage_bare_run(graph: str, x_path: str) -> None:
    import numpy as np
    import tensorflow as tf

    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(Path(graph).read_bytes())
    with tf.Graph().as_default() as tf_graph:
        tf.compat.v1.import_graph_def(graph_def, name="")  # TF's v1 loader: the recipe people copy
    with tf.compat.v1.Session(graph=tf_graph) as session:
        session.run("Identity:0", {"x:0": np.load(x_path)})


def stage_bare_export(graph: str, out: str) -> None:
    import tensorflow as tf
    import tf2onnx

    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(Path(graph).read_bytes())
    model, _ = tf2onnx.convert.from_graph_def(graph_def, input_names=["x:0"], output_names=["Identity:0"], opset=17)
    Path(out).write_bytes(model.SerializeToString())


INTERNAL = {"build": stage_build, "bare-freeze": stage_bare_freeze, "bare-run": stage_bare_run,
            "bare-export": stage_bare_export}


def internal(name: str, *args: str) -> list[str]:
    return [PY, str(Path(__file__).resolve()), "--stage", name, *args]


# --- the sweep ------------------------------------------------------------------------------------


def model_file(cache: Path, params: int) -> tuple[Path, Cost | None]:
    """The cached .keras model of ``params`` parameters, built (and timed) if missing."""
    path = cache / f"mlp_{params}.keras"
    if path.is_file():
        return path, None
    cost = measure_command(internal("build", str(params), str(path)), stage="build", params=params)
    if not cost.ok:
        raise SystemExit(f"building the {size_label(params)} model failed: {cost.note}")
    return path, cost


def measure_size(params: int, cache: Path, work: Path, *, freeze_and_run_only: bool, quick: bool = False) -> list[Cost]:
    import numpy as np

    model, build = model_file(cache, params)
    costs = [build] if build else []
    pb, bare_pb = work / "m.pb", work / "bare.pb"
    x = work / "x.npy"
    np.save(x, np.random.default_rng(0).random((4, 1024), dtype=np.float32))

    def measure(stage: str, command: list[str]) -> Cost:
        cost = measure_command(command, stage=stage, params=params, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
        costs.append(cost)
        print(f"  {size_label(params):>6} {stage:<12} {cost.seconds:8.1f} s {cost.peak_bytes / 2**30:7.2f} GiB"
              f"  {'ok' if cost.ok else 'FAILED: ' + cost.note}", flush=True)
        return cost

    measure("freeze", graphfreeze("freeze", str(model), "-o", str(pb), "--force", "--json"))
    if params <= BARE_LIMIT and not freeze_and_run_only:
        measure("bare_freeze", internal("bare-freeze", str(model), str(bare_pb)))
        bare_pb.unlink(missing_ok=True)
    if not freeze_and_run_only:
        measure("inspect", graphfreeze("inspect", str(pb), "--json"))
        measure("scan", graphfreeze("scan", str(pb), "--json"))
    if not freeze_and_run_only and not quick:
        measure("optimize", graphfreeze("optimize", str(pb), "-o", str(work / "opt.pb"), "--force", "--json"))
    measure("run", graphfreeze("run", str(pb), "--input", str(x), "-o", str(work / "y.npy"), "--force"))
    if params <= BARE_LIMIT and not freeze_and_run_only:
        measure("bare_run", internal("bare-run", str(pb), str(x)))
    if not freeze_and_run_only and not quick:
        measure("export", graphfreeze("export", str(pb), "--to", "onnx", "-o", str(work / "m.onnx"), "--force",
                                      "--json"))
        if params <= BARE_EXPORT_LIMIT:
            measure("bare_export", internal("bare-export", str(pb), str(work / "bare.onnx")))
    for leftover in work.iterdir():
        leftover.unlink()
    return costs


def find(costs: list[Cost], stage: str, params: int) -> Cost | None:
    return next((c for c in costs if c.stage == stage and c.params == params), None)


def print_table(costs: list[Cost], sizes: list[int]) -> None:
    print()
    print(f"{'stage':<12}" + "".join(f"{size_label(p):>18}" for p in sizes) + f"{'exp time':>10}{'exp RSS':>9}")
    for stage in STAGES:
        row = [find(costs, stage, p) for p in sizes]
        if not any(row):
            continue
        cells = "".join(
            f"{'-':>18}" if c is None else
            f"{c.seconds:>8.1f}s {c.peak_bytes / 2**30:>6.2f}G" + (" " if c.ok else "!") for c in row
        )
        fit = [c for c in row if c is not None and c.ok and c.params >= 10_000_000]
        t_exp = growth_exponent([c.params for c in fit], [c.seconds for c in fit])
        m_exp = growth_exponent([c.params for c in fit], [c.peak_bytes for c in fit])
        print(f"{stage:<12}{cells}{t_exp:>10.2f}{m_exp:>9.2f}")
    print("(time s, peak RSS GiB; ! = failed or refused; exponents: log-log slope from 10M up, 1.0 = linear)")
    for c in costs:
        if not c.ok:
            print(f"  {size_label(c.params)} {c.stage}: {c.note}")


def check_targets(costs: list[Cost], sizes: list[int], quick: bool) -> bool:
    """Print the target ratios at the largest size with bare recipes; True if one fails."""
    anchored = [p for p in sizes if find(costs, "bare_freeze", p) and find(costs, "bare_run", p)]
    if not anchored:
        print("no size with bare recipes: no ratio to check")
        return not quick
    failed = False
    at = max(anchored)
    for (stage, anchor, metric), limit in TARGETS.items():
        ours, theirs = find(costs, stage, at), find(costs, anchor, at)
        key = "seconds" if metric == "time" else "peak_bytes"
        ratio = getattr(ours, key) / getattr(theirs, key)
        met = ours.ok and theirs.ok and ratio <= limit
        label = "quick" if quick else "PASS" if met else "FAIL"
        failed |= not met and not quick
        print(f"{label}  {size_label(at)}: {stage} / {anchor} {metric} = {ratio:.2f} (target <= {limit})")
    for p in anchored:
        if p == at:
            continue
        for (stage, anchor, metric), _ in TARGETS.items():
            ours, theirs = find(costs, stage, p), find(costs, anchor, p)
            key = "seconds" if metric == "time" else "peak_bytes"
            ratio = getattr(ours, key) / getattr(theirs, key)
            print(f"info  {size_label(p)}: {stage} / {anchor} {metric} = {ratio:.2f}")
    return failed


def check_big(costs: list[Cost], params: int) -> bool:
    freeze, run = find(costs, "freeze", params), find(costs, "run", params)
    met = bool(freeze and run and freeze.ok and run.ok)
    print(f"{'PASS' if met else 'FAIL'}  {size_label(params)} ({params * 4 / 1e9:.1f} GB of weights) freezes in "
          f"{freeze.seconds:.0f} s, peak {freeze.peak_bytes / 2**30:.1f} GiB, and runs in {run.seconds:.0f} s, "
          f"peak {run.peak_bytes / 2**30:.1f} GiB (target: both succeed on this machine)")
    return not met


def plot(costs: list[Cost], path: Path) -> None:
    from graphfreeze_helpers.scaling import plot_cost_curves

    figure = plot_cost_curves([c for c in costs if c.stage != "build"], title="graphfreeze stages against model size")
    figure.savefig(path, dpi=110)
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=SIZES, help=f"parameter counts (default {SIZES})")
    parser.add_argument("--big", action="store_true", help=f"also {BIG} (1.8 GB of weights): freeze and run only")
    parser.add_argument("--cache", default=str(ROOT / "build" / "scale-cache"), help="where the models are kept")
    parser.add_argument("--plot", default=str(ROOT / "build" / "scale.png"), help="the log-log plot to write")
    parser.add_argument("--json", metavar="PATH", help="also write every measurement as JSON")
    parser.add_argument("--quick", action="store_true",
                        help="one tiny model in a temporary folder, no target checked: does the script run?")
    parser.add_argument("--stage", nargs="+", help=argparse.SUPPRESS)  # internal: one bare stage in this process
    args = parser.parse_args(argv)
    if args.stage:
        name, *rest = args.stage
        INTERNAL[name](*([parse_size(rest[0]), *rest[1:]] if name == "build" else rest))
        return 0
    scratch = tempfile.TemporaryDirectory(prefix="graphfreeze-scale-") if args.quick else None
    cache = Path(scratch.name) if scratch else Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    sizes = [parse_size(s) for s in (QUICK_SIZES if args.quick else args.sizes).split(",")]
    big = [parse_size(BIG)] if args.big and not args.quick else []
    costs: list[Cost] = []
    try:
        with tempfile.TemporaryDirectory(prefix="work-", dir=cache) as work:
            for params in sizes + big:
                costs += measure_size(params, cache, Path(work), freeze_and_run_only=params in big, quick=args.quick)
        print_table(costs, sizes + big)
        failed = check_targets(costs, sizes, args.quick)
        for params in big:
            failed |= check_big(costs, params)
        plot(costs, cache / "scale.png" if args.quick else Path(args.plot))
        if args.json:
            Path(args.json).write_text(json.dumps([c.to_dict() for c in costs], indent=1) + "\n")
    finally:
        if scratch:
            scratch.cleanup()
    print("quick mode: no target checked" if args.quick else "a target was missed" if failed else "all targets met")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
