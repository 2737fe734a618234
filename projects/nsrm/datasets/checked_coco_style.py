"""Clear errors for MMPose's COCO-style datasets.

:class:`CheckedCocoStyleMixin` adds to MMPose's own dataset (same metainfo,
same parsing) two checks: a missing ``data_root`` or annotation file raises a
``FileNotFoundError`` that says where the data is expected and how to get it
(README.md, section "Data"), and an annotation whose keypoint list does not
match the dataset's keypoint count raises a ``ValueError`` naming the
annotation id and file. MMPose itself asserts the first and silently reshapes
(or crashes later on) the second.
"""
import os.path as osp
from typing import List, Optional, Tuple


class CheckedCocoStyleMixin:
    """Adds clear errors to a ``BaseCocoStyleDataset`` subclass.

    Subclasses set ``DATA_HINT`` to the command or README section that
    prepares their data.
    """

    DATA_HINT = 'See README.md, section "Data".'

    def _load_annotations(self) -> Tuple[List[dict], List[dict]]:
        """Checks the annotation file exists, then lets MMPose read it."""
        if not osp.isfile(self.ann_file):
            where = (f"data_root='{self.data_root}'"
                     if self.data_root else 'no data_root')
            root_note = ('' if not self.data_root or osp.isdir(self.data_root)
                         else f' The data_root folder {self.data_root} does '
                         'not exist either.')
            raise FileNotFoundError(
                f'{type(self).__name__}: annotation file not found: '
                f'{self.ann_file} ({where}).{root_note} {self.DATA_HINT}')
        return super()._load_annotations()

    def parse_data_info(self, raw_data_info: dict) -> Optional[dict]:
        """Checks the keypoint count, then lets MMPose parse the instance."""
        ann = raw_data_info['raw_ann_info']
        num_keypoints = self.metainfo['num_keypoints']
        if 'keypoints' in ann and len(ann['keypoints']) != 3 * num_keypoints:
            raise ValueError(
                f'{type(self).__name__}: annotation id {ann.get("id")} '
                f'(image id {ann.get("image_id")}) in {self.ann_file} has '
                f'{len(ann["keypoints"])} keypoint values; expected '
                f'{3 * num_keypoints} ({num_keypoints} keypoints x [x, y, v]).')
        return super().parse_data_info(raw_data_info)
