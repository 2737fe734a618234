"""Checkpoint files that a killed run cannot leave half-written.

A checkpoint is first written to ``<name>.tmp-<pid>`` in its final folder and
then renamed over ``<name>`` with :func:`os.replace`, which is atomic within
one file system: a reader sees either the previous complete file or the new
complete file, never a truncated one. A run killed while it writes leaves
only a temporary file behind; :func:`find_latest_checkpoint` ignores such
files and :func:`remove_stale_temporaries` deletes them.

These are plain functions on local paths, shared by
:class:`~projects.nsrm.engine.runner.CrashSafeRunner` and
:class:`~projects.nsrm.engine.hooks.CrashSafeCheckpointHook`.
"""
import logging
import os
import os.path as osp
import re
import shutil
from typing import List, Optional

#: The name of MMEngine's pointer file to the latest checkpoint in a work dir.
POINTER_NAME = 'last_checkpoint'

_TEMPORARY = re.compile(r'\.tmp-(\d+)$')
_NUMBERED_CHECKPOINT = re.compile(r'^(epoch|iter)_(\d+)\.pth$')


def temporary_name(name: str) -> str:
    """Returns the name a file is written under before it is renamed.

    Args:
        name (str): The final file (or folder) name or path.

    Returns:
        str: ``<name>.tmp-<pid of this process>``.
    """
    return f'{name}.tmp-{os.getpid()}'


def is_temporary(path: str) -> bool:
    """Whether ``path`` is a file being written (or left by a killed run).

    Args:
        path (str): A file name or path.

    Returns:
        bool: True for ``<name>.tmp-<digits>``.
    """
    return _TEMPORARY.search(path) is not None


def _fsync(path: str) -> None:
    """Flushes a file or folder to disk (best effort for folders)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot sync folders
        pass
    finally:
        os.close(fd)


def commit_file(temporary: str, final: str) -> None:
    """Moves a completely written file into place in one atomic step.

    The data is flushed to disk first, so the renamed file is complete even
    after a power cut, not only after a killed process.

    Args:
        temporary (str): The written file, in the same folder as ``final``.
        final (str): Its destination; an existing file is replaced.
    """
    _fsync(temporary)
    os.replace(temporary, final)
    _fsync(osp.dirname(osp.abspath(final)))


def remove_quietly(path: str) -> None:
    """Removes a file if it exists.

    Args:
        path (str): The file.
    """
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def write_text_atomically(path: str, text: str) -> None:
    """Writes a small text file through a temporary file and a rename.

    Args:
        path (str): The file to (re)write.
        text (str): Its new content.
    """
    temporary = temporary_name(path)
    with open(temporary, 'w') as f:
        f.write(text)
    commit_file(temporary, path)


def remove_stale_temporaries(folder: str,
                             logger: Optional[logging.Logger] = None
                             ) -> List[str]:
    """Deletes the temporary files and folders other processes left behind.

    Only names ``<name>.tmp-<pid>`` whose pid is not this process's are
    removed: those of a run that was killed while it saved.

    Args:
        folder (str): A checkpoint folder; nothing happens if it is missing.
        logger (logging.Logger, optional): Told which files were removed.

    Returns:
        list[str]: The removed paths, sorted.
    """
    if not osp.isdir(folder):
        return []
    removed = []
    for name in sorted(os.listdir(folder)):
        match = _TEMPORARY.search(name)
        if match is None or int(match.group(1)) == os.getpid():
            continue
        path = osp.join(folder, name)
        if osp.isdir(path) and not osp.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            remove_quietly(path)
        removed.append(path)
    if removed and logger is not None:
        logger.warning(
            f'Removed {len(removed)} unfinished file(s) that an interrupted '
            f'save left in {folder}: '
            f'{", ".join(osp.basename(p) for p in removed)}')
    return removed


def _newest_numbered_checkpoint(folder: str) -> Optional[str]:
    """The ``epoch_N.pth`` (else ``iter_N.pth``) with the largest N."""
    found = {'epoch': [], 'iter': []}
    for name in os.listdir(folder):
        match = _NUMBERED_CHECKPOINT.match(name)
        if match and osp.isfile(osp.join(folder, name)):
            found[match.group(1)].append((int(match.group(2)), name))
    for kind in ('epoch', 'iter'):
        if found[kind]:
            return osp.join(folder, max(found[kind])[1])
    return None


def find_latest_checkpoint(work_dir: str,
                           logger: Optional[logging.Logger] = None
                           ) -> Optional[str]:
    """Finds the checkpoint that ``--resume`` (without a path) continues from.

    The ``last_checkpoint`` pointer is trusted only when it names an existing
    file that is not a temporary one; a pointer to a moved work dir is
    resolved inside ``work_dir``. Otherwise the newest ``epoch_N.pth`` (else
    ``iter_N.pth``) in ``work_dir`` is used, with a warning.

    Args:
        work_dir (str): The run's work dir.
        logger (logging.Logger, optional): Told when the pointer is not used.

    Returns:
        str or None: The checkpoint path, or None when there is none.
    """
    if not osp.isdir(work_dir):
        return None
    pointer = osp.join(work_dir, POINTER_NAME)
    target = ''
    if osp.isfile(pointer):
        with open(pointer) as f:
            target = f.read().strip()
    if target and not is_temporary(target):
        for candidate in (target, osp.join(work_dir, osp.basename(target))):
            if osp.isfile(candidate):
                return candidate
    newest = _newest_numbered_checkpoint(work_dir)
    if newest is not None and logger is not None:
        reason = (f'{pointer} names {target!r}, which does not exist'
                  if target else f'{pointer} is missing or empty')
        logger.warning(f'{reason}; resuming from the newest checkpoint in '
                       f'the folder instead: {newest}')
    return newest
