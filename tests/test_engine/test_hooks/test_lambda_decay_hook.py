"""Tests of LambdaDecayHook: lambda(e) = base * gamma ** (e // step)."""
import itertools
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.model import BaseModel, is_model_wrapper
from mmengine.registry import MODEL_WRAPPERS
from torch import nn

from projects.nsrm.engine.hooks import LambdaDecayHook
from projects.nsrm.models.losses import NSRMLoss

_counter = itertools.count()


def make_model(l1=0.1, l6=0.02):
    """A model that holds an NSRMLoss deep inside, like head.loss_module."""
    return nn.ModuleDict(
        dict(
            backbone=nn.Conv2d(3, 4, 1),
            head=nn.ModuleDict(
                dict(loss_module=NSRMLoss(lambda_g1=l1, lambda_g6=l6)))))


def make_runner(model, epoch=0):
    hub = MessageHub.get_instance(f'test_lambda_decay_{next(_counter)}')
    return SimpleNamespace(epoch=epoch, model=model, message_hub=hub)


@MODEL_WRAPPERS.register_module(force=True)
class _DummyWrapper(nn.Module):
    """DDP-like wrapper recognised by ``is_model_wrapper``. The wrapped model
    is deliberately NOT registered as a submodule, so the hook only finds the
    loss if it unwraps ``runner.model.module``."""

    def __init__(self, module):
        super().__init__()
        object.__setattr__(self, 'module', module)


def test_schedule_every_epoch_0_to_79():
    model = make_model()
    loss = model['head']['loss_module']
    runner = make_runner(model)
    hook = LambdaDecayHook(gamma=0.1, step=20)
    expected_g1 = [0.1] * 20 + [0.01] * 20 + [0.001] * 20 + [1e-4] * 20
    for epoch in range(80):
        runner.epoch = epoch
        hook.before_train_epoch(runner)
        assert loss.lambdas['g1'] == pytest.approx(expected_g1[epoch],
                                                   rel=1e-9)
        assert loss.lambdas['g6'] == pytest.approx(
            expected_g1[epoch] / 5, rel=1e-9)
        assert loss.base_lambdas['g1'] == 0.1


def test_resume_mid_schedule():
    # fresh hook + fresh loss, runner restored to epoch 45 by --resume
    model = make_model()
    runner = make_runner(model, epoch=45)
    LambdaDecayHook(gamma=0.1, step=20).before_train_epoch(runner)
    assert model['head']['loss_module'].lambdas['g1'] == pytest.approx(0.001)
    assert model['head']['loss_module'].lambdas['g6'] == pytest.approx(0.0002)


def test_through_model_wrapper():
    model = make_model()
    wrapped = _DummyWrapper(model)
    assert is_model_wrapper(wrapped)
    assert not any(isinstance(m, NSRMLoss) for m in wrapped.modules())
    runner = make_runner(wrapped, epoch=25)
    LambdaDecayHook().before_train_epoch(runner)
    assert model['head']['loss_module'].lambdas['g1'] == pytest.approx(0.01)


def test_lambdas_reach_message_hub():
    model = make_model(0.2, 0.04)
    runner = make_runner(model, epoch=20)
    hook = LambdaDecayHook(gamma=0.5, step=10)
    hook.before_train_epoch(runner)
    hook.before_train_iter(runner, batch_idx=0)
    hub = runner.message_hub
    assert hub.get_scalar('train/lambda_g1').current() == pytest.approx(0.05)
    assert hub.get_scalar('train/lambda_g6').current() == pytest.approx(0.01)


def test_error_when_no_loss_found():
    runner = make_runner(nn.Sequential(nn.Linear(2, 2)))
    with pytest.raises(RuntimeError, match='set_lambda_factor'):
        LambdaDecayHook().before_train_epoch(runner)


@pytest.mark.parametrize('kwargs,name', [(dict(gamma=0), 'gamma'),
                                         (dict(gamma=1.5), 'gamma'),
                                         (dict(step=0), 'step'),
                                         (dict(step=2.5), 'step')])
def test_argument_validation(kwargs, name):
    with pytest.raises(ValueError, match=name):
        LambdaDecayHook(**kwargs)


# --------------------------------------------------------------------------
# real mmengine Runner: train, log, checkpoint, resume


class _ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 1)
        self.loss_module = NSRMLoss(lambda_g1=0.1, lambda_g6=0.02)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.lin(inputs).mean()
        if mode == 'loss':
            lam = self.loss_module.current_lambdas()
            return dict(
                loss=out**2,
                lambda_g1_seen=out.new_tensor(lam['lambda_g1']),
                # a structure term that is exactly its lambda (no gradient)
                loss_structure_g1=out.new_tensor(lam['lambda_g1']))
        return out


def _runner(tmp_path, name, max_epochs, resume=False, log_processor=None):
    from mmengine.runner import Runner
    data = [dict(inputs=torch.rand(2)) for _ in range(4)]
    loader = torch.utils.data.DataLoader(data, batch_size=2)
    return Runner(
        model=_ToyModel(),
        work_dir=str(tmp_path),
        experiment_name=name,
        train_dataloader=loader,
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        custom_hooks=[dict(type='LambdaDecayHook', gamma=0.1, step=1)],
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=1),
            logger=dict(type='LoggerHook', interval=1)),
        default_scope='mmpose',
        log_processor=log_processor or dict(),
        resume=resume)


def test_with_real_runner_logs_decayed_lambdas(tmp_path):
    runner = _runner(tmp_path, f'lambda_run_{next(_counter)}', max_epochs=2)
    runner.train()
    hist = runner.message_hub.get_scalar('train/lambda_g1').data[0]
    seen = runner.message_hub.get_scalar('train/lambda_g1_seen').data[0]
    # 2 iterations per epoch; epoch 0 -> 0.1, epoch 1 -> 0.01
    assert list(seen) == pytest.approx([0.1, 0.1, 0.01, 0.01])
    assert list(hist) == pytest.approx([0.1, 0.1, 0.01, 0.01])
    log = (tmp_path / runner.timestamp / f'{runner.timestamp}.log').read_text()
    assert 'lambda_g1: 0.1000' in log and 'lambda_g1: 0.0100' in log


def test_project_logging_shows_a_lambda_change_at_once(tmp_path):
    """With the base config's log_processor the structure losses are logged
    per iteration: the first line after the decay shows the new value, not
    a window mean across the change (MMEngine's default would log 0.07)."""
    from mmengine.config import Config
    from projects.nsrm.testing import REPO
    cfg = Config.fromfile(f'{REPO}/configs/_base_/default_runtime.py')
    runner = _runner(tmp_path, f'lambda_run_{next(_counter)}', max_epochs=2,
                     log_processor=cfg.log_processor)
    runner.train()
    log = (tmp_path / runner.timestamp / f'{runner.timestamp}.log').read_text()
    lines = [line for line in log.splitlines() if 'Epoch(train)' in line]
    # 2 iterations per epoch, logged every iteration; lambda 0.1 then 0.01
    values = [float(line.split('loss_structure_g1: ')[1].split()[0])
              for line in lines]
    assert values == pytest.approx([0.1, 0.1, 0.01, 0.01])


def test_with_real_runner_resume(tmp_path):
    """--resume restores runner.epoch; a fresh model + hook continue the
    schedule (needs mmengine checkpoints to load under torch >= 2.6)."""
    _runner(tmp_path, f'lambda_run_{next(_counter)}', max_epochs=2).train()
    resumed = _runner(
        tmp_path, f'lambda_run_{next(_counter)}', max_epochs=3, resume=True)
    resumed.train()
    seen = resumed.message_hub.get_scalar('train/lambda_g1_seen').data[0]
    assert list(seen)[-2:] == pytest.approx([0.001, 0.001])
    assert resumed.model.loss_module.lambdas['g1'] == pytest.approx(0.001)
