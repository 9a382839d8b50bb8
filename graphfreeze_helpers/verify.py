"""Numerical equivalence: the largest absolute difference between two sets of outputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .errors import VerificationError

DEFAULT_TOLERANCE = 1e-5


def as_output_list(outputs: Any) -> list[np.ndarray]:
    """Flatten a model's outputs (tensor, list, tuple or dict sorted by key) to NumPy arrays."""
    if isinstance(outputs, dict):
        return [np.asarray(outputs[key]) for key in sorted(outputs)]
    if isinstance(outputs, (list, tuple)):
        return [np.asarray(item) for item in outputs]
    return [np.asarray(outputs)]


def max_abs_diff(expected: Any, actual: Any) -> float:
    """Largest absolute elementwise difference over all outputs; ``inf`` if shapes differ."""
    left, right = as_output_list(expected), as_output_list(actual)
    if len(left) != len(right):
        return float("inf")
    worst = 0.0
    for a, b in zip(left, right):
        if a.shape != b.shape:
            return float("inf")
        if a.size:
            diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
            if np.isnan(diff).any():
                return float("nan")
            worst = max(worst, float(diff.max()))
    return worst


@dataclass(frozen=True)
class Verification:
    """Result of comparing a candidate against a reference on the same inputs."""

    max_abs_diff: float
    tolerance: float
    samples: int

    @classmethod
    def from_outputs(
        cls, expected: Any, actual: Any, inputs: Sequence[Any], *, tolerance: float = DEFAULT_TOLERANCE
    ) -> "Verification":
        """Compare two sets of outputs computed on the same ``inputs`` (one array per model input)."""
        samples = int(np.shape(inputs[0])[0]) if len(inputs) and np.ndim(inputs[0]) else 0
        return cls(max_abs_diff(expected, actual), tolerance, samples)

    @property
    def ok(self) -> bool:
        return bool(self.max_abs_diff <= self.tolerance)  # NaN compares False

    def __repr__(self) -> str:
        verdict = "ok" if self.ok else "MISMATCH"
        return (
            f"Verification({verdict}: max_abs_diff={self.max_abs_diff:.3g} <= {self.tolerance:g}, "
            f"samples={self.samples})"
        )

    def raise_if_failed(self, what: str = "frozen graph") -> "Verification":
        if not self.ok:
            raise VerificationError(
                f"{what} differs from the original model: max |diff| = {self.max_abs_diff:.3g} "
                f"> tolerance {self.tolerance:g}; check for training-mode ops or non-deterministic layers"
            )
        return self


def verify(
    reference: Callable[..., Any],
    candidate: Callable[..., Any],
    inputs: Sequence[np.ndarray],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
) -> Verification:
    """Call both on ``inputs`` (one array per model input) and compare the outputs."""
    return Verification.from_outputs(reference(*inputs), candidate(*inputs), inputs, tolerance=tolerance)
