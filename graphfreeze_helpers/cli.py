"""The ``graphfreeze`` command: a thin layer of argument handling over the helpers.

Arguments and files are checked before TensorFlow is imported, so a mistake is answered
at once with one line: ``graphfreeze: error: …``. Exit codes: 0 success, 2 bad input or
usage, 3 refusal (verification failed, unsafe graph).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from . import __version__
from .errors import GraphFreezeError, InputError
from .formatting import human_bytes

PROG = "graphfreeze"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr and exit 2."""

    def error(self, message: str) -> Any:  # type: ignore[override]
        raise InputError(f"{message} (see '{self.prog} --help')")


def _emit(payload: Any) -> None:
    print(json.dumps(payload, indent=None, default=str))


def _refuse_unsafe(graph: Path, graph_def: Any, allow_unsafe: bool) -> None:
    """The safety scan, before TensorFlow starts: raise UnsafeGraphError (exit 3) unless allowed."""
    if allow_unsafe:
        return
    from . import safety
    from .errors import UnsafeGraphError

    found = safety.scan(graph_def)
    if found:
        raise UnsafeGraphError(safety.refusal_message(repr(str(graph)), found))


def _check_tolerance(tolerance: float) -> None:
    if not tolerance >= 0:  # NaN too
        raise InputError(f"--tolerance must be a number >= 0, got {tolerance}")


def _count(text: str) -> int:
    """argparse type for --top: a whole number >= 0."""
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text!r}")
    return int(text)


def _require_file(path: str, what: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise InputError(f"{what} {path!r} does not exist")
    return p


# --- subcommands -------------------------------------------------------------------------


def cmd_freeze(args: argparse.Namespace) -> int:
    model = _require_file(args.model, "model")
    _check_tolerance(args.tolerance)
    out = Path(args.output)
    from .freeze import check_save_path, sidecar_path

    check_save_path(out, force=args.force)
    inputs = [_load_npy(args.input)] if args.input else None
    from .freeze import freeze

    frozen = freeze(model, inputs=inputs, tolerance=args.tolerance)
    frozen.save(out, force=args.force)
    size = out.stat().st_size
    diff = frozen.verification.max_abs_diff if frozen.verification else None
    if args.json:
        _emit(
            {
                "output": str(out),
                "inputs": [t.to_dict() for t in frozen.inputs],
                "outputs": [t.to_dict() for t in frozen.outputs],
                "nodes": frozen.nodes,
                "bytes": size,
                "max_abs_diff": diff,
            }
        )
    else:
        print(f"wrote {out} and {sidecar_path(out)}")
        for t in frozen.inputs:
            print(f"  input   {t}")
        for t in frozen.outputs:
            print(f"  output  {t}")
        print(f"  nodes   {frozen.nodes}")
        print(f"  size    {human_bytes(size)}")
        print(f"  max |frozen - original| = {diff:.3g} (tolerance {args.tolerance:g})")
    return 0


def _load_npy(path: str) -> Any:
    import numpy as np

    _require_file(path, "input file")
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {path!r} as a .npy array ({str(exc).splitlines()[0]})") from None


def cmd_run(args: argparse.Namespace) -> int:
    import io

    import numpy as np

    from . import files, graphfile

    graph = _require_file(args.graph, "graph")
    out = Path(args.output)
    files.check_writable([out], force=args.force)
    x = _load_npy(args.input)
    graph_def = graphfile.read_graph_def(graph, check_edges=True)  # fail on a bad file before TensorFlow starts
    _refuse_unsafe(graph, graph_def, args.allow_unsafe)
    from .load import check_arrays, load_frozen, resolve_signature

    in_infos, out_infos = resolve_signature(graph, graph_def, inputs=args.inputs, outputs=args.outputs)
    check_arrays(in_infos, [x])  # names, shape and dtype answered before TensorFlow starts
    if len(out_infos) > 1 and out.suffix != ".npz":
        raise InputError(
            f"graph has {len(out_infos)} outputs {[t.name for t in out_infos]}; give an output file ending in .npz"
        )

    fn = load_frozen(
        graph, inputs=args.inputs, outputs=args.outputs, allow_unsafe=args.allow_unsafe, graph_def=graph_def
    )
    y = fn(x)
    buffer = io.BytesIO()
    if isinstance(y, list):
        np.savez(buffer, **{f"output_{i}": a for i, a in enumerate(y)})
    else:
        np.save(buffer, y)
    files.write_files_atomically({out: buffer.getvalue()}, force=args.force)
    shapes = [a.shape for a in (y if isinstance(y, list) else [y])]
    print(f"wrote {out}: " + ", ".join(f"{tuple(s)}" for s in shapes), file=sys.stderr if args.quiet else sys.stdout)
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from .summary import read_summary

    summary = read_summary(args.graph)
    if args.json:
        _emit(summary.to_dict())
    else:
        print(summary.table(top_ops=args.top))
    return 0


def _batch_list(text: str) -> list[int]:
    parts = [part.strip() for part in text.split(",")]
    if not all(part.isdigit() and int(part) > 0 for part in parts):
        raise InputError(f"--batch must be positive whole numbers separated by commas, like 1,256; got {text!r}")
    return list(dict.fromkeys(int(part) for part in parts))


def cmd_bench(args: argparse.Namespace) -> int:
    from . import graphfile

    graph = _require_file(args.graph, "graph")
    if graph.is_dir():
        raise InputError(f"graph {args.graph!r} is a directory; give the frozen .pb file")
    model = _require_file(args.model, "model") if args.model else None
    batches = _batch_list(args.batch)
    if not args.budget > 0:
        raise InputError(f"--budget must be a number of seconds > 0, got {args.budget}")
    if args.min_calls < 1:
        raise InputError(f"--min-calls must be at least 1, got {args.min_calls}")
    graph_def = graphfile.read_graph_def(graph, check_edges=True)  # fail on a bad file before TensorFlow starts
    _refuse_unsafe(graph, graph_def, args.allow_unsafe)
    from .bench import comparisons
    from .contenders import FROZEN_CONTENDERS, compare

    result = compare(
        graph,
        model,
        batch_sizes=batches,
        contenders=None if model else FROZEN_CONTENDERS,
        time_budget_s=args.budget,
        min_calls=args.min_calls,
        progress=not args.json and sys.stderr.isatty(),
        allow_unsafe=args.allow_unsafe,
        graph_def=graph_def,
    )
    if args.json:
        _emit(result.to_records(short=True))
    else:
        print(result.table())
        print()
        print("\n".join(comparisons(result)))
    return 0


def cmd_scan(args: argparse.Namespace) -> int:
    from . import graphfile, safety
    from .errors import UnsafeGraphError

    graph = _require_file(args.graph, "graph")
    found = safety.scan(graphfile.read_graph_def(graph, check_edges=True))
    if args.json:
        _emit({"graph": str(graph), "clean": not found, "unsafe_ops": [item.to_dict() for item in found]})
    elif found:
        print(f"{graph}: {len(found)} unsafe op(s); run it only in a sandbox, and load it with --allow-unsafe")
        for item in found:
            print(f"  {item}")
    else:
        print(f"{graph}: clean (no file, network, Python or unknown ops; no path or URL constants)")
    return UnsafeGraphError.exit_code if found else 0


def cmd_optimize(args: argparse.Namespace) -> int:
    from . import graphfile
    from .freeze import check_save_path, sidecar_path

    graph = _require_file(args.graph, "graph")
    out = Path(args.output)
    if out.resolve() == graph.resolve():
        raise InputError(f"output {args.output!r} is the input graph; write the optimized graph to a new file")
    _check_tolerance(args.tolerance)
    check_save_path(out, force=args.force)
    inputs = [_load_npy(args.input)] if args.input else None
    graphfile.read_graph_def(graph)  # fail on a bad file before TensorFlow starts
    from .optimize import optimize

    result = optimize(graph, target=args.target, inputs=inputs, tolerance=args.tolerance)
    result.save(out, force=args.force)
    if args.json:
        _emit({"nodes_before": result.nodes_before, "nodes_after": result.nodes_after,
               "max_abs_diff": result.max_abs_diff, "output": str(out), "target": result.target,
               "removed_ops": result.removed_ops, "added_ops": result.added_ops})
    else:
        print(f"wrote {out} and {sidecar_path(out)}")
        print(f"  nodes   {result.nodes_before} -> {result.nodes_after} ({result.ratio:.0%}), target {result.target}")
        removed = ", ".join(f"{op} {n}" for op, n in result.removed_ops.items())
        print(f"  removed {removed or 'nothing'}")
        if result.added_ops:
            print("  added   " + ", ".join(f"{op} {n}" for op, n in result.added_ops.items()))
        print(f"  max |optimized - frozen| = {result.max_abs_diff:.3g} (tolerance {args.tolerance:g})")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from . import files, graphfile
    from .export import default_output

    graph = _require_file(args.graph, "graph")
    _check_tolerance(args.tolerance)
    out = Path(args.output) if args.output else default_output(graph, args.to)
    if args.to == "opencv":  # a .pb again: never the input's own name, and a sidecar beside it
        from .freeze import check_save_path

        if out.resolve() == graph.resolve():
            raise InputError(f"output {str(out)!r} is the input graph; write the OpenCV graph to a new file")
        check_save_path(out, force=args.force)
    else:
        files.check_writable([out], force=args.force)
    inputs = [_load_npy(args.input)] if args.input else None
    graphfile.read_graph_def(graph)  # fail on a bad file before TensorFlow starts
    from .export import export

    exported = export(graph, args.to, inputs=inputs, tolerance=args.tolerance)
    exported.save(out, force=args.force)
    if args.json:
        _emit({"output": str(out), "format": exported.format, "bytes": exported.bytes, "sha256": exported.sha256,
               "ops": exported.ops, "max_abs_diff": exported.max_abs_diff})
    else:
        print(f"wrote {out} ({human_bytes(exported.bytes)}, {args.to})")
        print("  ops     " + ", ".join(f"{op} {n}" for op, n in exported.ops.items()))
        print(f"  max |{args.to} - frozen| = {exported.max_abs_diff:.3g} (tolerance {args.tolerance:g})")
        print(f"  run it without TensorFlow: python -m graphfreeze_helpers.runner {out} --input X.npy -o Y.npy")
    return 0


def cmd_check_opencv(args: argparse.Namespace) -> int:
    from . import graphfile
    from .errors import UnsupportedGraphError

    graph = _require_file(args.graph, "graph")
    if graph.is_dir():
        raise InputError(f"graph {args.graph!r} is a directory; give the frozen .pb file")
    if not args.timeout > 0:
        raise InputError(f"--timeout must be a number of seconds > 0, got {args.timeout}")
    _check_tolerance(args.tolerance)
    inputs = [_load_npy(args.input)] if args.input else None
    graph_def = graphfile.read_graph_def(graph, check_edges=True)  # fail on a bad file before anything starts
    from .load import load_frozen
    from .opencv import compare_outputs, diagnose_opencv

    report = diagnose_opencv(graph, inputs=inputs, tolerance=args.tolerance, timeout=args.timeout)
    if report.ok and not args.no_compare:  # OpenCV survived: now compare with TensorFlow on the same inputs
        compare_outputs(report, load_frozen(graph, graph_def=graph_def), tolerance=args.tolerance)
    if args.json:
        _emit(report.to_dict())
    else:
        print(report.reason() if report.ok else f"{graph}: OpenCV {report.status}"
              + (f" ({report.signal})" if report.signal else ""))
        for finding in report.findings[: args.top]:
            print(f"  suspicious  {finding}")
        if len(report.findings) > args.top:
            print(f"  ... and {len(report.findings) - args.top} more (--json lists them all)")
    if not report.ok:
        raise UnsupportedGraphError(report.reason())
    return 0


# --- wiring ------------------------------------------------------------------------------

Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Freeze TensorFlow 2 models into one verified GraphDef (.pb).")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("freeze", help="freeze a .keras/.h5 model or a SavedModel directory into OUT.pb")
    p.add_argument("model", help="a .keras or .h5 file, or a SavedModel directory")
    p.add_argument("-o", "--output", required=True, help="the .pb to write (a sidecar OUT.json is written too)")
    p.add_argument("--input", help="a .npy of real inputs to verify on (default: seeded random data)")
    p.add_argument("--tolerance", type=float, default=1e-5, help="largest allowed |frozen - original| (default 1e-5)")
    p.add_argument("--force", action="store_true", help="overwrite OUT.pb and OUT.json if they exist")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.set_defaults(func=cmd_freeze)

    p = sub.add_parser("run", help="run a frozen graph on a .npy input and save the output")
    p.add_argument("graph", help="the frozen .pb")
    p.add_argument("--input", required=True, help="a .npy array for the graph's input")
    p.add_argument("-o", "--output", required=True, help="the .npy (or .npz for several outputs) to write")
    p.add_argument("--inputs", nargs="+", metavar="NAME", help="input tensor name(s), if there is no sidecar")
    p.add_argument("--outputs", nargs="+", metavar="NAME", help="output tensor name(s), if there is no sidecar")
    p.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    p.add_argument("--quiet", action="store_true", help="report on stderr instead of stdout")
    p.add_argument("--allow-unsafe", action="store_true",
                   help="run a graph the safety scan flags (file, network, Python or unknown ops); trusted files only")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("scan", help="list ops that reach outside the process (files, network, Python); no TensorFlow")
    p.add_argument("graph", help="the .pb to scan")
    p.add_argument("--json", action="store_true", help="print {graph, clean, unsafe_ops: [{node, op, function, reason}]}")
    p.set_defaults(func=cmd_scan)

    p = sub.add_parser("inspect", help="summarize a .pb without TensorFlow: inputs, outputs, ops, constants, risky ops")
    p.add_argument("graph", help="the frozen .pb (binary or text .pbtxt)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p.add_argument("--top", type=_count, default=15, metavar="N", help="op types to list in the table (default 15)")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("bench", help="time a frozen graph (and the model it came from) against other ways to run it")
    p.add_argument("graph", help="the frozen .pb")
    p.add_argument("--model", help="the .keras/.h5 file or SavedModel directory it was frozen from: adds the Keras, "
                   "tf.function and SavedModel contenders")
    p.add_argument("--batch", default="1,256", help="batch sizes, separated by commas (default 1,256)")
    p.add_argument("--budget", type=float, default=5.0, metavar="SECONDS",
                   help="measuring time for the whole sweep, shared by the batch sizes (default 5)")
    p.add_argument("--min-calls", type=int, default=10, metavar="N", help="timed calls per contender at least (default 10)")
    p.add_argument("--json", action="store_true",
                   help="print a JSON list of {contender, batch, median_us, p10_us, p90_us, calls}")
    p.add_argument("--allow-unsafe", action="store_true",
                   help="time a graph the safety scan flags (file, network, Python or unknown ops); trusted files only")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("optimize", help="optimize a frozen graph for inference (offline grappler), verified")
    p.add_argument("graph", help="the frozen .pb")
    p.add_argument("-o", "--output", required=True, help="the optimized .pb to write (and its sidecar OUT.json)")
    p.add_argument("--target", choices=["portable", "tensorflow"], default="portable",
                   help="portable (default): standard ops that LiteRT, ONNX and OpenCV read; tensorflow: also fuse "
                   "ops into TensorFlow-only kernels (_FusedConv2D)")
    p.add_argument("--input", help="a .npy of real inputs to verify on (default: seeded random data)")
    p.add_argument("--tolerance", type=float, default=1e-5, help="largest allowed |optimized - frozen| (default 1e-5)")
    p.add_argument("--force", action="store_true", help="overwrite OUT.pb and OUT.json if they exist")
    p.add_argument("--json", action="store_true",
                   help="print {nodes_before, nodes_after, max_abs_diff, output, target, removed_ops, added_ops}")
    p.set_defaults(func=cmd_optimize)

    p = sub.add_parser("export", help="convert a frozen graph to .tflite (LiteRT), .onnx or an OpenCV-ready .pb, verified")
    p.add_argument("graph", help="the frozen (or optimized --target portable) .pb")
    p.add_argument("--to", required=True, choices=["tflite", "onnx", "opencv"],
                   help="the format to write; opencv: a .pb OpenCV DNN reads, checked in a subprocess")
    p.add_argument("-o", "--output", help="the file to write (default: GRAPH with .tflite/.onnx, GRAPH_opencv.pb)")
    p.add_argument("--input", help="a .npy of real inputs to verify on (default: seeded random data)")
    p.add_argument("--tolerance", type=float, default=1e-5, help="largest allowed |export - frozen| (default 1e-5)")
    p.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    p.add_argument("--json", action="store_true", help="print {output, format, bytes, sha256, ops, max_abs_diff}")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("check-opencv", help="can OpenCV DNN read this .pb? tried in a subprocess, so a crash is "
                       "reported (exit 3), never suffered")
    p.add_argument("graph", help="the frozen .pb")
    p.add_argument("--input", help="a .npy input to run (NHWC, as for TensorFlow; default: seeded random data)")
    p.add_argument("--tolerance", type=float, default=1e-5, help="largest allowed |opencv - tensorflow| (default 1e-5)")
    p.add_argument("--no-compare", action="store_true", help="only load and run in OpenCV; do not start TensorFlow")
    p.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS", help="give up after (default 120)")
    p.add_argument("--top", type=_count, default=10, metavar="N", help="suspicious ops to list (default 10)")
    p.add_argument("--json", action="store_true",
                   help="print {graph, ok, status, signal, stage, message, likely_cause, suspicious_ops, max_abs_diff}")
    p.set_defaults(func=cmd_check_opencv)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        code = args.func(args)
        sys.stdout.flush()  # a closed pipe shows up here, not at interpreter exit
        return code
    except GraphFreezeError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `graphfreeze inspect --json | head`: the reader left; stay quiet
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
