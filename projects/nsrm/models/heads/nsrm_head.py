"""NSRM head: the CPM-style structure + pose cascade of the paper's Fig. 5.

Chen et al., "Nonparametric Structure Regularization Machine for 2D Hand Pose
Estimation", WACV 2020.
"""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from torch import Tensor, nn

from mmpose.evaluation.functional import pose_pck_accuracy
from mmpose.models.heads.base_head import BaseHead
from mmpose.models.utils.tta import flip_heatmaps
from mmpose.registry import KEYPOINT_CODECS, MODELS
from mmpose.utils.tensor_utils import to_numpy
from mmpose.utils.typing import (ConfigType, Features, OptConfigType,
                                 OptSampleList, Predictions)
from ...structures.hand_topology import num_mask_channels
from ..losses.nsrm_loss import NSRMLoss


def _first_stage(in_channels: int, mid_channels: int,
                 out_channels: int) -> nn.Sequential:
    """1x1 conv (in -> mid) + ReLU, 1x1 conv (mid -> out)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, mid_channels, 1), nn.ReLU(inplace=True),
        nn.Conv2d(mid_channels, out_channels, 1))


def _later_stage(in_channels: int, channels: int, kernel_size: int,
                 num_convs: int, out_channels: int) -> nn.Sequential:
    """``num_convs`` kxk convs (+ReLU), 1x1 conv (+ReLU), 1x1 conv (out)."""
    layers = []
    for i in range(num_convs):
        layers += [
            nn.Conv2d(in_channels if i == 0 else channels, channels,
                      kernel_size, padding=kernel_size // 2),
            nn.ReLU(inplace=True)
        ]
    layers += [
        nn.Conv2d(channels if num_convs > 0 else in_channels, channels, 1),
        nn.ReLU(inplace=True),
        nn.Conv2d(channels, out_channels, 1)
    ]
    return nn.Sequential(*layers)


@MODELS.register_module()
class NSRMHead(BaseHead):
    """Structure + pose cascade of NSRM (CPM baseline with 0 structure
    stages).

    Data flow (F: adapted features, S_t: structure logits, K_t: heatmaps)::

        F = resize(adapter(feats[in_index]))          (B, feat_channels, H, W)
        S_1 = structure_stages[0](F)                  (B, C, H, W)
        S_t = structure_stages[t-1](cat[F, S_{t-1}])  (B, C, H, W)
        K_1 = pose_stages[0](cat[F, S_last])          (B, K, H, W)
        K_t = pose_stages[t-1](cat[F, S_last, K_{t-1}])

    With ``num_structure_stages=0`` (CPM): ``K_1 = pose_stages[0](F)`` and
    ``K_t = pose_stages[t-1](cat[F, K_{t-1}])``. The structure outputs are
    logits (the sigmoid is applied in the loss / at prediction time) and the
    last one, S_last, is fed unchanged to every pose stage.

    Args:
        in_channels (int | Sequence[int]): Channels of the backbone feature
            used (``feats[in_index]``); a sequence is indexed by ``in_index``.
        num_keypoints (int): Number of keypoints K. Defaults to 21.
        groups (str): Limb grouping of the structure maps, ``'G1'`` (C=1),
            ``'G6'`` (C=6) or ``'G1&6'`` (C=7), channel order as in
            ``structures/hand_topology.py``; passed on to an ``NSRMLoss``
            that does not set it. Defaults to ``'G1&6'``.
        num_structure_stages (int): Number of structure stages (>= 0).
            Defaults to 3.
        num_pose_stages (int): Number of pose stages (>= 1). Defaults to 3.
        feat_channels (int): Channels of the adapted features F.
            Defaults to 128.
        adapter_channels (Sequence[int]): Output channels of the 3x3 conv +
            ReLU layers of the input adapter before its final 3x3 conv to
            ``feat_channels`` (+ReLU). Defaults to ``(512, 512)``, i.e. the
            paper's 512->512->512->128 convs on VGG-19 conv4_4.
        heatmap_size (Sequence[int], optional): Output size (w, h). Defaults
            to ``decoder['heatmap_size']`` when a decoder is given, else the
            size of the input feature.
        stage_channels (int): Width of the later stages. Defaults to 128.
        stage_kernel_size (int): Kernel size of the later stages' convs.
            Defaults to 7.
        num_stage_convs (int): Number of kxk convs per later stage.
            Defaults to 5.
        first_stage_channels (int): Width of the first stage's hidden 1x1
            conv. Defaults to 512.
        in_index (int): Index of the backbone output used. Defaults to -1.
        loss (Config): Config of the loss, called as
            ``loss(pose_outputs, structure_outputs, heatmaps, limb_masks,
            keypoint_weights) -> dict``. Defaults to ``NSRMLoss`` (the paper's
            LPM lambdas for ``groups``).
        decoder (Config, optional): Codec config used by :meth:`predict`.
        init_cfg (Config, optional): Initialisation config. Defaults to
            ``Normal(std=0.01, bias=0)`` on every conv (CPM style), which keeps
            the untrained outputs close to 0, the regime in which the paper's
            lambdas balance the pose and the structure terms.
    """

    def __init__(self,
                 in_channels: Union[int, Sequence[int]],
                 num_keypoints: int = 21,
                 groups: str = 'G1&6',
                 num_structure_stages: int = 3,
                 num_pose_stages: int = 3,
                 feat_channels: int = 128,
                 adapter_channels: Sequence[int] = (512, 512),
                 heatmap_size: Optional[Sequence[int]] = None,
                 stage_channels: int = 128,
                 stage_kernel_size: int = 7,
                 num_stage_convs: int = 5,
                 first_stage_channels: int = 512,
                 in_index: int = -1,
                 loss: ConfigType = dict(type='NSRMLoss'),
                 decoder: OptConfigType = None,
                 init_cfg: OptConfigType = None):
        if init_cfg is None:
            init_cfg = [dict(type='Normal', layer='Conv2d', std=0.01, bias=0)]
        super().__init__(init_cfg)

        # raises a ValueError naming `groups` if unknown
        self.structure_channels = num_mask_channels(groups)
        if num_structure_stages < 0:
            raise ValueError('num_structure_stages must be >= 0, got '
                             f'{num_structure_stages}')
        if num_pose_stages < 1:
            raise ValueError(
                f'num_pose_stages must be >= 1, got {num_pose_stages}')
        if num_keypoints < 1:
            raise ValueError(
                f'num_keypoints must be >= 1, got {num_keypoints}')
        if stage_kernel_size < 1 or stage_kernel_size % 2 == 0:
            raise ValueError('stage_kernel_size must be a positive odd '
                             f'number, got {stage_kernel_size}')
        if num_stage_convs < 0:
            raise ValueError(
                f'num_stage_convs must be >= 0, got {num_stage_convs}')
        if not isinstance(in_channels, int):
            in_channels = list(in_channels)[in_index]

        self.in_channels = in_channels
        self.num_keypoints = num_keypoints
        self.groups = groups
        self.num_structure_stages = num_structure_stages
        self.num_pose_stages = num_pose_stages
        self.feat_channels = feat_channels
        self.in_index = in_index

        self.loss_module = MODELS.build(self._loss_cfg(loss, groups))
        if decoder is not None:
            self.decoder = KEYPOINT_CODECS.build(decoder)
        else:
            self.decoder = None
        if heatmap_size is None and decoder is not None:
            heatmap_size = decoder.get('heatmap_size', None)
        self.heatmap_size = (
            tuple(int(s) for s in heatmap_size)
            if heatmap_size is not None else None)

        # input adapter: 3x3 convs through adapter_channels, 3x3 -> F
        layers, c = [], in_channels
        for out_c in list(adapter_channels) + [feat_channels]:
            layers += [
                nn.Conv2d(c, out_c, 3, padding=1),
                nn.ReLU(inplace=True)
            ]
            c = out_c
        self.adapter = nn.Sequential(*layers)

        C, K = self.structure_channels, num_keypoints

        def make_stage(stage_in, out, first):
            if first:
                return _first_stage(stage_in, first_stage_channels, out)
            return _later_stage(stage_in, stage_channels, stage_kernel_size,
                                num_stage_convs, out)

        self.structure_stages = nn.ModuleList([
            make_stage(feat_channels + (C if t > 0 else 0), C, t == 0)
            for t in range(num_structure_stages)
        ])
        s_in = C if num_structure_stages > 0 else 0
        self.pose_stages = nn.ModuleList([
            make_stage(feat_channels + s_in + (K if t > 0 else 0), K,
                       t == 0 and num_structure_stages == 0)
            for t in range(num_pose_stages)
        ])

    @staticmethod
    def _loss_cfg(loss: ConfigType, groups: str) -> ConfigType:
        """``loss`` with ``groups`` filled in for an ``NSRMLoss``."""
        if loss.get('type') not in ('NSRMLoss', NSRMLoss):
            return loss
        loss = dict(loss)
        loss.setdefault('groups', groups)
        if loss['groups'] != groups:
            raise ValueError(
                f"NSRMHead(groups={groups!r}) and its loss "
                f"(groups={loss['groups']!r}) disagree: drop `groups` from "
                'the loss config, the head passes its own')
        return loss

    def _features(self, feats: Union[Tensor, Sequence[Tensor]]) -> Tensor:
        """Adapted features F in shape (B, feat_channels, H, W)."""
        x = feats if isinstance(feats, Tensor) else feats[self.in_index]
        x = self.adapter(x)
        if self.heatmap_size is not None:
            w, h = self.heatmap_size
            if tuple(x.shape[-2:]) != (h, w):
                x = F.interpolate(
                    x, size=(h, w), mode='bilinear', align_corners=False)
        return x

    def forward(self, feats: Union[Tensor, Sequence[Tensor]]
                ) -> Tuple[List[Tensor], List[Tensor]]:
        """Run the cascade.

        Args:
            feats (Sequence[Tensor] | Tensor): Backbone features;
                ``feats[in_index]`` in shape (B, in_channels, h', w') is used
                (a single tensor is used as is).

        Returns:
            Tuple[List[Tensor], List[Tensor]]:
            - structure outputs: ``num_structure_stages`` logits tensors, each
              in shape (B, C, H, W) with C = 1 / 6 / 7 for G1 / G6 / G1&6;
            - pose outputs: ``num_pose_stages`` heatmap tensors, each in
              shape (B, K, H, W),
            where (W, H) is the heatmap size.
        """
        x = self._features(feats)
        structure_outs: List[Tensor] = []
        for t, stage in enumerate(self.structure_stages):
            inp = x if t == 0 else torch.cat([x, structure_outs[-1]], dim=1)
            structure_outs.append(stage(inp))
        base = [x] + structure_outs[-1:]
        pose_outs: List[Tensor] = []
        for t, stage in enumerate(self.pose_stages):
            inp = base + pose_outs[-1:]
            pose_outs.append(stage(torch.cat(inp, dim=1)))
        return structure_outs, pose_outs

    def predict(self,
                feats: Features,
                batch_data_samples: OptSampleList,
                test_cfg: OptConfigType = {}) -> Predictions:
        """Decode keypoints from the LAST pose stage.

        Args:
            feats (Tuple[Tensor] | List[Tuple[Tensor]]): Backbone features, or
                ``[feats, feats_flip]`` (features of the horizontally flipped
                image) when ``test_cfg['flip_test']`` is True.
            batch_data_samples (List[PoseDataSample]): The batch data
                samples; ``metainfo['flip_indices']`` is used in flip test.
            test_cfg (dict): ``flip_test``, ``flip_mode`` (default
                ``'heatmap'``), ``shift_heatmap`` (default False) and
                ``output_heatmaps``. Defaults to {}.

        Returns:
            InstanceList | Tuple[InstanceList, PixelDataList]: Per sample an
            ``InstanceData`` with ``keypoints`` (1, K, 2) and
            ``keypoint_scores`` (1, K) in heatmap-input coordinates; with
            ``output_heatmaps`` also per sample a ``PixelData`` with
            ``heatmaps`` (K, H, W) (last pose stage) and, with structure
            stages, ``limb_masks`` (C, H, W) = sigmoid of the last structure
            stage, in [0, 1]. In flip test both are averaged with the flipped
            prediction; limb masks are flipped back horizontally without any
            channel swap (with the same ``shift_heatmap`` alignment).
        """
        if test_cfg.get('flip_test', False):
            assert isinstance(feats, list) and len(feats) == 2
            flip_indices = batch_data_samples[0].metainfo['flip_indices']
            shift = test_cfg.get('shift_heatmap', False)
            _feats, _feats_flip = feats
            s, k = self.forward(_feats)
            s_flip, k_flip = self.forward(_feats_flip)
            heatmaps = (k[-1] + flip_heatmaps(
                k_flip[-1],
                flip_mode=test_cfg.get('flip_mode', 'heatmap'),
                flip_indices=flip_indices,
                shift_heatmap=shift)) * 0.5
            masks = None
            if s:
                masks = (s[-1].sigmoid() + flip_heatmaps(
                    s_flip[-1].sigmoid(),
                    flip_mode='heatmap',
                    flip_indices=None,
                    shift_heatmap=shift)) * 0.5
        else:
            s, k = self.forward(feats)
            heatmaps = k[-1]
            masks = s[-1].sigmoid() if s else None

        preds = self.decode(heatmaps)

        if test_cfg.get('output_heatmaps', False):
            heatmaps = heatmaps.detach()
            pred_fields = []
            for i in range(heatmaps.shape[0]):
                fields = dict(heatmaps=heatmaps[i])
                if masks is not None:
                    fields['limb_masks'] = masks[i].detach()
                pred_fields.append(PixelData(**fields))
            return preds, pred_fields
        return preds

    def loss(self,
             feats: Tuple[Tensor],
             batch_data_samples: OptSampleList,
             train_cfg: OptConfigType = {}) -> dict:
        """Compute the NSRM losses.

        Uses ``gt_fields.heatmaps`` (K, H, W), ``gt_fields.limb_masks``
        (C, H, W) (from ``LimbMaskTarget``) and
        ``gt_instance_labels.keypoint_weights`` (1, K) of each sample.

        Args:
            feats (Tuple[Tensor]): Backbone features.
            batch_data_samples (List[PoseDataSample]): The batch data samples.
            train_cfg (dict): ``compute_acc`` (default True). Defaults to {}.

        Returns:
            dict: ``loss_pose``, ``loss_structure_g1`` (G1, G1&6),
            ``loss_structure_g6`` (G6, G1&6) as scalar tensors (already
            lambda-weighted; they are summed by ``BaseModel.parse_losses``)
            and ``acc_pose`` (PCK of the last pose stage). Without
            structure stages only ``loss_pose`` and ``acc_pose``. The
            current lambdas are logged by ``LambdaDecayHook``.
        """
        structure_outs, pose_outs = self.forward(feats)
        gt_heatmaps = torch.stack(
            [d.gt_fields.heatmaps for d in batch_data_samples])
        keypoint_weights = torch.cat([
            d.gt_instance_labels.keypoint_weights for d in batch_data_samples
        ])

        limb_masks = None
        if self.num_structure_stages > 0:
            if not all('limb_masks' in d.gt_fields
                       for d in batch_data_samples):
                raise KeyError(
                    'NSRMHead needs gt_fields.limb_masks: add '
                    f"dict(type='LimbMaskTarget', groups='{self.groups}', "
                    '...) to the train pipeline (before PackPoseInputs), '
                    'with the same groups as the head')
            limb_masks = torch.stack(
                [d.gt_fields.limb_masks for d in batch_data_samples])
            limb_masks = limb_masks.to(gt_heatmaps.device)

        losses = dict(
            self.loss_module(pose_outs, structure_outs, gt_heatmaps,
                             limb_masks, keypoint_weights))

        if train_cfg.get('compute_acc', True):
            _, avg_acc, _ = pose_pck_accuracy(
                output=to_numpy(pose_outs[-1].float()),  # bf16 under --amp
                target=to_numpy(gt_heatmaps.float()),
                mask=to_numpy(keypoint_weights) > 0)
            losses['acc_pose'] = gt_heatmaps.new_tensor(float(avg_acc))

        return losses
