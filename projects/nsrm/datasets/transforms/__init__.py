"""Pipeline transforms of NSRM."""
from .hand_mask_target import HandMaskTarget, LoadHandMask
from .limb_mask_target import LimbMaskTarget
from .whole_image_resize import WholeImageResize, whole_image_warp

__all__ = [
    'HandMaskTarget', 'LimbMaskTarget', 'LoadHandMask', 'WholeImageResize',
    'whole_image_warp'
]
