"""Speed targets of issue 13: ``graphfreeze scan`` reads a hostile graph in linear time, fast.

    .venv/bin/python benchmarks/scan_speed.py              # a 1 GB graph and 100,000 functions, 3 repeats
    .venv/bin/python benchmarks/scan_speed.py --repeats 5 --cache build/bench-cache

What is timed is what ``graphfreeze scan GRAPH`` does once the process has started: read the
file, parse it (``graphfile.read_graph_file`` with the edge check) and scan it (``safety.check``:
deny-list, allow-list, nested graphs). Throughput is the file's size over the median time, in
MB/s (10^6 bytes), against a target of 50 MB/s on each graph. The scan runs on one thread, so
on an idle machine its CPU time is its wall time; the target is checked on the CPU time, and
the wall time is printed beside it (on a shared machine it also counts the wait for a core):

- ``large``: a model-shaped graph of about 1 GB, 250 layers of a 4 MB float weight constant,
  MatMul, a bias and Relu;
- ``functions``: 100,000 library functions nothing calls, each the FunctionDef a small
  ``tf.function`` (``x * 2 + 1``) traces to, with its attrs (about 440 bytes).

Also printed, without a target (``info``): 100,000 of the smallest functions a file can hold
(a name and one NoOp, 23 bytes each, the shape of the 60,000-function file that once took 96 s),
where the cost per function, not per byte, is what counts: it shows the scan is linear, in
functions per second; and the 100,000 ``tf.function``-shaped functions with every node name
ending in its function's number, so that no two nodes are the same: the scan's bulk read of a
library (each distinct node checked once) has nothing to share there, and the library is read
node by node, the scan's slowest path per byte.

The graphs are written once into ``--cache`` (git-ignored ``build/``), without TensorFlow, by
streaming serialized nodes to disk (a GraphDef's repeated fields may be written one by one),
so building the 1 GB file needs little memory; scanning it peaks at about 2 GB (1.98 GB RSS measured). ``--quick``
(tests/test_benchmarks.py) builds a 64 MB graph and 10,000 functions of each kind in a temporary folder,
times each once and marks the ratios ``quick``: it proves the script runs.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_MB_S = 50.0
LAYER_BYTES = 4_000_000  # one weight constant: 1,000 x 1,000 float32


def _field(number: int, payload: bytes) -> bytes:
    """One length-delimited field: how GraphDef.node (1) and GraphDef.library (2) are written."""
    from graphfreeze_helpers.graphfile import encode_varint

    return encode_varint(number << 3 | 2) + encode_varint(len(payload)) + payload


def _float_const(name: str, shape: tuple[int, ...], content: bytes) -> Any:
    from tensorboard.compat.proto import node_def_pb2

    node = node_def_pb2.NodeDef(name=name, op="Const")
    node.attr["dtype"].type = 1
    tensor = node.attr["value"].tensor
    tensor.dtype = 1
    for size in shape:
        tensor.tensor_shape.dim.add(size=size)
    tensor.tensor_content = content
    return node


def write_large(path: Path, layers: int) -> None:
    """A model-shaped graph: ``layers`` x (4 MB weight, MatMul, bias, BiasAdd, Relu), streamed to ``path``."""
    from tensorboard.compat.proto import node_def_pb2

    weight = bytes(LAYER_BYTES)
    bias = bytes(4_000)
    with path.open("wb") as out:
        x = node_def_pb2.NodeDef(name="x", op="Placeholder")
        x.attr["dtype"].type = 1
        x.attr["shape"].shape.dim.add(size=-1)
        x.attr["shape"].shape.dim.add(size=1000)
        out.write(_field(1, x.SerializeToString()))
        previous = "x"
        for i in range(layers):
            nodes = [_float_const(f"w{i}", (1000, 1000), weight), _float_const(f"b{i}", (1000,), bias),
                     node_def_pb2.NodeDef(name=f"mm{i}", op="MatMul", input=[previous, f"w{i}"]),
                     node_def_pb2.NodeDef(name=f"ba{i}", op="BiasAdd", input=[f"mm{i}", f"b{i}"]),
                     node_def_pb2.NodeDef(name=f"relu{i}", op="Relu", input=[f"ba{i}"])]
            for node in nodes[2:]:
                node.attr["T"].type = 1
            for node in nodes:
                out.write(_field(1, node.SerializeToString()))
            previous = f"relu{i}"


def small_function(function_pb2: Any, name: str, suffix: str = "") -> Any:
    """The FunctionDef a ``tf.function`` computing ``x * 2 + 1`` traces to (attrs as TensorFlow writes them);
    ``suffix`` ends every node name, so that no two functions hold the same node."""
    fdef = function_pb2.FunctionDef()
    fdef.signature.name = name
    fdef.signature.input_arg.add(name="x", type=1)
    fdef.signature.output_arg.add(name="identity", type=1)
    fdef.attr["_input_shapes"].list.shape.add().dim.add(size=-1)
    for const, value in ((f"mul/y{suffix}", 2.0), (f"add/y{suffix}", 1.0)):
        node = fdef.node_def.add(name=const, op="Const")
        node.attr["dtype"].type = 1
        node.attr["value"].tensor.dtype = 1
        node.attr["value"].tensor.float_val.append(value)
        node.attr["_output_shapes"].list.shape.add()
    computed = ((f"mul{suffix}", "Mul", ["x", f"mul/y{suffix}:output:0"]),
                (f"add{suffix}", "AddV2", [f"mul{suffix}:z:0", f"add/y{suffix}:output:0"]),
                (f"Identity{suffix}", "Identity", [f"add{suffix}:z:0"]))
    for node_name, op, inputs in computed:
        node = fdef.node_def.add(name=node_name, op=op, input=inputs)
        node.attr["T"].type = 1
        node.attr["_output_shapes"].list.shape.add().dim.add(size=-1)
    fdef.ret["identity"] = f"Identity{suffix}:output:0"
    return fdef


def write_functions(path: Path, count: int, *, tiny: bool, distinct: bool = False) -> None:
    """``count`` library functions nothing calls, next to one Placeholder, streamed to ``path``; ``distinct``:
    every node name ends with its function's number."""
    from tensorboard.compat.proto import function_pb2, node_def_pb2

    with path.open("wb") as out:
        out.write(_field(1, node_def_pb2.NodeDef(name="x", op="Placeholder").SerializeToString()))
        for i in range(count):
            if tiny:
                fdef = function_pb2.FunctionDef()
                fdef.signature.name = f"f{i}"
                fdef.node_def.add(name="n", op="NoOp")
            else:
                fdef = small_function(function_pb2, f"__inference_f_{i}", f"_{i}" if distinct else "")
            out.write(_field(2, _field(1, fdef.SerializeToString())))  # library { function { ... } }


def build(folder: Path, quick: bool) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    suffix = "_quick" if quick else ""
    specs: dict[str, tuple[Path, Callable[[Path], None]]] = {
        "large": (folder / f"scan_large{suffix}.pb", lambda p: write_large(p, 16 if quick else 250)),
        "functions": (folder / f"scan_functions{suffix}.pb",
                      lambda p: write_functions(p, 10_000 if quick else 100_000, tiny=False)),
        "tiny functions": (folder / f"scan_tiny_functions{suffix}.pb",
                           lambda p: write_functions(p, 10_000 if quick else 100_000, tiny=True)),
        "distinct functions": (folder / f"scan_distinct_functions{suffix}.pb",
                               lambda p: write_functions(p, 10_000 if quick else 100_000, tiny=False, distinct=True)),
    }
    paths = {}
    for name, (path, write) in specs.items():
        if not path.is_file():
            partial = path.with_suffix(".partial")
            write(partial)
            partial.replace(path)
        paths[name] = path
    return paths


def scan_once(path: Path) -> tuple[float, float, int]:
    """Wall and CPU seconds for what ``graphfreeze scan`` does after startup, and how many findings it made."""
    from graphfreeze_helpers import graphfile, safety

    gc.collect()
    start, start_cpu = time.perf_counter(), time.process_time()
    graph_def, serialized = graphfile.read_graph_file(path, check_edges=True)
    report = safety.check(graph_def, serialized=serialized)
    seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    del graph_def
    return seconds, cpu, len(report.unsafe) + len(report.not_known_safe)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed scans of each graph (default 3)")
    parser.add_argument("--cache", default=str(ROOT / "build" / "bench-cache"),
                        help="where the graphs are written once")
    parser.add_argument("--quick", action="store_true",
                        help="small graphs in a temporary folder, one scan each, no target checked: does it run?")
    parser.add_argument("--only", choices=["large", "functions", "tiny functions", "distinct functions"],
                        help="measure one graph only")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.quick:
        args.repeats = 1
    scratch = tempfile.TemporaryDirectory(prefix="graphfreeze-scan-speed-") if args.quick else None
    paths = build(Path(scratch.name) if scratch else Path(args.cache), args.quick)
    ok = True
    for name, path in paths.items():
        if args.only and name != args.only:
            continue
        size = path.stat().st_size
        scan_once(path)  # warm-up: the file in the page cache, the allow-list read
        runs = [scan_once(path) for _ in range(args.repeats)]
        wall, cpu = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
        findings = runs[0][2]
        if findings:
            raise SystemExit(f"{path} should scan clean; {findings} finding(s)")
        rate, wall_rate = size / 1e6 / cpu, size / 1e6 / wall
        count = 10_000 if args.quick else 100_000
        if name == "tiny functions":
            print(f"info  {name}: {size / 1e6:.1f} MB in {cpu:.3f} s CPU = {rate:.1f} MB/s, "
                  f"{count / cpu:,.0f} functions/s (no target: the cost is per function)")
            continue
        if name == "distinct functions":
            print(f"info  {name}: {size / 1e6:.1f} MB in {cpu:.3f} s CPU = {rate:.1f} MB/s (no target: nothing to "
                  f"share, so read node by node; wall {wall:.3f} s)")
            continue
        passed = rate > TARGET_MB_S
        ok &= passed or args.quick
        label = "quick" if args.quick else "PASS" if passed else "FAIL"
        print(f"{label}  {name}: {size / 1e6:.1f} MB in {cpu:.3f} s CPU = {rate:.1f} MB/s = "
              f"{rate / TARGET_MB_S:.2f} x the target (target > {TARGET_MB_S:.0f} MB/s)")
        print(f"      wall {wall:.3f} s = {wall_rate:.1f} MB/s; runs (wall, CPU) "
              f"{[(round(r[0], 3), round(r[1], 3)) for r in runs]}")
    if scratch:
        scratch.cleanup()
    print("quick mode: no target checked" if args.quick else "all targets met" if ok else "a target was missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
