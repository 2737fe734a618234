"""Evaluation of NSRM: pure metric functions (``functional``) behind
registered metrics (``metrics``), as in MMPose."""
from .functional import countable_rows, keypoint_bbox_size, multi_threshold_pck
from .metrics import MultiThresholdPCK

__all__ = [
    'MultiThresholdPCK', 'countable_rows', 'keypoint_bbox_size',
    'multi_threshold_pck'
]
