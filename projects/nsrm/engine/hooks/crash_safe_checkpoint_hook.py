"""MMEngine's CheckpointHook, in an order that never loses the best
checkpoint and with a ``last_checkpoint`` pointer written atomically."""
import os
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook

from mmpose.registry import HOOKS
from ..runner.checkpoint_files import (POINTER_NAME, commit_file,
                                       remove_stale_temporaries,
                                       temporary_name)


class _PointerStaging:
    """The runner as :meth:`CheckpointHook._save_checkpoint_with_step` sees
    it, with ``work_dir`` moved to a private staging folder.

    MMEngine writes the ``last_checkpoint`` pointer with a plain ``open(...,
    'w')`` into ``runner.work_dir``; a kill there would leave it empty. Every
    other attribute is the runner's own.
    """

    def __init__(self, runner, staging_dir: str):
        self._runner = runner
        self.work_dir = staging_dir

    def __getattr__(self, name):
        return getattr(self._runner, name)


@HOOKS.register_module()
class CrashSafeCheckpointHook(CheckpointHook):
    """:class:`~mmengine.hooks.CheckpointHook` that a kill cannot make lose a
    checkpoint. Same arguments and files as MMEngine's hook.

    With :class:`~projects.nsrm.engine.runner.CrashSafeRunner` (which writes
    each checkpoint to a temporary file and renames it when complete):

    - the previous best checkpoint is removed only after the new best one
      and the epoch checkpoint that records it are complete (MMEngine
      removes it before writing the new one);
    - the ``last_checkpoint`` pointer is written to a staging folder and
      renamed into the work dir, so it always names a complete file;
    - temporary files that a killed run left behind are removed before
      training (with a warning naming them).
    """

    def before_train(self, runner) -> None:
        """Sets up the output folder, then removes stale temporary files.

        Args:
            runner (Runner): The runner of the training process.
        """
        super().before_train(runner)
        if is_main_process() and isinstance(self.file_backend, LocalBackend):
            for folder in {self.out_dir, runner.work_dir}:
                remove_stale_temporaries(folder, runner.logger)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        """Saves as MMEngine does; the pointer file is moved into place.

        Args:
            runner (Runner): The runner of the training process.
            step (int): The epoch or iteration in the file name.
            meta (dict): The checkpoint's meta.
        """
        staging = temporary_name(osp.join(runner.work_dir, POINTER_NAME))
        if is_main_process():
            os.makedirs(staging, exist_ok=True)
        super()._save_checkpoint_with_step(
            _PointerStaging(runner, staging), step, meta)
        if is_main_process():
            commit_file(
                osp.join(staging, POINTER_NAME),
                osp.join(runner.work_dir, POINTER_NAME))
            os.rmdir(staging)

    def _best_paths(self) -> dict:
        """The current best checkpoint path of each key indicator."""
        if len(self.key_indicators) == 1:
            return {None: self.best_ckpt_path}
        return dict(self.best_ckpt_path_dict)

    def _set_best_path(self, key, path) -> None:
        """Sets the best checkpoint path of one key (None: the only key)."""
        if key is None:
            self.best_ckpt_path = path
        else:
            self.best_ckpt_path_dict[key] = path

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """Saves a new best checkpoint, then removes the previous one.

        MMEngine's method runs with the previous best paths hidden, so it
        removes nothing; afterwards each key that got a new best file has its
        previous one removed, and each key that did not gets its path back.

        Args:
            runner (Runner): The runner of the training process.
            metrics (dict): The validation metrics.
        """
        if not self.save_best:
            return
        previous = self._best_paths()
        for key in previous:
            self._set_best_path(key, None)
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:
            replaced = []
            for key, old in previous.items():
                if self._best_paths()[key] is None:  # no new best: keep it
                    self._set_best_path(key, old)
                elif old and old != self._best_paths()[key]:
                    replaced.append(old)
        if is_main_process():  # only reached when the new files are saved
            for old in replaced:
                self._remove(runner, old)

    def _remove(self, runner, path: str) -> None:
        """Removes a checkpoint file (or DeepSpeed folder) and says so."""
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):  # DeepSpeed saves folders
            self.file_backend.rmtree(path)
        else:
            return
        runner.logger.info(f'The previous best checkpoint {path} is removed')
