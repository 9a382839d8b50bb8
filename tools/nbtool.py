"""Author and normalise the notebooks.

    python tools/nbtool.py canon notebooks/*.ipynb      strip outputs, stable ids, python3 kernel
    python tools/nbtool.py check notebooks/*.ipynb      exit 1 if any notebook is not canonical
    python tools/nbtool.py to-py NB.ipynb > NB.py       percent-format text, for editing
    python tools/nbtool.py from-py NB.py NB.ipynb       back to a canonical notebook

In the percent format a cell starts with ``# %%`` (code) or ``# %% [markdown]``; tags go
after it as ``tags=["parameters"]`` or ``tags=["raises-exception"]``, and the exception a
``raises-exception`` cell must raise as ``raises="OSError"`` (kept in the cell's metadata as
``{"graphfreeze": {"raises": "OSError"}}``). Markdown lines are written as comments (``# text``).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
_HEADER = re.compile(r'^# %%(?P<md> \[markdown\])?(?: tags=(?P<tags>\[.*?\]))?(?: raises="(?P<raises>\w+)")?\s*$')
# The cell metadata a canonical notebook keeps: its tags, and the project's own key (the
# exception a cell tagged raises-exception must raise).
KEPT_METADATA = ("tags", "graphfreeze")


def canonical(nb: nbformat.NotebookNode, stem: str) -> nbformat.NotebookNode:
    nb.metadata = {
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python"},
    }
    for index, cell in enumerate(nb.cells):
        cell.id = f"{stem[:50]}-{index:02d}".replace("_", "-")
        cell.metadata = {key: value for key, value in cell.get("metadata", {}).items()
                         if key in KEPT_METADATA and value}
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.source = cell.source.strip("\n")
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nb


def dumps(nb: nbformat.NotebookNode) -> str:
    nbformat.validate(nb)
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def canon(paths: list[str], *, check: bool = False) -> int:
    bad = 0
    for raw in paths:
        path = Path(raw)
        text = path.read_text()
        nb = canonical(nbformat.reads(text, as_version=4), path.stem)
        new = dumps(nb)
        if new != text:
            bad += 1
            if check:
                print(f"{path}: not canonical (run `make canon`)")
            else:
                path.write_text(new)
    return 1 if (check and bad) else 0


def to_py(path: str) -> str:
    nb = nbformat.read(path, as_version=4)
    chunks = []
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        head = "# %%" + (" [markdown]" if cell.cell_type == "markdown" else "")
        if tags:
            head += " tags=" + json.dumps(tags)
        raises = cell.get("metadata", {}).get("graphfreeze", {}).get("raises")
        if raises:
            head += f' raises="{raises}"'
        body = cell.source
        if cell.cell_type == "markdown":
            body = "\n".join(("# " + line) if line else "#" for line in body.splitlines())
        chunks.append(head + "\n" + body)
    return "\n\n".join(chunks) + "\n"


def from_py(source: str, stem: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    cells: list[tuple[bool, list[str], str, list[str]]] = []
    for line in source.splitlines():
        match = _HEADER.match(line)
        if match:
            tags = json.loads(match["tags"]) if match["tags"] else []
            cells.append((bool(match["md"]), tags, match["raises"] or "", []))
        elif cells:
            cells[-1][3].append(line)
    for is_md, tags, raises, lines in cells:
        if is_md:
            text = "\n".join(re.sub(r"^# ?", "", line) for line in lines).strip("\n")
            cell = nbformat.v4.new_markdown_cell(text)
        else:
            cell = nbformat.v4.new_code_cell("\n".join(lines).strip("\n"))
        if tags:
            cell.metadata["tags"] = tags
        if raises:
            cell.metadata["graphfreeze"] = {"raises": raises}
        nb.cells.append(cell)
    return canonical(nb, stem)


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command in ("canon", "check"):
        return canon(rest, check=command == "check")
    if command == "to-py":
        sys.stdout.write(to_py(rest[0]))
        return 0
    if command == "from-py":
        target = Path(rest[1])
        target.write_text(dumps(from_py(Path(rest[0]).read_text(), target.stem)))
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
