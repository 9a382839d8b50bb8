"""How much of each notebook's code is the lesson, and how much is scaffolding.

A code line is a non-blank line of a code cell. Issue 11 names three kinds of scaffolding
("setup imports, validation and metrics"); a line is **scaffolding** when it is

1. in the setup cell (the first code cell after ``## Setup``): imports, TensorFlow start-up
   (``start_tensorflow``, which also checks the versions), magics such as ``%matplotlib inline``;
2. in the validation cell (the first code cell after the cell tagged ``parameters``);
3. part of a ``record_metrics(...)`` call (every line the call spans), wherever it is.

Every other code line is **lesson code**: the parameters cell, the content sections, the
named checks (``assert``/``assert_agree``) and the exercises. The asserted figure, the
**lesson share**, counts these three kinds. A stricter count also takes the exercises' check
cells (the code cell right after a cell tagged ``solution``) as scaffolding; the test prints
both, per notebook and in all (``pytest -s`` shows them), so that neither is hidden.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

# The share of lesson code over all notebooks together: issue 11's target.
MIN_LESSON_SHARE = 0.85


def _tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _setup_heading(cells: list[Any]) -> int:
    return next(i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith("## Setup"))


def _code_lines(source: str) -> int:
    return sum(1 for line in source.splitlines() if line.strip())


def _metrics_lines(source: str) -> int:
    """Lines spanned by ``record_metrics(...)`` calls (IPython magics are blanked before parsing)."""
    python = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    spanned: set[int] = set()
    for node in ast.walk(ast.parse(python)):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name == "record_metrics":
                spanned.update(range(node.lineno, node.end_lineno + 1))
    return len(spanned)


def shape(path: Path) -> tuple[int, int, int]:
    """``(code lines, scaffolding lines, exercise-check lines)`` of one notebook, by this module's docstring.

    The exercise-check lines are counted apart, not in the scaffolding lines.
    """
    cells = nbformat.read(path, as_version=4).cells
    code = [i for i, cell in enumerate(cells) if cell.cell_type == "code"]
    setup_heading = _setup_heading(cells)
    parameters = next(i for i, c in enumerate(cells) if "parameters" in _tags(c))
    setup = next(i for i in code if i > setup_heading)
    validation = next(i for i in code if i > parameters)
    checks = {after for before, after in zip(code, code[1:]) if "solution" in _tags(cells[before])}
    total = scaffolding = check_lines = 0
    for i in code:
        lines = _code_lines(cells[i].source)
        total += lines
        if i in {setup, validation}:
            scaffolding += lines
        elif i in checks:
            check_lines += lines
        else:
            scaffolding += _metrics_lines(cells[i].source)
    return total, scaffolding, check_lines


def test_shape_counts_each_kind_of_scaffolding(tmp_path: Path):
    nb = nbformat.v4.new_notebook()
    cells = [
        nbformat.v4.new_markdown_cell("## Setup"),
        nbformat.v4.new_code_cell("import a\nimport b"),                            # setup: 2
        nbformat.v4.new_code_cell("x: int = 1  # x", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("check_params(globals())"),                         # validation: 1
        nbformat.v4.new_code_cell("y = x + 1\n\nrecord_metrics(d,\n               y=y)\nprint(y)"),  # metrics: 2
        nbformat.v4.new_code_cell("answer = y", metadata={"tags": ["solution"]}),
        nbformat.v4.new_code_cell("check_equal('1', answer, 2,\n            hint='add')"),  # check: 2
    ]
    nb.cells = cells
    nbformat.write(nb, tmp_path / "01_x.ipynb")
    assert shape(tmp_path / "01_x.ipynb") == (11, 5, 2)


def test_lesson_share(capsys):
    """Lesson code is at least 85% of all notebook code (issue 11); both counts are printed per notebook.

    The asserted lesson share counts setup, validation and metrics lines as scaffolding; the
    stricter share counts the exercises' check cells too, and is printed beside it.
    """
    rows = [(path.stem, *shape(path)) for path in NOTEBOOKS]
    total = sum(r[1] for r in rows)
    scaffolding = sum(r[2] for r in rows)
    checks = sum(r[3] for r in rows)
    with capsys.disabled():
        print("\nlesson code per notebook (code lines, scaffolding lines, exercise-check lines, lesson share, "
              "stricter share counting the checks as scaffolding):")
        for stem, lines, scaffold, check_lines in rows:
            print(f"  {stem:<36} {lines:>4} {scaffold:>4} {check_lines:>4} {(lines - scaffold) / lines:6.1%}"
                  f" {(lines - scaffold - check_lines) / lines:6.1%}")
        print(f"  {'all notebooks':<36} {total:>4} {scaffolding:>4} {checks:>4} {(total - scaffolding) / total:6.1%}"
              f" {(total - scaffolding - checks) / total:6.1%}")
    share = (total - scaffolding) / total
    assert share >= MIN_LESSON_SHARE, f"lesson code is {share:.1%} of notebook code, below {MIN_LESSON_SHARE:.0%}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_setup_cell_is_short_and_imports_no_private_module(path: Path):
    cells = nbformat.read(path, as_version=4).cells
    setup_heading = _setup_heading(cells)
    setup = next(c for c in cells[setup_heading:] if c.cell_type == "code")
    assert _code_lines(setup.source) <= 24, "the setup cell should import what the lesson uses in a few lines"
    for cell in cells:
        if cell.cell_type != "code":
            continue
        for line in cell.source.splitlines():
            words = line.split()
            if words[:1] in (["import"], ["from"]) and len(words) > 1:
                assert not any(part.startswith("_") for part in words[1].split(".")), (
                    f"{line.strip()!r}: notebooks never import a private module"
                )
        assert 'get_logger().setLevel("ERROR")' not in cell.source, (
            "start_tensorflow already turns TensorFlow's Python logger down"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_helper_a_notebook_imports_exists(path: Path):
    """A renamed module or function breaks the notebooks' imports here, in a second, not minutes into a run."""
    import importlib
    import importlib.util

    missing = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        python = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in cell.source.splitlines())
        for node in ast.walk(ast.parse(python)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("graphfreeze_helpers"):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    submodule = f"{node.module}.{alias.name}"
                    if not hasattr(module, alias.name) and importlib.util.find_spec(submodule) is None:
                        missing.append(submodule)
    assert missing == [], f"{path.name} imports names that do not exist: {missing}"
