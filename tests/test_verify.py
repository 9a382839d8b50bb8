import math

import numpy as np
import pytest

from graphfreeze_helpers.errors import VerificationError
from graphfreeze_helpers.verify import Verification, as_output_list, max_abs_diff, verify


def test_max_abs_diff_over_structures():
    assert max_abs_diff(np.array([1.0, 2.0]), np.array([1.0, 2.5])) == 0.5
    assert max_abs_diff([np.zeros(2), np.ones(2)], [np.zeros(2), np.ones(2) * 3]) == 2.0
    assert max_abs_diff({"b": np.ones(1), "a": np.zeros(1)}, [np.zeros(1), np.ones(1)]) == 0.0


def test_shape_or_count_mismatch_is_infinite():
    assert max_abs_diff(np.zeros(3), np.zeros(4)) == math.inf
    assert max_abs_diff([np.zeros(3)], [np.zeros(3), np.zeros(3)]) == math.inf


def test_nan_never_passes():
    result = Verification(max_abs_diff(np.zeros(2), np.array([0.0, np.nan])), 1e-5, 2)
    assert not result.ok
    with pytest.raises(VerificationError):
        result.raise_if_failed()


def test_verify_calls_both_on_the_same_inputs():
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    result = verify(lambda a: a * 2, lambda a: a * 2 + 1e-7, [x])
    assert result.ok and result.samples == 3
    bad = verify(lambda a: a, lambda a: a + 1, [x], tolerance=0.5)
    assert not bad.ok and "MISMATCH" in repr(bad)


def test_as_output_list():
    assert len(as_output_list((np.zeros(1), np.zeros(2)))) == 2
