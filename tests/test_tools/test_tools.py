"""tools/train.py, tools/test.py and tools/dist_train.sh, end to end on CPU."""
import glob
import json
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch
from projects.nsrm.engine.optim_wrappers import cpu_supports_native_bf16
from projects.nsrm.testing import (REPO, TINY_OPTIONS, data_options,
                                   run_dist_train, run_tool)
from projects.nsrm.utils.safe_checkpoint import load_from_local

pytestmark = pytest.mark.slow  # every test runs the tools in subprocesses

BASELINE = 'configs/baseline/heatmap_resnet_synthetic_cpu.py'


def train_options(root, max_epochs):
    return [*TINY_OPTIONS, *data_options(root),
            f'train_cfg.max_epochs={max_epochs}', 'train_cfg.val_interval=1']


@pytest.fixture(scope='module')
def resumed_run(tiny_hands, tmp_path_factory):
    """Trains 1 epoch, then resumes from epoch_1.pth to epoch 2."""
    tmp = tmp_path_factory.mktemp('resume')
    work_dir = str(tmp / 'work')
    first = run_tool(['tools/train.py', BASELINE, '--work-dir', work_dir,
                      '--cfg-options', *train_options(tiny_hands, 1)])
    ckpt1 = osp.join(work_dir, 'epoch_1.pth')
    assert osp.isfile(ckpt1), first.stdout[-2000:]
    saved = load_from_local(ckpt1, map_location='cpu')
    probe_file = str(tmp / 'probe.json')
    probe_cfg = tmp / 'probe_cfg.py'
    probe_cfg.write_text(
        f"_base_ = ['{osp.join(REPO, BASELINE)}']\n"
        "custom_imports = dict(imports=['projects.nsrm', 'tests.resume_probe'],"
        " allow_failed_imports=False)\n"
        f"custom_hooks = [dict(type='ResumeProbeHook', out_file='{probe_file}')]\n")
    second = run_tool(['tools/train.py', str(probe_cfg), '--work-dir', work_dir,
                       '--resume', ckpt1, '--cfg-options',
                       *train_options(tiny_hands, 2)])
    with open(probe_file) as f:
        probe = json.load(f)
    return dict(work_dir=work_dir, saved=saved, probe=probe,
                log=second.stdout + second.stderr)


def test_resume_continues_at_epoch_2_with_saved_state(resumed_run):
    saved, probe = resumed_run['saved'], resumed_run['probe']
    iters_per_epoch = 16 // 4
    assert saved['meta']['epoch'] == 1
    assert saved['meta']['iter'] == iters_per_epoch
    # the runner starts where the checkpoint stopped ...
    assert probe['epoch'] == 1 and probe['iter'] == iters_per_epoch
    # ... with the optimizer's saved Adam state (step count and moments),
    opt_state = saved['optimizer']['state']
    assert probe['optimizer_steps'] == [float(iters_per_epoch)]
    first_param = opt_state[min(opt_state)]
    assert probe['exp_avg_sum'] == pytest.approx(
        float(first_param['exp_avg'].double().sum()), rel=1e-6)
    # ... the scheduler's position and the message hub's runtime info.
    assert probe['scheduler_last_steps'] == [
        s['last_step'] for s in saved['param_schedulers']]
    assert probe['hub_runtime_info'] == dict(epoch=1, iter=iters_per_epoch)
    assert probe['hub_loss_count'] == iters_per_epoch
    log = resumed_run['log']
    assert 'resumed epoch: 1, iter: 4' in log
    assert re.search(r'Epoch\(train\)\s+\[2\]', log)
    assert not re.search(r'Epoch\(train\)\s+\[1\]', log)
    final = load_from_local(
        osp.join(resumed_run['work_dir'], 'epoch_2.pth'), map_location='cpu')
    assert final['meta']['epoch'] == 2
    assert final['meta']['iter'] == 2 * iters_per_epoch


def test_test_py_evaluates_a_saved_checkpoint(resumed_run, tiny_hands,
                                              tmp_path):
    out, dump = str(tmp_path / 'metrics.json'), str(tmp_path / 'preds.pkl')
    run_tool(['tools/test.py', BASELINE,
              osp.join(resumed_run['work_dir'], 'epoch_2.pth'),
              '--work-dir', str(tmp_path / 'test'), '--out', out,
              '--dump', dump, '--show-dir', 'vis', '--cfg-options',
              *TINY_OPTIONS, *data_options(tiny_hands)])
    with open(out) as f:
        metrics = json.load(f)
    # MMPose's metrics and the paper's PCK (configs/_base_/default_runtime.py)
    thresholds = ('0.1', '0.15', '0.2', '0.25', '0.3')
    assert set(metrics) == {'PCK', 'AUC', 'EPE', 'PCK-mean',
                            *(f'PCK@{t}' for t in thresholds)}
    assert 0.0 <= metrics['PCK'] <= 1.0 and metrics['EPE'] > 0
    assert osp.getsize(dump) > 0
    # --show-dir: one drawn prediction per validation image
    drawn = glob.glob(str(tmp_path / 'test' / '*' / 'vis' / '*.jpg'))
    assert len(drawn) == 8, drawn


class Evil:
    """Pickles to a call of os.system: what a malicious checkpoint does."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


def test_malicious_checkpoint_is_refused_and_code_never_runs(tiny_hands,
                                                            tmp_path):
    from projects.nsrm.utils.safe_checkpoint import (UnsafeCheckpointError,
                                               load_checkpoint_file)
    marker = tmp_path / 'pwned'
    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': Evil(marker)}, evil)
    with pytest.raises(UnsafeCheckpointError, match='Refused to load'):
        load_checkpoint_file(str(evil))
    proc = run_tool(['tools/test.py', BASELINE, str(evil), '--work-dir',
                     str(tmp_path / 'work'), '--cfg-options', *TINY_OPTIONS,
                     *data_options(tiny_hands)], check=False)
    assert proc.returncode != 0
    assert f'Refused to load checkpoint {evil}' in proc.stderr
    assert 'system' in proc.stderr  # names the refused global
    assert not marker.exists()


def test_checkpoint_globals_are_needed_and_sufficient(resumed_run):
    """Plain torch.load(weights_only=True) fails on an MMEngine checkpoint
    until projects.nsrm allows its globals; then it loads."""
    ckpt = osp.join(resumed_run['work_dir'], 'epoch_1.pth')
    code = ('import torch, sys\n'
            f'p = {ckpt!r}\n'
            'try:\n'
            '    torch.load(p, weights_only=True); print("LOADED-BEFORE")\n'
            'except Exception as e: print("REFUSED-BEFORE")\n'
            'sys.path.insert(0, ' + repr(REPO) + ')\n'
            'import projects.nsrm\n'
            'try:\n'
            '    torch.load(p, weights_only=True); print("LOADED-AFTER")\n'
            'except Exception as e: print("REFUSED-AFTER")\n'
            'from mmengine.runner import CheckpointLoader\n'
            'CheckpointLoader.load_checkpoint(p); print("PROJECT-LOADED")\n')
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True, cwd='/')
    assert 'REFUSED-BEFORE' in proc.stdout, proc.stderr[-2000:]
    assert 'REFUSED-AFTER' in proc.stdout, proc.stderr[-2000:]
    assert 'PROJECT-LOADED' in proc.stdout, proc.stderr[-2000:]


def test_dist_train_two_cpu_processes_with_torchrun(tiny_hands, tmp_path):
    if torch.cuda.is_available():
        pytest.skip('checks the CPU (gloo) path; GPUs use NCCL')
    work_dir = str(tmp_path / 'dist')
    log = run_dist_train(BASELINE, work_dir, train_options(tiny_hands, 1))
    assert 'Distributed training: True' in log
    ckpt = load_from_local(
        osp.join(work_dir, 'epoch_1.pth'), map_location='cpu')
    # 16 samples, batch 4 per process: 2 iterations per epoch means two
    # processes shared the data (one process would need 4)
    assert ckpt['meta']['iter'] == 2
    assert not any(k.startswith('module.') for k in ckpt['state_dict'])
    assert glob.glob(osp.join(work_dir, '*', '*.log'))


def test_missing_config_is_a_clear_error():
    proc = run_tool(['tools/train.py', 'configs/does_not_exist.py'],
                    check=False)
    assert proc.returncode != 0
    assert "Config file not found: 'configs/does_not_exist.py'" in proc.stderr


def test_amp_without_an_accelerator_is_a_clear_error(tiny_hands, tmp_path):
    if torch.cuda.is_available() or cpu_supports_native_bf16():
        pytest.skip('--amp works on this machine (an accelerator or a CPU '
                    'with bfloat16 instructions)')
    proc = run_tool(['tools/train.py', BASELINE, '--amp', '--work-dir',
                     str(tmp_path), '--cfg-options',
                     *train_options(tiny_hands, 1)], check=False)
    assert proc.returncode != 0
    assert '--amp (AmpOptimWrapper) needs a CUDA' in proc.stderr
    assert not glob.glob(str(tmp_path / '*.pth'))
