"""Tests of tools/generate_synthetic_hands.py."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from projects.synthetic_hands import generate_synthetic_hands

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOL = 'tools/generate_synthetic_hands.py'


def _env():
    """The caller's environment without PYTHONPATH."""
    return {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}


def _load(root, split='train'):
    return json.loads((Path(root) / 'annotations' /
                       f'synthetic_hands_{split}.json').read_bytes())


def test_cli(tmp_path):
    cmd = [sys.executable, TOOL, '--out-dir',
           str(tmp_path), '--num-train', '2', '--num-val', '1',
           '--img-size', '64', '--workers', '1']
    env = _env()
    run = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert 'wrote 2 train + 1 val' in run.stdout and ' s' in run.stdout
    assert len(_load(tmp_path, 'val')['annotations']) == 1
    bad = subprocess.run(cmd[:-1] + ['0'], cwd=REPO_ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and 'workers' in bad.stderr


@pytest.mark.slow
def test_cli_workers_from_another_directory(tmp_path):
    """Workers import the package without the repo on PYTHONPATH or cwd."""
    ref = tmp_path / 'ref'
    generate_synthetic_hands(ref, num_train=3, num_val=2, img_size=64,
                             seed=2, workers=1)
    out = tmp_path / 'cli'
    run = subprocess.run(
        [sys.executable, str(REPO_ROOT / TOOL), '--out-dir', 'cli',
         '--num-train', '3', '--num-val', '2', '--img-size', '64',
         '--seed', '2', '--workers', '2'], cwd=tmp_path, env=_env(),
        capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert 'wrote 3 train + 2 val' in run.stdout
    files = sorted(p.relative_to(ref) for p in ref.rglob('*')
                   if p.is_file() and p.name != 'meta.json')
    assert len(files) == 7  # 5 images + 2 annotation files
    for rel in files:
        assert (ref / rel).read_bytes() == (out / rel).read_bytes(), rel
    assert json.loads((out / 'meta.json').read_text())['workers'] == 2
