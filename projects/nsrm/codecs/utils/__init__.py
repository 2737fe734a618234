"""Pure array functions behind NSRM's targets."""
from .limb_masks import (MASK_TYPES, compose_limb_groups, draw_limb_masks,
                         generate_limb_masks, limb_maps)

__all__ = [
    'MASK_TYPES', 'compose_limb_groups', 'draw_limb_masks',
    'generate_limb_masks', 'limb_maps'
]
