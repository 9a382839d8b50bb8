"""graphfreeze_helpers.course.sweep: papermill runs that accept expected errors, grids, and collecting results."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from graphfreeze_helpers.course.sweep import (
    NotebookRunError,
    SweepRun,
    SweepTable,
    collect,
    parameter_grid,
    point_name,
    run_notebook,
    sweep,
)
from graphfreeze_helpers.errors import InputError


def _notebook(path: Path, *cells: tuple[str, list[str]]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for source, tags in cells:
        nb.cells.append(nbformat.v4.new_code_cell(source, metadata={"tags": tags} if tags else {}))
    nbformat.write(nb, path)
    return path


def test_grid_and_point_names():
    grid = parameter_grid(width=[8, 16], depth=[1], batch_size=[1, 32])
    assert len(grid) == 4 and grid[0] == {"width": 8, "depth": 1, "batch_size": 1}
    assert point_name(grid[-1]) == "width-16_depth-1_batch_size-32"
    with pytest.raises(InputError, match="grid axis 'depth' needs a non-empty list"):
        parameter_grid(width=[8], depth=[])


def test_run_notebook_accepts_expected_errors_only(tmp_path):
    ok = _notebook(tmp_path / "ok.ipynb", ("x = 1", ["parameters"]), ("1 / 0", ["raises-exception"]), ("y = x + 1", []))
    nb = run_notebook(ok, tmp_path / "out" / "ok.ipynb", {"x": 41})
    assert nb.cells[-1].outputs == [] and nb.cells[-1].execution_count is not None
    written = nbformat.read(tmp_path / "out" / "ok.ipynb", as_version=4)
    assert not [c for c in written.cells if "papermill-error-cell-tag" in c.metadata.get("tags", [])]
    bad = _notebook(tmp_path / "bad.ipynb", ("x = 1", []), ("raise RuntimeError('boom')", []))
    with pytest.raises(NotebookRunError, match=r"bad.ipynb failed in cell 1 \(RuntimeError"):
        run_notebook(bad, tmp_path / "out" / "bad.ipynb")
    with pytest.raises(InputError, match="does not exist"):
        run_notebook(tmp_path / "missing.ipynb", tmp_path / "out" / "m.ipynb")


def _expecting(path: Path, source: str, raises: str) -> Path:
    """A notebook whose one cell is tagged raises-exception and must raise ``raises``."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells.append(nbformat.v4.new_code_cell(
        source, metadata={"tags": ["raises-exception"], "graphfreeze": {"raises": raises}}))
    nb.cells.append(nbformat.v4.new_code_cell("after = True"))
    nbformat.write(nb, path)
    return path


def test_a_raises_exception_cell_must_raise_the_exception_its_metadata_names(tmp_path):
    right = _expecting(tmp_path / "right.ipynb", "1 / 0", "ZeroDivisionError")
    assert run_notebook(right, tmp_path / "out" / "right.ipynb").cells[-1].execution_count is not None
    wrong = _expecting(tmp_path / "wrong.ipynb", "int('x')", "ZeroDivisionError")
    with pytest.raises(NotebookRunError, match=r"ExpectedErrorMissing: the cell must raise ZeroDivisionError, but it "
                                               r"raised ValueError"):
        run_notebook(wrong, tmp_path / "out" / "wrong.ipynb")
    silent = _expecting(tmp_path / "silent.ipynb", "x = 1", "OSError")
    with pytest.raises(NotebookRunError, match="must raise OSError, but it raised nothing") as caught:
        run_notebook(silent, tmp_path / "out" / "silent.ipynb")
    assert caught.value.cell_index == 0


def test_sweep_runs_a_chain_per_point_with_its_own_artifacts(tmp_path):
    nb = _notebook(
        tmp_path / "01_write.ipynb",
        ("width = 1\nartifacts_dir = ''", ["parameters"]),
        ("import json, pathlib\n"
         "pathlib.Path(artifacts_dir, 'metrics.json').write_text(json.dumps({'w2': width * 2}))", []),
    )
    runs = sweep([(nb, lambda p, a: {"width": p["width"], "artifacts_dir": str(a)})],
                 parameter_grid(width=[3, 5]), tmp_path / "sweep", progress=False)
    assert [r.folder.name for r in runs] == ["width-3", "width-5"]
    assert [row["w2"] for row in collect(runs)] == [6, 10]
    assert (tmp_path / "sweep" / "width-5" / "01_write.ipynb").is_file()


def test_collect_reads_sidecars_and_benchmark_rows(tmp_path):
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    (artifacts / "metrics.json").write_text(json.dumps({"test_accuracy": 0.5}))
    (artifacts / "g.pb").write_bytes(b"")
    (artifacts / "g.json").write_text(json.dumps({"nodes": 32, "bytes": 5125, "sha256": "x"}))
    (artifacts / "latency_bench.json").write_text(json.dumps({
        "rows": [{"contender": "frozen", "batch": 1, "median_us": 250.0}, {"contender": "frozen", "batch": 32}],
        "settings": {"budget": 1.0}}))
    (row,) = collect([SweepRun({"width": 8}, tmp_path, artifacts, seconds=1.234)])
    assert row == {"width": 8, "seconds": 1.23, "test_accuracy": 0.5, "g.nodes": 32, "g.bytes": 5125,
                   "median_us.frozen.b1": 250.0, "latency_bench.settings.budget": 1.0}
    (empty,) = collect([SweepRun({"width": 8}, tmp_path, tmp_path / "none")])
    assert empty == {"width": 8, "seconds": 0.0}


def test_table_shows_text_html_and_csv(tmp_path):
    table = SweepTable([{"parameters": 1234, "bytes": 5.0}, {"parameters": 20000}], ["parameters", "bytes"])
    assert repr(table).splitlines() == ["parameters  bytes", "     1,234      5", "    20,000      -"]
    assert "<th>parameters</th>" in table._repr_html_()
    path = table.to_csv(tmp_path / "t.csv")
    assert path.read_text() == "parameters,bytes\n1234,5.0\n20000,\n"
    with pytest.raises(InputError):
        table.to_csv(tmp_path / "t.csv")  # no silent overwrite
    fig = table.plot("parameters", {"bytes": "size"})
    assert len(fig.axes) == 1 and fig.axes[0].get_xscale() == "log"
