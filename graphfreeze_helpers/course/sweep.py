"""Run the notebooks as parameterized jobs with papermill, and collect what they measured.

``run_notebook`` is ``papermill.execute_notebook`` that requires the errors a notebook raises
on purpose: papermill 2.7 fails a run whenever a cell shows an error, even a cell tagged
``raises-exception`` (which nbclient runs past), so its final check is swapped for one that
requires each such cell to raise the exception its metadata names
(``{"graphfreeze": {"raises": "OSError"}}``) and fails on any other error. ``make run``,
``make sweep`` and the notebook tests all run through it.

``sweep`` runs a chain of notebooks (train -> freeze -> benchmark) for every point of a
grid, each point with its own artifacts folder, and ``collect`` reads back each point's
``metrics.json``, the ``.pb`` sidecar and the benchmark results into one table.

papermill and nbformat are development dependencies: they are imported when called.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, Sequence

from ..errors import InputError
from ..files import write_files_atomically
from ..formatting import progress_bar
from ..freeze import load_model

EXPECTED_ERROR_TAG = "raises-exception"


def expected_error(cell: Any) -> str:
    """The exception class name a cell tagged ``raises-exception`` must raise (``""``: any error, or none)."""
    return str(cell.get("metadata", {}).get("graphfreeze", {}).get("raises", ""))


class NotebookRunError(InputError):
    """A notebook failed in a cell that is not expected to raise.

    ``cell_index`` counts cells in the executed copy (papermill adds one for the injected
    parameters); ``ename``/``evalue`` are the error's type and message.
    """

    def __init__(self, message: str, *, cell_index: int = -1, exec_count: Any = None, source: str = "",
                 ename: str = "", evalue: str = "") -> None:
        super().__init__(message)
        self.cell_index, self.exec_count, self.source = cell_index, exec_count, source
        self.ename, self.evalue = ename, evalue


def _raise_for_unexpected_errors(nb: Any, output_path: Any) -> None:
    """papermill's end-of-run check, except that cells tagged ``raises-exception`` must raise their exception."""
    from papermill.exceptions import PapermillExecutionError

    for index, cell in enumerate(nb.cells):
        if EXPECTED_ERROR_TAG in cell.get("metadata", {}).get("tags", []):
            expected = expected_error(cell)
            raised = [o.ename for o in cell.get("outputs", []) if o.output_type == "error"]
            ran = cell.get("execution_count") is not None
            if expected and ran and expected not in raised:
                raise PapermillExecutionError(
                    cell_index=index, exec_count=cell.execution_count, source=cell.source,
                    ename="ExpectedErrorMissing",
                    evalue=f"the cell must raise {expected}, but it raised {', '.join(raised) or 'nothing'}",
                    traceback=[],
                )
            continue
        for output in cell.get("outputs", []):
            if output.output_type == "error" and not (output.ename == "SystemExit" and output.evalue in ("", "0")):
                raise PapermillExecutionError(
                    cell_index=index, exec_count=cell.execution_count, source=cell.source,
                    ename=output.ename, evalue=output.evalue, traceback=output.traceback,
                )
        if cell.get("metadata", {}).get("papermill", {}).get("exception") is True:
            raise PapermillExecutionError(
                cell_index=index, exec_count=cell.execution_count, source=cell.source,
                ename="CellExecutionError", evalue="the cell failed without an error output", traceback=[],
            )


@contextlib.contextmanager
def _expected_errors_allowed() -> Iterator[None]:
    import papermill.execute

    original = papermill.execute.raise_for_execution_errors
    papermill.execute.raise_for_execution_errors = _raise_for_unexpected_errors
    try:
        yield
    finally:
        papermill.execute.raise_for_execution_errors = original


def run_notebook(
    notebook: str | Path,
    output: str | Path,
    parameters: Optional[Mapping[str, Any]] = None,
    *,
    cwd: Optional[str | Path] = None,
    kernel_name: str = "python3",
    timeout: int = 600,
) -> Any:
    """Execute ``notebook`` into ``output`` with papermill; return the executed notebook node.

    Errors in cells tagged ``raises-exception`` are expected (nbclient runs past them, and
    papermill's final check is told to accept them), and such a cell must raise the exception
    its metadata names; the first error in any other cell stops the run and raises
    :class:`NotebookRunError` naming the cell and the error.
    ``cwd`` defaults to the notebook's folder, as the notebooks expect.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    notebook, output = Path(notebook), Path(output)
    if not notebook.is_file():
        raise InputError(f"notebook {str(notebook)!r} does not exist")
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        with _expected_errors_allowed():
            return papermill.execute_notebook(
                str(notebook), str(output), parameters=dict(parameters or {}), cwd=str(cwd or notebook.parent),
                kernel_name=kernel_name, progress_bar=False, log_output=False, execution_timeout=timeout,
                # The kernel's own log holds only noise here: "running over TCP without encryption" at
                # start (the kernel is local) and "KeyboardInterrupt caught in kernel" at shutdown
                # (jupyter_client interrupts every kernel it stops). Cell errors still come back as errors.
                extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
            )
    except PapermillExecutionError as error:
        first = str(error.evalue).strip().splitlines()[:1]
        raise NotebookRunError(
            f"{notebook.name} failed in cell {error.cell_index} ({error.ename}: {first[0] if first else ''}); "
            f"the executed copy is {output}",
            cell_index=error.cell_index, exec_count=error.exec_count, source=error.source,
            ename=error.ename, evalue=error.evalue,
        ) from None


def parameter_grid(**axes: Sequence[Any]) -> list[dict[str, Any]]:
    """Every combination of the given values: ``parameter_grid(width=[8, 16], depth=[1])``."""
    names = list(axes)
    for name, values in axes.items():
        if isinstance(values, (str, bytes)) or not list(values):
            raise InputError(f"grid axis {name!r} needs a non-empty list of values, got {values!r}")
    return [dict(zip(names, combo)) for combo in itertools.product(*(list(axes[n]) for n in names))]


def point_name(point: Mapping[str, Any]) -> str:
    """A folder name for one grid point: ``width-8_depth-1_batch_size-32``."""
    return "_".join(f"{key}-{value}" for key, value in point.items())


@dataclass
class SweepRun:
    """One grid point: its parameters, where its executed notebooks and artifacts are."""

    point: dict[str, Any]
    folder: Path
    artifacts: Path
    executed: list[Path] = field(default_factory=list)
    seconds: float = 0.0


def sweep(
    chain: Sequence[tuple[str | Path, Callable[[Mapping[str, Any], Path], Mapping[str, Any]]]],
    grid: Iterable[Mapping[str, Any]],
    out_dir: str | Path,
    *,
    progress: bool = True,
) -> list[SweepRun]:
    """Run each notebook of ``chain`` for every grid point, in order, into ``out_dir/<point>/``.

    ``chain`` pairs a notebook path with a function ``(point, artifacts_dir) -> parameters``
    that maps the grid point onto that notebook's own parameter names. Every point gets its
    own ``artifacts`` folder, so the notebooks of one point see each other's files and no
    other point's.
    """
    import time

    points = [dict(p) for p in grid]
    out_dir = Path(out_dir)
    runs = []
    bar = progress_bar(total=len(points) * len(chain), desc="sweep", unit="notebook", disable=not progress)
    try:
        for point in points:
            folder = out_dir / point_name(point)
            run = SweepRun(point, folder, folder / "artifacts")
            run.artifacts.mkdir(parents=True, exist_ok=True)
            start = time.perf_counter()
            for notebook, to_parameters in chain:
                notebook = Path(notebook)
                bar.set_postfix_str(f"{notebook.stem} {point_name(point)}")
                target = folder / notebook.name
                run_notebook(notebook, target, to_parameters(point, run.artifacts.resolve()))
                run.executed.append(target)
                bar.update(1)
            run.seconds = time.perf_counter() - start
            runs.append(run)
    finally:
        bar.close()
    return runs


def _read_json(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def collect(runs: Sequence[SweepRun]) -> list[dict[str, Any]]:
    """One flat row per run: the point, then ``metrics.json``, the ``.pb`` sidecars and benchmark JSON.

    Keys from the sidecar of ``X.pb`` are prefixed ``X.`` (``digits_cnn_frozen.nodes``); a
    benchmark JSON (any ``*bench*.json``) gives ``median_us.<contender>.b<batch>`` for each of
    its ``rows`` and its other fields flattened under its own name. Missing files give
    missing keys, never an error: a table with holes still shows what ran.
    """
    rows = []
    for run in runs:
        row: dict[str, Any] = dict(run.point)
        row["seconds"] = round(run.seconds, 2)
        row.update(_read_json(run.artifacts / "metrics.json"))
        for pb in sorted(run.artifacts.glob("**/*.pb")):
            if pb.name == "saved_model.pb":
                continue
            sidecar = _read_json(pb.with_suffix(".json"))
            for key in ("nodes", "bytes", "max_abs_diff"):
                if key in sidecar:
                    row[f"{pb.stem}.{key}"] = sidecar[key]
        for bench in sorted(run.artifacts.glob("**/*bench*.json")):
            record = _read_json(bench)
            for result in record.get("rows", []) if isinstance(record.get("rows"), list) else []:
                if isinstance(result, Mapping) and {"contender", "batch", "median_us"} <= set(result):
                    row[f"median_us.{result['contender']}.b{result['batch']}"] = result["median_us"]
            for key, value in _flatten({k: v for k, v in record.items() if k != "rows"}).items():
                row.setdefault(f"{bench.stem}.{key}", value)
        rows.append(row)
    return rows


def count_parameters(model_path: str | Path) -> int:
    """The number of weights (trainable or not) of a saved ``.keras``/``.h5`` model."""
    return int(load_model(model_path).count_params())


def _flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, name + "."))
        elif isinstance(value, (int, float, str, bool)) or value is None:
            flat[name] = value
    return flat


@dataclass
class SweepTable:
    """The collected sweep results: one row per grid point, the chosen columns in order."""

    rows: list[dict[str, Any]]
    columns: list[str]

    def column(self, name: str) -> list[Any]:
        return [row.get(name) for row in self.rows]

    def _cells(self) -> list[list[str]]:
        def show(value: Any) -> str:
            if value is None:
                return "-"
            if isinstance(value, float):
                return f"{value:.4g}"
            if isinstance(value, int) and not isinstance(value, bool):
                return f"{value:,}"
            return str(value)

        return [[show(row.get(c)) for c in self.columns] for row in self.rows]

    def __repr__(self) -> str:
        cells = self._cells()
        widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(self.columns)]
        lines = ["  ".join(c.rjust(w) for c, w in zip(self.columns, widths))]
        lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in cells]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f'<td style="text-align:right">{html.escape(v)}</td>' for v in r) + "</tr>"
            for r in self._cells()
        )
        return f"<table><tr>{head}</tr>{body}</table>"

    def to_csv(self, path: str | Path, *, force: bool = False) -> Path:
        """Write the table (raw values, all columns chosen) as CSV, atomically."""
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.columns)
        writer.writerows([["" if row.get(c) is None else row.get(c) for c in self.columns] for row in self.rows])
        write_files_atomically({Path(path): buffer.getvalue().encode()}, force=force)
        return Path(path)

    def plot(self, x: str, ys: Mapping[str, str], *, group: Optional[str] = None) -> Any:
        """One panel per ``ys`` entry (column -> axis label) against ``x``, log-log, a line per ``group``."""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, len(ys), figsize=(4.2 * len(ys), 3.4), squeeze=False)
        groups = sorted({row.get(group) for row in self.rows}, key=str) if group else [None]
        for ax, (column, label) in zip(axes[0], ys.items()):
            for value in groups:
                points = sorted(
                    (row[x], row[column]) for row in self.rows
                    if (group is None or row.get(group) == value) and row.get(x) is not None
                    and row.get(column) is not None
                )
                if points:
                    ax.plot(*zip(*points), marker="o", label=f"{group}={value}" if group else None)
            ax.set(xlabel=x.replace("_", " "), ylabel=label, xscale="log", yscale="log")
            ax.grid(True, which="both", alpha=0.3)
            if group and len(groups) > 1:
                ax.legend(fontsize="small")
        fig.tight_layout()
        return fig
