"""Pipeline transforms of NSRM."""
from .fast_pack_pose_inputs import (PACK_TRANSFORMS, FastPackPoseInputs,
                                    channels_first)
from .hand_mask_target import HandMaskTarget, LoadHandMask
from .limb_mask_target import LimbMaskTarget
from .whole_image_resize import WholeImageResize, whole_image_warp

__all__ = [
    'PACK_TRANSFORMS', 'FastPackPoseInputs', 'HandMaskTarget',
    'LimbMaskTarget', 'LoadHandMask', 'WholeImageResize', 'channels_first',
    'whole_image_warp'
]
