"""Structure quality of an NSRM model on the validation set: its predicted
limb masks against the limb-mask targets (mean IoU at 0.5, mean BCE)."""
import numbers
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmpose.registry import METRICS

from ...structures.hand_topology import (channel_slices, num_mask_channels,
                                         validate_groups)
from ..functional.limb_mask_quality import (BCE_EPS, mask_bce_sums,
                                            mask_iou_counts, mean_bce,
                                            mean_iou)

#: How to get each missing field into the data samples.
_HOW_TO = {
    'pred_fields': "set model.test_cfg.output_heatmaps=True (the head then "
                   "returns pred_fields.limb_masks); a model without "
                   "structure stages (CPM) has no limb masks to evaluate",
    'gt_fields': "add the config's LimbMaskTarget (or HandMaskTarget) to the "
                 "val/test pipeline, before PackPoseInputs",
}


@METRICS.register_module()
class LimbMaskQuality(BaseMetric):
    """How well the structure branch predicts the limb masks.

    Per data sample, the predicted ``pred_fields.limb_masks`` (the sigmoid of
    the last structure stage, probabilities) against the target
    ``gt_fields.limb_masks`` (from ``LimbMaskTarget`` or ``HandMaskTarget``
    in the evaluation pipeline). A random structure branch scores an IoU near
    0 and a BCE near ``log 2 = 0.69``; a perfect one IoU 1 and BCE 0 (on
    binary LDM targets; on soft LPM targets the best BCE is the targets' own
    entropy, above 0).

    Note:
        - number of data samples: N
        - number of structure channels: C (1 G1, 6 G6, 7 G1&6)
        - mask height and width: H, W (the heatmap grid)

    - ``mIoU@<thr>``: per sample and channel, the IoU of ``pred > thr`` and
      ``target > thr``, then the mean over all (sample, channel) pairs. A
      pair whose prediction and target are both empty has no IoU and is
      skipped (the count is logged); when every pair is skipped the key is
      left out with a warning, never reported as NaN.
    - ``BCE``: elementwise binary cross-entropy, probabilities clipped to
      ``[eps, 1 - eps]``, averaged over all pixels, channels and samples.
    - With ``groups='G1&6'``, also ``mIoU@<thr>-G1``, ``BCE-G1``,
      ``mIoU@<thr>-G6`` and ``BCE-G6`` over the G1 channel and over the six
      G6 channels (``channel_slices``).

    The keys carry the prefix ``structure/`` (``default_prefix``), e.g.
    ``structure/mIoU@0.5`` and ``structure/BCE``.

    Args:
        thr (float): The binarisation threshold of the IoU, in (0, 1).
            Defaults to 0.5.
        groups (str, optional): ``'G1'``, ``'G6'`` or ``'G1&6'``, the
            composition of the masks (the head's ``groups``). When given,
            every sample must have its channel count, and ``'G1&6'`` adds
            the per-group keys. Defaults to None (any C, no group keys).
        eps (float): Clipping margin of the BCE, in (0, 0.5). Defaults to
            1e-6.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the keys. Defaults to None
            (``'structure'``).

    Examples:
        >>> import numpy as np
        >>> target = np.zeros((1, 4, 4)); target[0, 1:3, 1:3] = 1
        >>> pred = np.full((1, 4, 4), 0.2); pred[0, 1:3, 1:4] = 0.9
        >>> sample = dict(pred_fields=dict(limb_masks=pred),
        ...               gt_fields=dict(limb_masks=target))
        >>> metric = LimbMaskQuality()
        >>> metric.process([{}], [sample])
        >>> round(metric.evaluate(1)['structure/mIoU@0.5'], 4)
        0.6667
    """

    default_prefix: Optional[str] = 'structure'

    def __init__(self,
                 thr: float = 0.5,
                 groups: Optional[str] = None,
                 eps: float = BCE_EPS,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        name = self.__class__.__name__
        for arg, value, upper in (('thr', thr, 1.0), ('eps', eps, 0.5)):
            if (not isinstance(value, numbers.Real)
                    or isinstance(value, bool) or not 0 < value < upper):
                raise ValueError(f'{name}: {arg} must be a number in (0, '
                                 f'{upper:g}), got {value!r}')
        if groups is not None:
            try:
                validate_groups(groups)
            except ValueError as err:
                raise ValueError(f'{name}: {err}') from err
        self.thr, self.eps, self.groups = float(thr), float(eps), groups
        self.num_channels = (None if groups is None else
                             num_mask_channels(groups))

    def process(self, data_batch: Sequence[dict],
                data_samples: Sequence[dict]) -> None:
        """Stores each sample's per-channel IoU counts and BCE sums.

        Args:
            data_batch (Sequence[dict]): The batch (unused).
            data_samples (Sequence[dict]): The model's outputs, each with
                ``pred_fields['limb_masks']`` and ``gt_fields['limb_masks']``
                (C, H, W) (tensors or arrays).
        """
        for sample in data_samples:
            pred = self._masks(sample, 'pred_fields')
            target = self._masks(sample, 'gt_fields')
            if pred.shape != target.shape:
                raise ValueError(
                    f'{self.__class__.__name__}: pred_fields.limb_masks '
                    f'{pred.shape} and gt_fields.limb_masks {target.shape} '
                    'differ in shape; the target transform must use the '
                    "head's groups and the codec's heatmap_size")
            if self.num_channels not in (None, pred.shape[0]):
                raise ValueError(
                    f'{self.__class__.__name__}(groups={self.groups!r}) '
                    f'expects {self.num_channels} limb-mask channels, got '
                    f'{pred.shape[0]}; set groups to the head\'s groups')
            try:
                inter, union = mask_iou_counts(pred[None], target[None],
                                               self.thr)
                bce = mask_bce_sums(pred[None], target[None], self.eps)
            except ValueError as err:
                raise ValueError(f'{self.__class__.__name__}: limb masks of '
                                 f'{sample.get("img_path")}: {err}') from err
            self.results.append(
                dict(inter=inter[0], union=union[0], bce=bce[0],
                     pixels=pred.shape[1] * pred.shape[2]))

    def _masks(self, sample: dict, field: str) -> np.ndarray:
        """``sample[field]['limb_masks']`` as a (C, H, W) float64 array, or
        a ValueError naming what is missing and how to enable it."""
        masks = (sample.get(field) or {}).get('limb_masks')
        if masks is None:
            raise ValueError(
                f'{self.__class__.__name__}: the data samples have no '
                f'{field}.limb_masks; {_HOW_TO[field]}')
        masks = _to_numpy(masks)
        if masks.ndim != 3:
            raise ValueError(
                f'{self.__class__.__name__}: {field}.limb_masks must have '
                f'shape (C, H, W), got {masks.shape}')
        return masks

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Mean IoU and mean BCE, overall and (G1&6) per group.

        Args:
            results (List[dict]): What :meth:`process` stored, from all
                ranks.

        Returns:
            Dict[str, float]: ``mIoU@<thr>`` (left out when no pair has a
            non-empty union) and ``BCE``, plus the ``-G1`` / ``-G6`` keys.
        """
        name = self.__class__.__name__
        if not results:
            raise ValueError(f'{name}: no data sample was evaluated (empty '
                             'dataset or dataloader)')
        inter, union, bce = (np.stack([r[key] for r in results])
                             for key in ('inter', 'union', 'bce'))
        pixels = np.array([r['pixels'] for r in results])
        parts = {'': slice(None)}
        if self.groups == 'G1&6':
            parts.update({f'-{key.upper()}': part
                          for key, part in channel_slices('G1&6').items()})
        logger = MMLogger.get_current_instance()
        metrics = {}
        for suffix, part in parts.items():
            miou, counted, skipped = mean_iou(inter[:, part], union[:, part])
            key = f'mIoU@{self.thr:g}{suffix}'
            if miou is None:
                logger.warning(f'{name}: no {key}: the predicted and target '
                               'masks are empty (nothing above '
                               f'{self.thr:g}) in all {skipped} maps')
            else:
                metrics[key] = miou
                if skipped and not suffix:
                    logger.info(f'{name}: {key} over {counted} maps; '
                                f'{skipped} maps with an empty prediction '
                                'and target skipped')
            metrics[f'BCE{suffix}'] = mean_bce(bce[:, part], pixels)
        return metrics


def _to_numpy(value: Any) -> np.ndarray:
    """A tensor (any device) or array-like as a float64 array."""
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)
