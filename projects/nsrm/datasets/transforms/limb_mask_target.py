"""``LimbMaskTarget``: the MMPose pipeline transform that writes the NSRM
limb-mask targets (a thin adapter over
:mod:`projects.nsrm.codecs.utils.limb_masks`)."""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform

from mmpose.datasets.transforms.formatting import PackPoseInputs
from mmpose.registry import TRANSFORMS
from ...codecs.utils.limb_masks import (draw_limb_masks, validate_limbs,
                                        validate_mask_type, validate_sigma,
                                        validate_size)
from ...structures.hand_topology import (HAND_G6_GROUPS, HAND_LIMBS,
                                         channel_members, num_mask_channels,
                                         validate_groups, validate_limb_groups)

# Upper bound used to check the structure of ``limbs`` before K is known.
_ANY_K = np.iinfo(np.int64).max


def pack_as_gt_field(results: Dict, key: str) -> Dict:
    """Registers ``results[key]`` for ``PackPoseInputs`` to pack into
    ``data_samples.gt_fields``: a copy of the current
    ``field_mapping_table`` (default: ``PackPoseInputs``') with
    ``key -> key`` added.

    Returns:
        dict: ``results``, modified in place.
    """
    table = dict(
        results.get('field_mapping_table',
                    PackPoseInputs.field_mapping_table))
    table[key] = key
    results['field_mapping_table'] = table
    return results


@TRANSFORMS.register_module()
class LimbMaskTarget(BaseTransform):
    """Generate NSRM synthetic limb masks (LDM / LPM, G1 / G6 / G1&6) of a
    top-down sample.

    Place it after ``TopdownAffine`` (and after ``GenerateTarget``) and
    before ``PackPoseInputs``. The masks are packed into
    ``data_samples.gt_fields.limb_masks`` next to ``heatmaps``.

    Required Keys:

        - transformed_keypoints (or keypoints): (1, K, D) in input-image
          pixels, D >= 2
        - keypoints_visible: (1, K) (or (1, K, 2): ``[..., 0]`` is used);
          all visible if absent

    Optional Keys:

        - skeleton_links: the dataset's limbs, used when ``limbs`` is None
        - field_mapping_table

    Added Keys:

        - limb_masks: (C, H, W) float32, C = 1 / 6 / 7 for G1 / G6 / G1&6,
          channel order ``[G1, thumb, index, middle, ring, little, palm]``

    Modified Keys:

        - field_mapping_table: a copy of the current table (default:
          ``PackPoseInputs.field_mapping_table``) with
          ``limb_masks='limb_masks'`` added

    Args:
        input_size (Tuple[int, int]): Model input size ``(w, h)``.
        heatmap_size (Tuple[int, int]): Mask size ``(W, H)``.
        mask_type (str): ``'LDM'`` or ``'LPM'``. Defaults to ``'LPM'``.
        groups (str): ``'G1'``, ``'G6'`` or ``'G1&6'``. Defaults to
            ``'G1&6'``.
        sigma (float): ``sigma_LDM`` (half width) or ``sigma_LPM`` in
            heatmap pixels. Defaults to 1.0.
        limbs (Sequence[Sequence[int]], optional): (start, end) keypoint
            index pairs. Defaults to ``results['skeleton_links']`` when
            present and non-empty, else ``HAND_LIMBS``.
        limb_groups (Sequence[Sequence[int]], optional): The six G6 groups
            of LIMB indices. Defaults to ``HAND_G6_GROUPS``. These index the
            limb list, so they stay valid for every MMPose hand dataset whose
            ``skeleton_info`` lists the 20 limbs finger by finger, wrist
            outwards (onehand10k, panoptic_hand2d, rhd2d, freihand2d, ...),
            whatever its keypoint order.
    """

    def __init__(self,
                 input_size: Tuple[int, int],
                 heatmap_size: Tuple[int, int],
                 mask_type: str = 'LPM',
                 groups: str = 'G1&6',
                 sigma: float = 1.0,
                 limbs: Optional[Sequence[Sequence[int]]] = None,
                 limb_groups: Optional[Sequence[Sequence[int]]] = None):
        super().__init__()
        self.input_size = validate_size(input_size, 'input_size')
        self.heatmap_size = validate_size(heatmap_size, 'heatmap_size')
        self.mask_type = validate_mask_type(mask_type)
        self.groups = validate_groups(groups)
        self.sigma = validate_sigma(sigma)
        if limbs is not None:
            # structure only; the range is checked against K per dataset
            limbs = tuple(
                tuple(int(i) for i in pair)
                for pair in validate_limbs(limbs, _ANY_K))
            if not limbs:
                raise ValueError('limbs must not be empty')
        self.limbs = limbs
        self.limb_groups = limb_groups
        self._g6_groups = validate_limb_groups(
            HAND_G6_GROUPS if limb_groups is None else limb_groups,
            _ANY_K if limbs is None else len(limbs), groups)
        self.num_channels = num_mask_channels(groups)
        # (limbs, K) -> (limbs as (L, 2) int64, channel members), so that
        # the dataset's skeleton_links are checked once, not per sample
        self._layouts: Dict[Tuple, Tuple[np.ndarray, tuple]] = {}

    def _layout(self, results: Dict, num_kpts: int):
        """The checked limbs (L, 2) and channel members for this sample's
        dataset: ``limbs``, else ``skeleton_links``, else ``HAND_LIMBS``."""
        limbs = self.limbs
        if limbs is None:
            links = results.get('skeleton_links', None)
            limbs = links if links is not None and len(links) else HAND_LIMBS
        key = (tuple(tuple(int(i) for i in pair) for pair in limbs), num_kpts)
        if key not in self._layouts:
            arr = validate_limbs(key[0], num_kpts)
            self._layouts[key] = (arr,
                                  channel_members(self.groups, len(arr),
                                                  self._g6_groups))
        return self._layouts[key]

    def transform(self, results: Dict) -> Dict:
        """Compute ``results['limb_masks']``; see the class docstring.

        An inference input (no ground-truth ``keypoints``, only
        ``TopdownAffine``'s ``()`` placeholder, as MMPose's
        ``inference_topdown`` builds it from the test pipeline) passes
        through unchanged, so an evaluation pipeline that scores the
        structure branch still serves inference.
        """
        if 'keypoints' not in results and np.ndim(
                results.get('transformed_keypoints', np.zeros(1))) == 0:
            # TopdownAffine's placeholder for an input without keypoints
            return results
        keypoints = results.get('transformed_keypoints', None)
        if keypoints is None:
            keypoints = results.get('keypoints', None)
        if keypoints is None:
            raise ValueError('LimbMaskTarget requires "transformed_keypoints"'
                             ' or "keypoints" in the results')
        keypoints = np.asarray(keypoints, dtype=np.float64)
        if keypoints.ndim != 3 or keypoints.shape[-1] < 2:
            raise ValueError('LimbMaskTarget expects keypoints of shape '
                             f'(1, K, 2), got {keypoints.shape}')
        if keypoints.shape[0] != 1:
            raise ValueError(
                'LimbMaskTarget is a top-down transform and needs exactly one '
                f'instance per sample, got {keypoints.shape[0]} instances '
                f'(keypoints of shape {keypoints.shape})')
        num_kpts = keypoints.shape[1]

        visible = results.get('keypoints_visible', None)
        if visible is None:
            visible = np.ones((1, num_kpts), dtype=np.float32)
        visible = np.asarray(visible)
        if visible.ndim == 3:  # (1, K, 2): (visibility, weight)
            visible = visible[..., 0]
        if visible.shape != (1, num_kpts):
            raise ValueError('keypoints_visible must have shape '
                             f'(1, {num_kpts}), got {visible.shape}')

        in_w, in_h = self.input_size
        hm_w, hm_h = self.heatmap_size
        kpts_grid = keypoints[0, :, :2] * np.array(
            [hm_w / in_w, hm_h / in_h])
        usable = (visible[0] > 0) & np.isfinite(kpts_grid).all(axis=1)
        limbs, members = self._layout(results, num_kpts)
        masks = draw_limb_masks(kpts_grid, usable, limbs, members,
                                self.heatmap_size, self.mask_type,
                                self.sigma)
        results['limb_masks'] = masks

        return pack_as_gt_field(results, 'limb_masks')

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'input_size={self.input_size}, '
                f'heatmap_size={self.heatmap_size}, '
                f'mask_type={self.mask_type!r}, groups={self.groups!r}, '
                f'sigma={self.sigma}, limbs={self.limbs}, '
                f'limb_groups={self.limb_groups})')
