"""The runner of NSRM: crash-safe checkpoints and a resume that checks."""
from .checkpoint_files import find_latest_checkpoint, remove_stale_temporaries
from .crash_safe_runner import (CheckpointMismatchError, CrashSafeRunner,
                                check_resumable, compare_state_dicts)

__all__ = [
    'CheckpointMismatchError', 'CrashSafeRunner', 'check_resumable',
    'compare_state_dicts', 'find_latest_checkpoint',
    'remove_stale_temporaries'
]
