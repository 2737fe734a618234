"""Composite NSRM loss (Chen et al., WACV 2020, Eq. 5, 7 and 8).

The maths lives in two pure functions, :func:`pose_sse_loss` and
:func:`structure_bce_loss`; :class:`NSRMLoss` only holds the (decaying)
lambdas and splits the structure channels into the G1 and G6 terms.

Normalisation follows the paper: every term is a SUM over the stages, the
channels and the pixels, divided by ``B x H x W`` (batch x heatmap height x
heatmap width). MMPose's ``KeypointMSELoss`` takes a mean over all elements
instead (``K`` times smaller for the pose term), which would silently break
the paper's lambdas, hence the dedicated implementation here.
"""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmpose.registry import MODELS

#: Channel layout of the structure maps per number of channels ``C``:
#: ``(g1_channels, g6_channels)``. C=1: G1, C=6: G6, C=7: G1&6 with the order
#: [G1, thumb, index, middle, ring, little, palm].
_CHANNEL_LAYOUT = {
    1: ([0], []),
    6: ([], [0, 1, 2, 3, 4, 5]),
    7: ([0], [1, 2, 3, 4, 5, 6]),
}


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
    if len(pose_outputs) == 0:
        raise ValueError('pose_outputs must hold at least one stage output')
    B, K, H, W = heatmaps.shape
    target = heatmaps.float()
    weight = None
    if keypoint_weights is not None:
        if keypoint_weights.shape != (B, K):
            raise ValueError('keypoint_weights must have shape '
                             f'{(B, K)}, got {tuple(keypoint_weights.shape)}')
        weight = keypoint_weights.float().reshape(B, K, 1, 1)
    total = target.new_zeros(())
    for t, output in enumerate(pose_outputs):
        if output.shape != heatmaps.shape:
            raise ValueError(f'pose stage {t + 1} output shape '
                             f'{tuple(output.shape)} does not match the '
                             f'target heatmaps {tuple(heatmaps.shape)}')
        sq_err = (output.float() - target)**2
        if weight is not None:
            sq_err = sq_err * weight
        total = total + sq_err.sum()
    return total / (B * H * W)


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
    if len(structure_outputs) == 0:
        raise ValueError(
            'structure_outputs must hold at least one stage output')
    B, C, H, W = limb_masks.shape
    target = limb_masks.float()
    weight = None
    if sample_weights is not None:
        if sample_weights.shape != (B, ):
            raise ValueError(f'sample_weights must have shape {(B, )}, got '
                             f'{tuple(sample_weights.shape)}')
        weight = sample_weights.float().reshape(B, 1, 1, 1)
    total = target.new_zeros(())
    for t, logits in enumerate(structure_outputs):
        if logits.shape != limb_masks.shape:
            raise ValueError(f'structure stage {t + 1} output shape '
                             f'{tuple(logits.shape)} does not match the '
                             f'target limb masks {tuple(limb_masks.shape)}')
        bce = F.binary_cross_entropy_with_logits(
            logits.float(), target, reduction='none')
        if weight is not None:
            bce = bce * weight
        total = total + bce.sum()
    return total / (B * H * W)


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
        lambda_g1 (float): Base weight of the G1 structure term. Paper:
            LDM-G1 1.0, LPM-G1 0.5, LDM-G1&6 0.2, LPM-G1&6 0.1.
            Defaults to 0.1.
        lambda_g6 (float): Base weight of the G6 structure term. Paper:
            LDM-G1&6 0.04, LPM-G1&6 0.02. Defaults to 0.02.
        use_target_weight (bool): Weight each keypoint's squared error by
            ``keypoint_weights``. Defaults to True.
        loss_weight (float): Global factor applied to every term.
            Defaults to 1.0.

    The current lambdas are ``base x factor`` where the factor is set by
    :meth:`set_lambda_factor` (driven by ``LambdaDecayHook``).
    """

    def __init__(self,
                 lambda_g1: float = 0.1,
                 lambda_g6: float = 0.02,
                 use_target_weight: bool = True,
                 loss_weight: float = 1.0):
        super().__init__()
        for name, value in (('lambda_g1', lambda_g1),
                            ('lambda_g6', lambda_g6), ('loss_weight',
                                                       loss_weight)):
            if value < 0:
                raise ValueError(f'{name} must be >= 0, got {value}')
        self.base_lambda_g1 = float(lambda_g1)
        self.base_lambda_g6 = float(lambda_g6)
        self.lambda_g1 = float(lambda_g1)
        self.lambda_g6 = float(lambda_g6)
        self.use_target_weight = use_target_weight
        self.loss_weight = float(loss_weight)

    def set_lambda_factor(self, factor: float) -> None:
        """Set the current lambdas to ``base x factor``."""
        if factor < 0:
            raise ValueError(f'factor must be >= 0, got {factor}')
        self.lambda_g1 = self.base_lambda_g1 * float(factor)
        self.lambda_g6 = self.base_lambda_g6 * float(factor)

    def current_lambdas(self) -> Dict[str, float]:
        """Return ``dict(lambda_g1=..., lambda_g6=...)`` (current values)."""
        return dict(lambda_g1=self.lambda_g1, lambda_g6=self.lambda_g6)

    def forward(self,
                pose_outputs: List[Tensor],
                structure_outputs: List[Tensor],
                heatmaps: Tensor,
                limb_masks: Optional[Tensor] = None,
                keypoint_weights: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Compute the lambda-weighted loss terms.

        Args:
            pose_outputs (List[Tensor]): Keypoint heatmaps of every pose
                stage, each in shape (B, K, H, W).
            structure_outputs (List[Tensor]): Structure logits of every
                structure stage, each in shape (B, C, H, W), C in {1, 6, 7}.
                May be empty (CPM baseline).
            heatmaps (Tensor): Target heatmaps in shape (B, K, H, W).
            limb_masks (Tensor, optional): Target limb masks in shape
                (B, C, H, W). Required when ``structure_outputs`` is not
                empty.
            keypoint_weights (Tensor, optional): Keypoint weights in shape
                (B, K).

        Returns:
            Dict[str, Tensor]: scalar losses ``loss_pose`` and, with structure
            stages, ``loss_structure_g1`` (C = 1 or 7) and
            ``loss_structure_g6`` (C = 6 or 7), each already multiplied by
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
        C = limb_masks.shape[1]
        if C not in _CHANNEL_LAYOUT:
            raise ValueError('limb_masks must have 1 (G1), 6 (G6) or 7 '
                             f'(G1&6) channels, got {C}')
        sample_weights = valid_structure_samples(limb_masks)
        g1_idx, g6_idx = _CHANNEL_LAYOUT[C]
        for name, idx, lam in (('g1', g1_idx, self.lambda_g1),
                               ('g6', g6_idx, self.lambda_g6)):
            if not idx:
                continue
            sl = slice(idx[0], idx[-1] + 1)
            term = structure_bce_loss([s[:, sl] for s in structure_outputs],
                                      limb_masks[:, sl], sample_weights)
            losses[f'loss_structure_{name}'] = self.loss_weight * lam * term
        return losses
