"""Rebuild ``digits.npz`` from the UCI optical digits CSV (64 pixels then the label per row).

Usage: python data/make_digits.py SOURCE.csv[.gz] data/digits.npz

This is how the shipped file was made; the tutorial itself never runs it.
"""

from __future__ import annotations

import gzip
import hashlib
import sys
from pathlib import Path

import numpy as np


def main(source: str, target: str) -> None:
    opener = gzip.open if source.endswith(".gz") else open
    with opener(source, "rt") as handle:
        table = np.loadtxt(handle, delimiter=",", dtype=np.uint8)
    images = table[:, :64].reshape(-1, 8, 8)
    labels = table[:, 64]
    np.savez_compressed(target, images=images, labels=labels)
    digest = hashlib.sha256(Path(target).read_bytes()).hexdigest()
    print(f"{target}: {images.shape[0]} images, sha256 {digest}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
