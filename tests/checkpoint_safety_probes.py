"""Hooks that test runs import through ``custom_imports``: one kills the
process while it writes a checkpoint, one dumps the BatchNorm buffers of each
process."""
import os
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.fileio import LocalBackend
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmpose.registry import HOOKS


@HOOKS.register_module()
class KillWhileSavingHook(Hook):
    """Ends the process (``os._exit``) half-way through writing the
    checkpoint whose ``meta['epoch']`` is ``epoch``, as a kill would.

    Args:
        epoch (int): The epoch whose checkpoint is cut short.
        exit_code (int): The process's exit status. Defaults to 3.
    """

    def __init__(self, epoch: int, exit_code: int = 3):
        self.epoch = epoch
        self.exit_code = exit_code

    def before_save_checkpoint(self, runner, checkpoint) -> None:
        if checkpoint['meta']['epoch'] != self.epoch:
            return
        exit_code = self.exit_code

        def put_half_then_die(backend, obj, filepath):
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
            os._exit(exit_code)

        LocalBackend.put = put_half_then_die


@HOOKS.register_module()
class BufferProbeHook(Hook):
    """Saves the model's buffers of this process at the end of each training
    epoch (before any other hook, so before ``SyncBuffersHook``) and at the
    start of each validation, to ``<stage>_iter<N>_rank<R>.pth``.

    Args:
        out_dir (str): Folder of the dumps.
    """
    priority = 'HIGHEST'

    def __init__(self, out_dir: str):
        self.out_dir = out_dir

    def _dump(self, runner, stage: str) -> None:
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        buffers = {
            name: value.detach().cpu().clone()
            for name, value in model.named_buffers()
        }
        os.makedirs(self.out_dir, exist_ok=True)
        torch.save(
            buffers,
            osp.join(self.out_dir,
                     f'{stage}_iter{runner.iter}_rank{get_rank()}.pth'))

    def after_train_epoch(self, runner) -> None:
        self._dump(runner, 'trained')

    def before_val_epoch(self, runner) -> None:
        self._dump(runner, 'val')
