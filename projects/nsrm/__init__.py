"""NSRM (Nonparametric Structure Regularization Machine) for MMPose.

Importing this package registers every module of the project in MMPose's
registries, so configs only need::

    custom_imports = dict(imports=['projects.nsrm'], allow_failed_imports=False)

It also makes checkpoint loading safe under torch >= 2.6 (see
:mod:`projects.nsrm.safe_checkpoint`).
"""
import warnings

# mmengine 0.10.7 looks up installed packages (e.g. `mmpose::` config bases)
# through pkg_resources, which setuptools >= 80.9 flags on every use.
warnings.filterwarnings(
    'ignore', message='pkg_resources is deprecated', category=UserWarning)

from . import safe_checkpoint  # noqa: E402
from .datasets import NSRMOneHand10KDataset, SyntheticHandDataset  # noqa: E402
from .lambda_decay_hook import LambdaDecayHook  # noqa: E402
from .limb_mask_target import LimbMaskTarget  # noqa: E402
from .limb_masks import (HAND_G6_GROUPS, HAND_LIMBS,  # noqa: E402
                         compose_limb_groups,
                         generate_limb_masks, limb_maps)
from .nsrm_head import NSRMHead  # noqa: E402
from .nsrm_loss import NSRMLoss  # noqa: E402

safe_checkpoint.install()

__all__ = [
    'HAND_G6_GROUPS', 'HAND_LIMBS', 'LambdaDecayHook', 'LimbMaskTarget',
    'NSRMHead', 'NSRMLoss', 'NSRMOneHand10KDataset', 'SyntheticHandDataset',
    'compose_limb_groups', 'generate_limb_masks', 'limb_maps'
]
