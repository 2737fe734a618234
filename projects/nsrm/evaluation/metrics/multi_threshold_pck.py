"""The NSRM paper's PCK: several thresholds at once, normalised by the tight
box of the ground-truth keypoints, averaged per image."""
import numbers
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmpose.registry import METRICS

from ..functional.multi_threshold_pck import (AVERAGE_MODES, countable_rows,
                                              keypoint_bbox_size,
                                              multi_threshold_pck)

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
        collect_device (str): ``'cpu'`` or ``'gpu'``, for collecting results
            across ranks. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names. Defaults to None.

    Returns (of :meth:`evaluate`):
        dict: ``PCK@<t>`` for each threshold (``f'{t:g}'``: ``PCK@0.1``,
        ``PCK@0.04``) and ``PCK-mean``, their mean, as fractions in [0, 1].

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
        self.norm, self.average = norm, average

    def process(self, data_batch: Sequence[dict],
                data_samples: Sequence[dict]) -> None:
        """Stores each data sample's arrays in ``self.results``.

        Args:
            data_batch (Sequence[dict]): The batch (unused).
            data_samples (Sequence[dict]): The model's outputs, each with
                ``pred_instances['keypoints']`` (M, K, 2),
                ``gt_instances['keypoints']`` (M, K, 2),
                ``gt_instances['keypoints_visible']`` (M, K) or (M, K, 1) and,
                for ``norm='bbox'``, ``gt_instances['bboxes']`` (M, 4).
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
            self.results.append(
                dict(pred=pred, gt=gt, mask=mask,
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
            Dict[str, float]: ``{'PCK@<t>': .., 'PCK-mean': ..}``.

        Raises:
            ValueError: nothing to evaluate (no data sample, or no image with
                labelled keypoints and a positive normaliser).
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
        return metrics


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
