"""docs/workshop.md: its agenda covers every notebook with measured times; tools/workshop_times.py writes it."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import workshop_times  # noqa: E402

GUIDE = ROOT / "docs" / "workshop.md"


def _agenda_block() -> str:
    text = GUIDE.read_text()
    assert workshop_times.START in text and workshop_times.END in text
    return text.split(workshop_times.START, 1)[1].split(workshop_times.END, 1)[0]


def test_agenda_lists_every_notebook_in_order_with_a_measured_run_time():
    block = _agenda_block()
    listed = re.findall(r"\[(\d\d_[a-z0-9_]+)\]\(\.\./notebooks/\1\.ipynb\)", block)
    on_disk = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert listed == on_disk, "re-run: make run && python tools/workshop_times.py --update docs/workshop.md"
    rows = [line for line in block.splitlines() if line.startswith("| ") and "../notebooks/" in line]
    for row in rows:
        assert re.search(r"\| \d+ s \| \d+ min \| \d+ \| \d+ min \|$", row), row


def test_agenda_time_to_learn_matches_each_notebook():
    """The agenda repeats each notebook's own 'Time to learn' (as 00_index does); a stale copy fails here."""
    row = r"\[(\d\d_[a-z0-9_]+)\]\(\.\./notebooks/\1\.ipynb\)[^|\n]*\| \d+ s \| (\d+) min \|"
    rows = re.findall(row, _agenda_block())
    assert rows, "the agenda lost its Time to learn column"
    wrong = []
    for stem, minutes in rows:
        nb = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
        own = workshop_times.TIME_TO_LEARN.search("\n".join(c.source for c in nb.cells if c.cell_type == "markdown"))
        if not own or own[1] != minutes:
            wrong.append(f"{stem}: agenda says {minutes} min, notebook says {own[1] if own else 'nothing'}")
    assert not wrong, "re-run tools/workshop_times.py --update docs/workshop.md: " + "; ".join(wrong)


def test_guide_covers_the_set_up_routes_and_the_kit():
    text = GUIDE.read_text()
    for needed in ("pip and venv", "environment.yml", "Binder", "JupyterHub", "make student", "Common problems"):
        assert needed in text, f"docs/workshop.md must cover {needed!r}"


def _executed(folder: Path, name: str, seconds: float, learn: int, exercises: int) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"duration": seconds}
    nb.cells = [nbformat.v4.new_markdown_cell(f"# Title {name}"),
                nbformat.v4.new_markdown_cell(f"## Prerequisites\n\n- **Time to learn**: {learn} minutes")]
    nb.cells += [nbformat.v4.new_markdown_cell("### Exercise", metadata={"tags": ["exercise"]})
                 for _ in range(exercises)]
    nbformat.write(nb, folder / f"{name}.ipynb")


def test_agenda_sums_reading_exercises_and_run_time(tmp_path):
    _executed(tmp_path, "01_a", 30.0, 10, 2)  # 10 + 10 + 0.5 -> 25 min
    _executed(tmp_path, "02_b", 290.0, 3, 0)  # 3 + 0 + 4.8 -> 10 min
    rows = workshop_times.measure(tmp_path)
    assert [(r["name"], r["slot"], r["reading"], r["exercises"]) for r in rows] == [
        ("01_a", 25, 10, 2), ("02_b", 10, 3, 0)]
    table = workshop_times.agenda(rows)
    assert "| 0:00 | [01_a]" in table and "| 0:25 | [02_b]" in table and "| 290 s |" in table
    assert "Total: 0 h 35 min" in table


def test_update_rewrites_only_the_block(tmp_path):
    _executed(tmp_path, "01_a", 30.0, 10, 2)
    doc = tmp_path / "guide.md"
    doc.write_text(f"before\n{workshop_times.START}\nold\n{workshop_times.END}\nafter\n")
    assert workshop_times.main(["--executed", str(tmp_path), "--update", str(doc)]) == 0
    text = doc.read_text()
    assert text.startswith("before\n") and text.endswith("after\n") and "old" not in text and "[01_a]" in text
    assert f"on {workshop_times.machine()})" in text  # the machine is read from the system, not typed
    assert workshop_times.main(["--executed", str(tmp_path / "none")]) == 2


def test_machine_is_read_from_the_system(monkeypatch):
    import os
    import platform

    monkeypatch.setattr(os, "cpu_count", lambda: 7)
    monkeypatch.setattr(platform, "machine", lambda: "riscv64")
    monkeypatch.setattr(platform, "system", lambda: "FreeBSD")
    assert workshop_times.machine() == "riscv64 FreeBSD, 7 cores"
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert workshop_times.machine().endswith(", an unknown number of cores")
