"""Hooks of NSRM."""
from .lambda_decay_hook import LambdaDecayHook

__all__ = ['LambdaDecayHook']
