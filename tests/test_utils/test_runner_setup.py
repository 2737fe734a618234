"""What the tools add to a config: the TensorBoard and channels-last
switches, --amp on a CPU (bfloat16 autocast) and the check of
pretrained-weights files."""
import math
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config

from projects.nsrm.engine import CPUBF16AmpOptimWrapper
from projects.nsrm.testing import REPO, TINY_OPTIONS, data_options, record_logs
from projects.nsrm.utils import runner_setup
from projects.nsrm.utils.runner_setup import (adapt_cfg_to_device,
                                              apply_switches, build_runner,
                                              check_pretrained_files,
                                              load_config, load_mmpose_tool,
                                              use_channels_last)

VGG_CONFIG = osp.join(REPO, 'configs/nsrm/lpm_g1_onehand10k.py')
NSRM_CONFIG = 'configs/nsrm/lpm_g1g6_synthetic_cpu.py'
#: one training iteration of 2 samples, no validation, a narrow cascade
#: (bfloat16 is emulated, ~40x slower than float32, on a CPU without
#: bfloat16 instructions)
ONE_STEP = [
    'train_dataloader.batch_size=2', 'train_dataloader.dataset.indices=2',
    'train_cfg.max_epochs=1', 'model.head.feat_channels=16',
    'model.head.first_stage_channels=16', 'model.head.stage_channels=8',
    'model.head.num_stage_convs=1'
]
BF16_FLAGS = 'avx512_bf16, amx_bf16, bf16, sve_bf16'


def one_step_options(root):
    """--cfg-options for ONE_STEP on the synthetic hands at ``root`` (the
    training split only: --no-validate drops the others)."""
    return [
        option for option in [*TINY_OPTIONS, *data_options(root)]
        if not option.startswith(('val_', 'test_'))
    ] + ONE_STEP


def test_missing_vgg_weights_name_the_converter(tmp_path):
    cfg = Config.fromfile(VGG_CONFIG)
    missing = str(tmp_path / 'vgg19_imagenet_mmpose.pth')
    cfg.model.backbone.init_cfg.checkpoint = missing
    with pytest.raises(FileNotFoundError) as info:
        check_pretrained_files(cfg)
    message = str(info.value)
    assert message.startswith(
        f'model.backbone.init_cfg: pretrained weights file {missing} not '
        'found.')
    assert 'python tools/convert_vgg_weights.py vgg19-dcbb9e9d.pth' in message
    assert '--cfg-options model.backbone.init_cfg=None' in message
    # present file, or URL (the loader reports those), or none: no error
    open(missing, 'wb').close()
    check_pretrained_files(cfg)
    cfg.model.backbone.init_cfg.checkpoint = 'open-mmlab://msra/hrnetv2_w18'
    check_pretrained_files(cfg)
    cfg.model.backbone.init_cfg = None
    check_pretrained_files(cfg)


def test_tensorboard_switch_adds_a_working_backend(tmp_path):
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/nsrm/lpm_g1g6_synthetic_cpu.py'))
    assert cfg.tensorboard is False
    before = [b['type'] for b in cfg.visualizer.vis_backends]
    assert 'TensorboardVisBackend' not in apply_switches(cfg).visualizer[
        'vis_backends']
    cfg.merge_from_dict(dict(tensorboard=True))
    apply_switches(cfg)
    apply_switches(cfg)  # idempotent
    types = [b['type'] for b in cfg.visualizer.vis_backends]
    assert types == before + ['TensorboardVisBackend']
    # the pinned tensorboard package is installed and writes event files
    from mmengine.visualization import TensorboardVisBackend
    backend = TensorboardVisBackend(save_dir=str(tmp_path))
    backend.add_scalar('loss', 0.5, step=1)
    backend.close()
    events = list(tmp_path.rglob('events.out.tfevents.*'))
    assert events and events[0].stat().st_size > 0


# --------------------------------------------------------------------------
# --amp without an accelerator


def train_cfg(monkeypatch, tmp_path, *args, options=()):
    """The config tools/train.py builds from ``NSRM_CONFIG *args`` with
    MMPose's own argument parsing and merging (``--amp`` sets
    ``AmpOptimWrapper``), seen as a machine without CUDA."""
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    tool = load_mmpose_tool('train')
    argv = ['train.py', NSRM_CONFIG, '--work-dir', str(tmp_path),
            '--no-validate', *args]
    if options:
        argv += ['--cfg-options', *options]
    monkeypatch.setattr(sys, 'argv', argv)
    args = tool.parse_args()
    return tool.merge_args(load_config(args.config), args)


def bf16_cpu(monkeypatch, flags):
    """Pretends this CPU has the given bfloat16 flags."""
    monkeypatch.setattr(runner_setup, 'cpu_native_bf16_flags',
                        lambda: tuple(flags))


def test_amp_on_a_bf16_cpu_trains_a_step_under_bf16_autocast(
        monkeypatch, tmp_path, tiny_hands):
    bf16_cpu(monkeypatch, ['amx_bf16'])
    logs = record_logs(monkeypatch, runner_setup)
    # the head's training PCK (acc_pose) reads the bfloat16 heatmaps too
    cfg = train_cfg(
        monkeypatch, tmp_path, '--amp',
        options=one_step_options(tiny_hands))
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'  # MMPose's --amp
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    adapt_cfg_to_device(cfg)
    assert cfg.optim_wrapper == dict(
        type='CPUBF16AmpOptimWrapper',
        optimizer=dict(type='Adam', lr=1e-3))
    assert logs == [('info', '--amp without an accelerator: bfloat16 '
                     'autocast on the CPU (CPUBF16AmpOptimWrapper; '
                     'amx_bf16)')]

    runner = build_runner(cfg)
    seen = []

    def record(module, inputs, output):
        seen.append((torch.is_autocast_enabled('cpu'),
                     torch.get_autocast_dtype('cpu'), output.dtype))

    # the last pose stage: the keypoint heatmaps the loss reads
    runner.model.head.pose_stages[-1].register_forward_hook(record)
    before = runner.model.head.pose_stages[-1][-1].weight.detach().clone()
    runner.train()
    assert isinstance(runner.optim_wrapper, CPUBF16AmpOptimWrapper)
    assert seen == [(True, torch.bfloat16, torch.bfloat16)]  # 1 step
    loss = runner.message_hub.get_scalar('train/loss').current()
    assert math.isfinite(loss) and loss > 0
    acc = runner.message_hub.get_scalar('train/acc_pose').current()
    assert 0 <= acc <= 1
    after = runner.model.head.pose_stages[-1][-1].weight
    assert after.dtype is torch.float32  # the master weights
    assert not torch.equal(before, after)  # the step updated them


def test_amp_on_a_cpu_without_bf16_names_the_missing_flags(
        monkeypatch, tmp_path):
    bf16_cpu(monkeypatch, [])
    monkeypatch.delenv('NSRM_FORCE_CPU_BF16', raising=False)
    cfg = train_cfg(monkeypatch, tmp_path, '--amp')
    with pytest.raises(RuntimeError) as info:
        adapt_cfg_to_device(cfg)
    message = str(info.value)
    assert message.startswith(
        '--amp (AmpOptimWrapper) needs a CUDA, NPU, MLU or MUSA device, or '
        'a CPU with bfloat16 instructions (one of the CPU flags '
        f'{BF16_FLAGS}); no accelerator is visible and ')
    assert 'has none of those flags' in message
    assert 'Run without --amp on this CPU' in message
    assert 'NSRM_FORCE_CPU_BF16=1' in message
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'  # nothing changed

    # forced: emulated bfloat16, with a warning
    logs = record_logs(monkeypatch, runner_setup)
    monkeypatch.setenv('NSRM_FORCE_CPU_BF16', '1')
    adapt_cfg_to_device(cfg)
    assert cfg.optim_wrapper.type == 'CPUBF16AmpOptimWrapper'
    assert 'loss_scale' not in cfg.optim_wrapper
    assert len(logs) == 1 and logs[0][0] == 'warning'
    assert logs[0][1].startswith('--amp with NSRM_FORCE_CPU_BF16=1: '
                                 'CPUBF16AmpOptimWrapper, but ')
    assert logs[0][1].endswith(
        f'has no bfloat16 instructions ({BF16_FLAGS}): bfloat16 is '
        'emulated and slower than float32')


def test_amp_on_a_cpu_runs_in_bfloat16_only(monkeypatch, tmp_path):
    bf16_cpu(monkeypatch, ['avx512_bf16'])
    cfg = train_cfg(monkeypatch, tmp_path, '--amp',
                    options=['optim_wrapper.dtype=float16'])
    with pytest.raises(ValueError, match="optim_wrapper.dtype is 'float16'"):
        adapt_cfg_to_device(cfg)
    cfg = train_cfg(monkeypatch, tmp_path, '--amp',
                    options=['optim_wrapper.dtype=bfloat16'])
    adapt_cfg_to_device(cfg)
    assert cfg.optim_wrapper == dict(
        type='CPUBF16AmpOptimWrapper',
        optimizer=dict(type='Adam', lr=1e-3))


def test_a_configured_cpu_bf16_wrapper_is_honoured(monkeypatch, tmp_path):
    opts = ['optim_wrapper.type=CPUBF16AmpOptimWrapper']
    logs = record_logs(monkeypatch, runner_setup)
    bf16_cpu(monkeypatch, ['avx512_bf16'])
    cfg = adapt_cfg_to_device(train_cfg(monkeypatch, tmp_path, options=opts))
    assert cfg.optim_wrapper.type == 'CPUBF16AmpOptimWrapper'
    assert logs == []
    # without bfloat16 instructions too, with a warning
    bf16_cpu(monkeypatch, [])
    cfg = adapt_cfg_to_device(train_cfg(monkeypatch, tmp_path, options=opts))
    assert cfg.optim_wrapper.type == 'CPUBF16AmpOptimWrapper'
    assert [level for level, _ in logs] == ['warning']
    assert logs[0][1].startswith('CPUBF16AmpOptimWrapper: ')
    assert 'bfloat16 is emulated and slower than float32' in logs[0][1]
    # without --amp nothing changes
    cfg = adapt_cfg_to_device(train_cfg(monkeypatch, tmp_path))
    assert cfg.optim_wrapper == dict(optimizer=dict(type='Adam', lr=1e-3))


def test_on_cuda_amp_keeps_mmengines_wrapper(monkeypatch, tmp_path):
    cfg = train_cfg(monkeypatch, tmp_path, '--amp')
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    bf16_cpu(monkeypatch, ['amx_bf16'])
    adapt_cfg_to_device(cfg)
    assert cfg.optim_wrapper == dict(
        type='AmpOptimWrapper', loss_scale='dynamic',
        optimizer=dict(type='Adam', lr=1e-3))
    cfg.optim_wrapper.type = 'CPUBF16AmpOptimWrapper'
    with pytest.raises(ValueError, match='this run trains on CUDA: use '
                       '--amp'):
        adapt_cfg_to_device(cfg)


# --------------------------------------------------------------------------
# channels_last=True


def test_channels_last_switch_converts_weights_and_inputs(
        monkeypatch, tmp_path, tiny_hands):
    logs = record_logs(monkeypatch, runner_setup)
    cfg = train_cfg(
        monkeypatch, tmp_path,
        options=[*one_step_options(tiny_hands), 'channels_last=True'])
    runner = build_runner(adapt_cfg_to_device(apply_switches(cfg)))
    assert logs == [('info', "channels_last=True: the model's 4-D weights "
                     'and its input batches are in channels-last memory '
                     'format')]
    model = runner.model
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) > 10
    for conv in convs:
        assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    # a 3x3 conv's weight in NHWC is not NCHW-contiguous: it was converted
    assert not model.backbone.conv1.weight.is_contiguous()
    seen = []
    model.backbone.register_forward_pre_hook(
        lambda module, args: seen.append(
            (tuple(args[0].shape),
             args[0].is_contiguous(memory_format=torch.channels_last))))
    runner.train()
    assert seen == [((2, 3, 128, 128), True)]
    loss = runner.message_hub.get_scalar('train/loss').current()
    assert math.isfinite(loss) and loss > 0
    # Adam updated the weights in place: still channels-last
    assert model.backbone.conv1.weight.is_contiguous(
        memory_format=torch.channels_last)
    # a second call adds no second input hook
    use_channels_last(model)
    assert len(model.data_preprocessor._forward_hooks) == 1


def test_channels_last_switch_is_checked():
    cfg = Config.fromfile(osp.join(REPO, NSRM_CONFIG))
    assert cfg.get('channels_last', False) is False
    cfg.merge_from_dict(dict(channels_last='yes'))
    with pytest.raises(ValueError, match="channels_last must be True or "
                       "False .*, got 'yes'"):
        apply_switches(cfg)
    with pytest.raises(ValueError, match='Linear has none'):
        use_channels_last(torch.nn.Linear(2, 2))
