"""Hand datasets and pipeline transforms of NSRM."""
from .hand_datasets import NSRMOneHand10KDataset, SyntheticHandDataset
from .panoptic_hand import NSRMPanopticHandDataset
from .transforms import (FastPackPoseInputs, HandMaskTarget, LimbMaskTarget,
                         LoadHandMask, WholeImageResize)

__all__ = [
    'FastPackPoseInputs', 'HandMaskTarget', 'LimbMaskTarget', 'LoadHandMask',
    'NSRMOneHand10KDataset', 'NSRMPanopticHandDataset', 'SyntheticHandDataset',
    'WholeImageResize'
]
