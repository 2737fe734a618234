"""Pure metric functions (arrays in, numbers out)."""
from .limb_mask_quality import (mask_bce_sums, mask_iou_counts, mean_bce,
                                mean_iou)
from .multi_threshold_pck import (countable_rows, keypoint_bbox_size,
                                  multi_threshold_pck)
from .visibility_pck import visibility_split_pck, visibility_subsets

__all__ = [
    'countable_rows', 'keypoint_bbox_size', 'mask_bce_sums',
    'mask_iou_counts', 'mean_bce', 'mean_iou', 'multi_threshold_pck',
    'visibility_split_pck', 'visibility_subsets'
]
