"""Write the workshop agenda from measured run times: papermill's durations of executed notebooks.

    python tools/workshop_times.py                      print the agenda table (build/executed/)
    python tools/workshop_times.py --update docs/workshop.md   replace the table between the markers

For each notebook: its run time as papermill measured it (``make run`` leaves the executed
copies in ``build/executed/``), its "Time to learn" from its Prerequisites section, and its
number of exercises. The slot is reading time plus 5 minutes an exercise plus the run time,
rounded up to 5 minutes; the table says so, so a facilitator can redo the sum.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import re
import sys
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- agenda:start (tools/workshop_times.py writes this table) -->", "<!-- agenda:end -->"
TIME_TO_LEARN = re.compile(r"Time to learn\**:?\**\s*:?\s*(\d+)\s*minutes")
MINUTES_PER_EXERCISE = 5


def measure(executed_dir: Path) -> list[dict]:
    import nbformat

    rows = []
    for path in sorted(executed_dir.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        seconds = nb.metadata.get("papermill", {}).get("duration")
        if not isinstance(seconds, (int, float)):
            continue
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        title = next((line[2:].strip() for c in nb.cells if c.cell_type == "markdown"
                      for line in c.source.splitlines() if line.startswith("# ")), path.stem)
        learn = TIME_TO_LEARN.search(text)
        exercises = sum("exercise" in c.get("metadata", {}).get("tags", []) for c in nb.cells)
        reading = int(learn.group(1)) if learn else 10
        slot = 5 * math.ceil((reading + MINUTES_PER_EXERCISE * exercises + seconds / 60) / 5)
        rows.append({"name": path.stem, "title": title, "seconds": float(seconds), "reading": reading,
                     "exercises": exercises, "slot": slot})
    return rows


def agenda(rows: list[dict], when: str = "") -> str:
    lines = [
        "| Start | Notebook | Run time (measured) | Time to learn | Exercises | Slot |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    clock = 0
    for row in rows:
        lines.append(
            f"| {clock // 60}:{clock % 60:02d} | [{row['name']}](../notebooks/{row['name']}.ipynb) {row['title']} "
            f"| {row['seconds']:.0f} s | {row['reading']} min | {row['exercises']} | {row['slot']} min |"
        )
        clock += row["slot"]
    total_run = sum(r["seconds"] for r in rows)
    lines.append("")
    lines.append(
        f"Total: {clock // 60} h {clock % 60:02d} min of slots; the notebooks themselves run in "
        f"{total_run:.0f} s together{when}. Slot = Time to learn + {MINUTES_PER_EXERCISE} min an exercise + "
        "the run time, rounded up to 5 min. Add breaks (see below)."
    )
    return "\n".join(lines)


def machine() -> str:
    """The machine this runs on, as the agenda names it: ``x86_64 Linux, 2 cores`` (read, not typed)."""
    cores = os.cpu_count()
    count = f"{cores} core{'s' if cores != 1 else ''}" if cores else "an unknown number of cores"
    return f"{platform.machine() or 'unknown CPU'} {platform.system() or 'unknown system'}, {count}"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executed", type=Path, default=ROOT / "build" / "executed")
    parser.add_argument("--update", type=Path, help="a Markdown file with the agenda markers to rewrite")
    args = parser.parse_args(argv)
    rows = measure(args.executed)
    if not rows:
        print(f"workshop_times: error: no executed notebooks with papermill timings in {args.executed}; "
              "run `make run` first", file=sys.stderr)
        return 2
    when = f" (measured by `make run` with papermill on {machine()})"
    table = agenda(rows, when)
    if args.update is None:
        print(table)
        return 0
    text = args.update.read_text()
    if START not in text or END not in text:
        print(f"workshop_times: error: {args.update} has no agenda markers {START!r} ... {END!r}", file=sys.stderr)
        return 2
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    args.update.write_text(f"{head}{START}\n{table}\n{END}{tail}")
    print(f"updated the agenda in {args.update}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
