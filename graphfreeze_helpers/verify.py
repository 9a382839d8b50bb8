"""Numerical equivalence: two sets of outputs compared by name, the way ``np.allclose`` does.

A value passes when ``|candidate - reference| <= tolerance + rtol * |reference|``: the
absolute part (``tolerance``, the command's ``--tolerance``) covers values near zero, the
relative part (``rtol``, ``--rtol``) covers large ones, so outputs in the hundreds are not
refused for float32 rounding (one float32 step at 500 is already 3e-5).

- Outputs are matched by **name** when both sides name them (a dict, or a list with
  ``names``): a converter may return them in another order (LiteRT does). ``x`` and ``x:0``
  name the same tensor.
- NaN in the same places counts as equal (so does the same infinity). A NaN or infinity
  on one side only is a mismatch, reported as a count, never as a difference of ``nan``.
- A shape mismatch, a missing output or outputs that are NaN everywhere (nothing was
  compared) are reported in words, never as an infinite difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional, Sequence

import numpy as np

from .errors import InputError, VerificationError
from .tensors import TensorInfo, tensor_name

DEFAULT_TOLERANCE = 1e-5  # the absolute part (atol)
DEFAULT_RTOL = 1e-5  # the relative part, times |reference| (NumPy's allclose default)
ALL_NAN = "every output is NaN on these inputs, so nothing was compared"


def as_output_list(outputs: Any) -> list[np.ndarray]:
    """Flatten a model's outputs (tensor, list, tuple or dict sorted by key) to NumPy arrays."""
    if isinstance(outputs, Mapping):
        return [np.asarray(outputs[key]) for key in sorted(outputs)]
    if isinstance(outputs, (list, tuple)):
        return [np.asarray(item) for item in outputs]
    return [np.asarray(outputs)]


def named_outputs(outputs: Any, names: Optional[Sequence[str]] = None) -> dict[str, np.ndarray]:
    """Outputs as ``{name: array}``: a dict keeps its keys; a list (or one array) takes ``names``
    in order, or ``"output 0"``, ``"output 1"``... without them. A dict whose keys are not
    ``names`` (a Keras model's output names) counts as a list in key order, as before."""
    if isinstance(outputs, Mapping):
        keys = [str(key) for key in outputs]
        if names is None or all(any(_same_name(key, name) for name in names) for key in keys):
            return {str(key): np.asarray(value) for key, value in outputs.items()}
    arrays = as_output_list(outputs)
    if names is None:
        return {f"output {i}": array for i, array in enumerate(arrays)}
    named = {str(name): array for name, array in zip(names, arrays)}
    named.update({f"output {i}": array for i, array in enumerate(arrays) if i >= len(names)})  # unnamed extras
    return named


def _same_name(name: str, other: str) -> bool:
    return name == other or tensor_name(name) == tensor_name(other)


def _finite_or_nan_mask(expected: np.ndarray, actual: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(both finite, non-finite on one side or different non-finite values)."""
    e_fin, a_fin = np.isfinite(expected), np.isfinite(actual)
    both_nan = np.isnan(expected) & np.isnan(actual)
    same_inf = np.isinf(expected) & (expected == actual)
    return e_fin & a_fin, ~(e_fin & a_fin) & ~both_nan & ~same_inf


def max_abs_diff(expected: Any, actual: Any) -> float:
    """Largest absolute elementwise difference over all outputs, by position.

    NaN in the same places counts as equal; NaN (or infinity) on one side only gives ``nan``;
    a different count or shape of outputs gives ``inf``. :class:`Verification` says the same
    in words: prefer it to report.
    """
    left, right = as_output_list(expected), as_output_list(actual)
    if len(left) != len(right):
        return float("inf")
    worst = 0.0
    for a, b in zip(left, right):
        if a.shape != b.shape:
            return float("inf")
        if not a.size:
            continue
        if a.dtype.kind not in "biufc" or b.dtype.kind not in "biufc":
            if not np.array_equal(a, b):
                return float("nan")
            continue
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        finite, odd = _finite_or_nan_mask(a64, b64)
        if odd.any():
            return float("nan")
        if finite.any():
            worst = max(worst, float(np.abs(a64[finite] - b64[finite]).max()))
    return worst


@dataclass(frozen=True)
class OutputCheck:
    """One output compared: its largest finite difference and, if it fails, why in words."""

    name: str
    max_abs_diff: float  # over the values finite on both sides; 0.0 if none
    reference_at_worst: float = 0.0  # |reference| where the difference is furthest beyond the tolerance
    allowed_at_worst: float = 0.0  # tolerance + rtol * |reference| there
    beyond: int = 0  # how many values are beyond the tolerance
    size: int = 0
    problem: str = ""  # shape mismatch, missing output, NaN on one side
    all_nan: bool = False  # the reference is NaN everywhere

    @property
    def ok(self) -> bool:
        return not self.problem and not self.beyond

    def describe(self) -> str:
        """One phrase a person can act on."""
        if self.problem:
            return f"output {self.name!r}: {self.problem}"
        if self.beyond:
            return (
                f"output {self.name!r}: {self.beyond} of {self.size} values beyond the tolerance; the worst differs "
                f"by {self.max_abs_diff:.3g} where |reference| = {self.reference_at_worst:.3g} "
                f"(allowed there: {self.allowed_at_worst:.3g})"
            )
        return f"output {self.name!r}: max |diff| = {self.max_abs_diff:.3g}"


def check_output(name: str, expected: Any, actual: Any, *, tolerance: float, rtol: float) -> OutputCheck:
    """Compare one output with its reference (``np.isclose(actual, expected, rtol, tolerance, equal_nan=True)``)."""
    e, a = np.asarray(expected), np.asarray(actual)
    if e.shape != a.shape:
        return OutputCheck(name, 0.0, size=e.size,
                           problem=f"shape {tuple(a.shape)} here but {tuple(e.shape)} in the reference")
    if e.dtype.kind not in "biufc" or a.dtype.kind not in "biufc":  # strings, objects: equal or not
        differ = int(np.sum(e != a)) if e.size else 0
        problem = f"{differ} of {e.size} values differ" if differ else ""
        return OutputCheck(name, 0.0, size=e.size, problem=problem)
    e64, a64 = e.astype(np.float64), a.astype(np.float64)
    all_nan = bool(e.size) and bool(np.isnan(e64).all())
    finite, odd = _finite_or_nan_mask(e64, a64)
    problem = ""
    if odd.any():
        problem = (f"{int(odd.sum())} of {e.size} values are NaN or infinite in only one of the two "
                   f"(or infinite with different signs)")
    if not finite.any():
        return OutputCheck(name, 0.0, size=e.size, problem=problem, all_nan=all_nan)
    diff = np.abs(a64[finite] - e64[finite])
    allowed = tolerance + rtol * np.abs(e64[finite])
    excess = diff - allowed
    worst = int(np.argmax(excess))
    return OutputCheck(
        name,
        float(diff.max()),
        reference_at_worst=float(np.abs(e64[finite][worst])),
        allowed_at_worst=float(allowed[worst]),
        beyond=int(np.sum(excess > 0)),
        size=e.size,
        problem=problem,
        all_nan=all_nan,
    )


def compare_named(
    expected: Mapping[str, Any], actual: Mapping[str, Any], *, tolerance: float, rtol: float
) -> tuple[OutputCheck, ...]:
    """Every reference output checked against the candidate output of the same name (``x`` = ``x:0``)."""
    checks = []
    used: set[str] = set()
    for name, value in expected.items():
        match = next((key for key in actual if key not in used and _same_name(name, key)), None)
        if match is None:
            found = [key for key in actual if key not in used]
            checks.append(OutputCheck(name, 0.0, problem=f"missing (the candidate's outputs are {found})"))
            continue
        used.add(match)
        checks.append(check_output(name, value, actual[match], tolerance=tolerance, rtol=rtol))
    extra = [key for key in actual if key not in used]
    if extra:
        checks.append(OutputCheck(", ".join(extra), 0.0, problem="not an output of the reference"))
    return tuple(checks)


@dataclass(frozen=True)
class Verification:
    """Result of comparing a candidate against a reference on the same inputs.

    ``max_abs_diff`` is the largest difference over values finite on both sides (never
    ``nan`` or ``inf`` when built by :meth:`from_outputs`); ``outputs`` has one
    :class:`OutputCheck` per output; ``problem`` says in words why it failed.
    """

    max_abs_diff: float
    tolerance: float
    samples: int
    rtol: float = 0.0
    outputs: tuple[OutputCheck, ...] = ()

    @classmethod
    def from_outputs(
        cls,
        expected: Any,
        actual: Any,
        inputs: Sequence[Any],
        *,
        tolerance: float = DEFAULT_TOLERANCE,
        rtol: float = DEFAULT_RTOL,
        names: Optional[Sequence[str]] = None,
        actual_names: Optional[Sequence[str]] = None,
    ) -> "Verification":
        """Compare two sets of outputs computed on the same ``inputs`` (one array per model input).

        Dicts are matched by key. A list is named by ``names`` (``actual_names`` for
        ``actual``, default ``names``), else by position.
        """
        samples = int(np.shape(inputs[0])[0]) if len(inputs) and np.ndim(inputs[0]) else 0
        left = named_outputs(expected, names)
        right = named_outputs(actual, actual_names if actual_names is not None else names)
        checks = compare_named(left, right, tolerance=tolerance, rtol=rtol)
        worst = max((c.max_abs_diff for c in checks), default=0.0)
        return cls(worst, tolerance, samples, rtol, checks)

    @property
    def all_nan(self) -> bool:
        """Every output of the reference is NaN everywhere: the comparison proved nothing."""
        return bool(self.outputs) and all(c.all_nan for c in self.outputs)

    @property
    def problem(self) -> str:
        """Why the check failed, in words ("" when it passed)."""
        if self.all_nan:
            return ALL_NAN
        failing = [c.describe() for c in self.outputs if not c.ok]
        if failing:
            return "; ".join(failing)
        if not self.outputs and not self.max_abs_diff <= self.tolerance:  # built by hand; NaN fails
            return f"max |diff| = {self.max_abs_diff:.3g} > tolerance {self.tolerance:g}"
        return ""

    @property
    def ok(self) -> bool:
        return not self.problem

    @property
    def tolerance_text(self) -> str:
        """The tolerance applied, e.g. ``1e-05 + 1e-05 x |reference|``."""
        if self.rtol:
            return f"{self.tolerance:g} + {self.rtol:g} x |reference|"
        return f"{self.tolerance:g}"

    def summary(self) -> str:
        """One line: the largest difference and the tolerance applied, or what failed."""
        compared = f"{len(self.outputs)} outputs by name, " if len(self.outputs) > 1 else ""
        line = f"max |diff| = {self.max_abs_diff:.3g} ({compared}tolerance {self.tolerance_text})"
        return line if self.ok else f"{line}: {self.problem}"

    def __repr__(self) -> str:
        verdict = "ok" if self.ok else "MISMATCH"
        return f"Verification({verdict}: {self.summary()}, samples={self.samples})"

    def raise_if_failed(self, what: str = "frozen graph", against: str = "the original model") -> "Verification":
        if self.all_nan:
            raise VerificationError(
                f"cannot verify the {what}: {ALL_NAN} ({against} gives NaN too); "
                "verify on real inputs (--input NAME=FILE.npy)"
            )
        if not self.ok:
            hint = "" if any(c.problem for c in self.outputs) else (
                "; check for training-mode ops or non-deterministic layers, or raise --tolerance/--rtol")
            raise VerificationError(
                f"{what} differs from {against}: {self.problem} (tolerance {self.tolerance_text}){hint}"
            )
        return self


def input_list(specs: Sequence[TensorInfo], given: Any) -> list[np.ndarray]:
    """Real inputs as one array per spec, in order: a list as is, a ``{name: array}`` matched by name.

    Names may be ``x`` or ``x:0``. A missing or unknown name raises :class:`InputError`.
    """
    if not isinstance(given, Mapping):
        return [np.asarray(array) for array in given]
    by_name = {tensor_name(str(key)): value for key, value in given.items()}
    wanted = [t.name for t in specs]
    unknown = sorted(set(by_name) - set(wanted))
    missing = [name for name in wanted if name not in by_name]
    if unknown or missing:
        parts = ([f"no input named {unknown}"] if unknown else []) + ([f"missing {missing}"] if missing else [])
        raise InputError(f"{'; '.join(parts)}; the graph's inputs are {wanted}")
    return [np.asarray(by_name[name]) for name in wanted]


def verify(
    reference: Callable[..., Any],
    candidate: Callable[..., Any],
    inputs: Sequence[np.ndarray],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    rtol: float = DEFAULT_RTOL,
    names: Optional[Sequence[str]] = None,
    actual_names: Optional[Sequence[str]] = None,
) -> Verification:
    """Call both on ``inputs`` (one array per model input); compare them (:meth:`Verification.from_outputs`)."""
    return Verification.from_outputs(reference(*inputs), candidate(*inputs), inputs, tolerance=tolerance,
                                     rtol=rtol, names=names, actual_names=actual_names)
