"""Check the relative links in the notebooks and the docs; no network.

    python tools/check_links.py                 the notebooks' markdown cells, README.md, docs/*.md, data/README.md
    python tools/check_links.py FILE ...        those files only (--root DIR: links may not leave DIR)

A relative link must point to a file or folder inside the repository, and a ``#anchor`` to a
heading (or an ``<a id=...>``) of the file it names. Web links (``https:``, ``mailto:``, ...)
are not followed. Links inside code (fenced blocks and `spans`) are not links. Prints one line
per broken link and exits 1 if there is one. ``make test`` runs it (tests/test_links.py).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional, Sequence
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent.parent

FENCE = re.compile(r"^\s*(```|~~~)")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
# [text](target "title"), ![alt](target), [text](<target>); a target may hold balanced parentheses
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*(<[^>]*>|(?:[^()\s]|\([^()\s]*\))+)(?:\s+[\"'(][^)]*)?\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
HTML_LINK = re.compile(r"\b(?:href|src)\s*=\s*[\"']([^\"']+)[\"']", re.I)
HTML_ANCHOR = re.compile(r"<a\s[^>]*\b(?:id|name)\s*=\s*[\"']([^\"']+)[\"']", re.I)
HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
LINE_ANCHOR = re.compile(r"^L\d+(-L\d+)?$")  # GitHub's anchors for lines of any text file


@dataclass(frozen=True)
class Link:
    source: Path
    where: str  # "line 12" or "cell 3, line 2"
    target: str

    def __str__(self) -> str:
        return f"{_shown(self.source)} ({self.where}): {self.target}"


def default_documents(root: Path = ROOT) -> list[Path]:
    """The files the check reads by default."""
    found = sorted((root / "notebooks").glob("*.ipynb")) + [root / "README.md"]
    found += sorted((root / "docs").glob("*.md")) + [root / "data" / "README.md"]
    return [path for path in found if path.is_file()]


def markdown_parts(path: Path) -> list[tuple[str, str]]:
    """``(where, markdown)`` pairs: each markdown cell of a notebook, or the whole file."""
    if path.suffix != ".ipynb":
        return [("", path.read_text(encoding="utf-8"))]
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [(f"cell {i}", "".join(cell["source"])) for i, cell in enumerate(cells) if cell["cell_type"] == "markdown"]


def prose_lines(markdown: str, *, blank_code: bool = True) -> Iterator[tuple[int, str]]:
    """Numbered lines outside fenced code blocks, with code spans blanked out unless ``blank_code`` is false."""
    fence: Optional[str] = None
    for number, line in enumerate(markdown.splitlines(), 1):
        opened = FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1) == fence:
                fence = None
            continue
        if opened:
            fence = opened.group(1)
            continue
        yield number, CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line) if blank_code else line


def links_in(path: Path) -> list[Link]:
    found = []
    for part, markdown in markdown_parts(path):
        for number, line in prose_lines(markdown):
            where = f"{part}, line {number}" if part else f"line {number}"
            targets = INLINE_LINK.findall(line) + HTML_LINK.findall(line) + REFERENCE.findall(line)
            found += [Link(path, where, target.strip("<>")) for target in targets]
    return found


def github_slug(heading: str) -> str:
    """The anchor GitHub (and most Markdown renderers) give a heading."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    text = re.sub(r"[`*]", "", text).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors_of(path: Path) -> set[str]:
    """Every anchor a link into ``path`` may name: GitHub's and JupyterLab's heading ids, and HTML ids."""
    found: set[str] = set()
    counts: dict[str, int] = {}
    for _, markdown in markdown_parts(path):
        for _, line in prose_lines(markdown, blank_code=False):
            found.update(HTML_ANCHOR.findall(line))
            heading = HEADING.match(line)
            if not heading:
                continue
            slug = github_slug(heading.group(1))
            found.add(f"{slug}-{counts[slug]}" if counts.get(slug) else slug)  # GitHub numbers repeats
            counts[slug] = counts.get(slug, 0) + 1
            found.add(re.sub(r"[`*]", "", heading.group(1)).strip().replace(" ", "-"))  # JupyterLab keeps case
    return found


def problem(link: Link, root: Path = ROOT) -> Optional[str]:
    """Why ``link`` is broken, or None when it is fine (or not a relative link)."""
    if SCHEME.match(link.target) or link.target.startswith("//"):
        return None
    address, _, anchor = link.target.partition("#")
    target = (link.source.parent / unquote(address)).resolve() if address else link.source.resolve()
    if not target.is_relative_to(root.resolve()):
        return f"{link}: points outside the repository"
    if not target.exists():
        return f"{link}: no such file {_shown(target)}"
    if not anchor or LINE_ANCHOR.match(anchor):
        return None
    if target.is_dir() or target.suffix not in (".md", ".ipynb"):
        return f"{link}: #{anchor} in {_shown(target)}, which has no headings"
    anchor = unquote(anchor)
    if anchor not in anchors_of(target):
        return f"{link}: no heading #{anchor} in {_shown(target)}"
    return None


def check(paths: Sequence[Path], root: Path = ROOT) -> list[str]:
    """One line per broken relative link in ``paths``."""
    return [found for path in paths for link in links_in(path) if (found := problem(link, root))]


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="markdown files or notebooks (default: the docs)")
    parser.add_argument("--root", type=Path, default=ROOT, help="links may not leave it (default: the repository)")
    args = parser.parse_args(argv)
    paths = args.files or default_documents(args.root)
    broken = check(paths, args.root)
    for line in broken:
        print(line)
    count = sum(len(links_in(path)) for path in paths)
    print(f"{len(broken)} broken of {count} links in {len(paths)} files", file=sys.stderr if broken else sys.stdout)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
