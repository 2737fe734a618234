"""A Runner whose checkpoints survive a kill and whose resume says what it
does."""
import os.path as osp
import re
from typing import Callable, List, Mapping, Optional, Tuple, Union

from mmengine.dist import master_only
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.hooks import SyncBuffersHook
from mmengine.model import is_model_wrapper
from mmengine.runner import CheckpointLoader, Runner

from mmpose.registry import RUNNERS
from .checkpoint_files import (commit_file, find_latest_checkpoint,
                               remove_quietly, temporary_name)

#: How many key names a mismatch error lists per kind.
MAX_LISTED_KEYS = 10


class CheckpointMismatchError(ValueError):
    """A checkpoint cannot be resumed into the model this config builds."""


def compare_state_dicts(
        model_state: Mapping[str, object],
        checkpoint_state: Mapping[str, object]
) -> Tuple[List[str], List[str], List[str]]:
    """Compares a checkpoint's ``state_dict`` with a model's, key by key.

    Args:
        model_state (Mapping[str, Tensor]): ``model.state_dict()``.
        checkpoint_state (Mapping[str, Tensor]): The checkpoint's weights,
            with the same key prefixes as the model's.

    Returns:
        tuple[list[str], list[str], list[str]]: The model's keys missing from
        the checkpoint, the checkpoint's keys the model does not have, and
        ``'<key>: checkpoint <shape>, model <shape>'`` for each shared key
        whose shapes differ; each in the order of its state dict.
    """
    missing = [key for key in model_state if key not in checkpoint_state]
    unexpected = [key for key in checkpoint_state if key not in model_state]
    mismatched = []
    for key, value in checkpoint_state.items():
        if key not in model_state:
            continue
        saved = tuple(getattr(value, 'shape', ()))
        wanted = tuple(getattr(model_state[key], 'shape', ()))
        if saved != wanted:
            mismatched.append(f'{key}: checkpoint {saved}, model {wanted}')
    return missing, unexpected, mismatched


def _listed(what: str, items: List[str]) -> str:
    """One line of a mismatch error: ``what (count): first names``."""
    shown = '; '.join(items[:MAX_LISTED_KEYS])
    more = (f'; ... ({len(items) - MAX_LISTED_KEYS} more)'
            if len(items) > MAX_LISTED_KEYS else '')
    return f'\n  {what} ({len(items)}): {shown}{more}'


def check_resumable(checkpoint: Mapping, model_state: Mapping[str, object],
                    filename: str) -> None:
    """Raises a clear error unless ``checkpoint`` resumes into the model.

    A resumable checkpoint was written by training (it has ``meta`` with
    ``epoch`` and ``iter`` and a ``state_dict``) and its ``state_dict`` has
    exactly the model's keys, with the same shapes (a leading ``module.``
    is ignored, as MMEngine does).

    Args:
        checkpoint (Mapping): The loaded checkpoint.
        model_state (Mapping[str, Tensor]): ``model.state_dict()`` of the
            unwrapped model.
        filename (str): The checkpoint's path, for the message.

    Raises:
        CheckpointMismatchError: It is not a training checkpoint, or its
            weights belong to another model; the message names the missing,
            unexpected and shape-mismatched keys (the first
            :data:`MAX_LISTED_KEYS` of each, and their counts).
    """
    meta = checkpoint.get('meta') if isinstance(checkpoint, Mapping) else None
    if (not isinstance(meta, Mapping) or 'epoch' not in meta
            or 'iter' not in meta or 'state_dict' not in checkpoint):
        raise CheckpointMismatchError(
            f'Cannot resume from {filename}: it is not a checkpoint written '
            'by training (it needs a `state_dict` and a `meta` with epoch and '
            'iter). To start a new training from its weights, pass it as '
            '`load_from` (--cfg-options load_from=...) without --resume.')
    saved = {
        re.sub(r'^module\.', '', key): value
        for key, value in checkpoint['state_dict'].items()
    }
    missing, unexpected, mismatched = compare_state_dicts(model_state, saved)
    if not (missing or unexpected or mismatched):
        return
    details = ''.join(
        _listed(what, items)
        for what, items in (('model keys missing from the checkpoint',
                             missing),
                            ('checkpoint keys the model does not have',
                             unexpected),
                            ('keys whose shapes differ', mismatched))
        if items)
    raise CheckpointMismatchError(
        f'Cannot resume from {filename}: it holds the weights of another '
        f'model, nothing was loaded.{details}\nResume only from a checkpoint '
        'that this config wrote; to start a new training from the weights '
        'that fit, pass it as `load_from` (--cfg-options load_from=...) '
        'without --resume.')


@RUNNERS.register_module()
class CrashSafeRunner(Runner):
    """MMEngine's :class:`~mmengine.runner.Runner` with checkpoints that a kill
    cannot corrupt, a resume that checks before it loads, and validation that
    describes the saved weights.

    What it changes, nothing else:

    - :meth:`save_checkpoint` lets MMEngine write ``<name>.tmp-<pid>`` in the
      checkpoint folder and renames it to ``<name>`` only when it is
      complete (local folders; other storage backends are left to
      MMEngine). Every checkpoint goes through it: ``epoch_N``/``iter_N``,
      the best and the last. Pair it with
      :class:`~projects.nsrm.engine.hooks.CrashSafeCheckpointHook`, which
      also keeps the previous best checkpoint until the new one exists and
      writes the ``last_checkpoint`` pointer atomically.
    - ``--resume`` without a path continues from the latest *complete*
      checkpoint (see :func:`.find_latest_checkpoint`) and logs which
      one; with nothing to resume it warns ``no checkpoint to resume in
      <work_dir>; starting from scratch``.
    - :meth:`resume` reads the checkpoint and compares its ``state_dict``
      with the model (:func:`check_resumable`) before it loads anything,
      so a checkpoint of another model is a clear
      :class:`CheckpointMismatchError` rather than a tensor-size error inside
      the optimizer. Errors of the checkpoint loader (missing, truncated or
      unsafe files) surface unchanged.
    - A :class:`~mmengine.hooks.SyncBuffersHook` is registered when the
      config's ``custom_hooks`` have none (a config that sets
      ``custom_hooks`` replaces MMPose's default list, which holds it). It
      averages the BatchNorm statistics of all processes after every
      training epoch, before the checkpoint is saved and before validation,
      so every rank validates the weights that rank 0 saves.
    """

    def register_custom_hooks(self, hooks) -> None:
        """Registers the config's custom hooks, plus a ``SyncBuffersHook``.

        Args:
            hooks (list[dict | Hook]): The config's ``custom_hooks``.
        """
        super().register_custom_hooks(hooks)
        if not any(isinstance(hook, SyncBuffersHook) for hook in self._hooks):
            self.register_hook(SyncBuffersHook())
            if self.distributed:
                self.logger.info(
                    'Registered SyncBuffersHook (custom_hooks had none): the '
                    'processes average their BatchNorm statistics after each '
                    'training epoch, before saving and validating.')

    @master_only
    def save_checkpoint(self,
                        out_dir: str,
                        filename: str,
                        file_client_args: Optional[dict] = None,
                        save_optimizer: bool = True,
                        save_param_scheduler: bool = True,
                        meta: Optional[dict] = None,
                        by_epoch: bool = True,
                        backend_args: Optional[dict] = None) -> None:
        """Saves a checkpoint as MMEngine does, but atomically.

        MMEngine writes ``<filename>.tmp-<pid>`` in ``out_dir``; only when it
        is complete is it renamed to ``filename`` (:func:`os.replace`), so a
        kill leaves either the previous file or the new one. Arguments are
        those of :meth:`mmengine.runner.Runner.save_checkpoint`.
        """
        kwargs = dict(
            file_client_args=file_client_args,
            save_optimizer=save_optimizer,
            save_param_scheduler=save_param_scheduler,
            meta=meta,
            by_epoch=by_epoch,
            backend_args=backend_args)
        local = file_client_args is None and isinstance(
            get_file_backend(out_dir, backend_args=backend_args),
            LocalBackend)
        if not local:
            super().save_checkpoint(out_dir, filename, **kwargs)
            return
        temporary = osp.join(out_dir, temporary_name(filename))
        try:
            super().save_checkpoint(out_dir, temporary_name(filename),
                                    **kwargs)
            commit_file(temporary, osp.join(out_dir, filename))
        except BaseException:
            remove_quietly(temporary)
            raise

    def load_or_resume(self) -> None:
        """Resolves ``--resume`` without a path, then loads as MMEngine does.

        ``resume=True`` without ``load_from`` continues from the latest
        complete checkpoint in the work dir, and says which; when there is
        none it warns and training starts from scratch.
        """
        if not self._has_loaded and self._resume and self._load_from is None:
            latest = find_latest_checkpoint(self.work_dir, self.logger)
            if latest is None:
                self.logger.warning(f'no checkpoint to resume in '
                                    f'{self.work_dir}; starting from scratch')
                self._resume = False
            else:
                self.logger.info(
                    f'Resuming from the latest checkpoint {latest}')
                self._load_from = latest
        super().load_or_resume()

    def resume(self,
               filename: str,
               resume_optimizer: bool = True,
               resume_param_scheduler: bool = True,
               map_location: Union[str, Callable] = 'default') -> None:
        """Checks that ``filename`` fits the model, then resumes from it.

        Args:
            filename (str): The checkpoint to continue from.
            resume_optimizer (bool): Restore the optimizer state. Defaults to
                True.
            resume_param_scheduler (bool): Restore the parameter schedulers.
                Defaults to True.
            map_location (str or callable): As in
                :meth:`mmengine.runner.Runner.resume`.

        Raises:
            CheckpointMismatchError: The checkpoint is not a training
                checkpoint of this model (see :func:`check_resumable`);
                nothing was loaded.
        """
        checkpoint = CheckpointLoader.load_checkpoint(
            filename, map_location='cpu')
        model = self.model
        if is_model_wrapper(model):
            model = model.module
        check_resumable(checkpoint, model.state_dict(), filename)
        del checkpoint
        super().resume(
            filename,
            resume_optimizer=resume_optimizer,
            resume_param_scheduler=resume_param_scheduler,
            map_location=map_location)
