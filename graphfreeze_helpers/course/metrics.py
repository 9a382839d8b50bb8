"""The key figures a notebook records for ``make run``'s summary and the report.

Each notebook calls :func:`record_metrics` with the numbers it measured, on one line:

    record_metrics(artifacts, "optimize", nodes_before=result.nodes_before, max_abs_diff=difference)

They are merged into ``{artifacts_dir}/metrics.json`` (here as ``optimize_nodes_before`` and
``optimize_max_abs_diff``), floats kept to 4 significant digits. ``tools/run_notebooks.py``
prints them and ``tools/make_report.py`` puts them in the report. :func:`latency_metrics`
names the batch-1 figures of a benchmark the way the report expects them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..bench import BenchResult
from ..files import PathLike, write_files_atomically

__all__ = ["METRICS_FILE", "latency_metrics", "record_metrics"]

METRICS_FILE = "metrics.json"
SIGNIFICANT_DIGITS = 4


def _plain(value: object) -> object:
    """NumPy scalars and arrays, paths and tuples as JSON-ready Python values."""
    if hasattr(value, "tolist"):  # numpy scalar or array
        return value.tolist()  # type: ignore[union-attr]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"cannot record a {type(value).__name__} in {METRICS_FILE}; pass numbers, strings or lists")


def _rounded(value: object) -> object:
    """A float (NumPy's too) to :data:`SIGNIFICANT_DIGITS` significant digits; anything else as it is."""
    if isinstance(value, float) or (hasattr(value, "dtype") and getattr(value, "ndim", 1) == 0
                                    and getattr(value.dtype, "kind", "") == "f"):  # type: ignore[attr-defined]
        return float(f"{float(value):.{SIGNIFICANT_DIGITS}g}")  # type: ignore[arg-type]
    return value


def record_metrics(artifacts_dir: PathLike, prefix: str = "", **values: object) -> dict[str, object]:
    """Merge ``values`` into ``{artifacts_dir}/metrics.json`` (atomically) and return the whole record.

    ``prefix`` (``"optimize"``) is put before each name (``optimize_nodes_before``); floats are
    kept to 4 significant digits. A missing or unreadable file starts a new record.
    """
    head = f"{prefix}_" if prefix else ""
    values = {head + name: _rounded(value) for name, value in values.items()}
    folder = Path(artifacts_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / METRICS_FILE
    record: dict[str, object] = {}
    if path.is_file():
        try:
            loaded = json.loads(path.read_text())
            if isinstance(loaded, dict):
                record = loaded
        except (OSError, ValueError):
            record = {}
    record.update(json.loads(json.dumps(values, default=_plain)))
    text = json.dumps(record, indent=2, sort_keys=True) + "\n"
    write_files_atomically({path: text.encode()}, force=True)
    return record


def latency_metrics(result: BenchResult, baseline: str = "tf_function", batch: int = 1) -> dict[str, float]:
    """A benchmark's figures at ``batch`` as the report names them: the frozen graph's median µs, and ratios.

    ``latency_us_frozen_b1``, ``latency_us_tf_function_b1``, ``latency_frozen_over_tf_function_b1``,
    and, for the contenders that ran, ``latency_prune_over_frozen_b1`` and
    ``latency_predict_over_tf_function_b1``.
    """
    tail = f"_b{batch}"
    figures = {f"latency_us_frozen{tail}": result.median("frozen", batch),
               f"latency_us_{baseline}{tail}": result.median(baseline, batch),
               f"latency_frozen_over_{baseline}{tail}": result.ratio("frozen", baseline, batch)}
    if "frozen_prune" in result.contenders:
        figures[f"latency_prune_over_frozen{tail}"] = result.ratio("frozen_prune", "frozen", batch)
    if "keras_predict" in result.contenders:
        figures[f"latency_predict_over_{baseline}{tail}"] = result.ratio("keras_predict", baseline, batch)
    return figures
