"""Pipeline transforms of NSRM."""
from .limb_mask_target import LimbMaskTarget

__all__ = ['LimbMaskTarget']
