"""Composite NSRM loss (Chen et al., WACV 2020, Eq. 5, 7 and 8).

The maths lives in two pure functions, :func:`pose_sse_loss` and
:func:`structure_bce_loss`; :class:`NSRMLoss` only holds the (decaying)
lambdas and splits the structure channels into the G1 and G6 terms with
``hand_topology.channel_slices(groups)``.

Normalisation follows the paper: every term is a SUM over the stages, the
channels and the pixels, divided by ``B x H x W`` (batch x heatmap height x
heatmap width). MMPose's ``KeypointMSELoss`` takes a mean over all elements
instead (``K`` times smaller for the pose term), which would silently break
the paper's lambdas, hence the dedicated implementation here.

Mixed precision: every term is computed in float32 with autocast disabled
(the network outputs are cast with ``.float()``), so a bfloat16 / float16
forward pass (``--amp``, ``CPUBF16AmpOptimWrapper``) gives the loss of its
rounded outputs without further rounding, finite for any logit.
"""
from contextlib import nullcontext
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmpose.registry import MODELS

from ...structures.hand_topology import channel_slices, num_mask_channels

#: The paper's LPM lambdas (Sec. 4.2), used for a lambda that is not given.
#: The paper has no G6-only model, so ``'G6'`` needs ``lambda_g6``.
DEFAULT_LAMBDAS = {'G1': dict(g1=0.5), 'G1&6': dict(g1=0.1, g6=0.02)}


def _weights(weights: Optional[Tensor], shape: Tuple[int, ...],
             name: str) -> Optional[Tensor]:
    """``weights`` checked against ``shape`` and reshaped to broadcast over
    (B, C, H, W); ``None`` stays ``None``."""
    if weights is None:
        return None
    if tuple(weights.shape) != shape:
        raise ValueError(f'{name} must have shape {shape}, got '
                         f'{tuple(weights.shape)}')
    return weights.float().reshape(*shape, *(1, ) * (4 - len(shape)))


def _sum_over_stages(outputs: Sequence[Tensor], target: Tensor,
                     weight: Optional[Tensor], error: Callable, what: str
                     ) -> Tensor:
    """``sum_t sum(weight * error(outputs[t], target)) / (B x H x W)`` for a
    target in shape (B, C, H, W), in float32 (inputs cast with ``.float()``,
    autocast disabled: an autocast region would otherwise be free to run
    the error in a lower precision)."""
    if len(outputs) == 0:
        raise ValueError(f'{what} outputs must hold at least one stage')
    for t, output in enumerate(outputs):
        if output.shape != target.shape:
            raise ValueError(f'{what} stage {t + 1} output shape '
                             f'{tuple(output.shape)} does not match the '
                             f'target {tuple(target.shape)}')
    B, _, H, W = target.shape
    device = target.device.type
    no_autocast = (
        torch.autocast(device, enabled=False)
        if torch.amp.is_autocast_available(device) else nullcontext())
    with no_autocast:
        target32 = target.float()
        total = target32.new_zeros(())
        for output in outputs:
            err = error(output.float(), target32)
            if weight is not None:
                err = err * weight.float()
            total = total + err.sum()
        return total / (B * H * W)


def pose_sse_loss(pose_outputs: Sequence[Tensor],
                  heatmaps: Tensor,
                  keypoint_weights: Optional[Tensor] = None) -> Tensor:
    """Sum-of-squared-error keypoint loss of the paper's Eq. 7.

    ``sum_t sum_k sum_p w_k (C*(p|k) - C_t(p|k))^2 / (B x H x W)``.

    Args:
        pose_outputs (Sequence[Tensor]): Predicted keypoint heatmaps of every
            pose stage, each in shape (B, K, H, W).
        heatmaps (Tensor): Target keypoint heatmaps in shape (B, K, H, W).
        keypoint_weights (Tensor, optional): Per-keypoint weights in shape
            (B, K); each keypoint's squared-error map is multiplied by its
            weight (0 for invisible / unlabelled keypoints). ``None`` means
            all ones.

    Returns:
        Tensor: The scalar (0-dim, float32) loss summed over the stages.
    """
    weight = _weights(keypoint_weights, tuple(heatmaps.shape[:2]),
                      'keypoint_weights')
    return _sum_over_stages(pose_outputs, heatmaps, weight,
                            lambda out, tgt: (out - tgt)**2, 'pose')


def structure_bce_loss(structure_outputs: Sequence[Tensor],
                       limb_masks: Tensor,
                       sample_weights: Optional[Tensor] = None) -> Tensor:
    """Binary cross-entropy structure loss of the paper's Eq. 5.

    ``sum_t sum_g sum_p s_b BCE(S*(p|g), sigmoid(S_t(p|g))) / (B x H x W)``,
    computed from LOGITS with the numerically stable
    ``binary_cross_entropy_with_logits`` (AMP safe, finite for any logit).

    Args:
        structure_outputs (Sequence[Tensor]): Predicted structure LOGITS of
            every structure stage, each in shape (B, C, H, W) (``C`` is the
            number of channels of the group(s) this term covers).
        limb_masks (Tensor): Target limb masks in [0, 1], shape (B, C, H, W).
        sample_weights (Tensor, optional): Per-sample weights in shape (B,).
            ``None`` means all ones.

    Returns:
        Tensor: The scalar (0-dim, float32) loss summed over the stages.
    """
    weight = _weights(sample_weights, tuple(limb_masks.shape[:1]),
                      'sample_weights')
    return _sum_over_stages(
        structure_outputs, limb_masks, weight,
        lambda out, tgt: F.binary_cross_entropy_with_logits(
            out, tgt, reduction='none'), 'structure')


def valid_structure_samples(limb_masks: Tensor) -> Tensor:
    """Per-sample structure weights: 1 where the target has any non-zero limb
    mask pixel, 0 where all its limb masks are zero (no valid limb).

    Args:
        limb_masks (Tensor): Target limb masks in shape (B, C, H, W).

    Returns:
        Tensor: float32 weights in shape (B,).
    """
    return (limb_masks.reshape(limb_masks.shape[0], -1) > 0).any(dim=1).float()


@MODELS.register_module()
class NSRMLoss(nn.Module):
    """NSRM composite loss ``L_K + lambda_g1 L_S^G1 [+ lambda_g6 L_S^G6]``.

    Args:
        groups (str): Limb grouping of the structure maps, ``'G1'``,
            ``'G6'`` or ``'G1&6'``; it decides which channels form the G1
            and the G6 term (``hand_topology.channel_slices``). ``NSRMHead``
            fills it in from its own ``groups``. Defaults to ``'G1&6'``.
        lambda_g1 (float, optional): Base weight of the G1 structure term.
            Paper: LDM-G1 1.0, LPM-G1 0.5, LDM-G1&6 0.2, LPM-G1&6 0.1.
            Defaults to the paper's LPM value for ``groups``.
        lambda_g6 (float, optional): Base weight of the G6 structure term.
            Paper: LDM-G1&6 0.04, LPM-G1&6 0.02. Defaults to the paper's
            LPM value for ``'G1&6'``; required for ``'G6'``.
        use_target_weight (bool): Weight each keypoint's squared error by
            ``keypoint_weights``. Defaults to True.
        loss_weight (float): Global factor applied to every term.
            Defaults to 1.0.

    A lambda given for a group the loss does not have is an error (it would
    silently do nothing). The current lambdas are ``base x factor`` where
    the factor is set by :meth:`set_lambda_factor` (driven by
    ``LambdaDecayHook``).
    """

    def __init__(self,
                 groups: str = 'G1&6',
                 lambda_g1: Optional[float] = None,
                 lambda_g6: Optional[float] = None,
                 use_target_weight: bool = True,
                 loss_weight: float = 1.0):
        super().__init__()
        self.slices = channel_slices(groups)  # checks `groups`
        self.groups = groups
        self.num_channels = num_mask_channels(groups)
        given = dict(g1=lambda_g1, g6=lambda_g6)
        defaults = DEFAULT_LAMBDAS.get(groups, {})
        self.base_lambdas: Dict[str, float] = {}
        for name, value in given.items():
            if name in self.slices and value is None:
                value = defaults.get(name)
            if name in self.slices and value is None:
                raise ValueError(f'NSRMLoss(groups={groups!r}) needs '
                                 f'lambda_{name} (the paper has no default '
                                 'for it)')
            if name not in self.slices and value:
                raise ValueError(
                    f'lambda_{name}={value} has no effect with groups='
                    f'{groups!r} (no {name.upper()} channels): remove it')
            if name in self.slices:
                if value < 0:
                    raise ValueError(f'lambda_{name} must be >= 0, got '
                                     f'{value}')
                self.base_lambdas[name] = float(value)
        if loss_weight < 0:
            raise ValueError(f'loss_weight must be >= 0, got {loss_weight}')
        self.lambdas = dict(self.base_lambdas)
        self.use_target_weight = use_target_weight
        self.loss_weight = float(loss_weight)

    def set_lambda_factor(self, factor: float) -> None:
        """Set the current lambdas to ``base x factor``."""
        if factor < 0:
            raise ValueError(f'factor must be >= 0, got {factor}')
        self.lambdas = {
            name: base * float(factor)
            for name, base in self.base_lambdas.items()
        }

    def current_lambdas(self) -> Dict[str, float]:
        """The current lambdas of the loss's groups, e.g.
        ``dict(lambda_g1=..., lambda_g6=...)`` for ``'G1&6'``."""
        return {f'lambda_{name}': v for name, v in self.lambdas.items()}

    def forward(self,
                pose_outputs: List[Tensor],
                structure_outputs: List[Tensor],
                heatmaps: Tensor,
                limb_masks: Optional[Tensor] = None,
                keypoint_weights: Optional[Tensor] = None
                ) -> Dict[str, Tensor]:
        """Compute the lambda-weighted loss terms.

        Args:
            pose_outputs (List[Tensor]): Keypoint heatmaps of every pose
                stage, each in shape (B, K, H, W).
            structure_outputs (List[Tensor]): Structure logits of every
                structure stage, each in shape (B, C, H, W), C = 1 / 6 / 7
                for G1 / G6 / G1&6. May be empty (CPM baseline).
            heatmaps (Tensor): Target heatmaps in shape (B, K, H, W).
            limb_masks (Tensor, optional): Target limb masks in shape
                (B, C, H, W). Required when ``structure_outputs`` is not
                empty.
            keypoint_weights (Tensor, optional): Keypoint weights in shape
                (B, K).

        Returns:
            Dict[str, Tensor]: scalar losses ``loss_pose`` and, with structure
            stages, ``loss_structure_g1`` (G1, G1&6) and
            ``loss_structure_g6`` (G6, G1&6), each already multiplied by
            its current lambda and by ``loss_weight``; the total loss is
            their sum.
        """
        weights = keypoint_weights if self.use_target_weight else None
        losses = dict(loss_pose=self.loss_weight *
                      pose_sse_loss(pose_outputs, heatmaps, weights))
        if len(structure_outputs) == 0:
            return losses
        if limb_masks is None:
            raise ValueError('limb_masks are required when structure '
                             'outputs are given')
        if limb_masks.shape[1] != self.num_channels:
            raise ValueError(
                f'limb_masks have {limb_masks.shape[1]} channels but '
                f'NSRMLoss(groups={self.groups!r}) expects '
                f'{self.num_channels}: use the same groups in '
                'LimbMaskTarget, NSRMHead and NSRMLoss')
        sample_weights = valid_structure_samples(limb_masks)
        for name, sl in self.slices.items():
            term = structure_bce_loss([s[:, sl] for s in structure_outputs],
                                      limb_masks[:, sl], sample_weights)
            losses[f'loss_structure_{name}'] = (
                self.loss_weight * self.lambdas[name] * term)
        return losses
