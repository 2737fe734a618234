"""Converters from raw dataset releases to COCO-style annotation files.

Pure numpy + stdlib (no torch / MMPose in the converter modules themselves);
the command-line front ends live in ``tools/dataset_converters/``.
"""
from .panoptic_hand143 import (MalformedEntry, convert_entries, convert_entry,
                               convert_panoptic_hand143, split_counts,
                               split_indices, tight_bbox)

__all__ = [
    'MalformedEntry', 'convert_entries', 'convert_entry',
    'convert_panoptic_hand143', 'split_counts', 'split_indices', 'tight_bbox'
]
