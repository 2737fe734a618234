"""Helpers the test suite (and the benchmarks) share.

Importable (``from projects.nsrm.testing import HAND, run_tool``) rather than
``from conftest import``; the pytest fixtures themselves stay in
``tests/conftest.py`` and use these helpers.
"""
import importlib.util
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


def write_raw_panoptic_hand143(root: str,
                               num_images: int = 20,
                               seed: int = 0,
                               img_size: Sequence[int] = (160, 120)) -> str:
    """Writes a tiny release in the raw CMU Panoptic hand143 format.

    ``root/hands_v143_14817.json`` (``{"root": [{"img_paths":
    "imgs/00000001.jpg", "joint_self": [[x, y, valid] x 21], "objpos":
    [x, y]}, ...]}``) and ``root/imgs/*.jpg``: noise images with one right
    hand (:data:`HAND`, scaled, rotated by up to 30 degrees and moved at
    random, all keypoints inside the image) drawn as lines. Every third
    entry (0, 3, 6, ...) has two fingertips with ``valid == 0`` whose
    coordinates are still given, 8 px beyond the tip (so a box that wrongly
    used them would be larger). Convert it with
    :func:`projects.nsrm.datasets.converters.convert_panoptic_hand143`.

    Args:
        root (str): The folder to write (created if needed).
        num_images (int): Entries and images. Defaults to 20 (a 16 / 2 / 2
            split).
        seed (int): Seed of the hands and the noise. Defaults to 0.
        img_size (Sequence[int]): ``(W, H)`` of every image. Defaults to
            ``(160, 120)``.

    Returns:
        str: ``root``.
    """
    import json

    import cv2
    width, height = (int(v) for v in img_size)
    if num_images < 1 or min(width, height) < 48:
        raise ValueError('write_raw_panoptic_hand143: need num_images >= 1 '
                         f'and img_size >= (48, 48), got {num_images}, '
                         f'{tuple(img_size)}')
    rng = np.random.default_rng(seed)
    os.makedirs(osp.join(root, 'imgs'), exist_ok=True)
    centred = HAND - (HAND.min(axis=0) + HAND.max(axis=0)) / 2
    tips = np.array([4, 8, 12, 16, 20])
    entries = []
    for i in range(num_images):
        angle = np.deg2rad(rng.uniform(-30, 30))
        rot = np.array([[np.cos(angle), -np.sin(angle)],
                        [np.sin(angle), np.cos(angle)]])
        scale = rng.uniform(0.45, 0.6) * min(width, height) / 31.0
        xy = centred @ rot.T * scale
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        xy += rng.uniform(2 - lo, np.array([width, height]) - 3 - hi)
        valid = np.ones(21)
        if i % 3 == 0:
            hidden = rng.choice(tips, size=2, replace=False)
            valid[hidden] = 0
            direction = xy[hidden] - xy[hidden - 1]
            xy[hidden] += 8 * direction / np.linalg.norm(
                direction, axis=1, keepdims=True)
        img = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        for finger in range(5):
            chain = [0] + list(range(4 * finger + 1, 4 * finger + 5))
            pts = np.round(xy[chain]).astype(np.int32)
            cv2.polylines(img, [pts], False, (120, 170, 230), 3)
        name = f'imgs/{i + 1:08d}.jpg'
        cv2.imwrite(osp.join(root, name), img)
        joints = np.concatenate([np.round(xy, 3), valid[:, None]], axis=1)
        entries.append(dict(img_paths=name, joint_self=joints.tolist(),
                            objpos=np.round(xy.mean(axis=0), 3).tolist()))
    with open(osp.join(root, 'hands_v143_14817.json'), 'w') as f:
        json.dump(dict(root=entries), f)
    return root


class RecordingLogger:
    """Stands in for MMEngine's ``MMLogger`` in a module under test and
    records what it logs as ``(level, message)`` pairs."""

    def __init__(self):
        self.messages: List[tuple] = []

    def get_current_instance(self) -> 'RecordingLogger':
        return self

    def info(self, msg: str) -> None:
        self.messages.append(('info', msg))

    def warning(self, msg: str) -> None:
        self.messages.append(('warning', msg))


def record_logs(monkeypatch, module) -> List[tuple]:
    """Replaces ``module.MMLogger`` for one test (pytest's ``monkeypatch``)
    and returns the list its messages go to."""
    logger = RecordingLogger()
    monkeypatch.setattr(module, 'MMLogger', logger)
    return logger.messages


def load_script(path: str, name: Optional[str] = None):
    """Imports a script of the repository (a tool, the demo) as a module, so
    that a test calls its functions and ``main()`` in this process.

    Args:
        path (str): The script, relative to the repository root (e.g.
            ``'tools/analysis/run_ablation.py'``) or absolute.
        name (str, optional): The module's name. Defaults to the file's
            stem with ``_script`` appended.

    Returns:
        module: The executed module.
    """
    path = path if osp.isabs(path) else osp.join(REPO, path)
    name = name or osp.splitext(osp.basename(path))[0] + '_script'
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_tiny_checkpoint(config: str,
                          path: str,
                          cfg_options: Optional[dict] = None,
                          seed: int = 0) -> str:
    """Saves a randomly initialised model of ``config`` as an MMEngine-style
    checkpoint (``state_dict`` + ``meta.dataset_meta``), for the tools'
    tests that need a checkpoint file without training.

    Args:
        config (str): A config file (e.g. ``configs/nsrm/
            lpm_g1g6_synthetic_cpu.py``).
        path (str): Where to write the ``.pth``.
        cfg_options (dict, optional): Overrides merged into the config first
            (e.g. a narrower head).
        seed (int): ``torch.manual_seed`` before building. Defaults to 0.

    Returns:
        str: ``path``.
    """
    import torch
    from mmengine.config import Config
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    from mmpose.registry import MODELS
    from mmpose.utils import register_all_modules

    import projects.nsrm  # noqa: F401  registers NSRM's modules

    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    meta = parse_pose_metainfo(
        dict(from_file='configs/_base_/datasets/onehand10k.py'))
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    torch.save(
        dict(state_dict=model.state_dict(),
             meta=dict(dataset_meta=_plain(meta))), path)
    return path


def _plain(meta: dict) -> dict:
    """Dataset metainfo with numpy arrays as lists (a weights-only load
    accepts plain containers only)."""
    return {
        k: v.tolist() if isinstance(v, np.ndarray) else v
        for k, v in meta.items()
    }
