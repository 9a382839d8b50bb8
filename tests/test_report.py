"""tools/make_report.py: the HTML report that ``make run`` ends with."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import make_report  # noqa: E402

# a 1x1 PNG
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5fa8f1b0000000049454e44ae426082"
)).decode()


def executed_notebook(title: str, *, figure: bool = True, seconds: float = 1.5) -> nbformat.NotebookNode:
    """A small notebook as papermill leaves it: outputs, per-run duration, one expected error."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"duration": seconds}
    code = nbformat.v4.new_code_cell("1 + 1", execution_count=1)
    code.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=1)]
    failing = nbformat.v4.new_code_cell("1 / 0", execution_count=2, metadata={"tags": ["raises-exception"]})
    failing.outputs = [nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                                              traceback=["ZeroDivisionError: division by zero"])]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\nOne sentence."), code, failing]
    if figure:
        plot = nbformat.v4.new_code_cell("plot()", execution_count=3)
        plot.outputs = [nbformat.v4.new_output("display_data", {"image/png": PNG, "text/plain": "<Figure>"})]
        nb.cells.append(plot)
    return nb


def write_run(folder: Path) -> tuple[Path, Path]:
    executed, artifacts = folder / "executed", folder / "artifacts"
    executed.mkdir()
    artifacts.mkdir()
    nbformat.write(executed_notebook("Train a small model"), executed / "01_train_small_model.ipynb")
    nbformat.write(executed_notebook("Freeze the graph", figure=False, seconds=2.25),
                   executed / "02_freeze_the_graph.ipynb")
    (executed / "notes.ipynb").write_text("{}")  # not NN_*: ignored
    (artifacts / "metrics.json").write_text(json.dumps({"test_accuracy": 0.9276, "pb_bytes": 28252, "custom": 1.5}))
    return executed, artifacts


def test_report_links_every_notebook_and_shows_key_figures(tmp_path):
    executed, artifacts = write_run(tmp_path)
    index = make_report.make_report(executed, artifacts, tmp_path / "report")
    text = index.read_text()
    assert index == tmp_path / "report" / "index.html"
    assert 'href="01_train_small_model.html"' in text and 'href="02_freeze_the_graph.html"' in text
    assert "notes" not in text
    assert "Train a small model" in text and "3.8 s" not in text and "in 4 s" in text  # 1.5 + 2.25
    assert "test accuracy" in text and "0.9276" in text and "28,252" in text and "custom" in text
    assert text.index("test accuracy") < text.index("custom")  # key figures first
    assert 'src="figures/01_train_small_model.png"' in text and "02_freeze_the_graph.png" not in text
    assert (tmp_path / "report" / "figures" / "01_train_small_model.png").read_bytes()[:4] == b"\x89PNG"
    page = (tmp_path / "report" / "01_train_small_model.html").read_text()
    assert "ZeroDivisionError" in page and "<html" in page.lower()


def test_report_without_metrics_says_so(tmp_path):
    executed, artifacts = write_run(tmp_path)
    (artifacts / "metrics.json").unlink()
    text = make_report.make_report(executed, artifacts, tmp_path / "report").read_text()
    assert "metrics.json was not written" in text


def test_command_without_executed_notebooks_fails_in_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "make_report.py"), "--executed", str(tmp_path / "none"),
         "--out", str(tmp_path / "report")], capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("make_report: error: no executed notebooks in")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "report").exists()
