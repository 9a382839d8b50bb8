"""Check a notebook's parameters in one call: their types from the parameters cell, then their rules.

Every notebook has one cell tagged ``parameters`` with typed literals
(``epochs: int = 10  # passes over the training data``). Python keeps those annotations in
the notebook's namespace (``__annotations__``), also when papermill injects new values in an
un-annotated cell after it, so the validation cell needs no second list of types, only the
rules that the types do not say:

    check_params(globals(), epochs=at_least(1), tolerance=between(0, 1, inclusive=False),
                 artifacts_dir=folder())

A rule is a small object made by :func:`at_least`, :func:`between`, :func:`positive`,
:func:`one_of`, :func:`int_list`, :func:`folder`, :func:`existing_path`, :func:`satisfies`,
:func:`fraction`, :func:`contains`, :func:`optional_model` or :func:`optional_graph`;
give a list to apply several. Each check raises ``ValueError`` with one sentence that names
the parameter, says what was expected and what was found. Nothing here prints or imports
TensorFlow; only :func:`make_folder` writes (it creates the folder it is given).
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence, Union

__all__ = [
    "Rule", "check_params", "check_types", "make_folder",
    "at_least", "between", "positive", "one_of", "int_list", "folder", "existing_path", "satisfies",
    "contains", "fraction", "optional_graph", "optional_model",
]

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


@dataclass(frozen=True)
class Rule:
    """One rule for a parameter's value: ``rule.check(name, value)`` raises ``ValueError`` or passes."""

    description: str
    test: Callable[[str, Any], None]

    def check(self, name: str, value: Any) -> None:
        self.test(name, value)

    def __repr__(self) -> str:
        return f"Rule({self.description})"


Rules = Union[Rule, Sequence[Rule]]


def check_params(namespace: Mapping[str, Any], **rules: Rules) -> None:
    """Check every annotated parameter's type (:func:`check_types`), then each rule, in order.

    ``rules`` maps a parameter's name to a :class:`Rule` or a list of them. A rule for a name
    that is not an annotated parameter is a mistake in the notebook: ``TypeError``.
    """
    checked = check_types(namespace)
    unknown = sorted(set(rules) - set(checked))
    if unknown:
        raise TypeError(f"check_params got rules for {unknown}, which are not parameters; "
                        f"the parameters are {sorted(checked)}")
    for name, given in rules.items():
        for rule in ([given] if isinstance(given, Rule) else list(given)):
            rule.check(name, namespace[name])


def make_folder(path: str) -> Path:
    """Create the folder ``path`` (and its parents) if needed, and return it as a ``Path``."""
    folder_path = Path(path)
    folder_path.mkdir(parents=True, exist_ok=True)
    return folder_path


def at_least(low: float) -> Rule:
    """``value >= low``: ``epochs must be at least 1, got 0``."""

    def test(name: str, value: Any) -> None:
        _require_number(name, value)
        if not value >= low:
            raise ValueError(f"{name} must be at least {low}, got {value!r}")

    return Rule(f"at least {low}", test)


def between(low: float, high: float, *, inclusive: bool = True) -> Rule:
    """``low <= value <= high``, or ``low < value < high`` with ``inclusive=False``."""
    span = f"from {low} to {high}" if inclusive else f"above {low} and below {high}"

    def test(name: str, value: Any) -> None:
        _require_number(name, value)
        inside = low <= value <= high if inclusive else low < value < high
        if not inside:
            raise ValueError(f"{name} must be {span}, got {value!r}")

    return Rule(span, test)


def fraction() -> Rule:
    """Above 0 and below 1, as a tolerance is: ``tolerance must be above 0 and below 1, got 2``."""
    return between(0, 1, inclusive=False)


def positive() -> Rule:
    """A finite number above 0: ``time_budget_s must be a finite number above 0, got 0``."""

    def test(name: str, value: Any) -> None:
        _require_number(name, value)
        if not (value > 0 and math.isfinite(value)):
            raise ValueError(f"{name} must be a finite number above 0, got {value!r}")

    return Rule("a finite number above 0", test)


def one_of(choices: Iterable[Any]) -> Rule:
    """``target must be one of ['portable', 'tensorflow'], got 'fast'``."""
    options = list(choices)

    def test(name: str, value: Any) -> None:
        if value not in options:
            raise ValueError(f"{name} must be one of {options}, got {value!r}")

    return Rule(f"one of {options}", test)


def int_list(low: int, high: int | None = None) -> Rule:
    """A non-empty list of whole numbers, each ``>= low`` (and ``<= high`` when given)."""
    span = f"from {low} to {high}" if high is not None else f">= {low}"

    def test(name: str, values: Any) -> None:
        ok = isinstance(values, list) and values and all(
            _is_int(v) and v >= low and (high is None or v <= high) for v in values
        )
        if not ok:
            raise ValueError(f"{name} must be a non-empty list of whole numbers {span}, got {values!r}")

    return Rule(f"a non-empty list of whole numbers {span}", test)


def contains(item: Any) -> Rule:
    """A list that includes ``item``: ``batch_sizes must include 1, got [8]``."""

    def test(name: str, values: Any) -> None:
        if not isinstance(values, (list, tuple)) or item not in values:
            raise ValueError(f"{name} must include {item!r}, got {values!r}")

    return Rule(f"include {item!r}", test)


def folder() -> Rule:
    """A folder name: a non-blank string that is not an existing file (the folder need not exist)."""

    def test(name: str, value: Any) -> None:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{name} must name a folder, got {_found(value)}")
        if Path(value).exists() and not Path(value).is_dir():
            raise ValueError(f"{name} must name a folder, got {value!r}, which is a file; give a folder path")

    return Rule("a folder", test)


def existing_path(kind: str = "any", *, hint: str = "", empty_ok: bool = False) -> Rule:
    """The value names an existing ``"file"``, ``"dir"`` or either (``"any"``); ``""`` passes if ``empty_ok``.

    ``hint`` says what to give instead: ``model_path 'm.keras' does not exist; give a .keras file``.
    """
    if kind not in ("file", "dir", "any"):
        raise TypeError(f"existing_path kind must be 'file', 'dir' or 'any', got {kind!r}")
    tail = f"; {hint}" if hint else ""

    def test(name: str, value: Any) -> None:
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a path string, got {_found(value)}")
        if empty_ok and value == "":
            return
        path = Path(value)
        if not value or not path.exists():
            raise ValueError(f"{name} {value!r} does not exist{tail}")
        if kind == "file" and not path.is_file():
            raise ValueError(f"{name} {value!r} is not a file{tail}")
        if kind == "dir" and not path.is_dir():
            raise ValueError(f"{name} {value!r} is not a folder{tail}")

    return Rule(f"an existing {kind} path" + (" or empty" if empty_ok else ""), test)


def satisfies(predicate: Callable[[Any], bool], requirement: str) -> Rule:
    """Any other rule: ``satisfies(lambda v: 1 in v, "include 1")`` -> ``batch_sizes must include 1, got [8]``."""

    def test(name: str, value: Any) -> None:
        if not predicate(value):
            raise ValueError(f"{name} must {requirement}, got {value!r}")

    return Rule(requirement, test)


def optional_model() -> Rule:
    """A model to freeze: an existing .keras/.h5 file or SavedModel folder, or ``""`` for the tutorial model."""
    exists = existing_path("any", empty_ok=True, hint="give a .keras/.h5 file or a SavedModel folder, "
                           "or leave it empty for the tutorial model")

    def test(name: str, value: Any) -> None:
        exists.check(name, value)
        if isinstance(value, str) and Path(value).suffix == ".pb":
            raise ValueError(f"{name} must not be a .pb graph, which is already frozen (notebook 04 loads one), "
                             f"got {value!r}")

    return Rule("a model file or folder, or empty", test)


def optional_graph() -> Rule:
    """A frozen graph: an existing ``.pb`` file, or ``""`` for the tutorial graph."""
    return existing_path("file", empty_ok=True, hint="give a frozen .pb, or leave it empty for the tutorial graph")
