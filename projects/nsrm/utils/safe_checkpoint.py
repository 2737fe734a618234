"""Checkpoint loading that never runs code chosen by the checkpoint.

MMEngine 0.10.7 loads checkpoints with a plain ``torch.load`` (and, for
``http://``-like schemes, through ``torch.hub`` with ``weights_only=False``).
MMEngine's own checkpoints hold numpy arrays, numpy scalars and
``HistoryBuffer`` objects, which ``weights_only=True`` refuses. Switching the
check off (``weights_only=False`` or ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``)
would let any checkpoint run arbitrary code while it is unpickled, and
allowing numpy's or MMEngine's real classes is not safe either: numpy's dtype
and array reconstruction trust the pickled state (a crafted state makes raw
bytes be read as object pointers and crashes the process), and
``HistoryBuffer.__setstate__`` rewrites a class-level table shared by every
log buffer of the process.

This module instead:

* loads with ``torch.load(weights_only=True)`` and an allow-list that exists
  only for the duration of the project's own load call (never process-wide)
  and holds only inert stand-ins: the pickled names of numpy's array, scalar
  and dtype reconstruction and of MMEngine's ``HistoryBuffer`` resolve to
  functions and classes of this module, which record and validate the data;
* after loading, rebuilds real objects from the validated data: numpy arrays,
  scalars and dtypes only of plain bool/int/uint/float/complex/str/bytes
  dtypes (no object dtype, no structured or subarray dtype, no crafted dtype
  state, byte count equal to shape x itemsize), and ``HistoryBuffer(log
  history, count history, max_length)`` without touching class state;
* drops the config texts MMEngine executes as Python: ``meta['config']``
  (``Runner.resume`` only uses it to compare gpu ids), and ``meta['cfg']``
  and ``message_hub.runtime_info['cfg']`` (``BaseInferencer`` runs them when
  given weights without a config);
* registers a safe loader for every scheme of MMEngine's
  ``CheckpointLoader`` (:func:`install`): local files, ``http(s)://`` (the
  download goes to torch.hub's cache directory, then through the local
  loader), ``torchvision://``, ``modelzoo://``, ``open-mmlab://``,
  ``openmmlab://``, ``mmcls://`` (names resolved with MMEngine's own tables),
  ``s3://``/``petrel://`` and ``pavi://`` (the fetched bytes go through the
  same safe loader). A scheme registered by other code before
  :func:`install` runs is replaced by a loader that refuses;
* turns refusals into :class:`UnsafeCheckpointError` and truncated or foreign
  files into :class:`CorruptCheckpointError`, both naming the file.
"""
import errno
import io
import logging
import os
import os.path as osp
import pickle
import re
import struct
import sys
import threading
import zipfile
from contextlib import contextmanager
from tempfile import TemporaryDirectory
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple
from urllib.parse import urlparse

import numpy as np
import torch
from mmengine.dist import get_dist_info
from mmengine.fileio import get_file_backend
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner import CheckpointLoader
from mmengine.runner import checkpoint as mmengine_checkpoint

#: Module paths numpy 1.x and 2.x write into pickles for the same functions.
_MULTIARRAY_MODULES = ('numpy.core.multiarray', 'numpy._core.multiarray')

#: Pickled name of MMEngine's log buffer class.
_HISTORY_BUFFER_NAME = 'mmengine.logging.history_buffer.HistoryBuffer'

#: dtype strings (as numpy pickles them) that may be rebuilt: bool, signed
#: and unsigned integers, float16/32/64, complex64/128, and fixed-length
#: unicode and byte strings. None of them holds pointers.
_DTYPE_SPEC = re.compile(r'b1|[iu][1248]|f[248]|c(?:8|16)|[US][1-9][0-9]{0,8}')

#: numpy's limit on array dimensions (NPY_MAXDIMS in numpy 1.x).
_MAX_NDIM = 32

#: Words that must never appear in an error of this module: torch's advice
#: to switch the safety check off.
_UNSAFE_ADVICE = ('weights_only', 'TORCH_FORCE', 'safe_globals',
                  'add_safe_globals')


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds something outside the allow-list and was refused.

    Nothing from the file was executed or returned.
    """


class CorruptCheckpointError(ValueError):
    """A checkpoint file is empty, truncated or not a PyTorch checkpoint."""


class CheckpointDownloadError(OSError):
    """A checkpoint URL could not be downloaded; says where to put the file
    instead."""


class _Refusal(Exception):
    """Raised by the stand-ins; becomes an :class:`UnsafeCheckpointError`.

    Deliberately not a ``pickle.UnpicklingError``, so that ``torch.load``
    lets it through unchanged instead of rewording it.
    """


def _refuse(reason: str):
    """Stops the load; ``reason`` says what the file holds."""
    raise _Refusal(reason)


def _guarded(func: Callable) -> Callable:
    """Turns any error of a stand-in (e.g. comparing file data that is a
    tensor) into a refusal, so that only :class:`_Refusal` leaves it."""

    def guarded(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except _Refusal:
            raise
        except Exception as err:
            _refuse(f'data that does not fit {func.__qualname__} '
                    f'({type(err).__name__})')

    guarded.__name__ = func.__name__
    guarded.__qualname__ = func.__qualname__
    guarded.__doc__ = func.__doc__
    return guarded


# ---------------------------------------------------------------------------
# Stand-ins. Each one is what a pickled numpy/MMEngine name resolves to during
# the project's load call; none of them calls numpy's or MMEngine's
# unpickling code.
# ---------------------------------------------------------------------------


class _StandIn:
    """Base of the stand-in classes: construction takes no arguments.

    ``torch.load`` may create an allowed class through ``NEWOBJ``/``REDUCE``
    with arguments from the file; the stand-ins accept none.
    """

    #: What the stand-in stands for, in messages.
    description = 'stand-in'
    #: The real object, once the pickled state was checked and rebuilt.
    result = None
    _state_set = False

    def __new__(cls, *args, **kwargs):
        if args or kwargs:
            _refuse(f'arguments passed to {cls.description}')
        return super().__new__(cls)

    @_guarded
    def __setstate__(self, state: Any) -> None:
        """Pickle's BUILD: once per object, checked by :meth:`_set_state`
        (never a plain ``__dict__`` update)."""
        if self._state_set:
            _refuse(f'a {self.description} whose state is set twice')
        self._state_set = True
        self._set_state(state)

    def _set_state(self, state: Any) -> None:
        _refuse(f'a state for {self.description}: {_short(state)}')

    def finalize(self, walk: Callable[[Any], Any]) -> Any:
        """Returns the real object this stand-in describes.

        Args:
            walk (Callable): Converts the stand-ins nested in a value.

        Returns:
            Any: The rebuilt object.
        """
        if self.result is None:
            _refuse(f'an incomplete {self.description}')
        return self.result


class _NdarrayName(_StandIn):
    """Stands in for ``numpy.ndarray``: an identity token, never built."""

    def __new__(cls, *args, **kwargs):
        _refuse('constructing numpy.ndarray directly')

    description = 'numpy.ndarray'


class _PendingDtype(_StandIn):
    """A numpy dtype under reconstruction (``numpy.dtype(spec)`` + state)."""

    base = None  # np.dtype from the validated spec, before the state

    description = 'numpy dtype'

    def _set_state(self, state: Any) -> None:
        if self.base is None:
            _refuse('a numpy dtype state without a dtype')
        if not (type(state) is tuple and len(state) == 8
                and state[1] in ('<', '>', '|')):
            _refuse(f'a numpy dtype ({self.base.str}) with the crafted state '
                    f'{_short(state)}')
        endian = state[1]
        dtype = self.base if endian == '|' else self.base.newbyteorder(endian)
        if dtype.__reduce__()[2] != state:
            _refuse(f'a numpy dtype ({self.base.str}) with the crafted state '
                    f'{_short(state)}')
        self.result = dtype


class _PendingArray(_StandIn):
    """A numpy array under reconstruction (``_reconstruct`` + state)."""

    description = 'numpy array'

    def _set_state(self, state: Any) -> None:
        if not (type(state) is tuple and len(state) == 5 and state[0] == 1):
            _refuse(f'a numpy array with the state {_short(state)}')
        _, shape, dtype, fortran, data = state
        if not (type(shape) is tuple and len(shape) <= _MAX_NDIM and all(
                type(n) is int and 0 <= n < 2**62 for n in shape)):
            _refuse(f'a numpy array with the shape {_short(shape)}')
        if not (isinstance(dtype, _PendingDtype)
                and dtype.result is not None):
            _refuse(f'a numpy array whose dtype is {_short(dtype)}')
        if type(fortran) is not bool:
            _refuse(f'a numpy array with the order flag {_short(fortran)}')
        if type(data) is not bytes:
            # numpy stores object arrays as a list of objects
            _refuse(f'a numpy array of {dtype.result.str} whose data is a '
                    f'{type(data).__name__}, not bytes')
        count = 1
        for n in shape:
            count *= n
        if len(data) != count * dtype.result.itemsize:
            _refuse(f'a numpy array of shape {shape} and dtype '
                    f'{dtype.result.str} with {len(data)} bytes of data '
                    f'(expected {count * dtype.result.itemsize})')
        order = 'F' if fortran else 'C'
        # like numpy's own unpickling: a writable copy in native byte order
        native = dtype.result.newbyteorder('=')
        try:
            flat = np.frombuffer(data, dtype=dtype.result, count=count)
            self.result = flat.reshape(
                shape, order=order).astype(native, order=order, copy=True)
        except Exception as err:  # e.g. a dimension numpy cannot index
            _refuse(f'a numpy array of shape {shape} ({err})')


class _StatisticRef(_StandIn):
    """Stands in for ``getattr(HistoryBuffer, name)``: a name, nothing more."""

    name = None

    description = 'getattr(HistoryBuffer, ...) outside a HistoryBuffer'


class _PendingHistoryBuffer(_StandIn):
    """Stands in for MMEngine's ``HistoryBuffer`` while a file is unpickled.

    The pickled state is only recorded; the real buffer is built afterwards
    with ``HistoryBuffer(log_history, count_history, max_length)``. The
    ``statistics_methods`` the state carries (MMEngine's ``__setstate__``
    would merge them into the class-level table shared by all buffers) are
    ignored: the table of the running process is never changed.
    """

    state = None
    _KEYS = ('_log_history', '_count_history', 'max_length')

    description = 'HistoryBuffer'

    def _set_state(self, state: Any) -> None:
        if type(state) is not dict or not all(
                type(k) is str for k in state):
            _refuse(f'a HistoryBuffer with the state {_short(state)}')
        extra = set(state) - set(self._KEYS) - {'statistics_methods'}
        if extra or not set(self._KEYS) <= set(state):
            _refuse(f'a HistoryBuffer with the state keys {sorted(state)}')
        methods = state.get('statistics_methods', {})
        if type(methods) is not dict or not all(
                type(k) is str and isinstance(v, _StatisticRef)
                for k, v in methods.items()):
            _refuse('a HistoryBuffer whose statistics methods are '
                    f'{_short(methods)}')
        self.state = {k: state[k] for k in self._KEYS}

    def finalize(self, walk: Callable[[Any], Any]) -> HistoryBuffer:
        if self.state is None:
            super().finalize(walk)
        log, count, max_length = (walk(self.state[k]) for k in self._KEYS)
        for name, value in (('log', log), ('count', count)):
            if not (type(value) is np.ndarray and value.ndim == 1
                    and value.dtype.kind in 'biuf'):
                _refuse(f'a HistoryBuffer whose {name} history is '
                        f'{_short(value)}')
        if len(log) != len(count):
            _refuse('a HistoryBuffer whose log and count histories differ '
                    'in length')
        if type(max_length) is not int or max_length < 1:
            _refuse(f'a HistoryBuffer with max_length {_short(max_length)}')
        return HistoryBuffer(log, count, max_length)


@_guarded
def _reconstruct_array(*args) -> _PendingArray:
    """Stands in for ``numpy.core.multiarray._reconstruct``."""
    if not (len(args) == 3 and args[0] is _NdarrayName
            and type(args[1]) is tuple and args[1] == (0, )
            and type(args[2]) is bytes and args[2] == b'b'):
        _refuse(f'numpy _reconstruct{_short(args)}')
    return _PendingArray()


@_guarded
def _reconstruct_scalar(*args) -> np.generic:
    """Stands in for ``numpy.core.multiarray.scalar``.

    Returns:
        np.generic: The numpy scalar, built from validated bytes.
    """
    if not (len(args) == 2 and isinstance(args[0], _PendingDtype)
            and args[0].result is not None):
        _refuse(f'numpy scalar{_short(args)}')
    dtype, data = args[0].result, args[1]
    if type(data) is not bytes or len(data) != dtype.itemsize:
        _refuse(f'a numpy {dtype.str} scalar whose data is {_short(data)}')
    return np.frombuffer(data, dtype=dtype, count=1)[0]


@_guarded
def _reconstruct_dtype(*args) -> _PendingDtype:
    """Stands in for ``numpy.dtype(spec, align, copy)``."""
    if not (len(args) == 3 and type(args[0]) is str and args[1] is False
            and type(args[2]) is bool):
        _refuse(f'numpy.dtype{_short(args)}')
    spec = args[0]
    if not _DTYPE_SPEC.fullmatch(spec):
        _refuse(f'the numpy dtype {spec!r} (only plain bool, int, uint, '
                'float, complex, str and bytes dtypes are allowed)')
    try:
        base = np.dtype(spec)
    except Exception as err:
        _refuse(f'the numpy dtype {spec!r} ({err})')
    pending = _PendingDtype()
    pending.base = base
    return pending


@_guarded
def _empty_bytes(*args) -> bytes:
    """Stands in for ``bytes``: pickle protocol 2 writes ``b''`` as
    ``bytes()``; any other call is refused."""
    if args:
        _refuse(f'bytes{_short(args)}')
    return b''


@_guarded
def _history_buffer_getattr(*args) -> _StatisticRef:
    """Stands in for ``getattr``, which pickles of ``HistoryBuffer`` use to
    name its statistics methods (``getattr(HistoryBuffer, 'mean')``).

    Only a plain name looked up on the ``HistoryBuffer`` stand-in is
    accepted, and the result is an inert reference, not the method.
    """
    if not (len(args) == 2 and args[0] is _PendingHistoryBuffer
            and type(args[1]) is str and args[1].isidentifier()):
        _refuse(f'getattr{_short(args)}')
    ref = _StatisticRef()
    ref.name = args[1]
    return ref


def checkpoint_allow_list() -> List[Tuple[Any, str]]:
    """Returns the ``(stand-in, pickled name)`` pairs of the load call.

    Names that start with a newline can never be written in a pickle
    (``GLOBAL`` reads names line by line): they only make ``torch.load``
    accept setting the state of the stand-in objects.

    Returns:
        list: Pairs for :class:`torch.serialization.safe_globals`.
    """
    pairs = [(_reconstruct_array, f'{module}._reconstruct')
             for module in _MULTIARRAY_MODULES]
    pairs += [(_reconstruct_scalar, f'{module}.scalar')
              for module in _MULTIARRAY_MODULES]
    return pairs + [
        (_NdarrayName, 'numpy.ndarray'),
        (_reconstruct_dtype, 'numpy.dtype'),
        (_PendingHistoryBuffer, _HISTORY_BUFFER_NAME),
        (_history_buffer_getattr, 'builtins.getattr'),
        (_empty_bytes, 'builtins.bytes'),
        (_PendingDtype, '\nstand-in numpy dtype'),
        (_PendingArray, '\nstand-in numpy array'),
    ]


#: Stand-in callables by id: found bare in a loaded object, they are refused.
_STAND_IN_CALLABLES = {
    id(obj): name
    for obj, name in checkpoint_allow_list()
}


def _short(value: Any, limit: int = 80) -> str:
    """A bounded repr of file-controlled data for error messages."""
    try:
        text = repr(value)
    except Exception:
        text = f'<{type(value).__name__}>'
    return text if len(text) <= limit else text[:limit - 3] + '...'


# ---------------------------------------------------------------------------
# Loading.
# ---------------------------------------------------------------------------

#: One project load at a time: the allow-list is set for its duration.
_LOAD_LOCK = threading.RLock()


@contextmanager
def _scoped_allow_list() -> Iterator[None]:
    """Makes :func:`checkpoint_allow_list` torch's whole user allow-list.

    Whatever was allowed process-wide (by torch itself at import, or by
    other code) is hidden for the duration of the project's load call, so
    that e.g. a real ``numpy.dtype`` allowed elsewhere can not shadow the
    stand-in, and restored afterwards. torch's built-in table (tensors,
    storages, dtypes, ``OrderedDict``...) stays in force.
    """
    serialization = torch.serialization
    saved = serialization.get_safe_globals()
    serialization.clear_safe_globals()
    serialization.add_safe_globals(checkpoint_allow_list())
    try:
        yield
    finally:
        serialization.clear_safe_globals()
        serialization.add_safe_globals(saved)


def _finalize(obj: Any) -> Any:
    """Replaces the stand-ins in a loaded object by the real objects.

    Dicts, lists and sets are updated in place (so shared references stay
    shared), tuples are rebuilt, and tensors' attribute dicts are visited.

    Args:
        obj (Any): What ``torch.load`` returned.

    Returns:
        Any: The same structure with real numpy/MMEngine objects.
    """
    done: Dict[int, Any] = {}
    in_progress = set()

    def walk(value: Any) -> Any:
        key = id(value)
        if key in done:
            return done[key]
        if key in _STAND_IN_CALLABLES:
            _refuse(f'a bare reference to {_STAND_IN_CALLABLES[key]!r}')
        if isinstance(value, (str, bytes, int, float, complex, type(None),
                              bytearray, np.generic, torch.dtype,
                              torch.device)):
            return value
        if isinstance(value, _StandIn):
            done[key] = result = value.finalize(walk)
            return result
        if isinstance(value, dict):
            done[key] = value
            for k in list(value):
                if isinstance(k, _StandIn):
                    _refuse(f'a {k.description} used as a dict key')
                new = walk(value[k])
                if new is not value[k]:
                    value[k] = new
            return value
        if isinstance(value, list):
            done[key] = value
            for i, item in enumerate(value):
                new = walk(item)
                if new is not item:
                    value[i] = new
            return value
        if isinstance(value, (set, frozenset)):
            done[key] = value
            items = [walk(item) for item in value]
            if any(new is not old for new, old in zip(items, value)):
                if not isinstance(value, set):
                    _refuse('numpy data inside a frozenset')
                value.clear()
                value.update(items)
            return value
        if isinstance(value, tuple):
            if key in in_progress:
                _refuse('a tuple that contains itself')
            in_progress.add(key)
            items = [walk(item) for item in value]
            in_progress.discard(key)
            if any(new is not old for new, old in zip(items, value)):
                if type(value) is not tuple:
                    _refuse(f'numpy data inside a {type(value).__name__}')
                value = tuple(items)
            done[key] = value
            return value
        if isinstance(value, torch.Tensor):
            done[key] = value
            attributes = getattr(value, '__dict__', None)
            if attributes:
                walk(attributes)
            return value
        return value

    try:
        return walk(obj)
    except RecursionError:
        _refuse('objects nested too deeply')


def _reason_from_torch(message: str) -> Optional[str]:
    """What ``torch.load(weights_only=True)`` refused, in a short phrase.

    Args:
        message (str): The text of torch's ``UnpicklingError``.

    Returns:
        str or None: The refused global, call or object, or None when the
        file is not a pickle torch can read at all.
    """
    if 'WeightsUnpickler error:' in message:
        message = message.rsplit('WeightsUnpickler error:', 1)[1]
    message = message.split('\n\nCheck the documentation of torch.load')[0]
    message = message.replace(torch.serialization.UNSAFE_MESSAGE, '')
    message = message.replace('Weights only load failed.', '').strip()
    patterns = (
        (r'GLOBAL (\S+) whose module (\S+) is blocked',
         'the global {0} (module {1} is never allowed)'),
        (r'GLOBAL (\S+) was not an allowed global',
         'the global {0}, which is not on the allow-list'),
        (r'unrecognized function (.+?)(?: which belongs to .*)?$',
         'a call of {0}'),
        (r'Can only create new object .* but got (.+)$',
         'creating an object of {0}'),
        (r'Can only build .* but got (.+)$', 'setting the state of {0}'),
    )
    for pattern, template in patterns:
        match = re.search(pattern, message, flags=re.MULTILINE)
        if match:
            return template.format(*match.groups())
    if re.search(r'Unsupported operand', message):
        return None
    sentences = re.split(r'(?<=[.!?])\s+', ' '.join(message.split()))
    kept = [s for s in sentences if not any(w in s for w in _UNSAFE_ADVICE)]
    return ' '.join(kept) or 'an object outside the allow-list'


def _unsafe_error(name: str, reason: str) -> UnsafeCheckpointError:
    """The refusal naming the file and what was refused."""
    return UnsafeCheckpointError(
        f'Refused to load checkpoint {name}: it holds {reason}. Only tensors, '
        'plain numpy arrays, scalars and dtypes, and MMEngine log buffers are '
        'allowed; anything else could run code chosen by whoever made the '
        'file, so nothing from it was used. Load checkpoints only from '
        'sources you trust.')


def _corrupt_error(name: str, detail: str) -> CorruptCheckpointError:
    """The error for an empty, truncated or foreign file."""
    return CorruptCheckpointError(
        f'Cannot load checkpoint {name}: it is truncated or not a PyTorch '
        f'checkpoint ({detail}).')


#: RuntimeError texts of torch's readers for a damaged or foreign file.
_CORRUPT_RUNTIME_ERRORS = ('PytorchStreamReader', 'zip archive',
                           'magic number', 'central directory',
                           'file not found in archive', 'unexpected EOF',
                           'might be corrupted')


def _safe_torch_load(source: Any, name: str,
                     map_location: Any = None) -> Any:
    """``torch.load(weights_only=True)`` under the scoped allow-list.

    Args:
        source: A path or a binary file object.
        name (str): How errors name the file.
        map_location: Same as :func:`torch.load`.

    Returns:
        Any: The loaded checkpoint with real numpy/MMEngine objects and
        without ``meta['config']``.

    Raises:
        UnsafeCheckpointError: The file holds something outside the
            allow-list; nothing from it ran.
        CorruptCheckpointError: The file is empty, truncated or not a
            PyTorch checkpoint.
    """
    try:
        with _LOAD_LOCK, _scoped_allow_list():
            loaded = torch.load(
                source, map_location=map_location, weights_only=True)
        checkpoint = _finalize(loaded)
    except _Refusal as refusal:
        raise _unsafe_error(name, str(refusal)) from None
    except pickle.UnpicklingError as err:
        reason = _reason_from_torch(str(err))
        if reason is None:
            raise _corrupt_error(
                name, 'not a pickle the safe loader reads') from None
        if _cut_inside_global(source, str(err)):
            raise _corrupt_error(
                name, 'the file ends inside a name it refers to') from None
        raise _unsafe_error(name, reason) from None
    except (EOFError, IndexError, KeyError, TypeError, ValueError,
            AttributeError, struct.error, zipfile.BadZipFile) as err:
        raise _corrupt_error(name, _first_line(err)) from None
    except RuntimeError as err:
        if any(text in str(err) for text in _CORRUPT_RUNTIME_ERRORS):
            raise _corrupt_error(name, _first_line(err)) from None
        raise
    except OSError as err:
        # torch's zip reader: EINVAL for a cut-off end of central directory
        if err.errno == errno.EINVAL:
            raise _corrupt_error(name, _first_line(err)) from None
        raise
    _drop_executable_config(checkpoint, name)
    return checkpoint


def _cut_inside_global(source: Any, message: str) -> bool:
    """Whether a refused global is a name cut off by the end of the file.

    A truncated legacy (non-zip) checkpoint can end in the middle of a
    ``GLOBAL module\\nname\\n`` instruction; torch then reports the cut
    name as a global outside the allow-list.
    """
    match = re.search(r'GLOBAL (\S*) was not an allowed global', message)
    if not match:
        return False
    try:
        if isinstance(source, (str, os.PathLike)):
            with open(source, 'rb') as f:
                f.seek(max(0, osp.getsize(source) - 4096))
                tail = f.read()
        else:
            tail = source.getvalue()[-4096:]
    except (OSError, AttributeError):
        return False
    reported = match.group(1)
    lines = tail.decode('utf-8', 'replace').split('\n')
    # torch drops the last character of a line read without its newline
    cut = lines[-1][:-1]
    if reported.endswith('.') and cut.endswith(reported[:-1]):
        return True  # cut inside the module line; the name read as ''
    if len(lines) < 2:
        return False
    if reported == cut:
        return True  # a cut name of 'builtins', which torch reports bare
    module = reported[:-len(cut) - 1]
    return reported.endswith('.' + cut) and lines[-2].endswith(module)


def _first_line(err: BaseException) -> str:
    """The first sentence of an error, without torch's unsafe advice."""
    lines = str(err).strip().splitlines()
    text = lines[0].split('. ')[0].rstrip('.') if lines else ''
    if any(w in text for w in _UNSAFE_ADVICE):
        text = ''
    return f'{type(err).__name__}: {text}' if text else type(err).__name__


def _drop_executable_config(checkpoint: Any, name: str) -> None:
    """Removes the config texts that MMEngine would run as Python.

    ``Runner.resume`` runs ``meta['config']`` (old MMCV checkpoints; only
    used to compare the number of GPUs) and MMEngine's ``BaseInferencer``,
    given weights without a config, runs ``message_hub.runtime_info['cfg']``
    or ``meta['cfg']``. The runner sets its own config at start, so nothing
    else reads them; an inferencer then asks for a config instead.
    """
    if not isinstance(checkpoint, dict):
        return
    meta = checkpoint.get('meta')
    hub = checkpoint.get('message_hub')
    info = hub.get('runtime_info') if isinstance(hub, dict) else None
    dropped = []
    for where, table, key in (('meta', meta, 'config'), ('meta', meta, 'cfg'),
                              ('message_hub.runtime_info', info, 'cfg')):
        if isinstance(table, dict) and key in table:
            del table[key]
            dropped.append(f'{where}[{key!r}]')
    if 'meta[\'config\']' in dropped:
        print_log(
            f'Ignored meta["config"] of checkpoint {name}: MMEngine would '
            'execute that text as Python when resuming.',
            logger='current',
            level=logging.WARNING)


def load_from_local(filename: str, map_location: Any = None) -> Any:
    """Loads a local checkpoint file safely (scheme ``''``).

    Args:
        filename (str): Path of the checkpoint file.
        map_location: Same as :func:`torch.load`.

    Returns:
        Any: The loaded checkpoint.

    Raises:
        FileNotFoundError: The file does not exist.
        UnsafeCheckpointError: The pickle refers to something outside the
            allow-list (e.g. a function that would run code); nothing from
            it was executed.
        CorruptCheckpointError: The file is empty, truncated or not a
            PyTorch checkpoint.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(
            f'Checkpoint file {filename} can not be found.')
    if osp.getsize(filename) == 0:
        raise _corrupt_error(filename, 'the file is empty, 0 bytes')
    return _safe_torch_load(filename, filename, map_location)


#: The former name of :func:`load_from_local`.
load_checkpoint_file = load_from_local


def load_from_bytes(data: bytes, name: str, map_location: Any = None) -> Any:
    """Loads a checkpoint held in memory safely.

    Args:
        data (bytes): The checkpoint file's content.
        name (str): How errors name the checkpoint.
        map_location: Same as :func:`torch.load`.

    Returns:
        Any: The loaded checkpoint.
    """
    if len(data) == 0:
        raise _corrupt_error(name, 'the file is empty, 0 bytes')
    with io.BytesIO(data) as buffer:
        return _safe_torch_load(buffer, name, map_location)


def download_checkpoint(url: str,
                        model_dir: Optional[str] = None,
                        progress: bool = True) -> str:
    """Downloads a checkpoint into torch.hub's cache, as MMEngine does.

    Like ``torch.hub.load_state_dict_from_url``: the file goes to
    ``<torch.hub.get_dir()>/checkpoints/<name in the URL>`` unless
    ``model_dir`` is given, and an existing file there is reused.

    Args:
        url (str): ``http://`` or ``https://`` URL.
        model_dir (str, optional): Directory to save the file in.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        str: The local path of the downloaded file.
    """
    if model_dir is None:
        model_dir = osp.join(torch.hub.get_dir(), 'checkpoints')
    os.makedirs(model_dir, exist_ok=True)
    file_name = osp.basename(urlparse(url).path)
    if file_name in ('', '.', '..'):
        raise ValueError(f'The URL {url} does not end with a file name.')
    cached_file = osp.join(model_dir, file_name)
    if not osp.exists(cached_file):
        sys.stderr.write(f'Downloading: "{url}" to {cached_file}\n')
        try:
            torch.hub.download_url_to_file(url, cached_file, None, progress)
        except OSError as err:  # URLError, HTTPError, timeouts
            raise CheckpointDownloadError(
                f'Could not download checkpoint {url} ({err}). Without '
                f'network access, put the file at {cached_file}; a '
                "backbone's pretrained weights (init_cfg) can also be "
                'skipped to train from scratch, e.g. --cfg-options '
                'model.backbone.init_cfg=None.') from None
    return cached_file


def load_from_http(filename: str,
                   map_location: Any = None,
                   model_dir: Optional[str] = None,
                   progress: bool = os.isatty(0)) -> Any:
    """Downloads a checkpoint (``http://``, ``https://``) and loads it safely.

    In distributed runs rank 0 downloads first, as in MMEngine.

    Args:
        filename (str): The URL.
        map_location: Same as :func:`torch.load`.
        model_dir (str, optional): Directory to save the file in; defaults
            to torch.hub's ``checkpoints`` directory.
        progress (bool): Show a progress bar.

    Returns:
        Any: The loaded checkpoint.
    """
    rank, world_size = get_dist_info()
    if rank == 0:
        path = download_checkpoint(filename, model_dir, progress)
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0:
            path = download_checkpoint(filename, model_dir, progress)
    return load_from_local(path, map_location)


def _model_url(model_urls: Dict[str, str], model_name: str,
               filename: str) -> str:
    """Looks a model name up in one of MMEngine's URL tables."""
    if model_name not in model_urls:
        raise KeyError(f'{filename}: {model_name!r} is not a known model '
                       'name of this scheme.')
    return model_urls[model_name]


def load_from_torchvision(filename: str, map_location: Any = None) -> Any:
    """Loads ``torchvision://NAME`` (or ``modelzoo://NAME``) safely.

    The name is resolved with MMEngine's ``get_torchvision_models``.

    Args:
        filename (str): The prefixed model name.
        map_location: Same as :func:`torch.load`.

    Returns:
        Any: The loaded checkpoint.
    """
    model_urls = mmengine_checkpoint.get_torchvision_models()
    if filename.startswith('modelzoo://'):
        print_log(
            'The URL scheme of "modelzoo://" is deprecated, please '
            'use "torchvision://" instead',
            logger='current',
            level=logging.WARNING)
        model_name = filename[len('modelzoo://'):]
    else:
        model_name = filename[len('torchvision://'):]
    return load_from_http(
        _model_url(model_urls, model_name, filename),
        map_location=map_location)


def load_from_openmmlab(filename: str, map_location: Any = None) -> Any:
    """Loads ``open-mmlab://NAME`` (or ``openmmlab://NAME``) safely.

    The name is resolved with MMEngine's ``get_external_models`` and
    ``get_deprecated_model_names``; a URL is downloaded, a relative path is
    read from MMEngine's home directory. ``map_location`` is
    :func:`torch.load`'s; returns the loaded checkpoint.
    """
    model_urls = mmengine_checkpoint.get_external_models()
    prefix = 'open-mmlab://'
    if not filename.startswith(prefix):
        prefix = 'openmmlab://'
    model_name = filename[len(prefix):]
    deprecated = mmengine_checkpoint.get_deprecated_model_names()
    if model_name in deprecated:
        print_log(
            f'{prefix}{model_name} is deprecated in favor '
            f'of {prefix}{deprecated[model_name]}',
            logger='current',
            level=logging.WARNING)
        model_name = deprecated[model_name]
    model_url = _model_url(model_urls, model_name, filename)
    if model_url.startswith(('http://', 'https://')):
        return load_from_http(model_url, map_location=map_location)
    return load_from_local(
        osp.join(mmengine_checkpoint._get_mmengine_home(), model_url),
        map_location)


def load_from_mmcls(filename: str, map_location: Any = None) -> Any:
    """Loads ``mmcls://NAME`` safely (MMEngine's ``get_mmcls_models``).

    Args:
        filename (str): The prefixed model name.
        map_location: Same as :func:`torch.load`.

    Returns:
        Any: The backbone weights, as MMEngine's loader returns them.
    """
    model_urls = mmengine_checkpoint.get_mmcls_models()
    model_name = filename[len('mmcls://'):]
    checkpoint = load_from_http(
        _model_url(model_urls, model_name, filename),
        map_location=map_location)
    return mmengine_checkpoint._process_mmcls_checkpoint(checkpoint)


def load_from_ceph(filename: str,
                   map_location: Any = None,
                   backend: str = 'petrel') -> Any:
    """Fetches ``s3://``/``petrel://`` bytes with MMEngine's file backend and
    loads them safely.

    Args:
        filename (str): The object's path.
        map_location: Same as :func:`torch.load`.
        backend (str): The storage backend. Defaults to 'petrel'.

    Returns:
        Any: The loaded checkpoint.
    """
    file_backend = get_file_backend(
        filename, backend_args={'backend': backend})
    return load_from_bytes(file_backend.get(filename), filename, map_location)


def load_from_pavi(filename: str, map_location: Any = None) -> Any:
    """Downloads a ``pavi://`` model to a temporary directory and loads it
    safely.

    Args:
        filename (str): The pavi path.
        map_location: Same as :func:`torch.load`.

    Returns:
        Any: The loaded checkpoint.
    """
    if not filename.startswith('pavi://'):
        raise ValueError(f'Expected a pavi:// path, got {filename}')
    try:
        from pavi import modelcloud
    except ImportError:
        raise ImportError(
            'Please install pavi to load checkpoint from modelcloud.')
    model = modelcloud.get(filename[len('pavi://'):])
    with TemporaryDirectory() as tmp_dir:
        local = osp.join(tmp_dir, osp.basename(str(model.name)) or 'ckpt.pth')
        model.download(local)
        return load_from_local(local, map_location)


def _refusing_loader(prefix: str, loader: Callable) -> Callable:
    """A loader for a scheme this module has no safe loader for."""
    origin = (f'{getattr(loader, "__module__", "?")}.'
              f'{getattr(loader, "__qualname__", loader)}')

    def load_from_unvetted_scheme(filename, map_location=None):
        raise UnsafeCheckpointError(
            f'Refused to load checkpoint {filename}: its scheme {prefix!r} '
            f'is served by {origin}, which the safe checkpoint loader of '
            'projects.nsrm does not cover. Use a local file or an '
            'http(s):// URL. Load checkpoints only from sources you trust.')

    load_from_unvetted_scheme._nsrm_safe_loader = True
    return load_from_unvetted_scheme


def _safe_replacements() -> Dict[Callable, Callable]:
    """MMEngine's loaders mapped to the safe ones of this module."""
    pairs = {
        'load_from_local': load_from_local,
        'load_from_http': load_from_http,
        'load_from_pavi': load_from_pavi,
        'load_from_ceph': load_from_ceph,
        'load_from_torchvision': load_from_torchvision,
        'load_from_openmmlab': load_from_openmmlab,
        'load_from_mmcls': load_from_mmcls,
    }
    return {
        getattr(mmengine_checkpoint, name): safe
        for name, safe in pairs.items() if hasattr(mmengine_checkpoint, name)
    }


for _loader in (load_from_local, load_from_http, load_from_pavi,
                load_from_ceph, load_from_torchvision, load_from_openmmlab,
                load_from_mmcls):
    _loader._nsrm_safe_loader = True


def install() -> None:
    """Registers a safe loader for every scheme of ``CheckpointLoader``.

    Idempotent. Each scheme MMEngine registered gets its safe counterpart in
    this module; a scheme registered by other code gets a loader that
    refuses. After it, every MMEngine/MMPose path that reads a checkpoint
    (``--resume`` and auto-resume, ``load_from``, ``tools/test.py``,
    ``init_model``) goes through :func:`_safe_torch_load`. torch's own
    allow-list is left untouched; the project's allow-list exists only
    during its load calls.
    """
    replacements = _safe_replacements()
    for prefix, loader in list(CheckpointLoader._schemes.items()):
        if getattr(loader, '_nsrm_safe_loader', False):
            continue
        safe = replacements.get(loader) or _refusing_loader(prefix, loader)
        CheckpointLoader.register_scheme(
            prefixes=prefix, loader=safe, force=True)
    if '' not in CheckpointLoader._schemes:
        CheckpointLoader.register_scheme(
            prefixes='', loader=load_from_local, force=True)
