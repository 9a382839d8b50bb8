"""Run the notebooks as parameterized jobs with papermill, and collect what they measured.

``run_notebook`` is ``papermill.execute_notebook`` that accepts the errors a notebook raises
on purpose: papermill 2.6 fails a run whenever a cell shows an error, even a cell tagged
``raises-exception`` (which nbclient runs past). We re-read the executed copy and fail only
if an error sits in a cell without that tag.

``sweep`` runs a chain of notebooks (train -> freeze -> benchmark) for every point of a
grid, each point with its own artifacts folder, and ``collect`` reads back each point's
``metrics.json``, the ``.pb`` sidecar and the benchmark results into one table.

papermill and nbformat are development dependencies: they are imported when called.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from .errors import InputError

BANNER_TAG = "papermill-error-cell-tag"


class NotebookRunError(InputError):
    """A notebook failed in a cell that is not expected to raise."""


def unexpected_errors(nb: Any) -> list[tuple[int, str]]:
    """``(cell index, "Type: message")`` of every error output in a cell not tagged ``raises-exception``."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code" or "raises-exception" in cell.get("metadata", {}).get("tags", []):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append((index, f"{output.get('ename')}: {str(output.get('evalue', '')).splitlines()[:1]}"))
    return found


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

    Errors in cells tagged ``raises-exception`` are expected; any other raises
    :class:`NotebookRunError` naming the cell and the error. ``cwd`` defaults to the
    notebook's folder, as the notebooks expect.
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    notebook, output = Path(notebook), Path(output)
    if not notebook.is_file():
        raise InputError(f"notebook {str(notebook)!r} does not exist")
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        return papermill.execute_notebook(
            str(notebook), str(output), parameters=dict(parameters or {}), cwd=str(cwd or notebook.parent),
            kernel_name=kernel_name, progress_bar=False, execution_timeout=timeout,
        )
    except PapermillExecutionError as error:
        nb = nbformat.read(output, as_version=4)
        banner_free = [c for c in nb.cells if BANNER_TAG not in c.get("metadata", {}).get("tags", [])]
        nb.cells = banner_free
        bad = unexpected_errors(nb)
        nbformat.write(nb, output)
        if bad or any(c.get("metadata", {}).get("papermill", {}).get("exception") and
                      "raises-exception" not in c.get("metadata", {}).get("tags", []) for c in nb.cells):
            where = bad[0] if bad else (error.cell_index, f"{error.ename}: {error.evalue}")
            raise NotebookRunError(
                f"{notebook.name} failed in cell {where[0]} ({where[1]}); the executed copy is {output}"
            ) from None
        return nb


def parameter_grid(**axes: Sequence[Any]) -> list[dict[str, Any]]:
    """Every combination of the given values: ``parameter_grid(width=[8, 16], depth=[1])``."""
    names = list(axes)
    for name, values in axes.items():
        if isinstance(values, (str, bytes)) or not list(values):
            raise InputError(f"grid axis {name!r} needs a non-empty list of values, got {values!r}")
    return [dict(zip(names, combo)) for combo in itertools.product(*(list(axes[n]) for n in names))]


def point_name(point: Mapping[str, Any]) -> str:
    """A folder name for one grid point: ``width=8_depth=1_batch_size=32``."""
    return "_".join(f"{key}={value}" for key, value in point.items())


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

    from tqdm.auto import tqdm

    points = [dict(p) for p in grid]
    out_dir = Path(out_dir)
    runs = []
    bar = tqdm(total=len(points) * len(chain), desc="sweep", unit="notebook", disable=not progress)
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

    Keys from the sidecar of ``X.pb`` are prefixed ``X.`` (``digits_cnn.nodes``); a
    benchmark JSON (any ``*bench*.json``) is flattened the same way. Missing files give
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
            for key, value in _flatten(_read_json(bench)).items():
                row.setdefault(f"{bench.stem}.{key}", value)
        rows.append(row)
    return rows


def _flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, name + "."))
        elif isinstance(value, (int, float, str, bool)) or value is None:
            flat[name] = value
    return flat
