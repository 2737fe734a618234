"""Shared fixtures: a tiny synthetic-hand dataset and a tool runner."""
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
REALDATA = osp.join(osp.dirname(REPO), 'shared', 'realdata')

#: --cfg-options that shrink any synthetic-hands config to seconds on a CPU.
TINY_OPTIONS = [
    'train_dataloader.batch_size=4', 'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False',
    'val_dataloader.batch_size=4', 'val_dataloader.num_workers=0',
    'val_dataloader.persistent_workers=False',
    'test_dataloader.batch_size=4', 'test_dataloader.num_workers=0',
    'test_dataloader.persistent_workers=False',
    'default_hooks.logger.interval=1', 'randomness.seed=0',
]


# A right hand, fingers up, in a 46x46 grid (x, y), MMPose hand order.
HAND = np.array([
    [23.0, 40.0],
    [17.5, 36.0], [13.2, 32.1], [10.8, 28.4], [9.1, 25.0],
    [18.6, 26.0], [17.4, 19.3], [16.9, 15.2], [16.5, 11.8],
    [22.4, 25.3], [22.1, 17.6], [22.0, 12.9], [21.8, 9.0],
    [26.1, 26.2], [26.9, 19.0], [27.3, 14.6], [27.6, 11.0],
    [29.5, 28.1], [31.2, 23.4], [32.3, 20.4], [33.0, 17.5],
])  # yapf: disable


@pytest.fixture(scope='session')
def tiny_hands(tmp_path_factory):
    """A 16-train / 8-val synthetic-hand dataset (128 px), made once."""
    from projects.nsrm.synthetic_hands import ensure_synthetic_hands
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


def data_options(root):
    """--cfg-options pointing every dataloader at a synthetic-hands root."""
    root = root.rstrip('/') + '/'
    return [f'{split}_dataloader.dataset.data_root={root}'
            for split in ('train', 'val', 'test')]


def run_tool(args, timeout=600, env=None, check=True):
    """Runs ``python <args>`` from the repository root, like a user would.

    PYTHONPATH is removed so that the tools prove they need nothing set by
    hand.
    """
    full_env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, *args], cwd=REPO, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(
            f'{" ".join(args)} failed ({proc.returncode}):\n'
            f'{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}')
    return proc
