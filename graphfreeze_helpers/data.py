"""The shipped data set: UCI optical handwritten digits (8x8 pixels, 1,797 images).

Nothing is downloaded. The file lives in ``data/digits.npz`` and is checked against its
sha256 before use.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import DataError
from .files import sha256_bytes

DIGITS_SHA256 = "b2dab7b501728c22e9119ad76740b2e17c77a231e42d1e592380d90886f1a05e"
DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DIGITS_PATH = DATA_DIR / "digits.npz"


@dataclass(frozen=True)
class Digits:
    """Train/test split of the digits, images scaled to [0, 1] with a channel axis."""

    x_train: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    x_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max())) + 1

    def __repr__(self) -> str:
        return (
            f"Digits(train={len(self.x_train)}, test={len(self.x_test)}, "
            f"input_shape={self.input_shape}, classes={self.num_classes})"
        )


def load_digits(path: str | Path = DIGITS_PATH, *, test_fraction: float = 0.2, seed: int = 0) -> Digits:
    """Load, verify and split the digits. The split is stratified-free but seeded."""
    path = Path(path)
    if not 0.0 < test_fraction < 1.0:
        raise DataError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    if not path.is_file():
        raise DataError(f"data file {str(path)!r} is missing; restore it with `git checkout -- data/`")
    payload = path.read_bytes()
    digest = sha256_bytes(payload)
    if path.resolve() == DIGITS_PATH and digest != DIGITS_SHA256:
        raise DataError(
            f"data file {str(path)!r} is corrupt: sha256 {digest[:12]}…, expected {DIGITS_SHA256[:12]}…; "
            "restore it with `git checkout -- data/`"
        )
    try:
        with np.load(io.BytesIO(payload)) as archive:
            images, labels = archive["images"], archive["labels"]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise DataError(f"data file {str(path)!r} cannot be read as digits ({exc})") from None
    x = (images.astype(np.float32) / 16.0)[..., np.newaxis]
    y = labels.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    cut = int(round(len(x) * (1.0 - test_fraction)))
    train, test = order[:cut], order[cut:]
    return Digits(x[train], y[train], x[test], y[test])
