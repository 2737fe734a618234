"""The environment tools/setup_env.sh made is complete and consistent, so
`pip install -e .` works in it."""
import importlib.metadata
import os.path as osp
import re
import subprocess
import sys

from projects.nsrm.testing import REPO


def pip(*args):
    return subprocess.run([sys.executable, '-m', 'pip', *args],
                          capture_output=True, text=True, timeout=300)


def test_setup_py_declares_the_openmmlab_stack():
    requires = importlib.metadata.requires('nsrm-mmpose')
    for req in ('mmengine==0.10.7', 'mmpose==1.3.2', 'mmdet==3.3.0',
                'torchvision', 'xtcocotools'):
        assert req in requires, requires
    assert any(r.startswith('mmcv') and '<2.2.0' in r for r in requires)
    assert any(r.startswith('numpy') and '<2' in r for r in requires)


def test_every_declared_requirement_is_satisfied():
    proc = pip('check')
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'No broken requirements found' in proc.stdout


def test_pip_install_editable_needs_nothing_else():
    proc = pip('install', '--dry-run', '--no-build-isolation',
               '--disable-pip-version-check', '-e', REPO)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    would = re.findall(r'^Would install (.*)$', proc.stdout, re.M)
    assert [w.split() for w in would] == [['nsrm-mmpose-0.1.0']], would


def test_pinned_versions_are_the_ones_installed():
    pins = {}
    for name in ('torch.txt', 'runtime.txt', 'openmmlab.txt'):
        with open(osp.join(REPO, 'requirements', name)) as f:
            for line in f:
                line = line.split('#')[0].strip()
                if line:
                    pkg, version = line.split('==')
                    pins[pkg] = version
    import mmcv
    assert mmcv.__version__ == '2.1.0'
    for pkg, version in pins.items():
        installed = importlib.metadata.version(pkg)
        assert installed.split('+')[0] == version, (pkg, installed, version)
