"""What ``tools/train.py`` and ``tools/test.py`` add to MMPose's own tools.

The command-line parsing and config merging are MMPose's (``parse_args`` and
``merge_args`` of the ``tools/train.py``/``tools/test.py`` that ship inside the
mmpose package); this module only loads them and adapts a config to the
machine it runs on: CPU-only distributed runs (gloo, no ``device_ids``) and a
clear error for ``--amp`` without an accelerator.
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
