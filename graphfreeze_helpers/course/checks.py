"""Named checks for the lessons: one call in place of a run of asserts.

They raise ``AssertionError`` (what an ``assert`` would raise) with one sentence naming what
failed, and return a :class:`~graphfreeze_helpers.course.tables.Table` of what they checked,
so the cell shows the numbers it vouched for.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..verify import max_abs_diff
from .tables import Table

__all__ = ["assert_agree"]


def assert_agree(outputs: Mapping[str, Any], *, reference: str, tolerance: float) -> Table:
    """Every output is within ``tolerance`` (largest absolute difference) of ``outputs[reference]``."""
    if reference not in outputs:
        raise KeyError(f"no output named {reference!r}; the outputs are {sorted(outputs)}")
    expected = outputs[reference]
    differences = {name: max_abs_diff(expected, value) for name, value in outputs.items()}
    failing = [name for name, difference in differences.items() if not difference <= tolerance]  # NaN fails
    if failing:
        name = failing[0]
        raise AssertionError(f"{name} differs from {reference} by {differences[name]:.3g} > {tolerance:g}")
    return Table(["output", f"max |diff| from {reference}"], [[n, d] for n, d in differences.items()],
                 title=f"all {len(outputs)} agree within {tolerance:g}")
