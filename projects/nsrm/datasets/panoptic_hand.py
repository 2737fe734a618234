"""CMU Panoptic hands: MMPose's reader with the project's checks and a fix.

:class:`NSRMPanopticHandDataset` reads two kinds of COCO-style files with
MMPose's Panoptic metainfo (21 keypoints, hand order):

* the jsons written by ``tools/dataset_converters/panoptic_hand143_to_coco
  .py`` from the raw ``hand143_panopticdb`` release (the paper's data; no
  ``head_size``, no ``segmentation``);
* MMPose's own ``panoptic_{train,test}.json`` (a different subset, with a
  ``head_size`` per hand for PCKh).

MMPose 1.3.2's ``PanopticHand2DDataset`` stores ``head_size`` as a Python
float: ``PackPoseInputs`` puts it into ``gt_instances`` unchecked, and the
data preprocessor then fails (``InstanceData.to`` rebuilds the instances and
asserts ``value must contain `__len__` attribute``), so that no model can
train or test on those files. It also reads ``head_size`` and
``segmentation`` unconditionally (``KeyError`` on the converted files).
"""
import math
from typing import Any, Optional

import numpy as np
from mmpose.datasets.datasets.hand import PanopticHand2DDataset
from mmpose.registry import DATASETS

from .checked_coco_style import CheckedCocoStyleMixin


def head_size_array(value: Any) -> Optional[np.ndarray]:
    """Converts an annotation's ``head_size`` to the form MMPose packs.

    Args:
        value (Any): The ``head_size`` of the json annotation.

    Returns:
        np.ndarray | None: ``[head_size]``, (1,) float32, one value per
        instance like ``bbox_score`` (``PCKAccuracy(norm_item='head')``
        reads it as such); None when ``value`` is None or not a positive
        finite number.
    """
    if isinstance(value, bool):
        return None
    try:
        size = float(value)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(size) and size > 0):
        return None
    return np.array([size], dtype=np.float32)


@DATASETS.register_module()
class NSRMPanopticHandDataset(CheckedCocoStyleMixin, PanopticHand2DDataset):
    """CMU Panoptic hands (MMPose's ``PanopticHand2DDataset``), fixed.

    Same arguments as MMPose's class plus ``skip_invalid_annotations`` (see
    :class:`~.checked_coco_style.CheckedCocoStyleMixin`). Differences:

    * ``head_size``, when an annotation has one, is stored as a (1,)
      float32 array (MMPose: a float, which crashes the data preprocessor);
      ``PCKAccuracy(norm_item='head')`` reads it unchanged. Annotations
      without it (the converted hand143 files) load, and have no
      ``head_size`` (use ``norm_item='bbox'``). A ``head_size`` that is not
      a positive finite number raises a ``ValueError`` naming the
      annotation.
    * annotations without ``segmentation`` load (MMPose: ``KeyError``);
      annotations without ``bbox`` or ``keypoints`` are ignored, as
      MMPose's other COCO-style datasets do.

    Typical config (the README's layout)::

        dict(type='NSRMPanopticHandDataset',
             data_root='data/panoptic_hand143/',
             ann_file='annotations/panoptic_hand143_train.json',
             data_prefix=dict(img=''))
    """

    DATA_HINT = (
        'Expected data/panoptic_hand143/annotations/panoptic_hand143_'
        '{train,val,test}.json and data/panoptic_hand143/imgs/*.jpg: extract '
        'hand143_panopticdb.tar there and run `python tools/'
        'dataset_converters/panoptic_hand143_to_coco.py --root '
        'data/panoptic_hand143 --out data/panoptic_hand143` (README.md, '
        'section "Data: CMU Panoptic hand").')

    def parse_data_info(self, raw_data_info: dict) -> Optional[dict]:
        """Lets MMPose parse the annotation, then stores ``head_size`` as a
        (1,) float32 array, or not at all when the annotation has none.

        Args:
            raw_data_info (dict): ``raw_ann_info`` and ``raw_img_info``.

        Returns:
            dict | None: MMPose's instance info, None for an annotation
            without ``bbox`` or ``keypoints`` or one skipped as invalid.
        """
        ann = raw_data_info['raw_ann_info']
        if 'bbox' not in ann or 'keypoints' not in ann:
            return None
        # MMPose's parser reads both keys unconditionally
        filled = dict(ann, head_size=None,
                      segmentation=ann.get('segmentation'))
        data_info = super().parse_data_info(
            dict(raw_data_info, raw_ann_info=filled))
        if data_info is None:
            return None
        del data_info['head_size']
        if ann.get('head_size') is not None:
            head_size = head_size_array(ann['head_size'])
            if head_size is None:
                raise ValueError(
                    f'{type(self).__name__}: annotation id {ann.get("id")} '
                    f'in {self.ann_file} has head_size '
                    f'{ann["head_size"]!r}; expected a positive number of '
                    'pixels (the PCKh normaliser), or no head_size key.')
            data_info['head_size'] = head_size
        return data_info
