"""NSRM (Nonparametric Structure Regularization Machine) for MMPose.

Importing this package registers every module of the project in MMPose's
registries, so configs only need::

    custom_imports = dict(
        imports=['projects.nsrm'], allow_failed_imports=False)

It also makes checkpoint loading safe under torch >= 2.6 (see
:mod:`projects.nsrm.utils.safe_checkpoint`).

Layout (as in MMPose)::

    structures/hand_topology.py   limbs, G6 groups, channel order (one owner)
    codecs/utils/limb_masks.py    LDM / LPM maths, pure numpy
    datasets/                     hand datasets; transforms/LimbMaskTarget
    models/heads, models/losses   NSRMHead, NSRMLoss
    engine/hooks                  LambdaDecayHook
    evaluation/, visualization/   metrics and visualizers
    utils/                        safe checkpoints, the tools' runner setup
"""
from .codecs.utils import compose_limb_groups, generate_limb_masks, limb_maps
from .datasets import (LimbMaskTarget, NSRMOneHand10KDataset,
                       SyntheticHandDataset)
from .engine import LambdaDecayHook
from .models import NSRMHead, NSRMLoss
from .structures import (CHANNEL_NAMES, HAND_G6_GROUPS, HAND_LIMBS,
                         channel_slices, num_mask_channels)
from .utils import safe_checkpoint

safe_checkpoint.install()

__all__ = [
    'CHANNEL_NAMES', 'HAND_G6_GROUPS', 'HAND_LIMBS', 'LambdaDecayHook',
    'LimbMaskTarget', 'NSRMHead', 'NSRMLoss', 'NSRMOneHand10KDataset',
    'SyntheticHandDataset', 'channel_slices', 'compose_limb_groups',
    'generate_limb_masks', 'limb_maps', 'num_mask_channels'
]
