"""Pure metric functions (arrays in, numbers out)."""
from .multi_threshold_pck import (countable_rows, keypoint_bbox_size,
                                  multi_threshold_pck)

__all__ = ['countable_rows', 'keypoint_bbox_size', 'multi_threshold_pck']
