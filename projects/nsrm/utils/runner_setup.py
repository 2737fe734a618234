"""What ``tools/train.py`` and ``tools/test.py`` add to MMPose's own tools.

The command-line parsing and config merging are MMPose's (``parse_args`` and
``merge_args`` of the ``tools/train.py``/``tools/test.py`` that ship inside the
mmpose package); this module only loads them, builds the runner the config
names (``runner_type``) and adapts a config to the machine it runs on:
CPU-only distributed runs (gloo, no ``device_ids``) and ``--amp`` without an
accelerator (bfloat16 autocast on a CPU with bfloat16 instructions, else a
clear error). It also applies the project's top-level config switches:
``tensorboard=True`` (:func:`apply_switches`) and ``channels_last=True``
(:func:`build_runner`); MMEngine's own ``compile=True`` (``torch.compile``
of the training step) needs nothing here.
"""
import importlib.util
import os
import os.path as osp
import warnings
from types import ModuleType

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from torch import nn

import mmpose
from mmpose.registry import RUNNERS

from ..engine.optim_wrappers import NATIVE_BF16_FLAGS, cpu_native_bf16_flags

#: Environment variable that makes ``--amp`` use emulated bfloat16 on a CPU
#: without bfloat16 instructions (slower than float32; for testing).
FORCE_CPU_BF16_ENV = 'NSRM_FORCE_CPU_BF16'


def load_mmpose_tool(name: str) -> ModuleType:
    """Imports ``tools/<name>.py`` shipped inside the installed mmpose.

    Args:
        name (str): ``'train'`` or ``'test'``.

    Returns:
        module: The tool module (its ``parse_args`` and ``merge_args``).
    """
    path = osp.join(
        osp.dirname(mmpose.__file__), '.mim', 'tools', f'{name}.py')
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'mmpose {mmpose.__version__} ships no {path}; reinstall mmpose '
            'with tools/setup_env.sh')
    spec = importlib.util.spec_from_file_location(f'_mmpose_tool_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def silence_known_warnings() -> None:
    """Hides one harmless warning in the tools' output (not on import).

    mmengine 0.10.7 looks up installed packages (e.g. ``mmpose::`` config
    bases) through ``pkg_resources``, which setuptools >= 80.9 flags on
    every use.
    """
    warnings.filterwarnings(
        'ignore', message='pkg_resources is deprecated', category=UserWarning)


def load_config(path: str) -> Config:
    """Loads a config file, with a clear error when it does not exist.

    Args:
        path (str): Config file path.

    Returns:
        Config: The loaded config.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'Config file not found: {path!r} (looked in '
            f'{osp.abspath(path)}). Configs live under configs/, e.g. '
            'configs/nsrm/lpm_g1g6_synthetic_cpu.py')
    return Config.fromfile(path)


def apply_switches(cfg: Config) -> Config:
    """Applies the project's top-level config switches.

    ``tensorboard=True`` (e.g. ``--cfg-options tensorboard=True``) adds
    MMEngine's ``TensorboardVisBackend`` to the visualizer's backends, next
    to the local JSON/log backend (``tensorboard --logdir WORK_DIR``).
    ``channels_last`` is checked here (a bool) and applied to the built
    model by :func:`build_runner`.

    Args:
        cfg (Config): The merged config; modified in place.

    Returns:
        Config: ``cfg``.

    Raises:
        ValueError: ``channels_last`` is not a bool.
    """
    channels_last = cfg.get('channels_last', False)
    if not isinstance(channels_last, bool):
        raise ValueError('channels_last must be True or False (e.g. '
                         '--cfg-options channels_last=True), got '
                         f'{channels_last!r}')
    if cfg.get('tensorboard', False):
        backends = cfg.visualizer.setdefault('vis_backends', [])
        if not any(b.get('type') == 'TensorboardVisBackend'
                   for b in backends):
            backends.append(dict(type='TensorboardVisBackend'))
    return cfg


def _pretrained_inits(node, path):
    """Yields ``(config key, module type, checkpoint)`` of every
    ``init_cfg=dict(type='Pretrained', checkpoint=...)`` below ``node``."""
    if isinstance(node, dict):
        init = node.get('init_cfg')
        for item in (init if isinstance(init, list) else [init]):
            if isinstance(item, dict) and item.get('type') == 'Pretrained':
                yield f'{path}.init_cfg', node.get('type'), item.get(
                    'checkpoint')
        for key, value in node.items():
            if key != 'init_cfg':
                yield from _pretrained_inits(value, f'{path}.{key}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _pretrained_inits(value, f'{path}.{i}')


def check_pretrained_files(cfg: Config) -> None:
    """Stops before training when a local pretrained-weights file a config
    names (``init_cfg=dict(type='Pretrained', checkpoint=PATH)``) is missing,
    saying how to make it or how to train from scratch.

    Raises:
        FileNotFoundError: naming the config key and the file.
    """
    for key, module, ckpt in _pretrained_inits(cfg.get('model', {}), 'model'):
        if not isinstance(ckpt, str) or '://' in ckpt or osp.isfile(ckpt):
            continue
        how = ''
        if module == 'VGG':
            how = (' Make it from torchvision\'s ImageNet VGG-19 file with '
                   f'`python tools/convert_vgg_weights.py vgg19-dcbb9e9d.pth '
                   f'{ckpt}` (README.md, "The paper\'s VGG-19 backbone and '
                   'ImageNet weights").')
        raise FileNotFoundError(
            f'{key}: pretrained weights file {ckpt} not found.{how} To train '
            f'from scratch instead: --cfg-options {key}=None')


def build_runner(cfg: Config) -> Runner:
    """Builds the runner that the config names, as OpenMMLab's tools do.

    A config with ``runner_type`` (e.g. ``'CrashSafeRunner'``) gets that
    class from MMPose's ``RUNNERS`` registry (MMEngine's runners are found
    through it too); without it, MMEngine's :class:`~mmengine.runner.Runner`.

    Args:
        cfg (Config): The merged config.

    Returns:
        Runner: The runner, not yet started.
    """
    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    if cfg.get('channels_last', False):
        use_channels_last(runner.model)
        MMLogger.get_current_instance().info(
            'channels_last=True: the model\'s 4-D weights and its input '
            'batches are in channels-last memory format')
    return runner


def _inputs_to_channels_last(module: nn.Module, args: tuple,
                             output: object) -> object:
    """Forward hook of a data preprocessor: its ``inputs`` (B, C, H, W) in
    channels-last memory format (other outputs unchanged)."""
    inputs = output.get('inputs') if isinstance(output, dict) else None
    if isinstance(inputs, torch.Tensor) and inputs.dim() == 4:
        output['inputs'] = inputs.contiguous(
            memory_format=torch.channels_last)
    return output


def use_channels_last(model: nn.Module) -> nn.Module:
    """Puts a model (an MMEngine ``BaseModel``, possibly wrapped, e.g. in
    DDP) in channels-last (NHWC) memory format: every 4-D parameter and
    buffer (``model.to(memory_format=torch.channels_last)``; the shapes are
    unchanged, only the strides) and, through a forward hook on its
    ``data_preprocessor``, the (B, C, H, W) input batch of every step.

    Convolutions then run NHWC kernels end to end (Tensor Cores on a GPU,
    oneDNN's blocked formats on a CPU) without layout conversions. Weights
    loaded later (``load_from``, ``--resume``) are copied into the
    channels-last parameters. Calling it twice changes nothing more.

    Args:
        model (nn.Module): The model, wrapped or not; modified in place.

    Returns:
        nn.Module: ``model``.

    Raises:
        ValueError: the (unwrapped) model has no ``data_preprocessor``.
    """
    inner = model.module if is_model_wrapper(model) else model
    preprocessor = getattr(inner, 'data_preprocessor', None)
    if not isinstance(preprocessor, nn.Module):
        raise ValueError(
            'channels_last=True needs an MMEngine model with a '
            f'data_preprocessor; {type(inner).__name__} has none')
    model.to(memory_format=torch.channels_last)
    if not getattr(preprocessor, '_nsrm_channels_last', False):
        preprocessor.register_forward_hook(_inputs_to_channels_last)
        preprocessor._nsrm_channels_last = True
    return model


def adapt_cfg_to_device(cfg: Config) -> Config:
    """Makes a config runnable on the devices this process can see.

    Without CUDA: the distributed backend becomes ``gloo``, DDP gets
    ``device_ids=None`` (MMEngine would pass ``[LOCAL_RANK]``, which DDP
    rejects for CPU modules) and, for a ``pytorch`` launch, the process group
    is initialised here, because MMEngine's ``init_dist`` calls
    ``torch.cuda.set_device``; ``--amp`` (``AmpOptimWrapper``) becomes CPU
    bfloat16 autocast (see :func:`adapt_amp_to_cpu`). With CUDA the config
    is left as is (NCCL, one device per process, MMEngine's
    ``AmpOptimWrapper`` for ``--amp``).

    Args:
        cfg (Config): The merged config; modified in place.

    Returns:
        Config: ``cfg``.

    Raises:
        RuntimeError: ``--amp`` on a CPU without bfloat16 instructions.
        ValueError: ``CPUBF16AmpOptimWrapper`` with CUDA visible (the model
            runs on the GPU, where CPU autocast does nothing).
    """
    if torch.cuda.is_available():
        if _optim_wrapper_type(cfg) == 'CPUBF16AmpOptimWrapper':
            raise ValueError(
                "optim_wrapper.type='CPUBF16AmpOptimWrapper' autocasts CPU "
                'operations, but this run trains on CUDA: use --amp '
                "(MMEngine's AmpOptimWrapper; optim_wrapper.dtype="
                "'bfloat16' for bfloat16) instead")
        return cfg
    adapt_amp_to_cpu(cfg)
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    cfg.env_cfg.dist_cfg.backend = 'gloo'
    if cfg.get('launcher', 'none') != 'none':
        # MMEngine's default wrapper. BatchNorm statistics are averaged by
        # SyncBuffersHook once per epoch (CrashSafeRunner adds it): cheaper
        # than broadcast_buffers=True, which costs a broadcast every
        # iteration and still leaves each rank's last update unsynchronised.
        wrapper = cfg.get('model_wrapper_cfg') or dict(
            type='MMDistributedDataParallel',
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
        wrapper.setdefault('device_ids', None)
        cfg.model_wrapper_cfg = wrapper
        if cfg.launcher == 'pytorch' and not dist.is_initialized():
            os.environ.setdefault('LOCAL_RANK', '0')
            dist.init_process_group(backend='gloo')
    return cfg


def _optim_wrapper_type(cfg: Config) -> str:
    """The name of the config's optimizer wrapper type (a class or a
    registered name), ``'OptimWrapper'`` when not given."""
    optim_type = (cfg.get('optim_wrapper') or {}).get('type', 'OptimWrapper')
    return getattr(optim_type, '__name__', optim_type)


def adapt_amp_to_cpu(cfg: Config) -> Config:
    """Turns ``--amp`` into CPU bfloat16 autocast on a machine without an
    accelerator, or stops with a clear error.

    MMPose's ``--amp`` sets ``optim_wrapper.type='AmpOptimWrapper'`` (and
    ``loss_scale='dynamic'``), which MMEngine only runs on an accelerator.
    On a CPU with bfloat16 instructions
    (:func:`~projects.nsrm.engine.optim_wrappers.cpu_native_bf16_flags`)
    it becomes ``CPUBF16AmpOptimWrapper`` (``loss_scale`` dropped: bfloat16
    needs none), and the switch is logged. Without them bfloat16 would be
    emulated, slower than float32, so it is an error, unless the
    environment variable ``NSRM_FORCE_CPU_BF16=1`` forces the switch. A
    config that names ``optim_wrapper.type='CPUBF16AmpOptimWrapper'``
    itself is honoured on any CPU, with a warning when bfloat16 is
    emulated.

    Args:
        cfg (Config): The merged config; modified in place.

    Returns:
        Config: ``cfg``.

    Raises:
        RuntimeError: ``--amp`` on a CPU without bfloat16 instructions
            (naming the flags looked for), not forced.
        ValueError: ``--amp`` with an ``optim_wrapper.dtype`` other than
            bfloat16.
    """
    optim_type = _optim_wrapper_type(cfg)
    if optim_type not in ('AmpOptimWrapper', 'CPUBF16AmpOptimWrapper'):
        return cfg
    logger = MMLogger.get_current_instance()
    flags = cpu_native_bf16_flags()
    wanted = ', '.join(NATIVE_BF16_FLAGS)
    cpu = torch.cpu.get_capabilities().get('cpu_name') or 'this CPU'
    emulated = (f'{cpu} has no bfloat16 instructions ({wanted}): bfloat16 '
                'is emulated and slower than float32')
    if optim_type == 'CPUBF16AmpOptimWrapper':
        if not flags:
            logger.warning(f'CPUBF16AmpOptimWrapper: {emulated}')
        return cfg
    forced = os.environ.get(FORCE_CPU_BF16_ENV, '') == '1'
    if not flags and not forced:
        raise RuntimeError(
            '--amp (AmpOptimWrapper) needs a CUDA, NPU, MLU or MUSA device, '
            'or a CPU with bfloat16 instructions (one of the CPU flags '
            f'{wanted}); no accelerator is visible and {cpu} has none of '
            'those flags (bfloat16 would be emulated, slower than float32). '
            f'Run without --amp on this CPU, or set {FORCE_CPU_BF16_ENV}=1 '
            'to use emulated bfloat16 anyway.')
    dtype = cfg.optim_wrapper.pop('dtype', None)
    if dtype not in (None, 'bfloat16', torch.bfloat16):
        raise ValueError(
            f'--amp on a CPU runs in bfloat16, but optim_wrapper.dtype is '
            f'{dtype!r}: remove it or set it to \'bfloat16\'')
    cfg.optim_wrapper.pop('loss_scale', None)
    cfg.optim_wrapper.type = 'CPUBF16AmpOptimWrapper'
    if flags:
        logger.info('--amp without an accelerator: bfloat16 autocast on the '
                    f'CPU (CPUBF16AmpOptimWrapper; {", ".join(flags)})')
    else:
        logger.warning(f'--amp with {FORCE_CPU_BF16_ENV}=1: '
                       f'CPUBF16AmpOptimWrapper, but {emulated}')
    return cfg


def close_process_group() -> None:
    """Waits for every rank, then destroys the process group, if any.

    Without it a gloo worker that finishes first can abort while its peers
    still talk to it ("terminate called without an active exception") after
    a successful run.
    """
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
