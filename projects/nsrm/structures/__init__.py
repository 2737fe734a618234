"""Facts about the hand that every NSRM component reads."""
from .hand_topology import (CHANNEL_NAMES, GROUP_MODES, HAND_G6_GROUPS,
                            HAND_LIMBS, channel_members, channel_names,
                            channel_slices, num_mask_channels,
                            validate_groups, validate_limb_groups)

__all__ = [
    'CHANNEL_NAMES', 'GROUP_MODES', 'HAND_G6_GROUPS', 'HAND_LIMBS',
    'channel_members', 'channel_names', 'channel_slices',
    'num_mask_channels', 'validate_groups', 'validate_limb_groups'
]
