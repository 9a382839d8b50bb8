"""Run the tutorial notebooks headless with papermill, then print the key figures.

    python tools/run_notebooks.py                      every notebooks/NN_*.ipynb, in order (make run)
    python tools/run_notebooks.py notebooks/02_freeze_the_graph.ipynb -p model_path ../my_model.keras
    python tools/run_notebooks.py --artifacts /tmp/art --out /tmp/executed

Each notebook runs with cwd ``notebooks/`` and kernel ``python3``; the executed copy goes to
``build/executed/`` and the artifacts to ``artifacts/`` (the notebooks' ``artifacts_dir``).
Notebooks whose names start with ``_`` are drafts and are skipped.

Cells tagged ``raises-exception`` show a failure on purpose. papermill's own command line
reports them as errors (exit 1) although nbval and JupyterLab accept them; here they are
accepted, and any other error stops the run with one line naming the notebook and the cell.
The summary reads ``{artifacts}/metrics.json``, which the notebooks fill with
``graphfreeze_helpers.course.record_metrics``.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import time
from pathlib import Path
from typing import Any, Optional

from graphfreeze_helpers.course.metrics import METRICS_FILE

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def discover(folder: Path = NOTEBOOKS) -> list[Path]:
    """``NN_*.ipynb`` in name order, without drafts (names starting with ``_``)."""
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb") if not p.name.startswith("_"))


def execute(
    notebook: Path,
    output: Path,
    parameters: Optional[dict[str, Any]] = None,
    *,
    cwd: Path = NOTEBOOKS,
    timeout: int = 600,
) -> Any:
    """Execute ``notebook`` into ``output``; raise ``NotebookRunError`` for an unexpected error."""
    from graphfreeze_helpers.course.sweep import run_notebook

    return run_notebook(notebook, output, parameters, cwd=cwd, timeout=timeout)


def failure_line(notebook: Path, output: Path, error: BaseException) -> str:
    """One line: which notebook, which cell, what error, where to look."""
    where = ""
    if hasattr(error, "cell_index"):
        first = next((line for line in str(getattr(error, "source", "")).splitlines() if line.strip()), "")
        where = f" in cell {_source_cell_number(output, error.cell_index)} (In [{error.exec_count}]: {first[:60]!r})"
        message = f"{error.ename}: {str(error.evalue).strip().splitlines()[0] if error.evalue else ''}"
    else:
        message = f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
    return f"run_notebooks: error: {notebook.name} failed{where}: {message}; see {_shown(output)}"


def _source_cell_number(output: Path, index: int) -> int:
    """Papermill counts cells in the executed copy, which has injected cells; count in the source, from 1."""
    try:
        import nbformat

        cells = nbformat.read(output, as_version=4).cells[:index]
    except Exception:  # noqa: BLE001  (no executed copy: keep papermill's count)
        return index + 1
    injected = sum("injected-parameters" in c.get("metadata", {}).get("tags", []) for c in cells)
    return index - injected + 1


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _value(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def summary(metrics: dict[str, Any]) -> list[str]:
    """The lines ``make run`` prints, from the notebooks' ``metrics.json``."""

    def get(key: str, fmt: str = "{}") -> str:
        return fmt.format(metrics[key]) if key in metrics else "not recorded"

    diffs = [metrics[k] for k in ("freeze_max_abs_diff", "load_max_abs_diff")
             if isinstance(metrics.get(k), (int, float))]
    nodes = "not recorded"
    if "nodes_before" in metrics and "nodes_after" in metrics:
        nodes = f"{metrics['nodes_before']} before, {metrics['nodes_after']} after"
        if "read_variable_ops_before" in metrics:
            nodes += (f" (ReadVariableOp {metrics['read_variable_ops_before']} -> "
                      f"{metrics.get('read_variable_ops_after', '?')})")
    lines = [
        f"  test accuracy:                      {get('test_accuracy', '{:.4f}')}",
        f"  graph nodes, freezing:              {nodes}",
        f"  frozen .pb size:                    {get('pb_bytes', '{:,} bytes')}",
        f"  largest |frozen - original| output: {f'{max(diffs):.3g}' if diffs else 'not recorded'}",
    ]
    known = {"test_accuracy", "epochs", "nodes_before", "nodes_after", "read_variable_ops_before",
             "read_variable_ops_after", "pb_bytes", "freeze_max_abs_diff", "load_max_abs_diff",
             "load_predictions_equal"}
    extra = {k: v for k, v in sorted(metrics.items()) if k not in known}
    if extra:
        lines.append("  other figures: " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                                  for k, v in extra.items()))
    return lines


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/NN_*.ipynb")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="set a notebook parameter (a Python literal, else a string); repeatable")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "executed", help="executed notebooks go here")
    parser.add_argument("--artifacts", type=Path, default=None,
                        help="artifacts_dir for every notebook (default: the notebooks' own, artifacts/)")
    args = parser.parse_args(argv)

    paths = [p for p in (args.notebooks or discover()) if not p.name.startswith("_")]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"run_notebooks: error: no such notebook: {', '.join(missing)}", file=sys.stderr)
        return 2
    if not paths:
        print("run_notebooks: error: no notebooks found under notebooks/", file=sys.stderr)
        return 2
    parameters = {name: _value(value) for name, value in args.parameter}
    artifacts = ROOT / "artifacts"
    if args.artifacts is not None:
        artifacts = args.artifacts.resolve()
        parameters["artifacts_dir"] = str(artifacts)
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / METRICS_FILE).unlink(missing_ok=True)  # figures from this run only

    width = max(len(p.stem) for p in paths)
    started = time.perf_counter()
    for index, path in enumerate(paths, 1):
        output = args.out / path.name
        print(f"[{index}/{len(paths)}] {path.stem:<{width}} ", end="", flush=True)
        start = time.perf_counter()
        try:
            execute(path.resolve(), output, parameters)
        except Exception as error:  # NotebookRunError, and kernel death, timeouts, a missing kernel
            print("FAILED", flush=True)
            print(failure_line(path, output, error), file=sys.stderr)
            return 1
        print(f"{time.perf_counter() - start:6.1f} s", flush=True)
    total = time.perf_counter() - started
    print(f"ran {len(paths)} notebook(s) in {total:.0f} s; executed copies in {_shown(args.out)}/")
    metrics_path = artifacts / METRICS_FILE
    metrics = json.loads(metrics_path.read_text()) if metrics_path.is_file() else {}
    print(f"summary ({_shown(metrics_path)}):")
    print("\n".join(summary(metrics)))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from make_report import make_report  # tools/make_report.py: HTML pages + index with the key figures

    print(f"report: {_shown(make_report(args.out, artifacts, args.out.parent / 'report'))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
