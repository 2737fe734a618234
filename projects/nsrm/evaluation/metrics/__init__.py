"""Registered metrics (``METRICS``) over :mod:`..functional`."""
from .limb_mask_quality import LimbMaskQuality
from .multi_threshold_pck import MultiThresholdPCK

__all__ = ['LimbMaskQuality', 'MultiThresholdPCK']
