"""Self-checks for the notebook exercises.

Each check returns a :class:`Correct` result, which Jupyter shows as a small green box, or
raises :class:`ExerciseIncorrect` with one sentence saying what was wrong and a hint. In
Jupyter that error shows as one line, without a traceback: a learner sees the hint, not
the internals of this module. Nothing here prints.

    from graphfreeze_helpers.course import check_equal
    check_equal("03.1", answer_1, 12, hint="count node.op == 'Const' in frozen.graph_def.node")

The convention for marking solutions (cells tagged ``solution``) is in ``docs/workshop.md``;
``tools/make_student.py`` replaces those cells with :func:`stub_source`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..bench import BenchResult

STUB_MARKER = "# YOUR CODE HERE"


class ExerciseIncorrect(AssertionError):
    """The answer to an exercise is not right yet. The message carries a hint."""

    def __init__(self, exercise: str, message: str, hint: str = "") -> None:
        self.exercise = exercise
        self.hint = hint
        text = f"Not yet ({exercise}): {message}"
        if hint:
            text += f" Hint: {hint}"
        super().__init__(text)

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of printing a traceback: the learner sees one line.
        return [f"{type(self).__name__}: {self}"]


class ExerciseNotDone(ExerciseIncorrect):
    """The exercise has not been attempted: the answer is still ``...`` or the stub is in place."""


@dataclass(frozen=True)
class Correct:
    """A passed self-check: shows as a green box in Jupyter and one line as text."""

    exercise: str
    message: str = ""

    @property
    def text(self) -> str:
        return f"Correct ({self.exercise})" + (f": {self.message}" if self.message else ".")

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return (
            '<div style="border-left:4px solid #2e7d32;background:#e8f5e9;color:#1b5e20;'
            'padding:4px 8px;margin:2px 0;font-family:sans-serif">'
            f"&#10004; {html.escape(self.text)}</div>"
        )


def _not_done(exercise: str, answer: Any) -> None:
    if answer is Ellipsis or answer is NotImplemented:
        raise ExerciseNotDone(
            exercise, "the answer is still `...`; write your solution in the cell above and run it first."
        )


def _short(value: Any, limit: int = 80) -> str:
    if isinstance(value, np.ndarray):
        text = f"an array of shape {value.shape}"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _require_hint(hint: str) -> None:
    if not hint or not hint.strip():
        raise ValueError("every self-check needs a hint: say what to look at, not the answer")


def check(exercise: str, passed: Any, *, hint: str, success: str = "", problem: str = "") -> Correct:
    """Pass if ``passed`` is true; otherwise raise with ``problem`` (what is wrong) and the hint."""
    _require_hint(hint)
    _not_done(exercise, passed)
    if not bool(passed):
        raise ExerciseIncorrect(exercise, problem or "the condition is not met yet.", hint)
    return Correct(exercise, success)


def check_equal(exercise: str, answer: Any, expected: Any, *, hint: str, success: str = "") -> Correct:
    """Pass if ``answer == expected`` (element-wise and same shape for numpy arrays)."""
    _require_hint(hint)
    _not_done(exercise, answer)
    if isinstance(answer, np.ndarray) or isinstance(expected, np.ndarray):
        a, e = np.asarray(answer), np.asarray(expected)
        if a.shape != e.shape:
            raise ExerciseIncorrect(exercise, f"your array has shape {a.shape}, expected shape {e.shape}.", hint)
        ok = bool(np.array_equal(a, e))
    else:
        if type(answer) is not type(expected) and not (
            isinstance(answer, (int, float, np.number)) and isinstance(expected, (int, float, np.number))
        ):
            raise ExerciseIncorrect(
                exercise,
                f"you gave a {type(answer).__name__} ({_short(answer)}), expected a {type(expected).__name__}.",
                hint,
            )
        ok = bool(answer == expected)
    if not ok:
        raise ExerciseIncorrect(exercise, f"you gave {_short(answer)}, which is not right.", hint)
    return Correct(exercise, success or f"{_short(answer)}")


def check_close(
    exercise: str, answer: Any, expected: Any, *, hint: str, rtol: float = 1e-5, atol: float = 1e-8, success: str = ""
) -> Correct:
    """Pass if ``answer`` is numerically close to ``expected`` (numbers or arrays, ``np.allclose``)."""
    _require_hint(hint)
    _not_done(exercise, answer)
    try:
        a = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        raise ExerciseIncorrect(exercise, f"you gave {_short(answer)}, which is not a number or array.", hint) from None
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        raise ExerciseIncorrect(exercise, f"your answer has shape {a.shape}, expected shape {e.shape}.", hint)
    if not np.allclose(a, e, rtol=rtol, atol=atol):
        worst = float(np.max(np.abs(a - e))) if a.size else 0.0
        raise ExerciseIncorrect(exercise, f"you gave {_short(answer)}, off by up to {worst:.3g}.", hint)
    return Correct(exercise, success or f"{_short(answer)}")


def check_type(exercise: str, answer: Any, expected_type: type | tuple[type, ...], *, hint: str,
               success: str = "") -> Correct:
    """Pass if ``answer`` is an instance of ``expected_type``."""
    _require_hint(hint)
    _not_done(exercise, answer)
    if not isinstance(answer, expected_type):
        names = (
            " or ".join(t.__name__ for t in expected_type) if isinstance(expected_type, tuple)
            else expected_type.__name__
        )
        raise ExerciseIncorrect(exercise, f"you gave a {type(answer).__name__}, expected: {names}.", hint)
    return Correct(exercise, success or f"a {type(answer).__name__}")


def check_raises(exercise: str, func: Callable[[], Any], exception: type[BaseException] | tuple, *, hint: str,
                 success: str = "") -> Correct:
    """Pass if calling ``func()`` raises ``exception``."""
    _require_hint(hint)
    _not_done(exercise, func)
    if not callable(func):
        raise ExerciseIncorrect(exercise, f"you gave {_short(func)}, expected a function to call.", hint)
    try:
        func()
    except exception as error:
        return Correct(exercise, success or f"raised {type(error).__name__}: {str(error)[:120]}")
    except Exception as error:  # noqa: BLE001  (any other error is the answer to report)
        raise ExerciseIncorrect(
            exercise, f"your function raised {type(error).__name__}: {str(error)[:120]}, not the expected error.",
            hint,
        ) from None
    raise ExerciseIncorrect(exercise, "your function ran without raising an error.", hint)


def stub_source(solution_source: str, exercise: str = "") -> str:
    """The student version of a ``solution`` cell: its leading comment lines, a marker and a raise."""
    kept = []
    for line in solution_source.splitlines():
        if line.startswith("#"):
            kept.append(line)
        else:
            break
    label = f"Exercise {exercise}: w" if exercise else "W"
    kept.append(STUB_MARKER)
    kept.append(f'raise NotImplementedError("{label}rite your solution in this cell, then run the check below it")')
    return "\n".join(kept)


def check_benchmark(exercise: str, answer: Any, *, contenders: list[str], batch: int, tolerance: float,
                    hint: str) -> Correct:
    """Pass if ``answer`` is a :class:`~graphfreeze_helpers.bench.BenchResult` that timed ``contenders`` at
    ``batch``, and their outputs agree within ``tolerance``; the success line gives their medians."""
    _require_hint(hint)
    _not_done(exercise, answer)
    if not isinstance(answer, BenchResult):
        raise ExerciseIncorrect(exercise, f"the answer should be a bench.BenchResult, got a {type(answer).__name__}.",
                                hint)
    missing = [name for name in contenders if name not in answer.contenders]
    if missing or batch not in answer.batch_sizes:
        raise ExerciseIncorrect(exercise, f"the result lacks {missing or f'batch size {batch}'}.", hint)
    if not answer.worst_diff() <= tolerance:
        raise ExerciseIncorrect(
            exercise, f"the contenders disagree by up to {answer.worst_diff():.3g} (> {tolerance:g}).",
            "a frozen graph must compute what the model computes; freeze the same model you benchmark",
        )
    medians = ", ".join(f"{name} {answer.median(name, batch):,.0f} µs" for name in contenders)
    return Correct(exercise, f"at batch {batch}: {medians}")
