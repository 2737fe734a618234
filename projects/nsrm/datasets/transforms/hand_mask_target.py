"""``LoadHandMask`` and ``HandMaskTarget``: the dataset's own hand mask as
the NSRM G1 structure target (the paper's "Real Mask" rows), thin adapters
over :mod:`projects.nsrm.codecs.utils.hand_masks`."""
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio

from mmpose.registry import TRANSFORMS
from mmpose.structures.bbox import get_warp_matrix
from ...codecs.utils.hand_masks import (hand_mask_target, is_box_polygon,
                                        polygons_to_mask)
from ...codecs.utils.limb_masks import validate_size
from .limb_mask_target import pack_as_gt_field

MASK_SOURCES = ('segmentation', 'mask_file')


def hand_mask_path(img_path: str,
                   mask_dir_rule: Tuple[str, str] = ('source', 'mask'),
                   mask_suffix: str = '.png') -> str:
    """The mask file of an image: the LAST directory named
    ``mask_dir_rule[0]`` in ``img_path`` (the one nearest the file) becomes
    ``mask_dir_rule[1]`` and the file suffix becomes ``mask_suffix``.

    OneHand10K: ``data/onehand10k/Train/source/12.jpg`` ->
    ``data/onehand10k/Train/mask/12.png``.

    Args:
        img_path (str): Image path or URI ('/'-separated).
        mask_dir_rule (Tuple[str, str]): ``(image dir name, mask dir name)``.
        mask_suffix (str): Suffix of the mask files, e.g. ``'.png'``.

    Returns:
        str: The mask path.
    """
    parts = str(img_path).replace(osp.sep, '/').split('/')
    dirs = parts[:-1]
    src, dst = mask_dir_rule
    if src not in dirs:
        raise ValueError(
            f'LoadHandMask: image path {img_path!r} has no directory named '
            f'{src!r} to replace by {dst!r} (mask_dir_rule={mask_dir_rule!r});'
            ' set mask_dir_rule to the (image dir, mask dir) names of your '
            'dataset')
    dirs[len(dirs) - 1 - dirs[::-1].index(src)] = dst
    return '/'.join(dirs + [osp.splitext(parts[-1])[0] + mask_suffix])


@TRANSFORMS.register_module()
class LoadHandMask(BaseTransform):
    """Load the hand mask of a sample at image resolution.

    Place it after ``LoadImage`` and before ``HandMaskTarget``. Placed
    before ``RandomFlip``, the mask is flipped by ``RandomFlip`` (which flips
    ``img_mask`` with the image); placed after it, this transform flips the
    mask itself as ``results['flip_direction']`` says. Shift, scale and
    rotation (``RandomBBoxTransform``) and the warp to the input
    (``TopdownAffine``, ``WholeImageResize``) reach the mask through
    ``HandMaskTarget``, which warps it with the image's matrix.

    Sources:

    - ``'segmentation'``: the annotation's COCO ``segmentation``: polygons
      (pixel-edge convention, as the built-in synthetic hands store them) or
      an RLE dict. A single axis-aligned rectangle (what MMPose's OneHand10K
      jsons store there: the bounding box) is refused.
    - ``'mask_file'``: a mask image beside the image
      (:func:`hand_mask_path`; OneHand10K ``Train/source/12.jpg`` ->
      ``Train/mask/12.png``), read as grayscale; a pixel is hand when its
      value is ``>= threshold``.

    Required Keys:

        - img_path, ori_shape: (H, W) of the loaded image
        - segmentation ('segmentation' source)
        - id (optional): the annotation id, named in errors
        - flip, flip_direction (optional): set by ``RandomFlip``

    Added Keys:

        - img_mask: (H, W) uint8, 1 = hand

    Args:
        source (str): ``'segmentation'`` or ``'mask_file'``. Defaults to
            ``'segmentation'``.
        mask_dir_rule (Tuple[str, str]): ``(image dir, mask dir)`` names for
            ``'mask_file'``. Defaults to ``('source', 'mask')``.
        mask_suffix (str): Mask file suffix. Defaults to ``'.png'``.
        threshold (int): Binarisation threshold in [1, 255] for
            ``'mask_file'``. Defaults to 128.
        backend_args (dict, optional): MMEngine file backend arguments, as
            for ``LoadImage``. Defaults to None (local files).
    """

    def __init__(self,
                 source: str = 'segmentation',
                 mask_dir_rule: Sequence[str] = ('source', 'mask'),
                 mask_suffix: str = '.png',
                 threshold: int = 128,
                 backend_args: Optional[dict] = None):
        super().__init__()
        if source not in MASK_SOURCES:
            raise ValueError(f'source must be one of {MASK_SOURCES}, got '
                             f'{source!r}')
        rule = tuple(mask_dir_rule) if isinstance(
            mask_dir_rule, (list, tuple)) else ()
        if (len(rule) != 2 or not all(
                isinstance(d, str) and d and '/' not in d for d in rule)):
            raise ValueError(
                'mask_dir_rule must be two directory names (image dir, mask '
                f"dir), e.g. ('source', 'mask'), got {mask_dir_rule!r}")
        if not (isinstance(mask_suffix, str) and mask_suffix.startswith('.')
                and len(mask_suffix) > 1):
            raise ValueError("mask_suffix must be a file suffix such as "
                             f"'.png', got {mask_suffix!r}")
        if (isinstance(threshold, bool)
                or not isinstance(threshold, (int, np.integer))
                or not 1 <= threshold <= 255):
            raise ValueError('threshold must be an int in [1, 255], got '
                             f'{threshold!r}')
        self.source = source
        self.mask_dir_rule = rule
        self.mask_suffix = mask_suffix
        self.threshold = int(threshold)
        self.backend_args = backend_args

    def _where(self, results: Dict) -> str:
        ann = results.get('id', None)
        where = f'image {results.get("img_path")!r}'
        return where if ann is None else f'{where} (annotation id {ann})'

    def _from_segmentation(self, results: Dict, height: int,
                           width: int) -> np.ndarray:
        seg = results.get('segmentation', None)
        if seg is None or (isinstance(seg, (list, tuple)) and not seg):
            raise ValueError(
                f'LoadHandMask: no segmentation in {self._where(results)}; '
                "use source='mask_file' for datasets with mask images")
        if isinstance(seg, dict):
            return self._from_rle(seg, results, height, width)
        if not isinstance(seg, (list, tuple)):
            raise ValueError(
                f'LoadHandMask: the segmentation of {self._where(results)} '
                'must be a list of polygons or an RLE dict, got '
                f'{type(seg).__name__}')
        try:
            box = is_box_polygon(seg)
            mask = None if box else polygons_to_mask(seg, height, width)
        except ValueError as e:
            raise ValueError(f'LoadHandMask: bad segmentation in '
                             f'{self._where(results)}: {e}') from None
        if box:
            raise ValueError(
                f'LoadHandMask: the segmentation of {self._where(results)} '
                'is only its bounding rectangle, not a hand shape (MMPose\'s '
                "OneHand10K jsons store the box there); use "
                "source='mask_file' with OneHand10K's Train/mask and "
                'Test/mask images')
        return mask

    def _from_rle(self, rle: Dict, results: Dict, height: int,
                  width: int) -> np.ndarray:
        from xtcocotools import mask as mask_utils  # an mmpose requirement
        if list(rle.get('size', ())) != [height, width] or 'counts' not in rle:
            raise ValueError(
                f'LoadHandMask: the RLE segmentation of '
                f'{self._where(results)} must have "counts" and size '
                f'[{height}, {width}] (the image), got size '
                f'{rle.get("size")}')
        if isinstance(rle['counts'], list):  # uncompressed RLE
            rle = mask_utils.frPyObjects(rle, height, width)
        elif isinstance(rle['counts'], str):
            rle = dict(rle, counts=rle['counts'].encode('ascii'))
        return (mask_utils.decode(rle) > 0).astype(np.uint8)

    def _from_file(self, results: Dict, height: int,
                   width: int) -> np.ndarray:
        img_path = results.get('img_path', None)
        if not img_path:
            raise ValueError("LoadHandMask(source='mask_file') needs "
                             "results['img_path'] (set by the dataset)")
        path = hand_mask_path(img_path, self.mask_dir_rule, self.mask_suffix)
        try:
            content = fileio.get(path, backend_args=self.backend_args)
        except FileNotFoundError:
            raise FileNotFoundError(
                f'LoadHandMask: mask file {path} not found for image '
                f'{img_path} (directory {self.mask_dir_rule[0]!r} -> '
                f'{self.mask_dir_rule[1]!r}, suffix {self.mask_suffix!r}); '
                'OneHand10K keeps its masks in Train/mask and Test/mask '
                'beside Train/source and Test/source') from None
        mask = mmcv.imfrombytes(content, flag='grayscale')
        if mask is None:
            raise ValueError(
                f'LoadHandMask: cannot decode mask file {path} (image '
                f'{img_path}): not an image')
        if mask.shape[:2] != (height, width):
            raise ValueError(
                f'LoadHandMask: mask file {path} is {mask.shape[1]}x'
                f'{mask.shape[0]} but its image {img_path} is {width}x'
                f'{height} (W x H); the mask must have the image size')
        peak = int(mask.max())
        if 0 < peak < self.threshold:
            raise ValueError(
                f'LoadHandMask: mask file {path} has values up to {peak}, '
                f'all below threshold={self.threshold}, so it would be '
                'empty; set threshold (e.g. 1 for 0/1 masks)')
        return (mask >= self.threshold).astype(np.uint8)

    def transform(self, results: Dict) -> Dict:
        """Write ``results['img_mask']``; see the class docstring."""
        if 'ori_shape' not in results:
            raise ValueError('LoadHandMask needs results["ori_shape"]: place '
                             'it after LoadImage')
        height, width = (int(v) for v in results['ori_shape'][:2])
        if self.source == 'segmentation':
            mask = self._from_segmentation(results, height, width)
        else:
            mask = self._from_file(results, height, width)
        if results.get('flip', False):  # RandomFlip ran before this
            mask = mmcv.imflip(mask, direction=results['flip_direction'])
        results['img_mask'] = mask
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(source={self.source!r}, '
                f'mask_dir_rule={self.mask_dir_rule!r}, '
                f'mask_suffix={self.mask_suffix!r}, '
                f'threshold={self.threshold}, '
                f'backend_args={self.backend_args})')


@TRANSFORMS.register_module()
class HandMaskTarget(BaseTransform):
    """Warp the image-resolution hand mask like the image and write it as
    the 1-channel (G1) structure target ``limb_masks``.

    Place it after the warp to the input (``TopdownAffine`` or
    ``WholeImageResize``) and ``GenerateTarget``, before
    ``PackPoseInputs``; the model's head must use ``groups='G1'``. The
    matrix is ``results['warp_mat']`` when present (``WholeImageResize``),
    else the one ``TopdownAffine`` (``use_udp=False``) warped the image with,
    recomputed from ``bbox_center``, ``bbox_scale`` (its aspect ratio
    already fixed by ``TopdownAffine``) and ``bbox_rotation``. Each heatmap
    cell is the fraction of the cell covered by the hand
    (:func:`~projects.nsrm.codecs.utils.hand_masks.hand_mask_target`).

    Required Keys:

        - img_mask: (H_img, W_img) from ``LoadHandMask``
        - warp_mat: (2, 3), or bbox_center (1, 2), bbox_scale (1, 2),
          bbox_rotation (1,) (optional) and input_size

    Added Keys:

        - limb_masks: (1, H, W) float32 in [0, 1]

    Modified Keys:

        - field_mapping_table: a copy of the current table (default:
          ``PackPoseInputs.field_mapping_table``) with
          ``limb_masks='limb_masks'`` added, as ``LimbMaskTarget`` does

    Args:
        input_size (Tuple[int, int]): Model input size ``(w, h)``.
        heatmap_size (Tuple[int, int]): Mask size ``(W, H)``, at most
            ``input_size``.
        groups (str): The structure channels; a real mask is one channel,
            so only ``'G1'``, stated here like ``LimbMaskTarget``'s
            ``groups`` so that a config shows it matches the head's.
            Defaults to ``'G1'``.
    """

    def __init__(self,
                 input_size: Tuple[int, int],
                 heatmap_size: Tuple[int, int],
                 groups: str = 'G1'):
        super().__init__()
        if groups != 'G1':
            raise ValueError(
                f"HandMaskTarget: groups must be 'G1' (a hand mask is one "
                f"structure channel), got {groups!r}; use the head's "
                "groups='G1'")
        self.groups = groups
        self.input_size = validate_size(input_size, 'input_size')
        self.heatmap_size = validate_size(heatmap_size, 'heatmap_size')
        if (self.heatmap_size[0] > self.input_size[0]
                or self.heatmap_size[1] > self.input_size[1]):
            raise ValueError(
                f'heatmap_size {self.heatmap_size} must not exceed '
                f'input_size {self.input_size}')

    def _warp_mat(self, results: Dict) -> np.ndarray:
        """The (2, 3) image -> input matrix the image was warped with."""
        if results.get('warp_mat', None) is not None:
            mat = np.asarray(results['warp_mat'], dtype=np.float64)
            if mat.shape != (2, 3):
                raise ValueError('HandMaskTarget: results["warp_mat"] must '
                                 f'be (2, 3), got {mat.shape}')
            return mat
        if 'input_size' not in results or 'bbox_center' not in results:
            raise ValueError(
                'HandMaskTarget needs the warp of the image: place it after '
                'TopdownAffine (or WholeImageResize, which stores '
                'results["warp_mat"])')
        if tuple(results['input_size']) != self.input_size:
            raise ValueError(
                f'HandMaskTarget(input_size={self.input_size}) but the image '
                f'was warped to {tuple(results["input_size"])}: use the '
                "codec's input_size for both")
        rot = results['bbox_rotation'][0] if 'bbox_rotation' in results \
            else 0.
        return get_warp_matrix(results['bbox_center'][0],
                               results['bbox_scale'][0], rot,
                               output_size=self.input_size)

    def transform(self, results: Dict) -> Dict:
        """Compute ``results['limb_masks']``; see the class docstring."""
        mask = results.get('img_mask', None)
        if mask is None:
            raise ValueError(
                'HandMaskTarget needs results["img_mask"]: add LoadHandMask '
                'after LoadImage')
        target = hand_mask_target(mask, self._warp_mat(results),
                                  self.input_size, self.heatmap_size)
        results['limb_masks'] = target[None]

        return pack_as_gt_field(results, 'limb_masks')

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(input_size={self.input_size}, '
                f'heatmap_size={self.heatmap_size}, groups={self.groups!r})')
