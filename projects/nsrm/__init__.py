"""NSRM (Nonparametric Structure Regularization Machine) for MMPose.

Importing this package registers every module of the project in MMPose's
registries, so configs only need::

    custom_imports = dict(imports=['projects.nsrm'], allow_failed_imports=False)

It also makes checkpoint loading safe under torch >= 2.6 (see
:mod:`projects.nsrm.safe_checkpoint`).
"""
from . import safe_checkpoint
from .datasets import NSRMOneHand10KDataset, SyntheticHandDataset
from .lambda_decay_hook import LambdaDecayHook
from .limb_mask_target import LimbMaskTarget
from .limb_masks import (HAND_G6_GROUPS, HAND_LIMBS, compose_limb_groups,
                         generate_limb_masks, limb_maps)
from .nsrm_head import NSRMHead
from .nsrm_loss import NSRMLoss

safe_checkpoint.install()

__all__ = [
    'HAND_G6_GROUPS', 'HAND_LIMBS', 'LambdaDecayHook', 'LimbMaskTarget',
    'NSRMHead', 'NSRMLoss', 'NSRMOneHand10KDataset', 'SyntheticHandDataset',
    'compose_limb_groups', 'generate_limb_masks', 'limb_maps'
]
