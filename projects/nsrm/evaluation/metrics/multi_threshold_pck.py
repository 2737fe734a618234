"""The NSRM paper's PCK: several thresholds at once, normalised by the tight
box of the ground-truth keypoints, averaged per image; also split into
visible and occluded keypoints when the annotations flag them."""
import numbers
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmpose.registry import METRICS

from ..functional.multi_threshold_pck import (AVERAGE_MODES, countable_rows,
                                              keypoint_bbox_size,
                                              multi_threshold_pck)
from ..functional.visibility_pck import VISIBILITY_FLAGS, visibility_split_pck

NORM_MODES = ('keypoint_bbox', 'bbox')


@METRICS.register_module()
class MultiThresholdPCK(BaseMetric):
    """PCK at several thresholds plus their mean, in one evaluation pass.

    A labelled keypoint (``keypoints_visible > 0``) is correct when its
    Euclidean error divided by the normaliser is strictly below the
    threshold. Coordinates are the data samples' (original-image pixels in
    MMPose's top-down pipeline).

    Note:
        - number of data samples (images): N
        - number of instances of a data sample: M (1 in top-down)
        - number of keypoints: K
        - number of thresholds: T

    Every instance of a data sample is one row (as in MMPose's
    ``PCKAccuracy``), so ``average='image'`` averages per instance; with one
    hand per image (all the datasets here) that is per image.

    An image with no labelled keypoint, or with a zero normaliser (e.g. a
    single labelled keypoint under ``'keypoint_bbox'``), is skipped and the
    count logged. When every image is skipped there is no PCK and
    :meth:`compute_metrics` raises ``ValueError`` rather than report a number.

    Visibility split (``split_visibility=True``): the same figures on the
    visible (COCO ``v = 2``) and on the occluded (``v = 1``) keypoints
    separately. MMPose's parser folds both flags into
    ``keypoints_visible = 1``, so the raw flags are read from each data
    sample's ``raw_ann_info['keypoints']`` (which ``PackPoseInputs`` packs
    by default). Each subset uses the overall normaliser (the box of ALL
    labelled keypoints) and averaging, restricted to its keypoints; an
    image with no keypoint of a subset is skipped for that subset. The split
    keys are reported only when the counted images hold keypoints of BOTH
    flags; otherwise (e.g. MMPose's OneHand10K and Panoptic files flag every
    labelled keypoint 1, the synthetic hands' default labelling leaves
    hidden keypoints unlabelled, or ``raw_ann_info`` is not packed) no split
    key is reported and one info line says why: never a NaN, never a subset
    that is the whole set under another name.

    Args:
        thresholds (Sequence[float]): T thresholds in (0, 1], unique (a
            single number is one threshold). Defaults to OneHand10K's
            ``(0.1, 0.15, 0.2, 0.25, 0.3)`` (Panoptic:
            ``(0.04, 0.06, 0.08, 0.1, 0.12)``).
        norm (str): The normaliser: ``'keypoint_bbox'`` (the paper's) is the
            longer side of the tight box around the image's labelled
            ground-truth keypoints; ``'bbox'`` is the longer side of the
            annotation box ``gt_instances.bboxes`` (xyxy).
            Defaults to ``'keypoint_bbox'``.
        average (str): ``'image'`` (the authors' evaluation): per image, the
            fraction of its labelled keypoints that are correct, then the
            mean over images; ``'keypoint'``: pooled over all labelled
            keypoints. Defaults to ``'image'``.
        split_visibility (bool): Also report the figures on the visible and
            on the occluded keypoints when the annotations use both flags
            (see above). Defaults to True.
        collect_device (str): ``'cpu'`` or ``'gpu'``, for collecting results
            across ranks. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names. Defaults to None.

    Returns (of :meth:`evaluate`):
        dict: ``PCK@<t>`` for each threshold (``f'{t:g}'``: ``PCK@0.1``,
        ``PCK@0.04``) and ``PCK-mean``, their mean, as fractions in [0, 1];
        with the split, also ``PCK@<t>/visible``, ``PCK-mean/visible``,
        ``PCK@<t>/occluded`` and ``PCK-mean/occluded``.

    Examples:
        >>> import numpy as np
        >>> gt = np.array([[[0., 0.], [100., 0.], [0., 50.]]])
        >>> sample = dict(
        ...     gt_instances=dict(keypoints=gt,
        ...                       keypoints_visible=np.ones((1, 3))),
        ...     pred_instances=dict(keypoints=gt + [[[12., 0.]]]))
        >>> metric = MultiThresholdPCK(thresholds=(0.1, 0.2))
        >>> metric.process([{}], [sample])
        >>> metric.evaluate(1)
        {'PCK@0.1': 0.0, 'PCK@0.2': 1.0, 'PCK-mean': 0.5}
    """

    def __init__(self,
                 thresholds: Sequence[float] = (0.1, 0.15, 0.2, 0.25, 0.3),
                 norm: str = 'keypoint_bbox',
                 average: str = 'image',
                 split_visibility: bool = True,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.thresholds = _check_thresholds(thresholds)
        if norm not in NORM_MODES:
            raise ValueError(f'{self.__class__.__name__}: norm must be one '
                             f'of {NORM_MODES}, got {norm!r}')
        if average not in AVERAGE_MODES:
            raise ValueError(f'{self.__class__.__name__}: average must be one '
                             f'of {AVERAGE_MODES}, got {average!r}')
        if not isinstance(split_visibility, bool):
            raise ValueError(f'{self.__class__.__name__}: split_visibility '
                             f'must be True or False, got '
                             f'{split_visibility!r}')
        self.norm, self.average = norm, average
        self.split_visibility = split_visibility

    def process(self, data_batch: Sequence[dict],
                data_samples: Sequence[dict]) -> None:
        """Stores each data sample's arrays in ``self.results``.

        Args:
            data_batch (Sequence[dict]): The batch (unused).
            data_samples (Sequence[dict]): The model's outputs, each with
                ``pred_instances['keypoints']`` (M, K, 2),
                ``gt_instances['keypoints']`` (M, K, 2),
                ``gt_instances['keypoints_visible']`` (M, K) or (M, K, 1) and,
                for ``norm='bbox'``, ``gt_instances['bboxes']`` (M, 4);
                for the visibility split, ``raw_ann_info`` (a dict, or a
                list of M dicts) whose ``keypoints`` hold K ``[x, y, v]``.
        """
        for sample in data_samples:
            gt_inst = sample['gt_instances']
            gt = np.asarray(gt_inst['keypoints'], dtype=np.float64)[..., :2]
            pred = np.asarray(sample['pred_instances']['keypoints'],
                              dtype=np.float64)[..., :2]
            if pred.shape != gt.shape:
                raise ValueError(
                    f'{self.__class__.__name__}: pred_instances.keypoints '
                    f'{pred.shape} and gt_instances.keypoints {gt.shape} '
                    'differ in shape; it evaluates one prediction per '
                    'ground-truth instance (top-down)')
            visible = np.asarray(gt_inst['keypoints_visible'])
            if visible.ndim == 3:
                visible = visible[..., 0]
            mask = visible.reshape(gt.shape[:2]) > 0
            flags = (raw_visibility_flags(sample.get('raw_ann_info'),
                                          gt.shape[:2])
                     if self.split_visibility else None)
            self.results.append(
                dict(pred=pred, gt=gt, mask=mask, flags=flags,
                     norm_size=self._norm_size(gt_inst, gt, mask)))

    def _norm_size(self, gt_inst: dict, gt: np.ndarray,
                   mask: np.ndarray) -> np.ndarray:
        """The normaliser of each instance, in shape (M,)."""
        if self.norm == 'keypoint_bbox':
            return keypoint_bbox_size(gt, mask)
        if 'bboxes' not in gt_inst:
            raise ValueError(
                f"{self.__class__.__name__}(norm='bbox') needs "
                "gt_instances['bboxes'], which this data sample lacks; use "
                "norm='keypoint_bbox' (the paper's normaliser)")
        bboxes = np.asarray(gt_inst['bboxes'], dtype=np.float64)
        bboxes = bboxes.reshape(len(gt), 4)
        return np.max(bboxes[:, 2:] - bboxes[:, :2], axis=1)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """PCK at each threshold and their mean.

        Args:
            results (List[dict]): What :meth:`process` stored, from all
                ranks.

        Returns:
            Dict[str, float]: ``{'PCK@<t>': .., 'PCK-mean': ..}`` and, with
            the visibility split, the same keys suffixed ``/visible`` and
            ``/occluded``.

        Raises:
            ValueError: nothing to evaluate (no data sample, or no image with
                labelled keypoints and a positive normaliser), or a labelled
                keypoint whose raw flag is neither 1 nor 2 under the split.
        """
        name = self.__class__.__name__
        if not results:
            raise ValueError(f'{name}: no data sample was evaluated (empty '
                             'dataset or dataloader); there is no PCK')
        arrays = {
            key: np.concatenate([r[key] for r in results])
            for key in ('pred', 'gt', 'mask', 'norm_size')
        }
        try:
            pck, counted, skipped = multi_threshold_pck(
                **arrays, thresholds=self.thresholds, average=self.average)
        except ValueError as err:
            raise ValueError(
                f'{name}(norm={self.norm!r}): {err}. Check that the '
                'evaluation annotations have labelled keypoints '
                '(visibility > 0)') from err

        rows = countable_rows(arrays['mask'], arrays['norm_size'])
        kept = int(arrays['mask'][rows].sum())
        lost = int(arrays['mask'][~rows].sum())
        logger = MMLogger.get_current_instance()
        logger.info(f'Evaluating {name} (norm={self.norm!r}, average='
                    f'{self.average!r}): {counted} images, {kept} labelled '
                    'keypoints counted')
        if skipped:
            logger.warning(
                f'{name}: skipped {skipped} images without labelled keypoints '
                f'or with a zero normaliser ({lost} labelled keypoints not '
                'counted)')

        metrics = {
            f'PCK@{t:g}': float(v)
            for t, v in zip(self.thresholds, pck)
        }
        metrics['PCK-mean'] = float(np.mean(pck))
        if self.split_visibility:
            metrics.update(self._split_metrics(results, arrays, logger))
        return metrics

    def _split_metrics(self, results: List[dict],
                       arrays: Dict[str, np.ndarray],
                       logger: MMLogger) -> Dict[str, float]:
        """The ``/visible`` and ``/occluded`` keys, or {} with a log line
        saying why there is no split."""
        name = self.__class__.__name__
        missing = sum(r.get('flags') is None for r in results)
        if missing:
            logger.info(
                f'{name}: no visible/occluded split: {missing} of '
                f'{len(results)} data samples carry no raw COCO visibility '
                "flags (raw_ann_info['keypoints'], packed by PackPoseInputs "
                "unless its meta_keys leave 'raw_ann_info' out)")
            return {}
        flags = np.concatenate([r['flags'] for r in results])
        try:
            subsets = visibility_split_pck(
                **arrays, flags=flags, thresholds=self.thresholds,
                average=self.average)
        except ValueError as err:
            raise ValueError(
                f'{name}: {err}. Fix the flags in the annotation file, or '
                'set split_visibility=False') from err
        if len(subsets) < len(VISIBILITY_FLAGS):
            rows = countable_rows(arrays['mask'], arrays['norm_size'])
            used = np.unique(flags[rows][arrays['mask'][rows]])
            logger.info(
                f'{name}: no visible/occluded split: the labelled keypoints '
                'of the counted images all have visibility flag '
                f'{" or ".join(f"{v:g}" for v in used)} (the split needs '
                'both 2 = visible and 1 = occluded)')
            return {}
        metrics = {}
        for subset, (pck, _, _) in subsets.items():
            metrics.update({
                f'PCK@{t:g}/{subset}': float(v)
                for t, v in zip(self.thresholds, pck)
            })
            metrics[f'PCK-mean/{subset}'] = float(np.mean(pck))
        logger.info(f'{name}: visible/occluded split over ' + ', '.join(
            f'{subset} {counted} images'
            for subset, (_, counted, _) in subsets.items()))
        return metrics


def raw_visibility_flags(raw_ann_info: Any,
                         shape: Tuple[int, int]) -> Optional[np.ndarray]:
    """The raw COCO visibility flags of a data sample's instances.

    Args:
        raw_ann_info (dict | list[dict] | None): The data sample's
            ``raw_ann_info``: one annotation (top-down) or one per instance
            (bottom-up), each with ``keypoints`` = K ``[x, y, v]`` (flat or
            nested).
        shape (Tuple[int, int]): (M, K), the instances and keypoints.

    Returns:
        np.ndarray | None: The flags ``v`` in shape (M, K), float64; None
        when the sample carries no such annotations (no split for it).
    """
    if raw_ann_info is None:
        return None
    anns = raw_ann_info if isinstance(raw_ann_info,
                                      (list, tuple)) else [raw_ann_info]
    num, num_kpts = shape
    if len(anns) != num or not all(
            isinstance(ann, dict) and 'keypoints' in ann for ann in anns):
        return None
    try:
        kpts = [np.asarray(ann['keypoints'], dtype=np.float64).reshape(-1)
                for ann in anns]
    except (TypeError, ValueError):
        return None
    if any(k.size != num_kpts * 3 for k in kpts):
        return None
    return np.stack(kpts).reshape(num, num_kpts, 3)[..., 2]


def _check_thresholds(thresholds: Sequence[float]) -> tuple:
    """Validated thresholds as a tuple of floats (ValueError naming
    ``thresholds`` otherwise)."""
    if isinstance(thresholds, numbers.Real):
        thresholds = (thresholds, )
    try:
        values = tuple(thresholds)
    except TypeError:
        values = None
    if not values or isinstance(thresholds, str) or not all(
            isinstance(t, numbers.Real) and not isinstance(t, bool)
            for t in values):
        raise ValueError('MultiThresholdPCK: thresholds must be a non-empty '
                         f'sequence of numbers, got {thresholds!r}')
    bad = [t for t in values if not 0 < t <= 1]
    if bad:
        raise ValueError('MultiThresholdPCK: every threshold must be in '
                         f'(0, 1] (a fraction of the normaliser), got {bad}')
    keys = [f'{t:g}' for t in values]
    if len(set(keys)) != len(keys):
        raise ValueError('MultiThresholdPCK: thresholds must be unique, got '
                         f'{list(values)}')
    return tuple(float(t) for t in values)
