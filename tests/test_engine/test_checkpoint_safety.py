"""Checkpoints survive a kill, ``--resume`` says what it does, and the
validation of a 2-process run describes the saved weights.

CrashSafeRunner, CrashSafeCheckpointHook and their checkpoint-file helpers;
the slow tests drive ``tools/train.py`` and ``tools/dist_train.sh``.
"""
import glob
import os
import os.path as osp
import re
import uuid
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MessageHub, MMLogger
from mmengine.model import BaseModel
from mmengine.runner import CheckpointLoader
from torch import nn

from projects.nsrm.engine import (CheckpointMismatchError,
                                  CrashSafeCheckpointHook, CrashSafeRunner)
from projects.nsrm.engine.runner import (check_resumable,
                                         find_latest_checkpoint,
                                         remove_stale_temporaries)
from projects.nsrm.testing import (REPO, TINY_OPTIONS, data_options,
                                   run_dist_train, run_tool)

BASELINE = 'configs/baseline/heatmap_resnet_synthetic_cpu.py'
NSRM = 'configs/nsrm/lpm_g1g6_synthetic_cpu.py'

#: What the base config adds (written into test configs until it does).
CRASH_SAFE_LINES = (
    "runner_type = 'CrashSafeRunner'\n"
    "default_hooks = dict(checkpoint=dict(type='CrashSafeCheckpointHook'))\n")
PROBES = 'tests.checkpoint_safety_probes'


def crash_safe_config(tmp_path, base, name='crash_safe.py', extra=''):
    """Writes a config inheriting ``base`` plus the crash-safe lines."""
    imports = ['projects.nsrm'] + ([PROBES] if extra else [])
    path = tmp_path / name
    path.write_text(
        f"_base_ = ['{osp.join(REPO, base)}']\n" + CRASH_SAFE_LINES +
        f'custom_imports = dict(imports={imports!r}, '
        'allow_failed_imports=False)\n' + extra)
    return str(path)


def train_options(root, max_epochs):
    return [*TINY_OPTIONS, *data_options(root),
            f'train_cfg.max_epochs={max_epochs}', 'train_cfg.val_interval=1',
            'default_hooks.checkpoint.interval=1']


def load(path):
    """Loads a checkpoint as the runner does (the project's safe loader)."""
    return CheckpointLoader.load_checkpoint(path, map_location='cpu')


# --- checkpoint files ------------------------------------------------------


def test_latest_checkpoint_is_the_newest_complete_one(tmp_path):
    assert find_latest_checkpoint(str(tmp_path)) is None
    (tmp_path / 'epoch_2.pth').write_bytes(b'x')
    (tmp_path / 'epoch_10.pth').write_bytes(b'x')
    (tmp_path / 'epoch_11.pth.tmp-123').write_bytes(b'half')
    (tmp_path / 'best_PCK_epoch_11.pth').write_bytes(b'x')
    pointer = tmp_path / 'last_checkpoint'
    newest = str(tmp_path / 'epoch_10.pth')
    # no pointer, an empty one, or one naming a temporary or missing file:
    # the largest epoch number among the complete files
    assert find_latest_checkpoint(str(tmp_path)) == newest
    for target in ('', str(tmp_path / 'epoch_11.pth.tmp-123'),
                   str(tmp_path / 'epoch_12.pth')):
        pointer.write_text(target)
        assert find_latest_checkpoint(str(tmp_path)) == newest
    # a valid pointer wins, also one written before the folder was moved
    pointer.write_text(str(tmp_path / 'epoch_2.pth'))
    assert find_latest_checkpoint(str(tmp_path)) == str(tmp_path /
                                                        'epoch_2.pth')
    pointer.write_text('/elsewhere/work/epoch_2.pth')
    assert find_latest_checkpoint(str(tmp_path)) == str(tmp_path /
                                                        'epoch_2.pth')


def test_stale_temporaries_of_other_processes_are_removed(tmp_path):
    mine = tmp_path / f'epoch_3.pth.tmp-{os.getpid()}'
    for name in ('epoch_2.pth.tmp-1', 'epoch_2.pth', 'notes.tmp-x'):
        (tmp_path / name).write_bytes(b'x')
    mine.write_bytes(b'x')
    (tmp_path / 'last_checkpoint.tmp-1').mkdir()
    (tmp_path / 'last_checkpoint.tmp-1' / 'last_checkpoint').write_text('a')
    removed = remove_stale_temporaries(str(tmp_path))
    assert [osp.basename(p) for p in removed] == [
        'epoch_2.pth.tmp-1', 'last_checkpoint.tmp-1']
    assert sorted(os.listdir(tmp_path)) == sorted(
        ['epoch_2.pth', 'notes.tmp-x', mine.name])


# --- resume checks ---------------------------------------------------------


def _state(**shapes):
    return {key: torch.zeros(shape) for key, shape in shapes.items()}


def test_resume_check_names_missing_unexpected_and_reshaped_keys():
    model = _state(**{f'backbone.w{i}': (2, ) for i in range(12)},
                   **{'head.a': (3, 4), 'head.b': (5, )})
    saved = _state(**{f'module.backbone.w{i}': (2, ) for i in range(12)},
                   **{'head.a': (3, 5), 'head.c': (1, )})
    check_resumable(dict(meta=dict(epoch=1, iter=4), state_dict=model),
                    model, 'same.pth')  # a match passes
    with pytest.raises(CheckpointMismatchError) as err:
        check_resumable(dict(meta=dict(epoch=1, iter=4), state_dict=saved),
                        model, 'work/other.pth')
    message = str(err.value)
    assert message.startswith('Cannot resume from work/other.pth: it holds '
                              'the weights of another model')
    assert '\n  model keys missing from the checkpoint (1): head.b\n' in (
        message)
    assert '\n  checkpoint keys the model does not have (1): head.c\n' in (
        message)
    assert ('\n  keys whose shapes differ (1): head.a: checkpoint (3, 5), '
            'model (3, 4)\n') in message
    # at most 10 names of a kind, with the count of the rest
    with pytest.raises(CheckpointMismatchError) as err:
        check_resumable(dict(meta=dict(epoch=1, iter=4), state_dict={}),
                        model, 'empty.pth')
    assert 'model keys missing from the checkpoint (14): ' in str(err.value)
    assert 'backbone.w9; ... (4 more)' in str(err.value)
    assert 'backbone.w10' not in str(err.value)
    with pytest.raises(CheckpointMismatchError, match='not a checkpoint '
                       'written by training'):
        check_resumable(dict(state_dict=model), model, 'weights.pth')


class ToyModel(BaseModel):
    """A model with a weight and BatchNorm buffers; never run."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 3)
        self.bn = nn.BatchNorm1d(3)

    def forward(self, inputs=None, data_samples=None, mode='tensor'):
        return self.bn(self.linear(inputs))


def toy_runner(work_dir, load_from=None):
    """A CrashSafeRunner with ``resume=True`` and nothing else to run."""
    return CrashSafeRunner(
        model=ToyModel(), work_dir=str(work_dir), load_from=load_from,
        resume=True, experiment_name=f'toy-{uuid.uuid4().hex}',
        default_hooks=dict(checkpoint=None, logger=None))


@pytest.mark.parametrize('damage', ['truncated', 'empty'])
def test_resume_from_a_damaged_checkpoint_is_a_clear_error(tmp_path, damage):
    """The loader's error reaches the user, before anything is loaded."""
    good = tmp_path / 'good.pth'
    model = ToyModel()
    torch.save(dict(meta=dict(epoch=1, iter=4), state_dict=model.state_dict()),
               good)
    data = good.read_bytes()
    damaged = tmp_path / f'{damage}.pth'
    damaged.write_bytes(b'' if damage == 'empty' else data[:len(data) // 2])
    runner = toy_runner(tmp_path / 'work', str(damaged))
    with pytest.raises(Exception) as err:
        runner.load_or_resume()
    message = str(err.value)
    assert str(damaged) in message and damage in message.lower(), message
    assert not runner._has_loaded


# --- best checkpoint order -------------------------------------------------


class FakeRunner:
    """What CheckpointHook uses of a runner; saving records which best
    checkpoints existed while each file was written."""

    def __init__(self, work_dir):
        self.work_dir = work_dir
        self.epoch = self.iter = 0
        self.message_hub = MessageHub.get_instance(f'ckpt-safety-{id(self)}')
        self.logger = MMLogger.get_instance(f'ckpt-safety-{id(self)}')
        self.saved = []

    def save_checkpoint(self, out_dir, filename, *args, **kwargs):
        bests = sorted(glob.glob(osp.join(out_dir, 'best_*.pth')))
        self.saved.append((filename, [osp.basename(p) for p in bests]))
        with open(osp.join(out_dir, filename), 'w') as f:
            f.write(filename)


def test_previous_best_is_removed_only_after_the_new_one_is_saved(tmp_path):
    runner = FakeRunner(str(tmp_path))
    hook = CrashSafeCheckpointHook(save_best='PCK', rule='greater')
    hook.before_train(runner)

    def epoch(pck):  # as the epoch-based loops call the hook
        runner.iter += 4
        hook._save_checkpoint(runner)  # after_train_epoch
        runner.epoch += 1
        hook.after_val_epoch(runner, dict(PCK=pck))

    epoch(0.5)
    epoch(0.7)
    assert runner.saved[-3:] == [
        ('epoch_2.pth', ['best_PCK_epoch_1.pth']),
        # MMEngine would have removed best_PCK_epoch_1.pth already
        ('best_PCK_epoch_2.pth', ['best_PCK_epoch_1.pth']),
        ('epoch_2.pth', ['best_PCK_epoch_1.pth', 'best_PCK_epoch_2.pth']),
    ]
    assert not (tmp_path / 'best_PCK_epoch_1.pth').exists()
    epoch(0.6)  # not better: the best stays
    assert (tmp_path / 'best_PCK_epoch_2.pth').exists()
    assert hook.best_ckpt_path == str(tmp_path / 'best_PCK_epoch_2.pth')
    assert runner.message_hub.get_info('best_score') == 0.7
    # the pointer names the last epoch checkpoint; no staging folder is left
    assert (tmp_path / 'last_checkpoint').read_text() == str(
        tmp_path / 'epoch_3.pth')
    assert sorted(os.listdir(tmp_path)) == [
        'best_PCK_epoch_2.pth', 'epoch_1.pth', 'epoch_2.pth', 'epoch_3.pth',
        'last_checkpoint'
    ]


def test_each_metric_keeps_its_best_until_it_improves(tmp_path):
    runner = FakeRunner(str(tmp_path))
    hook = CrashSafeCheckpointHook(
        save_best=['PCK', 'EPE'], rule=['greater', 'less'])
    hook.before_train(runner)
    for pck, epe in ((0.5, 9.0), (0.7, 9.5)):
        runner.iter += 4
        hook._save_checkpoint(runner)
        runner.epoch += 1
        hook.after_val_epoch(runner, dict(PCK=pck, EPE=epe))
    bests = sorted(n for n in os.listdir(tmp_path) if n.startswith('best'))
    assert bests == ['best_EPE_epoch_1.pth', 'best_PCK_epoch_2.pth']
    assert hook.best_ckpt_path_dict == dict(
        PCK=str(tmp_path / 'best_PCK_epoch_2.pth'),
        EPE=str(tmp_path / 'best_EPE_epoch_1.pth'))


# --- end to end ------------------------------------------------------------


@pytest.fixture(scope='module')
def killed_and_resumed(tiny_hands, tmp_path_factory):
    """``--resume`` in an empty work dir, killed while it writes
    ``epoch_2.pth``; then ``--resume`` again to the end (2 epochs)."""
    tmp = tmp_path_factory.mktemp('kill')
    work_dir = str(tmp / 'work')
    config = crash_safe_config(tmp, BASELINE)
    killer = crash_safe_config(
        tmp, BASELINE, 'killer.py',
        "custom_hooks = [dict(type='KillWhileSavingHook', epoch=2)]\n")
    killed = run_tool(['tools/train.py', killer, '--work-dir', work_dir,
                       '--resume', '--cfg-options',
                       *train_options(tiny_hands, 2)], check=False)
    after_kill = {name: osp.isdir(osp.join(work_dir, name))
                  for name in os.listdir(work_dir)}
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        pointer = f.read()
    killed_pid = next(name.rsplit('.tmp-', 1)[1] for name in after_kill
                      if name.startswith('epoch_2.pth.tmp-'))
    resumed = run_tool(['tools/train.py', config, '--work-dir', work_dir,
                        '--resume', '--cfg-options',
                        *train_options(tiny_hands, 2)])
    return SimpleNamespace(
        work_dir=work_dir, killed=killed, after_kill=after_kill,
        pointer=pointer, killed_pid=killed_pid, config=config,
        log=resumed.stdout + resumed.stderr)


@pytest.mark.slow
def test_kill_while_saving_keeps_the_last_complete_checkpoint(
        killed_and_resumed):
    run = killed_and_resumed
    killed_log = run.killed.stdout + run.killed.stderr
    assert run.killed.returncode == 3, killed_log[-3000:]
    assert (f'no checkpoint to resume in {run.work_dir}; starting from '
            'scratch') in killed_log
    assert 'Auto resumed' not in killed_log
    # the half-written epoch 2 exists only as a temporary file (beside the
    # empty staging folder of the pointer that would have followed it)
    pid = run.killed_pid
    assert {name for name in run.after_kill if '.tmp-' in name} == {
        f'epoch_2.pth.tmp-{pid}', f'last_checkpoint.tmp-{pid}'}
    assert run.after_kill[f'last_checkpoint.tmp-{pid}']  # a folder
    assert {'epoch_1.pth', 'best_PCK_epoch_1.pth', 'last_checkpoint'} <= set(
        run.after_kill) and 'epoch_2.pth' not in run.after_kill
    assert run.pointer == osp.join(run.work_dir, 'epoch_1.pth')


@pytest.mark.slow
def test_resume_after_a_kill_continues_from_epoch_1(killed_and_resumed):
    run = killed_and_resumed
    epoch_1 = osp.join(run.work_dir, 'epoch_1.pth')
    assert f'Resuming from the latest checkpoint {epoch_1}' in run.log
    assert 'resumed epoch: 1, iter: 4' in run.log
    assert 'unfinished file(s) that an interrupted save left' in run.log
    assert 'epoch_2.pth.tmp-' in run.log
    names = sorted(os.listdir(run.work_dir))
    assert not [n for n in names if '.tmp-' in n], names
    checkpoints = [n for n in names if n.endswith('.pth')]
    assert {'epoch_1.pth', 'epoch_2.pth'} <= set(checkpoints)
    assert any(n.startswith('best_PCK_epoch_') for n in checkpoints)
    for name in checkpoints:  # every file is complete
        assert 'state_dict' in load(osp.join(run.work_dir, name))
    assert load(osp.join(run.work_dir, 'epoch_2.pth'))['meta']['iter'] == 8
    with open(osp.join(run.work_dir, 'last_checkpoint')) as f:
        assert f.read() == osp.join(run.work_dir, 'epoch_2.pth')


@pytest.mark.slow
def test_resume_from_another_models_checkpoint_is_refused_before_loading(
        killed_and_resumed, tiny_hands, tmp_path):
    ckpt = osp.join(killed_and_resumed.work_dir, 'epoch_1.pth')
    proc = run_tool(['tools/train.py', crash_safe_config(tmp_path, NSRM),
                     '--work-dir', str(tmp_path / 'work'), '--resume', ckpt,
                     '--cfg-options', *train_options(tiny_hands, 2),
                     'model.backbone.stem_channels=16'], check=False)
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert (f'CheckpointMismatchError: Cannot resume from {ckpt}: it holds '
            'the weights of another model, nothing was loaded.') in log
    for kind in ('model keys missing from the checkpoint',
                 'checkpoint keys the model does not have',
                 'keys whose shapes differ'):
        assert re.search(rf'\n  {kind} \(\d+\): ', log), kind
    assert ('backbone.conv1.weight: checkpoint (32, 3, 7, 7), model '
            '(16, 3, 7, 7)') in log
    assert 'resumed epoch' not in log and 'Load checkpoint from' not in log


@pytest.mark.slow
def test_two_process_validation_uses_the_saved_batchnorm_statistics(
        tiny_hands, tmp_path):
    if torch.cuda.is_available():
        pytest.skip('checks the CPU (gloo) path; GPUs use NCCL')
    probes = str(tmp_path / 'probes')
    # custom_hooks without SyncBuffersHook, as the NSRM configs have
    config = crash_safe_config(
        tmp_path, BASELINE, extra='custom_hooks = [dict(type='
        f"'BufferProbeHook', out_dir='{probes}')]\n")
    work_dir = str(tmp_path / 'dist')
    log = run_dist_train(config, work_dir, train_options(tiny_hands, 1))
    assert 'Registered SyncBuffersHook' in log

    def dump(stage, rank):
        return load(osp.join(probes, f'{stage}_iter2_rank{rank}.pth'))

    trained = [dump('trained', rank) for rank in (0, 1)]
    val = [dump('val', rank) for rank in (0, 1)]
    saved = load(osp.join(work_dir, 'epoch_1.pth'))['state_dict']
    stats = [k for k in trained[0] if k.endswith(('running_mean',
                                                  'running_var'))]
    assert stats and set(stats) <= set(saved) and set(val[0]) == set(
        trained[0])
    # each process trained on its own half of the data ...
    assert any(not torch.equal(trained[0][k], trained[1][k]) for k in stats)
    best = load(osp.join(work_dir, 'best_PCK_epoch_1.pth'))['state_dict']
    for key in val[0]:
        # ... and both validate with the mean statistics, which are saved
        assert torch.equal(val[0][key], val[1][key]), key
        if key in saved:  # (not the preprocessor's non-persistent buffers)
            assert torch.equal(val[0][key], saved[key]), key
            assert torch.equal(val[0][key], best[key]), key
    for key in stats:
        torch.testing.assert_close(val[0][key],
                                   (trained[0][key] + trained[1][key]) / 2)
