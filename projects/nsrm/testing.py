"""Helpers the test suite (and the benchmarks) share.

Importable (``from projects.nsrm.testing import HAND, run_tool``) rather than
``from conftest import``; the pytest fixtures themselves stay in
``tests/conftest.py`` and use these helpers.
"""
import os
import os.path as osp
import socket
import subprocess
import sys
from typing import Dict, List, Optional, Sequence

import numpy as np

#: The repository root (this file is projects/nsrm/testing.py).
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

#: The real sample images and annotations, beside the repository.
REALDATA = osp.join(osp.dirname(REPO), 'shared', 'realdata')

#: --cfg-options that shrink any synthetic-hands config to seconds on a CPU.
TINY_OPTIONS: List[str] = [
    'train_dataloader.batch_size=4', 'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False',
    'val_dataloader.batch_size=4', 'val_dataloader.num_workers=0',
    'val_dataloader.persistent_workers=False',
    'test_dataloader.batch_size=4', 'test_dataloader.num_workers=0',
    'test_dataloader.persistent_workers=False',
    'default_hooks.logger.interval=1', 'randomness.seed=0',
]

#: A right hand, fingers up, in a 46x46 grid: (21, 2) as (x, y), MMPose
#: hand order (0 wrist, 1-4 thumb, 5-8 index, 9-12 middle, 13-16 ring,
#: 17-20 little finger).
HAND = np.array([
    [23.0, 40.0],
    [17.5, 36.0], [13.2, 32.1], [10.8, 28.4], [9.1, 25.0],
    [18.6, 26.0], [17.4, 19.3], [16.9, 15.2], [16.5, 11.8],
    [22.4, 25.3], [22.1, 17.6], [22.0, 12.9], [21.8, 9.0],
    [26.1, 26.2], [26.9, 19.0], [27.3, 14.6], [27.6, 11.0],
    [29.5, 28.1], [31.2, 23.4], [32.3, 20.4], [33.0, 17.5],
])  # yapf: disable


def data_options(root: str) -> List[str]:
    """--cfg-options pointing every dataloader at a synthetic-hands root."""
    root = root.rstrip('/') + '/'
    return [f'{split}_dataloader.dataset.data_root={root}'
            for split in ('train', 'val', 'test')]


def run_tool(args: Sequence[str],
             timeout: float = 600,
             env: Optional[Dict[str, str]] = None,
             check: bool = True) -> subprocess.CompletedProcess:
    """Runs ``python <args>`` from the repository root, like a user would.

    PYTHONPATH is removed so that the tools prove they need nothing set by
    hand.

    Args:
        args (Sequence[str]): The script and its arguments.
        timeout (float): Seconds before the run is killed. Defaults to 600.
        env (dict, optional): Extra environment variables.
        check (bool): Raise with the tail of the output when the run fails.
            Defaults to True.

    Returns:
        subprocess.CompletedProcess: The finished run (text stdout/stderr).
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


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run_dist_train(config: str, work_dir: str, cfg_options: Sequence[str],
                   nproc: int = 2) -> str:
    """Runs ``tools/dist_train.sh CONFIG NPROC`` (torchrun, gloo on CPU)
    with this interpreter, one thread per process and a free port.

    Returns:
        str: The output (stdout + stderr); raises with its tail on failure.
    """
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env.update(PYTHON=sys.executable, PORT=str(free_port()),
               OMP_NUM_THREADS='1')
    proc = subprocess.run(
        ['bash', 'tools/dist_train.sh', config, str(nproc), '--work-dir',
         work_dir, '--cfg-options', *cfg_options],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-6000:]
    return log
