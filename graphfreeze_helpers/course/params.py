"""Check a notebook's parameters: their types from the parameters cell, then their ranges.

Every notebook has one cell tagged ``parameters`` with typed literals
(``epochs: int = 10  # passes over the training data``). Python keeps those annotations in
the notebook's namespace (``__annotations__``), also when papermill injects new values in an
un-annotated cell after it, so the validation cell needs no second list of types:

    check_types(globals())                     # every annotated parameter has its type
    at_least("epochs", epochs, 1)              # then only the ranges
    between("tolerance", tolerance, 0, 1, inclusive=False)

Each check raises ``ValueError`` with one sentence that names the parameter, says what was
expected and what was found. Nothing here prints, writes or imports TensorFlow.
"""

from __future__ import annotations

import math
import numbers
import re
from pathlib import Path
from typing import Any, Iterable, Mapping

__all__ = ["check_types", "at_least", "between", "positive", "one_of", "int_list", "folder", "existing_path"]

# annotation name -> (what a value must be, in words)
_EXPECTED = {
    "int": "a whole number (int)",
    "float": "a number (float)",
    "str": "a string (str)",
    "bool": "True or False (bool)",
    "list": "a list",
}
_ELEMENTS = {
    "int": "whole numbers (int)",
    "float": "numbers (float)",
    "str": "strings (str)",
    "bool": "True/False values (bool)",
}
_LIST_OF = re.compile(r"^list\[(int|float|str|bool)\]$")


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


_CHECKS = {
    "int": _is_int,
    "float": _is_number,
    "str": lambda value: isinstance(value, str),
    "bool": lambda value: isinstance(value, bool),
    "list": lambda value: isinstance(value, list),
}


def _found(value: Any) -> str:
    """``'three' (a str)``: the value and its type, short enough for one line."""
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    kind = type(value).__name__
    article = "an" if kind[:1] in "aeiou" else "a"
    return f"{shown} ({article} {kind})"


def _annotation_name(annotation: Any) -> str:
    """``int`` -> ``"int"``, ``list[int]`` -> ``"list[int]"``; strings (postponed annotations) stay."""
    if isinstance(annotation, str):
        return annotation.replace(" ", "")
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace(" ", "")  # list[int] prints as 'list[int]'


def _papermill_hint(kind: str, name: str, value: Any) -> str:
    """How to pass the value from papermill's command line, where ``-p`` guesses the type."""
    if kind == "str" and _is_number(value):
        return f"; papermill -p reads numbers as numbers, pass text with -r {name} VALUE"
    if kind.startswith("list") and isinstance(value, str):
        return f"; from papermill's command line give a list as YAML: -y '{name}: [1, 8]'"
    return ""


def check_types(namespace: Mapping[str, Any]) -> dict[str, str]:
    """Check every annotated parameter in ``namespace`` (a notebook's ``globals()``) against its type.

    Types: ``int`` (not bool), ``float`` (an int is accepted, a bool is not), ``str``, ``bool``,
    ``list`` and ``list[int|float|str|bool]`` (elements checked too). Returns ``{name: type}``
    for the parameters checked. Raises ``ValueError`` for the first wrong value, ``TypeError``
    if an annotation is not one of those types (a mistake in the notebook, not in the value),
    and ``LookupError`` if there are no annotations (the parameters cell has not run).
    """
    annotations = namespace.get("__annotations__") or {}
    if not annotations:
        raise LookupError("no annotated parameters found; run the cell tagged 'parameters' first")
    checked: dict[str, str] = {}
    for name, annotation in annotations.items():
        kind = _annotation_name(annotation)
        element = _LIST_OF.match(kind)
        base = "list" if element else kind
        if base not in _CHECKS:
            raise TypeError(f"parameter {name} is annotated {kind!r}; use one of {sorted(_EXPECTED)} "
                            "so that papermill and check_types understand it")
        if name not in namespace:
            raise LookupError(f"parameter {name} is annotated but has no value; "
                              "give it a default in the parameters cell")
        value = namespace[name]
        if not _CHECKS[base](value):
            hint = _papermill_hint(kind, name, value)
            raise ValueError(f"{name} must be {_EXPECTED[base]}, got {_found(value)}{hint}")
        if element:
            inner = element[1]
            wrong = [item for item in value if not _CHECKS[inner](item)]
            if wrong:
                raise ValueError(f"{name} must be a list of {_ELEMENTS[inner]}, got {value!r} "
                                 f"with {_found(wrong[0])}")
        checked[name] = kind
    return checked


def _require_number(name: str, value: Any) -> None:
    if not _is_number(value) or math.isnan(value):
        raise ValueError(f"{name} must be a number, got {_found(value)}")


def at_least(name: str, value: Any, low: float) -> None:
    """``value >= low``: ``epochs must be at least 1, got 0``."""
    _require_number(name, value)
    if not value >= low:
        raise ValueError(f"{name} must be at least {low}, got {value!r}")


def between(name: str, value: Any, low: float, high: float, *, inclusive: bool = True) -> None:
    """``low <= value <= high``, or ``low < value < high`` with ``inclusive=False``."""
    _require_number(name, value)
    inside = low <= value <= high if inclusive else low < value < high
    if not inside:
        span = f"from {low} to {high}" if inclusive else f"above {low} and below {high}"
        raise ValueError(f"{name} must be {span}, got {value!r}")


def positive(name: str, value: Any) -> None:
    """A finite number above 0: ``time_budget_s must be a finite number above 0, got 0``."""
    _require_number(name, value)
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number above 0, got {value!r}")


def one_of(name: str, value: Any, choices: Iterable[Any]) -> None:
    """``target must be one of ['portable', 'tensorflow'], got 'fast'``."""
    options = list(choices)
    if value not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")


def int_list(name: str, values: Any, low: int, high: int | None = None) -> None:
    """A non-empty list of whole numbers, each ``>= low`` (and ``<= high`` when given)."""
    span = f"from {low} to {high}" if high is not None else f">= {low}"
    ok = isinstance(values, list) and values and all(
        _is_int(v) and v >= low and (high is None or v <= high) for v in values
    )
    if not ok:
        raise ValueError(f"{name} must be a non-empty list of whole numbers {span}, got {values!r}")


def folder(name: str, value: Any) -> None:
    """A folder name: a non-blank string that is not an existing file (the folder need not exist)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must name a folder, got {_found(value)}")
    if Path(value).exists() and not Path(value).is_dir():
        raise ValueError(f"{name} must name a folder, got {value!r}, which is a file; give a folder path")


def existing_path(name: str, value: Any, kind: str = "any", *, hint: str = "", empty_ok: bool = False) -> None:
    """``value`` names an existing ``"file"``, ``"dir"`` or either (``"any"``); ``""`` passes if ``empty_ok``.

    ``hint`` says what to give instead: ``model_path 'm.keras' does not exist; give a .keras file``.
    """
    if kind not in ("file", "dir", "any"):
        raise TypeError(f"existing_path kind must be 'file', 'dir' or 'any', got {kind!r}")
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a path string, got {_found(value)}")
    if empty_ok and value == "":
        return
    path = Path(value)
    tail = f"; {hint}" if hint else ""
    if not value or not path.exists():
        raise ValueError(f"{name} {value!r} does not exist{tail}")
    if kind == "file" and not path.is_file():
        raise ValueError(f"{name} {value!r} is not a file{tail}")
    if kind == "dir" and not path.is_dir():
        raise ValueError(f"{name} {value!r} is not a folder{tail}")
