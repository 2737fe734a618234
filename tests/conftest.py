"""Shared fixtures: a tiny synthetic-hand dataset and the real samples.

Helpers the tests share live in :mod:`projects.nsrm.testing`.
"""
import os.path as osp

import pytest

from projects.nsrm.testing import REALDATA


def pytest_collection_modifyitems(config, items):
    """Tests marked ``long`` (minutes each) run first: tools/run_tests.sh
    spreads the suite over the cores with pytest-xdist, and a long test
    collected last would leave one worker running it alone. The order is
    otherwise kept (a stable sort, the same in every xdist worker)."""
    items.sort(key=lambda item: item.get_closest_marker('long') is None)


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


@pytest.fixture(scope='session')
def tiny_checkpoints(tmp_path_factory):
    """Randomly initialised checkpoints of the main job's NSRM LPM-G1&6
    config (``'lpm'``) and of its CPM baseline (``'cpm'``), made once."""
    from projects.nsrm.testing import REPO, write_tiny_checkpoint
    root = tmp_path_factory.mktemp('tiny_checkpoints')
    configs = dict(lpm='configs/nsrm/lpm_g1g6_synthetic_cpu.py',
                   cpm='configs/nsrm/cpm_synthetic_cpu.py')
    return {
        name: write_tiny_checkpoint(
            osp.join(REPO, config), str(root / f'{name}.pth'))
        for name, config in configs.items()
    }
