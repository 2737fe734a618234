"""Runner components of NSRM."""
from .hooks import CrashSafeCheckpointHook, LambdaDecayHook
from .runner import CheckpointMismatchError, CrashSafeRunner

__all__ = [
    'CheckpointMismatchError', 'CrashSafeCheckpointHook', 'CrashSafeRunner',
    'LambdaDecayHook'
]
