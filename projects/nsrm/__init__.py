"""NSRM (Nonparametric Structure Regularization Machine) for MMPose.

Importing this package registers every module of the project in MMPose's
registries, so configs only need::

    custom_imports = dict(
        imports=['projects.nsrm'], allow_failed_imports=False)

It also makes checkpoint loading safe under torch >= 2.6 (see
:mod:`projects.nsrm.utils.safe_checkpoint`).

Layout (as in MMPose)::

    structures/hand_topology.py   limbs, G6 groups, channel order (one owner)
    codecs/nsrm_heatmap.py        NSRMHeatmap (the authors' argmax decoding)
    codecs/utils/                 LDM / LPM and real-mask maths, pure numpy
    datasets/                     hand datasets (OneHand10K, Panoptic,
                                  synthetic); converters/ (raw Panoptic ->
                                  COCO); transforms/ (LimbMaskTarget,
                                  WholeImageResize, LoadHandMask,
                                  HandMaskTarget)
    models/heads, models/losses   NSRMHead, NSRMLoss
    engine/hooks, engine/runner   LambdaDecayHook, crash-safe checkpoints
    engine/optim_wrappers         CPUBF16AmpOptimWrapper (--amp on a CPU)
    evaluation/                   MultiThresholdPCK (the paper's PCK, split
                                  by visibility), LimbMaskQuality
    apis/                         inference helpers: predictions merged
                                  into image space (limb masks too), the
                                  demo's and tools' input handling
    visualization/                NSRMPoseLocalVisualizer (skeleton beside
                                  the limb masks), its --show-dir hook, pure
                                  mask drawing
    deploy/                       ONNX export and ONNX Runtime inference
                                  (import projects.nsrm.deploy; onnx is
                                  imported only when used)
    utils/                        safe checkpoints, the tools' runner setup
"""
from .apis import merge_nsrm_data_samples
from .codecs import NSRMHeatmap
from .codecs.utils import compose_limb_groups, generate_limb_masks, limb_maps
from .datasets import (FastPackPoseInputs, HandMaskTarget, LimbMaskTarget,
                       LoadHandMask, NSRMOneHand10KDataset,
                       NSRMPanopticHandDataset, SyntheticHandDataset,
                       WholeImageResize)
from .engine import LambdaDecayHook
from .evaluation import LimbMaskQuality, MultiThresholdPCK
from .models import NSRMHead, NSRMLoss
from .structures import (CHANNEL_NAMES, HAND_G6_GROUPS, HAND_LIMBS,
                         channel_slices, num_mask_channels)
from .utils import safe_checkpoint
from .visualization import NSRMPoseLocalVisualizer, NSRMPoseVisualizationHook

safe_checkpoint.install()

__all__ = [
    'CHANNEL_NAMES', 'FastPackPoseInputs', 'HAND_G6_GROUPS', 'HAND_LIMBS',
    'HandMaskTarget',
    'LambdaDecayHook', 'LimbMaskQuality', 'LimbMaskTarget', 'LoadHandMask',
    'MultiThresholdPCK',
    'NSRMHead', 'NSRMHeatmap', 'NSRMLoss', 'NSRMOneHand10KDataset',
    'NSRMPanopticHandDataset', 'NSRMPoseLocalVisualizer',
    'NSRMPoseVisualizationHook', 'SyntheticHandDataset', 'WholeImageResize',
    'channel_slices', 'compose_limb_groups', 'generate_limb_masks',
    'limb_maps', 'merge_nsrm_data_samples', 'num_mask_channels'
]
