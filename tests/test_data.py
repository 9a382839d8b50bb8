import numpy as np
import pytest

from graphfreeze_helpers.data import DIGITS_PATH, load_digits
from graphfreeze_helpers.errors import DataError


def test_digits_split_shapes_and_range(digits):
    assert digits.x_train.shape[1:] == (8, 8, 1)
    assert len(digits.x_train) + len(digits.x_test) == 1797
    assert digits.x_train.dtype == np.float32
    assert 0.0 <= digits.x_train.min() and digits.x_train.max() <= 1.0
    assert set(np.unique(digits.y_train)) == set(range(10))
    assert digits.num_classes == 10


def test_split_is_seeded_and_disjoint():
    a, b = load_digits(seed=3), load_digits(seed=3)
    np.testing.assert_array_equal(a.x_test, b.x_test)
    c = load_digits(seed=4)
    assert not np.array_equal(a.y_test, c.y_test)


def test_missing_file_says_how_to_restore(tmp_path):
    with pytest.raises(DataError, match="missing"):
        load_digits(tmp_path / "nope.npz")


def test_corrupt_file_is_reported(tmp_path):
    bad = tmp_path / "digits.npz"
    bad.write_bytes(DIGITS_PATH.read_bytes()[:1000])
    with pytest.raises(DataError, match="cannot be read"):
        load_digits(bad)


def test_checksum_guards_the_shipped_file(monkeypatch):
    monkeypatch.setattr("graphfreeze_helpers.data.DIGITS_SHA256", "0" * 64)
    with pytest.raises(DataError, match="corrupt"):
        load_digits()


def test_bad_test_fraction():
    with pytest.raises(DataError, match="test_fraction"):
        load_digits(test_fraction=1.5)
