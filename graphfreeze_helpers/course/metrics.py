"""The key figures a notebook records for ``make run``'s summary and the report.

Each notebook calls :func:`record_metrics` with the numbers it measured; they are merged into
``{artifacts_dir}/metrics.json``. ``tools/run_notebooks.py`` prints them and
``tools/make_report.py`` puts them in the report.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..files import PathLike, write_files_atomically

__all__ = ["METRICS_FILE", "record_metrics"]

METRICS_FILE = "metrics.json"


def _plain(value: object) -> object:
    """NumPy scalars and arrays, paths and tuples as JSON-ready Python values."""
    if hasattr(value, "tolist"):  # numpy scalar or array
        return value.tolist()  # type: ignore[union-attr]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"cannot record a {type(value).__name__} in {METRICS_FILE}; pass numbers, strings or lists")


def record_metrics(artifacts_dir: PathLike, **values: object) -> dict[str, object]:
    """Merge ``values`` into ``{artifacts_dir}/metrics.json`` (atomically) and return the whole record.

    A missing or unreadable file starts a new record.
    """
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
