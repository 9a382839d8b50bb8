"""The course helpers that keep a notebook's setup, validation and metrics to a few lines.

- ``start_tensorflow`` returns TensorFlow after the version check; with ``short_tracebacks=True``
  an error in a kernel shows as its type, message and the one notebook line that raised it,
  and is still an error that papermill and nbval see;
- the rules ``fraction``, ``contains``, ``optional_model`` and ``optional_graph``;
- ``record_metrics`` with a prefix and rounding, and ``latency_metrics``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from graphfreeze_helpers.bench import BenchResult, BenchRow
from graphfreeze_helpers.course import (
    contains,
    fraction,
    latency_metrics,
    optional_graph,
    optional_model,
    record_metrics,
    start_tensorflow,
)

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_start_tensorflow_returns_tensorflow_at_the_tested_version():
    from graphfreeze_helpers.tfimport import SUPPORTED

    tf = start_tensorflow()
    assert tf.__name__ == "tensorflow" and tf.__version__.startswith(SUPPORTED["tensorflow"])


def test_short_tracebacks_show_the_error_and_the_notebook_line_only():
    """A kernel: an error raised three calls deep shows as one frame; the cell still fails with its ename."""
    import nbclient

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("from graphfreeze_helpers.course.kernel import show_short_tracebacks\n"
                                  "show_short_tracebacks()"),
        nbformat.v4.new_code_cell("import json\n\nbad = '{broken'\njson.loads(bad)"),
        nbformat.v4.new_code_cell("def outer():\n    try:\n        {}['key']\n    except KeyError as e:\n"
                                  "        raise ValueError('no key') from e\n\nouter()"),
        nbformat.v4.new_code_cell("print('still running')"),
    ]
    nbclient.NotebookClient(nb, allow_errors=True, kernel_name="python3", timeout=60).execute()
    errors = [[o for o in cell.outputs if o.output_type == "error"] for cell in nb.cells]
    assert errors[0] == [] and errors[3] == []
    json_error, value_error = errors[1][0], errors[2][0]
    assert json_error.ename == "JSONDecodeError" and "Expecting property name" in json_error.evalue
    assert value_error.ename == "ValueError" and value_error.evalue == "no key"
    text = ANSI.sub("", "\n".join(json_error.traceback))
    assert "----> 4 json.loads(bad)" in text
    assert "json/decoder.py" not in text and "json/__init__.py" not in text, text  # library frames are left out
    assert len(text.splitlines()) <= 10, text
    chained = ANSI.sub("", "\n".join(value_error.traceback))
    assert "KeyError:" not in chained and "raise ValueError('no key') from e" in chained, chained  # no chained error
    assert nb.cells[3].outputs[0].text == "still running\n"


def test_fraction_and_contains():
    fraction().check("tolerance", 1e-5)
    with pytest.raises(ValueError, match=r"^tolerance must be above 0 and below 1, got 1$"):
        fraction().check("tolerance", 1)
    contains(1).check("batch_sizes", [1, 8])
    with pytest.raises(ValueError, match=r"^batch_sizes must include 1, got \[8\]$"):
        contains(1).check("batch_sizes", [8])


def test_optional_model_and_graph(tmp_path: Path):
    model, graph = tmp_path / "m.keras", tmp_path / "g.pb"
    model.write_bytes(b"x")
    graph.write_bytes(b"x")
    for value in ("", str(model), str(tmp_path)):
        optional_model().check("model_path", value)
    for value in ("", str(graph)):
        optional_graph().check("graph_path", value)
    with pytest.raises(ValueError, match=r"^model_path 'no.keras' does not exist; give a .keras/.h5 file"):
        optional_model().check("model_path", "no.keras")
    with pytest.raises(ValueError, match=r"^model_path must not be a .pb graph, which is already frozen"):
        optional_model().check("model_path", str(graph))
    with pytest.raises(ValueError, match=r"is not a file; give a frozen .pb, or leave it empty"):
        optional_graph().check("graph_path", str(tmp_path))


def test_record_metrics_prefixes_names_and_rounds_floats(tmp_path: Path):
    import numpy as np

    record = record_metrics(tmp_path, "optimize", nodes_before=52, max_abs_diff=np.float32(1.234567e-7), ok=True)
    assert record == {"optimize_nodes_before": 52, "optimize_max_abs_diff": 1.235e-07, "optimize_ok": True}
    record_metrics(tmp_path, test_accuracy=0.98611111)
    assert json.loads((tmp_path / "metrics.json").read_text())["test_accuracy"] == 0.9861


def test_latency_metrics_names_the_batch_one_figures():
    def row(name: str, median: float) -> BenchRow:
        return BenchRow(name, 1, median, median, median, 0.0, median, 10)

    result = BenchResult([row("tf_function", 200.0), row("frozen", 150.0), row("frozen_prune", 300.0)])
    assert latency_metrics(result) == {
        "latency_us_frozen_b1": 150.0, "latency_us_tf_function_b1": 200.0,
        "latency_frozen_over_tf_function_b1": 0.75, "latency_prune_over_frozen_b1": 2.0,
    }
