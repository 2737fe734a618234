"""Runner components of NSRM."""
from .hooks import CrashSafeCheckpointHook, LambdaDecayHook
from .optim_wrappers import CPUBF16AmpOptimWrapper
from .runner import CheckpointMismatchError, CrashSafeRunner

__all__ = [
    'CPUBF16AmpOptimWrapper', 'CheckpointMismatchError',
    'CrashSafeCheckpointHook', 'CrashSafeRunner', 'LambdaDecayHook'
]
