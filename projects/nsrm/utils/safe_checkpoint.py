"""Checkpoint loading with ``torch.load``'s ``weights_only`` safety kept on.

MMEngine 0.10.7 calls ``torch.load`` without ``weights_only``. Since torch 2.6
that means ``weights_only=True``, and MMEngine's own checkpoints (numpy arrays
and scalars in ``meta``, ``HistoryBuffer`` objects in the message hub) fail to
load. Switching the check off (``weights_only=False`` or
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``) would let any checkpoint run arbitrary
code while it is unpickled. Instead, :func:`install` allows exactly the few
globals that MMEngine checkpoints hold and registers a local-file loader that
always passes ``weights_only=True`` and turns a refusal into a clear
:class:`UnsafeCheckpointError`.
"""
import os.path as osp
import pickle
from typing import List, Optional

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader

if np.lib.NumpyVersion(np.__version__) >= '2.0.0':
    from numpy._core import multiarray as _multiarray
else:
    from numpy.core import multiarray as _multiarray

#: Module paths numpy 1.x and 2.x write into pickles for the same functions.
_MULTIARRAY_NAMES = ('numpy.core.multiarray', 'numpy._core.multiarray')

#: Numpy dtypes whose dtype classes may appear in a checkpoint.
_NUMPY_DTYPES = (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8,
                 np.uint16, np.uint32, np.uint64, np.float16, np.float32,
                 np.float64, np.complex64, np.complex128, np.str_)


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds objects outside the allow-list and was refused."""


def history_buffer_statistic(owner: type, name: str):
    """Stands in for ``getattr`` while a checkpoint is unpickled.

    MMEngine's ``HistoryBuffer`` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'mean')``. A general ``getattr`` would let a
    crafted file walk from any allowed object to arbitrary code, so only
    these four lookups are resolved.

    Args:
        owner (type): The object ``getattr`` is applied to.
        name (str): The attribute name.

    Returns:
        function: ``HistoryBuffer.<name>``.
    """
    if owner is HistoryBuffer and name in ('min', 'max', 'current', 'mean'):
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'getattr({owner!r}, {name!r}) is not allowed in a checkpoint')


def checkpoint_safe_globals() -> List[object]:
    """Returns the globals MMEngine checkpoints need beyond plain tensors.

    Returns:
        list: Objects or ``(object, pickled name)`` pairs: numpy's array/scalar reconstruction functions, ``ndarray``,
        ``dtype`` and its per-type classes, ``bytes`` (numpy scalars' raw
        data), MMEngine's ``HistoryBuffer`` (the message hub's logged
        scalars) and, under the name ``builtins.getattr``,
        :func:`history_buffer_statistic`. None of them runs code chosen by
        the file.
    """
    dtype_classes = [type(np.dtype(t)) for t in _NUMPY_DTYPES]
    functions = [(getattr(_multiarray, fn), f'{module}.{fn}')
                 for module in _MULTIARRAY_NAMES
                 for fn in ('_reconstruct', 'scalar')]
    return [
        *functions, np.ndarray, np.dtype, HistoryBuffer, bytes, *dtype_classes,
        (history_buffer_statistic, 'builtins.getattr')
    ]


def load_checkpoint_file(filename: str,
                         map_location: Optional[str] = None) -> dict:
    """Loads a local checkpoint with ``weights_only=True``.

    Args:
        filename (str): Path of the checkpoint file.
        map_location (str, optional): Same as :func:`torch.load`.

    Returns:
        dict: The loaded checkpoint.

    Raises:
        FileNotFoundError: The file does not exist.
        UnsafeCheckpointError: The pickle refers to a global outside the
            allow-list (e.g. a function that would run code); nothing from it
            was executed.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'Checkpoint file {filename} can not be found.')
    try:
        return torch.load(
            filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        reason = str(err).strip().splitlines()
        raise UnsafeCheckpointError(
            f'Refused to load checkpoint {filename}: it holds objects outside '
            'the allow-list of tensors, numpy arrays and MMEngine log buffers, '
            'so unpickling it could run arbitrary code. Only load checkpoints '
            'from sources you trust. torch.load(weights_only=True) said: '
            f'{reason[0] if reason else err!r}') from err


def install() -> None:
    """Allows the checkpoint globals and registers the safe local loader.

    Idempotent. After it, every MMEngine/MMPose path that reads a local
    checkpoint (``--resume``, ``load_from``, ``tools/test.py``,
    ``init_model``) goes through :func:`load_checkpoint_file`.
    """
    torch.serialization.add_safe_globals(checkpoint_safe_globals())
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_checkpoint_file, force=True)
