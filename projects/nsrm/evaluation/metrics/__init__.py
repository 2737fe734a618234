"""Registered metrics (``METRICS``) over :mod:`..functional`."""
from .multi_threshold_pck import MultiThresholdPCK

__all__ = ['MultiThresholdPCK']
