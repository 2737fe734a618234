"""Tests of projects/synthetic_hands/validation.py."""
import numpy as np
import pytest

from projects.synthetic_hands.validation import (check_img_size, check_int,
                                                 check_settings)


def test_check_int():
    assert check_int('n', 3, 0) == 3
    value = check_int('n', np.int64(5), 0, 5)
    assert value == 5 and type(value) is int
    with pytest.raises(ValueError, match='n must be an integer, got True'):
        check_int('n', True, 0)
    with pytest.raises(ValueError, match='n must be an integer'):
        check_int('n', 2.0, 0)
    with pytest.raises(ValueError, match='n must be >= 1, got 0'):
        check_int('n', 0, 1)
    with pytest.raises(ValueError, match='n must be >= 0 and <= 4, got 5'):
        check_int('n', 5, 0, 4)


def test_check_img_size_bounds():
    assert check_img_size(64) == 64 and check_img_size(4096) == 4096
    for bad in (63, 4097):
        with pytest.raises(ValueError, match='img_size'):
            check_img_size(bad)


def test_check_settings():
    assert check_settings(2, 0, 1, 64, None) == (2, 0, 1, 64, None)
    assert check_settings(0, 1, 0, 64, np.int32(3)) == (0, 1, 0, 64, 3)
    with pytest.raises(ValueError, match=r'num_train \+ num_val'):
        check_settings(0, 0, 0, 64, None)
