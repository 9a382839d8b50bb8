"""Write student copies of the notebooks: every cell tagged ``solution`` becomes a stub.

    python tools/make_student.py                     notebooks/*.ipynb -> student/
    python tools/make_student.py --out DIR NB.ipynb  chosen notebooks into DIR
    python tools/make_student.py --solutions --out lab   working copies, solutions kept (make lab)
    python tools/make_student.py --check             only report notebooks that break the convention

Every copy is written without outputs (a run saved in JupyterLab leaves none behind). A copy
that already exists and differs from a fresh one (your work in it, or a changed notebook) is
kept and named on stderr; ``--force`` rewrites it.

The convention (docs/workshop.md, "Exercises and solutions"): an exercise is a markdown cell
tagged ``exercise`` starting ``### Exercise NN.k: title``, then a code cell tagged
``solution``, then an untagged code cell calling a ``check*`` function from
``graphfreeze_helpers.course.exercises``. In the student copy the solution cell keeps its leading
comment lines and gets ``# YOUR CODE HERE`` and a ``raise NotImplementedError``; it is
tagged ``stub`` instead of ``solution``. The output folder is git-ignored.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graphfreeze_helpers.course.exercises import stub_source  # noqa: E402

EXERCISE_ID = re.compile(r"^#{2,4}\s*Exercise\s+(?P<id>\d{2}\.\d+)\b", re.MULTILINE)
CHECK_CALL = re.compile(r"\bcheck(_[a-z]+)?\(")
EXERCISES_HEADING = re.compile(r"^##\s+Exercises\s*$", re.MULTILINE)


def tags(cell: dict) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def exercises_start(nb: nbformat.NotebookNode) -> int | None:
    """Index of the ``## Exercises`` markdown cell, or None."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and EXERCISES_HEADING.search(cell.source):
            return index
    return None


def problems(nb: nbformat.NotebookNode, name: str = "notebook") -> list[str]:
    """Every way ``nb`` breaks the exercise convention, one sentence each (empty if none)."""
    found: list[str] = []
    start = exercises_start(nb)
    if start is None:
        return [f"{name}: no '## Exercises' section; add one with at least one exercise"]
    solutions = [i for i, c in enumerate(nb.cells) if "solution" in tags(c)]
    if not solutions:
        found.append(f"{name}: the Exercises section has no code cell tagged 'solution'")
    current_id = None
    for index, cell in enumerate(nb.cells):
        if "exercise" in tags(cell):
            match = EXERCISE_ID.search(cell.source)
            if cell.cell_type != "markdown" or not match:
                found.append(f"{name} cell {index}: an 'exercise' cell must be markdown starting "
                             "'### Exercise NN.k: title'")
            else:
                current_id = match["id"]
        if "solution" not in tags(cell):
            continue
        where = f"{name} cell {index}"
        if cell.cell_type != "code":
            found.append(f"{where}: only code cells may be tagged 'solution'")
        if index < start:
            found.append(f"{where}: a 'solution' cell sits before '## Exercises'; move it into that section")
        if "raises-exception" in tags(cell):
            found.append(f"{where}: a 'solution' cell must not be tagged 'raises-exception'")
        if current_id is None:
            found.append(f"{where}: no 'exercise'-tagged prompt before this solution")
        following = nb.cells[index + 1] if index + 1 < len(nb.cells) else None
        if (following is None or following.cell_type != "code" or "solution" in tags(following)
                or not CHECK_CALL.search(following.source)):
            found.append(f"{where}: the next cell must be a code cell calling a check*(...) self-check")
    return found


def exercise_ids(nb: nbformat.NotebookNode) -> list[str | None]:
    """For each solution cell in order, the id of the exercise prompt before it."""
    ids, current = [], None
    for cell in nb.cells:
        if "exercise" in tags(cell):
            match = EXERCISE_ID.search(cell.source)
            current = match["id"] if match else current
        if "solution" in tags(cell):
            ids.append(current)
    return ids


def without_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` with no outputs, execution counts or execution timings: as if never run."""
    copy = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in copy.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
    return copy


def student_copy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` without outputs whose solution cells are stubs (tagged ``stub``); other sources unchanged."""
    copy = without_outputs(nb)
    current = None
    for cell in copy.cells:
        cell_tags = tags(cell)
        if "exercise" in cell_tags:
            match = EXERCISE_ID.search(cell.source)
            current = match["id"] if match else current
        if "solution" in cell_tags and cell.cell_type == "code":
            cell.source = stub_source(cell.source, current or "")
            cell.metadata["tags"] = [t for t in cell_tags if t != "solution"] + ["stub"]
    return copy


def write_student_copies(paths: list[Path], out_dir: Path, *, solutions: bool = False,
                         force: bool = False) -> tuple[list[Path], list[Path]]:
    """Write the copies into ``out_dir``: ``(written or already up to date, kept because they differ)``.

    ``solutions`` keeps the solution cells (a working copy for ``make lab``); outputs go either way.
    An existing copy that differs from the fresh one is kept unless ``force``.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written, kept = [], []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        copy = without_outputs(nb) if solutions else student_copy(nb)
        text = json.dumps(copy, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        target = out_dir / path.name
        if target.exists() and not force and target.read_text(encoding="utf-8") != text:
            kept.append(target)
            continue
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
        written.append(target)
    return written, kept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--out", type=Path, default=ROOT / "student", help="output folder (default: student/)")
    parser.add_argument("--check", action="store_true", help="only report convention problems")
    parser.add_argument("--solutions", action="store_true",
                        help="keep the solutions: working copies without outputs (make lab)")
    parser.add_argument("--force", action="store_true", help="rewrite copies that differ from a fresh one")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        print("make_student: error: no notebooks found under notebooks/", file=sys.stderr)
        return 2
    bad = []
    for path in paths:
        bad += problems(nbformat.read(path, as_version=4), path.name)
    for line in bad:
        print(f"make_student: {line}", file=sys.stderr)
    if args.check:
        return 1 if bad else 0
    written, kept = write_student_copies(paths, args.out, solutions=args.solutions, force=args.force)
    try:
        shown = args.out.resolve().relative_to(Path.cwd())
    except ValueError:
        shown = args.out
    for path in kept:
        print(f"make_student: kept {shown}/{path.name}: it differs from a fresh copy (your work, or a changed "
              "notebook); --force rewrites it", file=sys.stderr)
    if args.solutions:
        print(f"wrote {len(written)} working copies without outputs to {shown}/")
    else:
        stubs = sum(len(exercise_ids(nbformat.read(p, as_version=4))) for p in paths if args.out / p.name in written)
        print(f"wrote {len(written)} student notebooks with {stubs} exercise stubs to {shown}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
