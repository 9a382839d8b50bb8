"""A small table for the numbers a lesson talks about: HTML in Jupyter, aligned text elsewhere.

    Table(["contender", "µs per call"], [["frozen", 812.4], ["tf_function", 845.0]], title="batch 1")

Numbers are shown the same way everywhere: whole numbers with thousands separators, other
numbers from 100 up without decimals (``1,234``), below 100 with three significant digits
(``0.982``, ``12.5``, ``1.2e-07``). No pandas needed.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any, Sequence

from ..formatting import html_table, text_table

__all__ = ["Table", "show_value"]


def show_value(value: Any) -> str:
    """How a table cell shows ``value`` (see the module's docstring)."""
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        return str(value)
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    number = float(value)  # type: ignore[arg-type]
    return f"{number:,.0f}" if abs(number) >= 100 else f"{number:.3g}"


@dataclass
class Table:
    """Rows of values under named columns; ``column(name)`` gives one column's raw values back."""

    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    title: str = ""
    cells: list[list[str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.rows = [list(row) for row in self.rows]
        wrong = [row for row in self.rows if len(row) != len(self.columns)]
        if wrong:
            raise ValueError(f"every row needs {len(self.columns)} values ({list(self.columns)}), got {wrong[0]!r}")
        self.cells = [[show_value(value) for value in row] for row in self.rows]

    def column(self, name: str) -> list[Any]:
        index = list(self.columns).index(name)
        return [row[index] for row in self.rows]

    def __repr__(self) -> str:
        text = text_table(self.title, list(self.columns), self.cells)
        return text if self.title else text.split("\n", 1)[1]  # no empty title line

    def _repr_html_(self) -> str:
        return html_table(self.title, list(self.columns), self.cells)
