"""Pure array functions behind NSRM's targets."""
from .hand_masks import (area_reduce, hand_mask_target, polygons_to_mask,
                         warp_mask)
from .keypoint_heatmaps import gaussian_keypoint_heatmaps
from .limb_masks import (MASK_TYPES, compose_limb_groups, draw_limb_masks,
                         generate_limb_masks, limb_maps)

__all__ = [
    'area_reduce', 'hand_mask_target', 'polygons_to_mask', 'warp_mask',
    'gaussian_keypoint_heatmaps',
    'MASK_TYPES', 'compose_limb_groups', 'draw_limb_masks',
    'generate_limb_masks', 'limb_maps'
]
