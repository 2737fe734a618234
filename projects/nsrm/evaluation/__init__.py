"""Evaluation of NSRM: pure metric functions (``functional``) behind
registered metrics (``metrics``), as in MMPose."""
from .functional import (countable_rows, keypoint_bbox_size, mask_bce_sums,
                         mask_iou_counts, mean_bce, mean_iou,
                         multi_threshold_pck, visibility_split_pck,
                         visibility_subsets)
from .metrics import LimbMaskQuality, MultiThresholdPCK

__all__ = [
    'LimbMaskQuality', 'MultiThresholdPCK', 'countable_rows',
    'keypoint_bbox_size', 'mask_bce_sums', 'mask_iou_counts', 'mean_bce',
    'mean_iou', 'multi_threshold_pck', 'visibility_split_pck',
    'visibility_subsets'
]
