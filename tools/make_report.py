"""Turn the executed notebooks of ``make run`` into an HTML report.

    python tools/make_report.py                       build/executed + artifacts -> build/report/
    python tools/make_report.py --executed DIR --artifacts DIR --out DIR

The report is ``index.html`` plus one page per notebook (nbconvert's HTML, images inline)
and ``figures/``: the last figure each notebook drew, shown on the index. The index also
lists each notebook's run time (papermill's per-cell durations), its expected errors
(cells tagged ``raises-exception``) and the key figures from ``metrics.json``.
``tools/run_notebooks.py`` calls :func:`make_report` when every notebook has run.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graphfreeze_helpers.files import write_files_atomically  # noqa: E402

# The figures make run's summary prints first, then everything else in metrics.json.
KEY_FIGURES = {
    "test_accuracy": "test accuracy",
    "nodes_before": "graph nodes before freezing",
    "nodes_after": "graph nodes after freezing",
    "pb_bytes": "frozen .pb size (bytes)",
    "freeze_max_abs_diff": "largest |frozen - original| output",
    "load_max_abs_diff": "largest |loaded - original| output",
}


@dataclass
class Page:
    """One executed notebook in the report."""

    name: str
    title: str
    html_file: str
    seconds: float
    code_cells: int
    expected_errors: int
    figure: Optional[str]


def _title(nb: Any, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def _seconds(nb: Any) -> float:
    """The notebook's run time: papermill's total duration, else the sum of its cells'."""
    total = nb.metadata.get("papermill", {}).get("duration")
    if isinstance(total, (int, float)):
        return float(total)
    return float(sum(c.get("metadata", {}).get("papermill", {}).get("duration") or 0 for c in nb.cells))


def _last_png(nb: Any) -> Optional[bytes]:
    last = None
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {}) if output.get("output_type") in ("display_data", "execute_result") else {}
            if "image/png" in data:
                last = data["image/png"]
    if last is None:
        return None
    return base64.b64decode(last if isinstance(last, str) else "".join(last))


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return html.escape(str(value))


def make_report(executed_dir: str | Path, artifacts_dir: str | Path, out_dir: str | Path) -> Path:
    """Write the report for the notebooks in ``executed_dir``; return the path of ``index.html``."""
    import nbformat
    from nbconvert import HTMLExporter

    executed_dir, out_dir = Path(executed_dir), Path(out_dir)
    notebooks = sorted(executed_dir.glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no executed notebooks in {executed_dir}; run `make run` first")
    exporter = HTMLExporter(template_name="lab")
    files: dict[Path, bytes] = {}
    pages = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": _title(nb, path.stem)}})
        files[out_dir / f"{path.stem}.html"] = body.encode()
        png = _last_png(nb)
        figure = f"figures/{path.stem}.png" if png else None
        if png:
            files[out_dir / figure] = png
        code = [c for c in nb.cells if c.cell_type == "code"]
        pages.append(Page(
            name=path.stem, title=_title(nb, path.stem), html_file=f"{path.stem}.html", seconds=_seconds(nb),
            code_cells=len(code),
            expected_errors=sum("raises-exception" in c.get("metadata", {}).get("tags", []) for c in code),
            figure=figure,
        ))
    metrics_path = Path(artifacts_dir) / "metrics.json"
    try:
        metrics = json.loads(metrics_path.read_text())
    except (OSError, ValueError):
        metrics = {}
    files[out_dir / "index.html"] = index_html(pages, metrics if isinstance(metrics, dict) else {}).encode()
    for folder in {path.parent for path in files}:
        folder.mkdir(parents=True, exist_ok=True)
    write_files_atomically(files, force=True)  # a report is rebuilt on every run
    for path in files:
        path.chmod(0o644)  # readable like any build output (temporary files are created 0600)
    return out_dir / "index.html"


def index_html(pages: list[Page], metrics: dict[str, Any]) -> str:
    rows = "\n".join(
        f'<tr><td><a class="notebook" href="{html.escape(p.html_file)}">{html.escape(p.name)}</a></td>'
        f"<td>{html.escape(p.title)}</td><td class=\"num\">{p.seconds:.1f}</td><td class=\"num\">{p.code_cells}</td>"
        f"<td class=\"num\">{p.expected_errors}</td></tr>"
        for p in pages
    )
    ordered = [k for k in KEY_FIGURES if k in metrics] + sorted(k for k in metrics if k not in KEY_FIGURES)
    figures = "\n".join(
        f'<tr><td>{html.escape(KEY_FIGURES.get(k, k))}</td><td><code>{html.escape(k)}</code></td>'
        f'<td class="num">{_format(metrics[k])}</td></tr>'
        for k in ordered
    ) or '<tr><td colspan="3">metrics.json was not written: no key figures recorded.</td></tr>'
    gallery = "\n".join(
        f'<figure><a href="{html.escape(p.html_file)}"><img class="key-figure" src="{html.escape(p.figure)}" '
        f'alt="last figure of {html.escape(p.name)}"></a><figcaption>{html.escape(p.title)}</figcaption></figure>'
        for p in pages if p.figure
    )
    total = sum(p.seconds for p in pages)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>graphfreeze: notebook report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }}
table {{ border-collapse: collapse; margin-bottom: 1.5em; }}
td, th {{ border-bottom: 1px solid #ddd; padding: 0.3em 0.8em; text-align: left; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.gallery {{ display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }}
figure {{ margin: 0; width: 20em; }} figure img {{ width: 100%; border: 1px solid #ddd; }}
figcaption {{ font-size: 0.9em; color: #555; }}
</style></head>
<body>
<h1>graphfreeze: notebook report</h1>
<p>{len(pages)} notebooks executed headless by <code>make run</code> in {total:.0f} s.
Cells tagged <code>raises-exception</code> fail on purpose; every other cell ran without error.</p>
<h2>Notebooks</h2>
<table id="notebooks"><tr><th>notebook</th><th>title</th><th>seconds</th><th>code cells</th>
<th>expected errors</th></tr>
{rows}
</table>
<h2>Key figures</h2>
<table id="key-figures"><tr><th>figure</th><th>metrics.json key</th><th>value</th></tr>
{figures}
</table>
<h2>Plots</h2>
<div class="gallery">
{gallery}
</div>
</body></html>
"""


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executed", type=Path, default=ROOT / "build" / "executed")
    parser.add_argument("--artifacts", type=Path, default=ROOT / "artifacts")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "report")
    args = parser.parse_args(argv)
    try:
        index = make_report(args.executed, args.artifacts, args.out)
    except FileNotFoundError as error:
        print(f"make_report: error: {error}", file=sys.stderr)
        return 2
    print(f"report: {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
