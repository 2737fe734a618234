"""ImageNet VGG weights for MMPose's ``VGG`` backbone.

The paper's backbone is VGG-19 up to conv4_4, initialised from ImageNet.
MMPose's ``VGG`` names its convolutions ``features.<j>.conv`` (MaxPool layers
take the other indices, ReLUs live inside the ConvModule); torchvision's
``vgg19`` names them ``features.<i>`` with separate ReLU entries; MMPretrain's
checkpoints use MMPose's layout under a ``backbone.`` prefix.
:func:`convert_vgg_state_dict` maps either to MMPose's layout.
"""
import re
from collections import OrderedDict
from typing import Dict

import torch

from mmpose.models.backbones import VGG

_TORCHVISION_KEY = re.compile(r'^features\.(\d+)\.(weight|bias)$')
_MMPOSE_KEY = re.compile(r'^features\.(\d+)\.conv\.(weight|bias)$')


def mmpose_conv_indices(depth: int) -> list:
    """Indices of the convolutions in MMPose ``VGG.features`` (pools skipped).

    Args:
        depth (int): 11, 13, 16 or 19.

    Returns:
        list[int]: One index per convolution, in forward order.
    """
    if depth not in VGG.arch_settings:
        raise ValueError(f'depth must be one of {sorted(VGG.arch_settings)}, '
                         f'got {depth}')
    indices, j = [], 0
    for num_convs in VGG.arch_settings[depth]:
        indices.extend(range(j, j + num_convs))
        j += num_convs + 1  # the stage's MaxPool
    return indices


def convert_vgg_state_dict(
        state_dict: Dict[str, torch.Tensor],
        depth: int = 19) -> 'OrderedDict[str, torch.Tensor]':
    """Converts torchvision or MMPretrain VGG weights to MMPose's layout.

    Args:
        state_dict (dict): A torchvision ``vgg<depth>`` state dict
            (``features.<i>.weight``), an MMPretrain/MMPose checkpoint's
            ``state_dict`` (``[backbone.]features.<j>.conv.weight``), or a
            checkpoint dict holding one under ``'state_dict'``.
        depth (int): The VGG depth. Defaults to 19.

    Returns:
        OrderedDict: ``features.<j>.conv.{weight,bias}`` for every
        convolution found (classifier weights are dropped).
    """
    if 'state_dict' in state_dict:
        state_dict = state_dict['state_dict']
    state_dict = {k[len('backbone.'):] if k.startswith('backbone.') else k: v
                  for k, v in state_dict.items()}
    if any(_MMPOSE_KEY.match(k) for k in state_dict):
        return OrderedDict((k, v) for k, v in state_dict.items()
                           if _MMPOSE_KEY.match(k))
    matches = map(_TORCHVISION_KEY.match, state_dict)
    conv_ids = sorted({int(m.group(1)) for m in matches if m})
    targets = mmpose_conv_indices(depth)
    if not conv_ids or len(conv_ids) > len(targets):
        raise ValueError(
            f'not a VGG-{depth} state dict: found {len(conv_ids)} '
            f'convolutions (features.<i>.weight), VGG-{depth} has '
            f'{len(targets)}')
    converted = OrderedDict()
    for src, dst in zip(conv_ids, targets):
        for name in ('weight', 'bias'):
            converted[f'features.{dst}.conv.{name}'] = \
                state_dict[f'features.{src}.{name}']
    return converted
