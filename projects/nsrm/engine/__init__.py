"""Runner components of NSRM."""
from .hooks import LambdaDecayHook

__all__ = ['LambdaDecayHook']
