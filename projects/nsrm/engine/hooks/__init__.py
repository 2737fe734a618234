"""Hooks of NSRM."""
from .crash_safe_checkpoint_hook import CrashSafeCheckpointHook
from .lambda_decay_hook import LambdaDecayHook

__all__ = ['CrashSafeCheckpointHook', 'LambdaDecayHook']
