"""The ``graphfreeze`` command: a thin layer of argument handling over the helpers.

Arguments and files are checked before TensorFlow is imported, so a mistake is answered
at once with one line: ``graphfreeze: error: …``. Exit codes: 0 success, 2 bad input or
usage, 3 refusal (verification failed, unsafe graph).

Each ``cmd_*`` function checks its files, calls the one helper that does the work, and
reports (text, or one JSON value with ``--json``). Options that several subcommands share
are added by one helper each (``_add_json``, ``_add_input``, ``_add_tensor_names``, ...),
and numbers are checked as they are parsed.

An exception nobody expected is one line too, ``graphfreeze: error: STAGE: TYPE: message``,
with exit 1; ``--debug`` (or ``GRAPHFREEZE_DEBUG=1``) prints its traceback as well.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
import webbrowser
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from . import __version__, graphfile, safety
from .bench import FACTORIES, comparisons
from .bigfreeze import StageProgress
from .bigload import graph_def_for_file
from .contenders import compare
from .edit import DEFAULT_WEIGHTS_TOLERANCE, WEIGHT_DTYPES, edit, parse_binding, parse_rename, parse_shape, parse_strip
from .errors import GraphFreezeError, InputError, UnsafeGraphError
from .export import default_output, export
from .files import check_writable
from .formatting import human_bytes, json_line, printable
from .freeze import as_frozen_graph, check_save_path, freeze, sidecar_path
from .load import check_arrays, load_frozen, resolve_signature
from .opencv import diagnose_opencv
from .optimize import optimize
from .quantize import check_labels, check_mode, check_numeric, sample_count
from .runner import OPENVINO_PRECISIONS, arrange_feeds, read_input_files, save_outputs
from .savedmodel import check_target
from .structure import examine
from .summary import read_summary
from .tensors import output_key, parse_tensor_arg
from .verify import DEFAULT_RTOL, DEFAULT_TOLERANCE
from .viewer import serve as serve_viewer

PROG = "graphfreeze"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr and exit 2."""

    def error(self, message: str) -> Any:  # type: ignore[override]
        raise InputError(f"{message} (see '{self.prog} --help')")


class _Bounded(argparse.Action):
    """Store a number; one that breaks ``rule`` is a usage error: "--OPTION must be WANTS, got VALUE"."""

    def __init__(self, *args: Any, rule: Callable[[float], bool], wants: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rule = rule
        self.wants = wants

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: Optional[str] = None) -> None:
        if not self.rule(values):  # NaN breaks every rule
            raise InputError(f"{self.option_strings[-1]} must be {self.wants}, got {values}")
        setattr(namespace, self.dest, values)


def _count(text: str) -> int:
    """argparse type for --top: a whole number >= 0."""
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text!r}")
    return int(text)


def _batch_list(text: str) -> list[int]:
    """argparse type for --batch: positive whole numbers separated by commas, without repeats."""
    parts = [part.strip() for part in text.split(",")]
    if not all(part.isdigit() and int(part) > 0 for part in parts):
        raise InputError(f"--batch must be positive whole numbers separated by commas, like 1,256; got {text!r}")
    return list(dict.fromkeys(int(part) for part in parts))


# --- options that several subcommands share ------------------------------------------------


def _add_graph(p: argparse.ArgumentParser, help: str = "the frozen .pb") -> None:
    p.add_argument("graph", help=help)


def _add_json(p: argparse.ArgumentParser, prints: str = "print one JSON object instead of text") -> None:
    p.add_argument("--json", action="store_true", help=prints)


def _add_input(
    p: argparse.ArgumentParser,
    help: str = "real inputs to verify on: NAME=FILE.npy (repeat for each input), FILE.npz keyed by input name, "
    "or FILE.npy for a graph with one input (default: seeded random data)",
    *, required: bool = False,
) -> None:
    p.add_argument("--input", required=required, action="append", metavar="[NAME=]FILE", help=help)


def _add_tensor_names(p: argparse.ArgumentParser, *, inputs: bool = True) -> None:
    """``--inputs NAME[SHAPE] ...`` and ``--outputs NAME ...``: the tensors to feed and fetch, parsed at once."""
    if inputs:
        p.add_argument("--inputs", nargs="+", type=parse_tensor_arg, metavar="NAME[SHAPE]",
                       help="the tensors to feed (default: the sidecar's, else the placeholders): node or node:0, "
                       "any tensor (the graph is cut there, e.g. Mul:0), with an optional static shape like "
                       "image[?,224,224,3]")
    p.add_argument("--outputs", nargs="+", type=parse_tensor_arg, metavar="NAME",
                   help="the tensors to fetch (default: the sidecar's, else the nodes nothing consumes)")


def _add_debug(p: argparse.ArgumentParser, default: Any = argparse.SUPPRESS) -> None:
    p.add_argument("--debug", action="store_true", default=default,
                   help="on an unexpected error, show the Python traceback (also GRAPHFREEZE_DEBUG=1)")


def _add_tolerance(p: argparse.ArgumentParser, compared: str) -> None:
    p.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE, action=_Bounded,
                   rule=lambda value: value >= 0, wants="a number >= 0",
                   help=f"absolute part of the largest allowed |{compared}|, which is TOLERANCE + "
                   "RTOL x |reference| value by value, as np.allclose (default 1e-5)")


def _add_rtol(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rtol", type=float, default=DEFAULT_RTOL, action=_Bounded,
                   rule=lambda value: value >= 0, wants="a number >= 0",
                   help="relative part of the tolerance, times |reference| (default 1e-5; 0 for absolute only)")


def _add_seconds(p: argparse.ArgumentParser, option: str, default: float, help: str) -> None:
    p.add_argument(option, type=float, default=default, metavar="SECONDS", action=_Bounded,
                   rule=lambda value: value > 0, wants="a number of seconds > 0", help=help)


def _add_force(p: argparse.ArgumentParser, help: str = "overwrite the output if it exists") -> None:
    p.add_argument("--force", action="store_true", help=help)


def _add_allow_unsafe(p: argparse.ArgumentParser, verb: str) -> None:
    p.add_argument("--allow-unsafe", action="store_true",
                   help=f"{verb} a graph the safety scan refuses (an op outside the allow-list, or a file, network, "
                   "Python or unknown op); trusted files only")


# --- checks before anything starts -----------------------------------------------------------


def _require_file(path: str, what: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise InputError(f"{what} {path!r} does not exist")
    return p


def _require_graph_file(path: str) -> Path:
    graph = _require_file(path, "graph")
    if graph.is_dir():
        raise InputError(f"graph {path!r} is a directory; give the frozen .pb file")
    return graph


def _require_new_graph(out: Path, graph: Path, what: str, *, force: bool) -> None:
    """A ``.pb`` output (with its sidecar) that is not the input graph and may be written."""
    if out.resolve() == graph.resolve():
        raise InputError(f"output {str(out)!r} is the input graph; write {what} to a new file")
    check_save_path(out, force=force)


def _read_safe_graph(graph: Path, allow_unsafe: bool, *, check_edges: bool = True) -> Any:
    """Read the graph and run the safety scan, before TensorFlow starts: UnsafeGraphError (exit 3) unless allowed."""
    graph_def = graphfile.read_graph_def(graph, check_edges=check_edges, graph_def=graph_def_for_file(graph))
    safety.refuse_unless_safe(graph_def, repr(str(graph)), allow_unsafe=allow_unsafe)
    return graph_def


def _trusted(graph: Path, args: argparse.Namespace) -> Any:
    """``graph``, or with ``--allow-unsafe`` the graph loaded past the safety scan (the helpers load paths safely)."""
    if not args.allow_unsafe:
        return graph
    return as_frozen_graph(graph, inputs=args.inputs, outputs=args.outputs, allow_unsafe=True)


def _named_inputs(args: argparse.Namespace) -> Optional[list[Any] | dict[str, Any]]:
    """``--input`` arrays to verify on: a list for one bare ``FILE.npy``, else ``{name: array}``; None if none."""
    if not args.input:
        return None
    given = read_input_files(args.input)
    if len(given) == 1 and given[0][0] is None:
        return [given[0][1]]
    if any(name is None for name, _ in given):
        raise InputError("a bare --input FILE.npy feeds a graph with one input; name each: --input NAME=FILE.npy")
    return dict(given)


def _show(args: argparse.Namespace, record: Any, text: Callable[[], str]) -> None:
    """Print ``record`` as one line of JSON with ``--json``, else ``text()``, with no control character
    from a graph reaching the terminal (JSON escapes them; text shows them as ``\\x1b``, lines kept)."""
    print(json_line(record) if args.json else "\n".join(printable(line) for line in text().split("\n")))


def _ops(counts: dict[str, int]) -> str:
    return ", ".join(f"{op} {n}" for op, n in counts.items())


# --- subcommands -------------------------------------------------------------------------


def _require_safe_model(model: Path, allow_unsafe: bool) -> None:
    """A SavedModel directory is a program: scanned before TensorFlow starts, refused (exit 3) unless allowed."""
    if model.is_dir() and (model / "saved_model.pb").is_file():
        safety.refuse_unsafe_saved_model(model, allow_unsafe=allow_unsafe)


def cmd_freeze(args: argparse.Namespace) -> int:
    model = _require_file(args.model, "model")
    out = Path(args.output)
    check_save_path(out, force=args.force)
    inputs = _named_inputs(args)
    _require_safe_model(model, args.allow_unsafe)
    progress = StageProgress() if not args.json and sys.stderr.isatty() else None  # stages and bytes, on a terminal
    frozen = freeze(model, inputs=inputs, tolerance=args.tolerance, rtol=args.rtol, outputs=args.outputs,
                    input_names=args.inputs, progress=progress, allow_unsafe=args.allow_unsafe)
    frozen.save(out, force=args.force, progress=progress)
    if progress is not None:
        progress.close()
    size = out.stat().st_size
    diff = frozen.verification.max_abs_diff if frozen.verification else None
    record = {"output": str(out), "inputs": [t.to_dict() for t in frozen.inputs],
              "outputs": [t.to_dict() for t in frozen.outputs], "nodes": frozen.nodes, "bytes": size,
              "max_abs_diff": diff, "loader": frozen.loader}
    _show(args, record, lambda: "\n".join([
        f"wrote {out} and {sidecar_path(out)}",
        f"  loader  {frozen.loader}",
        *(f"  input   {t}" for t in frozen.inputs),
        *(f"  output  {t}" for t in frozen.outputs),
        f"  nodes   {frozen.nodes}",
        f"  size    {human_bytes(size)}",
        f"  max |frozen - original| = {diff:.3g} (tolerance {frozen.verification.tolerance_text})",
    ]))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    graph = _require_file(args.graph, "graph")
    out = Path(args.output)
    check_writable([out], force=args.force)
    given = read_input_files(args.input)
    graph_def = _read_safe_graph(graph, args.allow_unsafe)
    in_infos, out_infos = resolve_signature(graph, graph_def, inputs=args.inputs, outputs=args.outputs)
    listed = {t.name for t in in_infos}
    optional = [t for t in graphfile.optional_inputs(graph_def) if t.name not in listed]
    feeds = arrange_feeds(given, [t.name for t in in_infos], [t.name for t in optional])
    specs = {t.name: t for t in in_infos + optional}
    for name, array in feeds.items():  # names, shapes and dtypes answered before TensorFlow starts
        check_arrays([specs[name]], [array])
    if len(out_infos) > 1 and out.suffix != ".npz":
        raise InputError(
            f"graph has {len(out_infos)} outputs {[t.name for t in out_infos]}; give an output file ending in .npz"
        )
    loaded = load_frozen(graph, inputs=args.inputs, outputs=args.outputs, allow_unsafe=args.allow_unsafe,
                         graph_def=graph_def)
    outputs = loaded.run(feeds)
    save_outputs(out, outputs, force=args.force)
    shapes = [str(tuple(a.shape)) for a in outputs.values()]
    if len(outputs) > 1:
        shapes = [f"{output_key(name)} {shape}" for name, shape in zip(outputs, shapes)]
    print(f"wrote {out}: " + ", ".join(shapes), file=sys.stderr if args.quiet else sys.stdout)
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    inputs = None
    if args.inputs:
        graph = _require_graph_file(args.graph)
        inputs, _ = resolve_signature(graph, graphfile.read_graph_def(graph, check_sidecar=False),
                                      inputs=args.inputs)
    summary = read_summary(args.graph, outputs=[t.name for t in args.outputs] if args.outputs else None,
                           inputs=inputs)
    shapes = {t.name: t.shape for t in [*(args.inputs or []), *(args.shape or [])] if t.shape is not None}
    deeper = examine(args.graph, flops=args.flops, listing=args.structure, pattern=args.grep, shapes=shapes)
    _show(args, {**summary.to_dict(), **deeper.to_dict()},
          lambda: "\n".join([summary.table(top_ops=args.top), *deeper.lines()]))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    graph = _require_graph_file(args.graph)
    model = _require_file(args.model, "model") if args.model else None
    calibration = _calibration(args.calibration)
    graph_def = _read_safe_graph(graph, args.allow_unsafe)
    if model is not None:
        _require_safe_model(model, args.allow_unsafe)
    result = compare(graph, model, batch_sizes=args.batch, contenders=args.runtimes,
                     time_budget_s=args.budget, min_calls=args.min_calls,
                     progress=not args.json and sys.stderr.isatty(), allow_unsafe=args.allow_unsafe,
                     graph_def=graph_def, inputs=args.inputs, outputs=args.outputs, calibration=calibration,
                     precision=args.precision, skip_unavailable=True)
    remarks = [f"skipped {name}: {why}" for name, why in result.settings["skipped"].items()]
    if "openvino" in result.settings["notes"]:  # the precision it computed in, which the table's max|diff| reflects
        remarks.insert(0, f"openvino: {result.settings['notes']['openvino']}")
    if args.json:  # stdout holds the one JSON value
        print("\n".join(f"{PROG}: {line}" for line in remarks), file=sys.stderr) if remarks else None
    _show(args, result.to_records(short=True),
          lambda: "\n".join([result.table(), "", *comparisons(result), *result.mismatches(), *remarks]))
    return 0


def _names_list(text: str) -> list[str]:
    """argparse type for --keep-float: layer or node names separated by commas."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise InputError(f"--keep-float must be layer or node names separated by commas (e.g. conv0); got {text!r}")
    return list(dict.fromkeys(names))


def _runtime_list(text: str) -> list[str]:
    """argparse type for --runtimes: registered contender names separated by commas."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in FACTORIES]
    if not names or unknown:
        raise InputError(f"--runtimes must be names separated by commas from {list(FACTORIES)}; got {text!r}")
    return list(dict.fromkeys(names))


def _calibration(path: Optional[str]) -> Any:
    """--calibration FILE read now: one array (.npy) or {name: array} (.npz); None without it."""
    if not path:
        return None
    given = read_input_files([path])
    return given[0][1] if len(given) == 1 and given[0][0] is None else {name or "": array for name, array in given}


def cmd_scan(args: argparse.Namespace) -> int:
    graph = _require_file(args.graph, "graph")
    graph_def, serialized = graphfile.read_graph_file(graph, check_edges=True)
    report = safety.check(graph_def, serialized=serialized)
    _show(args, {"graph": str(graph), **report.to_dict()}, lambda: safety.report_text(str(graph), report))
    return 0 if report.clean else UnsafeGraphError.exit_code


def cmd_optimize(args: argparse.Namespace) -> int:
    graph = _require_file(args.graph, "graph")
    out = Path(args.output)
    _require_new_graph(out, graph, "the optimized graph", force=args.force)
    inputs = _named_inputs(args)
    _read_safe_graph(graph, args.allow_unsafe, check_edges=False)  # a bad or unsafe file: answered before TensorFlow
    result = optimize(_trusted(graph, args), target=args.target, inputs=inputs, tolerance=args.tolerance,
                      rtol=args.rtol, input_names=args.inputs, output_names=args.outputs)
    result.save(out, force=args.force)
    record = {"nodes_before": result.nodes_before, "nodes_after": result.nodes_after,
              "max_abs_diff": result.max_abs_diff, "output": str(out), "target": result.target,
              "removed_ops": result.removed_ops, "added_ops": result.added_ops}
    _show(args, record, lambda: "\n".join([
        f"wrote {out} and {sidecar_path(out)}",
        f"  nodes   {result.nodes_before} -> {result.nodes_after} ({result.ratio:.0%}), target {result.target}",
        f"  removed {_ops(result.removed_ops) or 'nothing'}",
        *([f"  added   {_ops(result.added_ops)}"] if result.added_ops else []),
        f"  max |optimized - frozen| = {result.max_abs_diff:.3g} (tolerance {result.verification.tolerance_text})",
    ]))
    return 0


def cmd_edit(args: argparse.Namespace) -> int:
    graph = _require_graph_file(args.graph)
    out = Path(args.output)
    _require_new_graph(out, graph, "the edited graph", force=args.force)
    inputs = _named_inputs(args)
    graph_def = graphfile.read_graph_def(graph, check_edges=True)
    result = edit(graph, graph_def=graph_def, set_values=args.set or (), inputs=args.inputs, outputs=args.outputs,
                  shapes=args.shape or (), renames=args.rename or (), strip=args.strip or (), weights=args.weights,
                  repair_training=args.repair_training, verify_inputs=inputs, tolerance=args.tolerance,
                  rtol=args.rtol, weights_tolerance=args.weights_tolerance,
                  allow_unsafe=args.allow_unsafe)  # edit scans first, before TensorFlow starts
    result.save(out, force=args.force)
    _show(args, {"output": str(out), **result.to_dict()},
          lambda: "\n".join([f"wrote {out} and {sidecar_path(out)}", result.table()]))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    graph = _require_file(args.graph, "graph")
    out = Path(args.output) if args.output else default_output(graph, args.to)
    if args.to == "opencv":  # a .pb again: never the input's own name, and a sidecar beside it
        _require_new_graph(out, graph, "the OpenCV graph", force=args.force)
    elif args.to == "savedmodel":  # a folder, written whole after its check, or not at all
        check_target(out, force=args.force)
    elif args.to == "openvino":  # a folder: OUT/GRAPH.xml and OUT/GRAPH.bin
        if out.exists() and not out.is_dir():
            raise InputError(f"output {str(out)!r} is a file; --to openvino writes a folder (GRAPH.xml, GRAPH.bin)")
        check_writable([out / f"{graph.stem}.xml", out / f"{graph.stem}.bin"] if out.is_dir() else [out],
                       force=args.force)
    else:
        check_writable([out], force=args.force)
    if args.opset is not None and args.to != "onnx":
        raise InputError(f"--opset is for --to onnx, not {args.to}")
    if args.strip and args.to != "tflite":
        raise InputError(f"--strip is for --to tflite, not {args.to}")
    inputs = _named_inputs(args)
    quantized = _quantize_options(args, inputs)
    _read_safe_graph(graph, args.allow_unsafe, check_edges=False)  # a bad or unsafe file: answered before TensorFlow
    exported = export(_trusted(graph, args), args.to, inputs=inputs, tolerance=_tolerance(args), rtol=args.rtol,
                      input_names=args.inputs, output_names=args.outputs, opset=args.opset, **quantized,
                      **({"strip": True} if args.strip else {}),
                      **({"path": out, "force": args.force} if args.to == "savedmodel" else {}))
    if args.to == "openvino":
        out = exported.save(out, force=args.force, name=graph.stem)
    elif args.to != "savedmodel":  # the SavedModel folder is written already
        exported.save(out, force=args.force)
    record = {"output": str(out), "format": exported.format, "bytes": exported.bytes, "sha256": exported.sha256,
              "ops": exported.ops, "max_abs_diff": exported.max_abs_diff}
    if args.to == "openvino":
        record["precision"] = exported.precision
    if args.to == "savedmodel":
        record.update(signature={"inputs": exported.input_keys, "outputs": exported.output_keys})
    check = getattr(exported, "quantized_check", None)  # a quantized .tflite only
    if check is not None:
        record.update(quantize=exported.quantize, quantized_check=check.to_dict())
    if getattr(exported, "kept_float", ()):
        record["kept_float"] = list(exported.kept_float)
    if getattr(exported, "per_tensor", False):
        record["per_tensor"] = True
    if args.strip:
        record["stripped"] = True
    _show(args, record, lambda: "\n".join([
        f"wrote {out} ({human_bytes(exported.bytes)}, {args.to}{' ' + check.mode if check else ''}"
        f"{', ' + ', '.join(args.keep_float) + ' kept float' if args.keep_float else ''}"
        f"{', per-tensor' if args.per_tensor else ''}{', stripped' if args.strip else ''})",
        f"  ops     {_ops(exported.ops)}" if args.to != "savedmodel" else
        f"  signature serving_default: {exported.input_keys} -> {exported.output_keys} "
        f"(saved_model_cli show --dir {out} --all)",
        f"  {check.summary()}; judged by {check.tolerance_text}" if check is not None else
        f"  max |{args.to} - frozen| = {exported.max_abs_diff:.3g} (tolerance {exported.verification.tolerance_text})"
        + (f", computed in {exported.precision}" if args.to == "openvino" else ""),
        f"  run it without TensorFlow: python -m graphfreeze_helpers.runner {out} --input X.npy -o Y.npy"
        if args.to != "savedmodel" else "  for TF Serving, TF-TRT, the TensorFlow.js converter: they read this folder",
    ]))
    return 0


def _tolerance(args: argparse.Namespace) -> float:
    """--tolerance, or its default when not given (export leaves it unset: a quantized model has its own)."""
    return DEFAULT_TOLERANCE if args.tolerance is None else args.tolerance


def _quantize_options(args: argparse.Namespace, inputs: Any) -> dict[str, Any]:
    """export's quantization arguments from --quantize, --calibration, --labels and --tolerance, files read now."""
    if args.quantize is None and (args.calibration or args.labels):
        raise InputError("--calibration and --labels are for a quantized export; add --quantize dynamic|float16|int8")
    if args.labels and inputs is None:
        raise InputError("--labels needs the inputs it labels: give --input X.npy too")
    options: dict[str, Any] = {"quantize": args.quantize, "quantized_tolerance": args.tolerance}
    check_mode(args.quantize, [] if args.calibration else None, args.keep_float, args.per_tensor)
    if args.keep_float:
        options["keep_float"] = args.keep_float
    if args.per_tensor:
        options["per_tensor"] = True
    if args.calibration:  # numbers checked now; their shapes, against the graph's inputs, by export
        calibration = _calibration(args.calibration)
        for array in calibration.values() if isinstance(calibration, dict) else [calibration]:
            check_numeric(array, "--calibration")
        options["calibration"] = calibration
    if args.labels:  # checked now but for the number of classes, which export reads from the graph
        ((_, labels),) = read_input_files([args.labels])
        options["labels"] = check_labels(labels, sample_count(inputs))
    return options


def cmd_check_opencv(args: argparse.Namespace) -> int:
    graph = _require_graph_file(args.graph)
    inputs = _named_inputs(args)
    graph_def = _read_safe_graph(graph, args.allow_unsafe)  # a bad or unsafe file: answered before anything starts
    subject: Any = graph
    if args.inputs or args.outputs:  # other tensors: TensorFlow cuts the graph there first
        subject = as_frozen_graph(graph, inputs=args.inputs, outputs=args.outputs, allow_unsafe=args.allow_unsafe)
    # comparing: TensorFlow runs the graph on the same inputs (sampled ones must run there first)
    reference = None if args.no_compare else load_frozen(graph, graph_def=graph_def, inputs=args.inputs,
                                                         outputs=args.outputs, allow_unsafe=args.allow_unsafe)
    report = diagnose_opencv(subject, inputs=inputs, reference=reference, tolerance=args.tolerance, rtol=args.rtol,
                             timeout=args.timeout)
    _show(args, report.to_dict(), lambda: "\n".join([
        report.reason() if report.ok else f"{graph}: OpenCV {report.status}"
        + (f" ({report.signal})" if report.signal else ""),
        *(f"  suspicious  {finding}" for finding in report.findings[: args.top]),
        *([f"  ... and {len(report.findings) - args.top} more (--json lists them all)"]
          if len(report.findings) > args.top else []),
    ]))
    report.raise_if_failed()
    return 0


def cmd_view(args: argparse.Namespace) -> int:
    graph = _require_graph_file(args.graph)
    graphfile.read_graph_def(graph, check_edges=True)  # not a GraphDef: one line now, not a blank page later
    viewer = serve_viewer(graph, port=args.port)
    try:  # from the first line on, Ctrl+C is how you stop it: exit 0
        print(f"Netron shows {graph} at {viewer.url} (127.0.0.1 only; Ctrl+C stops it)", flush=True)
        if not args.no_browser:
            webbrowser.open(viewer.url)
        while True:  # short sleeps: Python runs its Ctrl+C handler between them even when the signal
            time.sleep(0.5)  # landed on a server thread (a wait with no timeout would never see it)
    except KeyboardInterrupt:
        viewer.stop()
    return 0


# --- wiring ------------------------------------------------------------------------------

Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Freeze TensorFlow 2 models into one verified GraphDef (.pb).")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    _add_debug(parser, default=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("freeze", help="freeze a .keras/.h5 model, a SavedModel or a TF1 checkpoint into OUT.pb")
    p.add_argument("model", help="a .keras or .h5 file, a SavedModel directory, or a TF1 checkpoint (.meta or folder)")
    p.add_argument("-o", "--output", required=True, help="the .pb to write (a sidecar OUT.json is written too)")
    p.add_argument("--outputs", nargs="+", metavar="NAME",
                   help="output tensor name(s) of a TF1 checkpoint (without it, the likely outputs are listed)")
    p.add_argument("--inputs", nargs="+", type=parse_tensor_arg, metavar="NAME[SHAPE]",
                   help="a TF1 checkpoint's tensors to feed instead of its placeholders (the frozen graph is cut "
                   "there), with an optional static shape like Reshape[?,192]")
    _add_input(p)
    _add_tolerance(p, "frozen - original")
    _add_rtol(p)
    _add_force(p, "overwrite OUT.pb and OUT.json if they exist")
    _add_json(p)
    _add_allow_unsafe(p, "freeze")
    p.set_defaults(func=cmd_freeze)

    p = sub.add_parser("run", help="run a frozen graph on a .npy input and save the output")
    _add_graph(p)
    _add_input(p, "NAME=FILE.npy for an input (repeat for each; an optional input such as is_training is fed "
               "only when given), FILE.npz keyed by input name, or FILE.npy for a graph with one input",
               required=True)
    p.add_argument("-o", "--output", required=True,
                   help="the .npy to write, or an .npz holding every output keyed by name (probs for probs:0)")
    _add_tensor_names(p)
    _add_force(p)
    p.add_argument("--quiet", action="store_true", help="report on stderr instead of stdout")
    _add_allow_unsafe(p, "run")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("scan", help="list ops that reach outside the process (files, network, Python) and every op "
                       "not known to be safe (outside the allow-list); no TensorFlow")
    _add_graph(p, "the .pb to scan")
    _add_json(p, "print {graph, clean, unsafe_ops: [...], not_known_safe: [...]}, each {node, op, function, reason, "
              "nested_in}")
    p.set_defaults(func=cmd_scan)

    p = sub.add_parser("inspect", help="summarize a .pb without TensorFlow: inputs, outputs, ops, constants, risky ops")
    _add_graph(p, "the frozen .pb (binary or text .pbtxt)")
    _add_json(p, "print one JSON object instead of tables")
    p.add_argument("--top", type=_count, default=15, metavar="N", help="op types to list in the table (default 15)")
    _add_tensor_names(p)
    p.add_argument("--flops", action="store_true",
                   help="FLOPs and MACs per op type and in total (TensorFlow profiler's formulas; a free batch is 1)")
    p.add_argument("--shape", action="append", type=parse_shape, metavar="NAME=[D,...]",
                   help="an input's shape for --flops and --structure: image=[1,224,224,3] (repeat for each)")
    p.add_argument("--structure", action="store_true",
                   help="list every node: op, inputs and shape, with control-edge and device counts")
    p.add_argument("--grep", metavar="PATTERN", help="list only the nodes whose name or op matches (a regex)")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("bench", help="time a frozen graph (and the model it came from) against other ways to run it")
    _add_graph(p)
    p.add_argument("--model", help="the .keras/.h5 file or SavedModel directory it was frozen from: adds the Keras, "
                   "tf.function and SavedModel contenders")
    p.add_argument("--batch", type=_batch_list, default="1,256",
                   help="batch sizes, separated by commas (default 1,256)")
    _add_seconds(p, "--budget", 5.0, "measuring time for the whole sweep, shared by the batch sizes (default 5)")
    p.add_argument("--min-calls", type=int, default=10, metavar="N", action=_Bounded, rule=lambda n: n >= 1,
                   wants="at least 1", help="timed calls per contender at least (default 10)")
    p.add_argument("--runtimes", type=_runtime_list, metavar="A,B,C",
                   help="the contenders to time, separated by commas (default: every one available; "
                   f"known: {','.join(FACTORIES)}); one that cannot run the graph gets a line saying why")
    p.add_argument("--calibration", metavar="FILE",
                   help="real inputs (.npy, or .npz keyed by input name) to calibrate the litert_int8 contender")
    p.add_argument("--precision", choices=OPENVINO_PRECISIONS, default="f32",
                   help="the openvino contender's inference precision (default f32; 'default' lets its CPU plugin "
                   "choose, bfloat16 on a CPU with AMX or AVX-512 BF16); its line says the one used")
    _add_json(p, "print a JSON list of {contender, batch, median_us, p10_us, p90_us, calls}; skipped runtimes "
              "go to stderr")
    _add_tensor_names(p)
    _add_allow_unsafe(p, "time")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("optimize", help="optimize a frozen graph for inference (offline grappler), verified")
    _add_graph(p)
    p.add_argument("-o", "--output", required=True, help="the optimized .pb to write (and its sidecar OUT.json)")
    p.add_argument("--target", choices=["portable", "tensorflow"], default="portable",
                   help="portable (default): standard ops that LiteRT, ONNX and OpenCV read; tensorflow: also fuse "
                   "ops into TensorFlow-only kernels (_FusedConv2D)")
    _add_input(p)
    _add_tolerance(p, "optimized - frozen")
    _add_rtol(p)
    _add_tensor_names(p)
    _add_force(p, "overwrite OUT.pb and OUT.json if they exist")
    _add_json(p, "print {nodes_before, nodes_after, max_abs_diff, output, target, removed_ops, added_ops}")
    _add_allow_unsafe(p, "optimize")
    p.set_defaults(func=cmd_optimize)

    p = sub.add_parser("edit", help="graph surgery, each edit verified: bind a placeholder, cut, fix shapes, rename, "
                       "strip attrs, float16 weights, repair TF1 training residue (TF2's transform_graph)")
    _add_graph(p)
    p.add_argument("-o", "--output", required=True, help="the edited .pb to write (and its sidecar OUT.json)")
    p.add_argument("--set", action="append", type=parse_binding, metavar="NAME=VALUE",
                   help="bind a placeholder to a constant and fold what depends on it: keep_prob=1.0, "
                   "is_training=false (repeat for each)")
    _add_tensor_names(p)
    p.add_argument("--shape", action="append", type=parse_shape, metavar="NAME=[D,...]",
                   help="fix or relax an input's shape: image=[1,224,224,3], image=[?,224,224,3] (repeat for each)")
    p.add_argument("--rename", action="append", type=parse_rename, metavar="OLD=NEW",
                   help="rename an input or output node (repeat for each); the other options name it by its old "
                   "name, since edits apply in one order: repair, strip, set, cut, shape, rename, weights")
    p.add_argument("--strip", type=parse_strip, metavar="KINDS",
                   help="remove, separated by commas: devices (pins), colocation (_class attrs), default-attrs "
                   "(attrs at their default, for older TensorFlow)")
    p.add_argument("--weights", choices=WEIGHT_DTYPES,
                   help="store float32 constants as float16, cast back at the consumer (about half the size); "
                   "do it after optimize, whose constant folding would undo it")
    p.add_argument("--weights-tolerance", type=float, default=DEFAULT_WEIGHTS_TOLERANCE, action=_Bounded,
                   rule=lambda value: value >= 0, wants="a number >= 0",
                   help="absolute and relative tolerance of the float16 check (default 1e-2)")
    p.add_argument("--repair-training", action="store_true",
                   help="TF1 training residue to inference: RefSwitch -> Switch, updates of frozen constants removed")
    _add_input(p, "real inputs of the edited graph to verify on: NAME=FILE.npy (repeat), FILE.npz keyed by input "
               "name, or FILE.npy for one input (default: seeded random data)")
    _add_tolerance(p, "edited - input graph")
    _add_rtol(p)
    _add_force(p, "overwrite OUT.pb and OUT.json if they exist")
    _add_allow_unsafe(p, "edit")
    _add_json(p, "print {output, nodes_before, nodes_after, bytes_before, bytes_after, inputs, outputs, edits: "
              "[{edit, changes, removed_ops, verification}]}")
    p.set_defaults(func=cmd_edit)

    p = sub.add_parser("export",
                       help="convert a frozen graph to .tflite (LiteRT), .onnx or an OpenCV-ready .pb, verified")
    _add_graph(p, "the frozen (or optimized --target portable) .pb")
    p.add_argument("--to", required=True, choices=["tflite", "onnx", "opencv", "openvino", "savedmodel"],
                   help="the format to write; opencv: a .pb OpenCV DNN reads, checked in a subprocess; openvino: "
                   "OpenVINO IR (GRAPH.xml and GRAPH.bin in a folder), checked at float32; savedmodel: a SavedModel "
                   "folder with a serving_default signature, for TF Serving, TF-TRT and the TensorFlow.js converter")
    p.add_argument("-o", "--output", help="the file (a folder for openvino) to write (default: GRAPH with "
                   ".tflite/.onnx, GRAPH_opencv.pb, GRAPH_openvino/)")
    _add_input(p)
    _add_tolerance(p, "export - frozen")
    _add_rtol(p)
    p.add_argument("--quantize", choices=["dynamic", "float16", "int8"],
                   help="a smaller .tflite: dynamic (int8 weights), float16 (float16 weights) or int8 (full-integer, "
                   "needs --calibration); checked by accuracy and agreement with --labels, else by a stated tolerance "
                   "(default: dynamic 0.05, float16 0.01, int8 0.1, or --tolerance)")
    p.add_argument("--calibration", metavar="FILE",
                   help="int8: a few hundred real inputs (.npy, or .npz keyed by input name), preprocessed as at "
                   "inference, to calibrate the activation ranges")
    p.add_argument("--labels", metavar="FILE.npy",
                   help="the class of each --input (a 1-D array of class numbers from 0, as the output's last "
                   "dimension counts them): a quantized export is then checked by accuracy (at most 1 point "
                   "below float) and agreement with the float model (at least 95%%)")
    p.add_argument("--keep-float", type=_names_list, metavar="NAMES",
                   help="int8: leave these layers or nodes (comma-separated, e.g. conv0) in float32 and quantize the "
                   "rest; the model then takes and gives float32. For an op whose int8 kernel is slower than its "
                   "float one: on the tutorial CNN and some CPUs, XNNPACK's int8 conv from the 1-channel image "
                   "(see README)")
    p.add_argument("--per-tensor", action="store_true",
                   help="int8: one scale and zero point per weight tensor instead of per output channel: a smaller "
                   "file (the tutorial CNN's int8 with --strip: 0.33x float, 0.39x per channel), which can be less "
                   "accurate where a layer's channels differ in range (deep models, MobileNets); uses the converter's "
                   "experimental flag (TensorFlow pinned to 2.21)")
    p.add_argument("--strip", action="store_true",
                   help="tflite: leave out the tensor names and the conversion metadata, which no runtime reads "
                   "(about 1.3 kB on the tutorial CNN); the signature stays, naming the inputs and outputs")
    p.add_argument("--opset", type=int, default=None, metavar="N", action=_Bounded, rule=lambda n: 7 <= n <= 18,
                   wants="an ONNX opset from 7 to 18", help="ONNX opset to write (default 17)")
    _add_tensor_names(p)
    _add_force(p)
    _add_json(p, "print {output, format, bytes, sha256, ops, max_abs_diff} (and quantize, quantized_check, "
              "stripped)")
    _add_allow_unsafe(p, "export")
    p.set_defaults(func=cmd_export, tolerance=None)

    p = sub.add_parser("check-opencv", help="can OpenCV DNN read this .pb? tried in a subprocess, so a crash is "
                       "reported (exit 3), never suffered")
    _add_graph(p)
    _add_input(p, "the inputs to run, NHWC as for TensorFlow: NAME=FILE.npy (repeat for each input), FILE.npz "
               "keyed by input name, or FILE.npy for a graph with one input (default: seeded random data)")
    _add_tolerance(p, "opencv - tensorflow")
    _add_rtol(p)
    _add_tensor_names(p)
    p.add_argument("--no-compare", action="store_true", help="only load and run in OpenCV; do not start TensorFlow")
    _add_seconds(p, "--timeout", 120.0, "give up after (default 120)")
    p.add_argument("--top", type=_count, default=10, metavar="N", help="suspicious ops to list (default 10)")
    _add_json(p, "print {graph, ok, status, signal, stage, message, likely_cause, suspicious_ops, max_abs_diff}")
    _add_allow_unsafe(p, "check")
    p.set_defaults(func=cmd_check_opencv)

    p = sub.add_parser("view", help="open a frozen graph in Netron, a graph you can click, served on 127.0.0.1 "
                       "(needs the view extra)")
    _add_graph(p)
    p.add_argument("--port", type=int, default=0, metavar="N", action=_Bounded, rule=lambda n: 0 <= n <= 65535,
                   wants="a port from 0 to 65535", help="port to serve on (default 0: any free port)")
    p.add_argument("--no-browser", action="store_true", help="only print the URL; do not open a browser")
    p.set_defaults(func=cmd_view)
    for command in sub.choices.values():  # --debug after the subcommand too
        _add_debug(command)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args: Optional[argparse.Namespace] = None
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        code = args.func(args)
        sys.stdout.flush()  # a closed pipe shows up here, not at interpreter exit
        return code
    except GraphFreezeError as exc:  # names from a graph are escaped; a refusal may list one op a line
        print("\n".join(printable(line) for line in f"{PROG}: error: {exc}".split("\n")), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `graphfreeze inspect --json | head`: the reader left; stay quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:  # a bug, or a library's own error nobody foresaw: one line, never a traceback
        missing = exc.name or "" if isinstance(exc, ModuleNotFoundError) else ""
        if missing.split(".")[0] in ("tensorflow", "keras", "tf2onnx"):  # an install without TensorFlow
            print(f"{PROG}: error: {missing} is not installed; add it with pip install 'graphfreeze[export]' "
                  "(or 'graphfreeze[tf]' for TensorFlow alone)", file=sys.stderr)
            return 2
        if getattr(args, "debug", False) or os.environ.get("GRAPHFREEZE_DEBUG", "") not in ("", "0"):
            traceback.print_exc()
        print(f"{PROG}: error: {printable(unexpected_error_line(exc, getattr(args, 'command', None)))}",
              file=sys.stderr)
        return 1


def unexpected_error_line(exc: BaseException, command: Optional[str]) -> str:
    """``STAGE: TYPE: message`` for an exception nobody expected; the stage is the command and the
    helper module where it was raised (``run: load``), the message its first line."""
    module = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        path = Path(frame.filename)
        if path.parent.name == __package__ and path.stem not in ("cli", "__init__"):
            module = path.stem
    stage = ": ".join(part for part in (command or "graphfreeze", module) if part)
    text = str(exc).strip()
    first = text.splitlines()[0] if text else "(no message)"
    if len(first) > 300:
        first = first[:297] + "..."
    hint = "; run with --debug for the traceback"
    return f"{stage}: {type(exc).__name__}: {first}{hint}"


if __name__ == "__main__":
    sys.exit(main())
