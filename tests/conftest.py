"""Shared fixtures: a tiny synthetic-hand dataset and the real samples.

Helpers the tests share live in :mod:`projects.nsrm.testing`.
"""
import os.path as osp

import pytest

from projects.nsrm.testing import REALDATA


@pytest.fixture(scope='session')
def tiny_hands(tmp_path_factory):
    """A 16-train / 8-val synthetic-hand dataset (128 px), made once."""
    from projects.synthetic_hands import ensure_synthetic_hands
    root = str(tmp_path_factory.mktemp('tiny_hands'))
    ensure_synthetic_hands(root, num_train=16, num_val=8, seed=0, img_size=128)
    return root


@pytest.fixture(scope='session')
def realdata():
    """The folder of real sample images, or skip when it is absent."""
    if not osp.isdir(REALDATA):
        pytest.skip(f'real sample data not found at {REALDATA} '
                    '(../shared/realdata beside the repository)')
    return REALDATA
