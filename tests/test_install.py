"""The environment tools/setup_env.sh made is complete and consistent, so
`pip install -e .` works in it, and every checkout runs its own code."""
import importlib.metadata
import os
import os.path as osp
import re
import shutil
import subprocess
import sys

import pytest

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


@pytest.mark.slow  # pip resolves the whole environment
def test_every_declared_requirement_is_satisfied():
    proc = pip('check')
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'No broken requirements found' in proc.stdout


@pytest.mark.slow  # pip resolves the whole environment
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


def copy_checkout(dst):
    """Copies this checkout's files (tracked, and untracked but not
    ignored: what a commit of the working tree would hold) to ``dst``."""
    names = subprocess.run(
        ['git', 'ls-files', '-z', '--cached', '--others',
         '--exclude-standard'],
        cwd=REPO, capture_output=True, check=True).stdout.decode().split('\0')
    for name in filter(None, names):
        src = osp.join(REPO, name)
        if osp.isfile(src):
            os.makedirs(osp.dirname(osp.join(dst, name)), exist_ok=True)
            shutil.copy2(src, osp.join(dst, name))
    return str(dst)


def setup_env(repo):
    proc = subprocess.run(['bash', osp.join(repo, 'tools', 'setup_env.sh')],
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def imported_from(repo):
    """Where the checkout's venv imports projects.nsrm from, run from /."""
    proc = subprocess.run(
        [osp.join(repo, '.venv', 'bin', 'python'), '-c',
         'import os, projects.nsrm as m; '
         'print(os.path.realpath(os.path.dirname(m.__file__)))'],
        cwd='/', capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.strip()


@pytest.mark.slow
@pytest.mark.long
def test_two_clones_each_run_their_own_code_and_a_crossed_venv_is_repaired(
        tmp_path):
    a = copy_checkout(tmp_path / 'a')
    b = copy_checkout(tmp_path / 'b')
    for repo in (a, b):
        setup_env(repo)
        assert imported_from(repo) == osp.realpath(
            osp.join(repo, 'projects', 'nsrm'))
    # the venvs are the checkouts' own, the heavy stack is shared
    assert not osp.islink(osp.join(a, '.venv'))
    stacks = {open(osp.join(r, '.venv', '.nsrm-stamp')).read() for r in (a, b)}
    assert len(stacks) == 1
    # b's venv made to run a's code (as a shared venv of old did) is repaired
    subprocess.run(
        [osp.join(b, '.venv', 'bin', 'python'), '-m', 'pip', 'install', '-q',
         '--no-deps', '--no-build-isolation', '-e', a], check=True,
        capture_output=True, timeout=600)
    assert imported_from(b) == osp.realpath(osp.join(a, 'projects', 'nsrm'))
    proc = setup_env(b)
    assert 'repairing' in proc.stderr
    assert imported_from(b) == osp.realpath(osp.join(b, 'projects', 'nsrm'))


def test_shell_tools_find_the_checkouts_venv(tmp_path):
    """dist_train.sh with no PYTHON set and no venv activated runs the
    checkout's .venv (here: torchrun's --help), or says how to make it."""
    env = {k: v for k, v in os.environ.items()
           if k not in ('PYTHON', 'VIRTUAL_ENV', 'PYTHONPATH')}
    env['PATH'] = '/usr/bin:/bin'
    proc = subprocess.run(['bash', 'tools/find_python.sh'], cwd=REPO, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    probe = ('source tools/find_python.sh && "$PYTHON" -c '
             '"import sys, torch; print(sys.prefix)"')
    proc = subprocess.run(['bash', '-c', probe], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert osp.realpath(proc.stdout.strip()) == osp.realpath(
        osp.join(REPO, '.venv'))
    # a checkout without a venv gets told what to run
    lone = tmp_path / 'lone'
    (lone / 'tools').mkdir(parents=True)
    shutil.copy(osp.join(REPO, 'tools', 'find_python.sh'), lone / 'tools')
    proc = subprocess.run(['bash', '-c', 'source tools/find_python.sh'],
                          cwd=lone, env=env, capture_output=True, text=True)
    assert proc.returncode == 1
    assert 'run \'bash tools/setup_env.sh\' first' in proc.stderr
