"""How results look to a person: byte counts, plain-text and HTML tables, a progress bar.

No TensorFlow and no third-party import at module level (tqdm is imported by :func:`progress_bar`).
"""

from __future__ import annotations

import html
import json
import re
import sys
from typing import Any

# Characters a terminal acts on instead of showing: C0 and C1 controls (ESC, CSI, BEL, CR,
# newline, backspace, DEL), Unicode line and paragraph separators, and the bidirectional
# overrides and isolates that reorder what a line appears to say.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: "re.Match[str]") -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    """``text`` with every character a terminal would act on written as an escape (``\\x1b``, ``\\u202e``).

    Names in a graph are whatever its author wrote; whatever prints one (a table, a finding,
    an error line) passes it through here, so no control code reaches the terminal.
    """
    return _UNPRINTABLE.sub(_escape, str(text))


def json_line(record: Any) -> str:
    """``record`` as one line of JSON in ASCII: every control character, DEL included, written as ``\\uXXXX``."""
    return json.dumps(record, indent=None, default=str, ensure_ascii=True).replace("\x7f", "\\u007f")


def human_bytes(n: int) -> str:
    """``28252`` → ``'27.6 KB'``."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def text_table(title: str, header: list[str], rows: list[list[str]]) -> str:
    """A titled plain-text table; an all-empty ``header`` is not shown; no rows shows ``(none)``."""
    title = printable(title)
    rows = [[printable(c) for c in r] for r in rows]
    if not rows:
        return f"{title}\n  (none)"
    shown_header = any(h for h in header)
    widths = [max(len(str(r[i])) for r in rows + ([header] if shown_header else [])) for i in range(len(header))]
    lines = [title]
    if shown_header:
        lines.append("  " + "  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip())
    lines += ["  " + "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


def html_table(title: str, header: list[str], rows: list[list[str]]) -> str:
    """The same table as :func:`text_table`, as an open ``<details>`` block for a notebook."""
    def esc(text: object) -> str:
        return html.escape(printable(text))

    head = "".join(f"<th style='text-align:left'>{esc(h)}</th>" for h in header) if any(header) else ""
    body = "".join(
        "<tr>" + "".join(f"<td style='text-align:left'>{esc(str(c))}</td>" for c in r) + "</tr>" for r in rows
    ) or f"<tr><td colspan='{len(header)}'><i>none</i></td></tr>"
    return (
        f"<details open><summary><b>{esc(title)}</b></summary>"
        f"<table>{'<tr>' + head + '</tr>' if head else ''}{body}</table></details>"
    )


def progress_bar(**kwargs: Any) -> Any:
    """tqdm's notebook widget where ipywidgets is installed, else a text bar on stdout (no red stderr box)."""
    try:
        import ipywidgets  # noqa: F401
        from tqdm.auto import tqdm

        return tqdm(**kwargs)
    except ImportError:
        from tqdm import tqdm

        return tqdm(file=sys.stdout, **kwargs)
