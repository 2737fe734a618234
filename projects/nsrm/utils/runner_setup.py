"""What ``tools/train.py`` and ``tools/test.py`` add to MMPose's own tools.

The command-line parsing and config merging are MMPose's (``parse_args`` and
``merge_args`` of the ``tools/train.py``/``tools/test.py`` that ship inside the
mmpose package); this module only loads them, builds the runner the config
names (``runner_type``) and adapts a config to the machine it runs on:
CPU-only distributed runs (gloo, no ``device_ids``) and a clear error for
``--amp`` without an accelerator.
"""
import importlib.util
import os
import os.path as osp
import warnings
from types import ModuleType

import mmpose
import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.runner import Runner

from mmpose.registry import RUNNERS


def load_mmpose_tool(name: str) -> ModuleType:
    """Imports ``tools/<name>.py`` shipped inside the installed mmpose.

    Args:
        name (str): ``'train'`` or ``'test'``.

    Returns:
        module: The tool module (its ``parse_args`` and ``merge_args``).
    """
    path = osp.join(osp.dirname(mmpose.__file__), '.mim', 'tools', f'{name}.py')
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
            f'Config file not found: {path!r} (looked in {osp.abspath(path)}). '
            'Configs live under configs/, e.g. '
            'configs/nsrm/lpm_g1g6_synthetic_cpu.py')
    return Config.fromfile(path)


def apply_switches(cfg: Config) -> Config:
    """Applies the project's top-level config switches.

    ``tensorboard=True`` (e.g. ``--cfg-options tensorboard=True``) adds
    MMEngine's ``TensorboardVisBackend`` to the visualizer's backends, next
    to the local JSON/log backend (``tensorboard --logdir WORK_DIR``).

    Args:
        cfg (Config): The merged config; modified in place.

    Returns:
        Config: ``cfg``.
    """
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
        return Runner.from_cfg(cfg)
    return RUNNERS.build(cfg)


def adapt_cfg_to_device(cfg: Config) -> Config:
    """Makes a config runnable on the devices this process can see.

    Without CUDA: the distributed backend becomes ``gloo``, DDP gets
    ``device_ids=None`` (MMEngine would pass ``[LOCAL_RANK]``, which DDP
    rejects for CPU modules) and, for a ``pytorch`` launch, the process group
    is initialised here, because MMEngine's ``init_dist`` calls
    ``torch.cuda.set_device``. ``AmpOptimWrapper`` (``--amp``) without an
    accelerator raises a clear error. With CUDA the config is left as is
    (NCCL, one device per process).

    Args:
        cfg (Config): The merged config; modified in place.

    Returns:
        Config: ``cfg``.
    """
    if torch.cuda.is_available():
        return cfg
    optim_type = cfg.get('optim_wrapper', {}).get('type', 'OptimWrapper')
    if getattr(optim_type, '__name__', optim_type) == 'AmpOptimWrapper':
        raise RuntimeError(
            '--amp (AmpOptimWrapper) needs a CUDA, NPU, MLU or MUSA device '
            'and none is visible; run without --amp on CPU.')
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


def close_process_group() -> None:
    """Waits for every rank, then destroys the process group, if any.

    Without it a gloo worker that finishes first can abort while its peers
    still talk to it ("terminate called without an active exception") after
    a successful run.
    """
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
