"""Relative links in the notebooks and docs point at files and headings that exist (tools/check_links.py)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("_tools_check_links", ROOT / "tools" / "check_links.py")
check_links = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = check_links
_spec.loader.exec_module(check_links)


def test_notebooks_and_docs_have_no_broken_links():
    documents = check_links.default_documents()
    names = {str(path.relative_to(ROOT)) for path in documents}
    assert {"README.md", "data/README.md", "docs/workshop.md", "notebooks/00_index.ipynb"} <= names
    assert sum(len(check_links.links_in(path)) for path in documents) > 20  # the check reads real links
    assert check_links.check(documents) == []


def _notebook(path: Path, *markdown: str) -> Path:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": text.splitlines(keepends=True)} for text in markdown]
    cells.insert(1, {"cell_type": "code", "metadata": {}, "source": ["[a](nope.md)\n"], "outputs": []})
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_planted_breaks_are_found_and_the_rest_pass(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "notebooks").mkdir()
    _notebook(tmp_path / "notebooks" / "01_lesson.ipynb", "# Lesson one\n## Step 2: `load()` it", "## Summary")
    (tmp_path / "docs" / "guide.md").write_text("# Guide\n\n## Set-up (once)\n\n<a id='faq'></a>\n")
    readme = tmp_path / "README.md"
    readme.write_text(
        "Good: [guide](docs/guide.md), [set-up](docs/guide.md#set-up-once), [faq](docs/guide.md#faq),\n"
        "[step](notebooks/01_lesson.ipynb#step-2-load-it), [jupyter](notebooks/01_lesson.ipynb#Step-2:-load()-it),\n"
        "[folder](docs/), [line](docs/guide.md#L3), [web](https://example.org/x.md), [mail](mailto:a@b.c),\n"
        "[self](#intro), ![pic](docs/guide.md \"a title\"), `[code](span.md)`.\n"
        "\n## Intro\n\n```\n[fenced](fenced.md)\n```\n"
        "Broken: [gone](docs/gone.md), [anchor](docs/guide.md#nothing), [out](../outside.md),\n"
        '<a href="notebooks/02_missing.ipynb">two</a>, [py](tools/x.py#top)\n'
        "[ref]: docs/also_gone.md\n"
    )
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "x.py").write_text("")
    lesson = _notebook(tmp_path / "notebooks" / "02_next.ipynb", "[one](01_lesson.ipynb#Summary) [gone](00_x.ipynb)")
    found = check_links.check([readme, lesson], root=tmp_path)
    assert [line.split(": ", 1)[1] for line in found] == [
        "docs/gone.md: no such file " + str(tmp_path / "docs" / "gone.md"),
        "docs/guide.md#nothing: no heading #nothing in " + str(tmp_path / "docs" / "guide.md"),
        "../outside.md: points outside the repository",
        "tools/x.py#top: #top in " + str(tmp_path / "tools" / "x.py") + ", which has no headings",
        "notebooks/02_missing.ipynb: no such file " + str(tmp_path / "notebooks" / "02_missing.ipynb"),
        "docs/also_gone.md: no such file " + str(tmp_path / "docs" / "also_gone.md"),
        "00_x.ipynb: no such file " + str(tmp_path / "notebooks" / "00_x.ipynb"),
    ]
    assert found[0].startswith(f"{readme} (line 11)")
    assert found[-1].startswith(f"{lesson} (cell 0, line 1)")


def test_command_exits_1_and_names_each_broken_link(tmp_path, capsys):
    bad = tmp_path / "bad.md"
    bad.write_text("[x](missing.md)\n")
    assert check_links.main([str(bad), "--root", str(tmp_path)]) == 1
    assert capsys.readouterr().out == f"{bad} (line 1): missing.md: no such file {tmp_path / 'missing.md'}\n"
    assert check_links.main([str(ROOT / "README.md")]) == 0
