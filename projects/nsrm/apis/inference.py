"""Inference helpers of NSRM, shared by ``demo/image_demo.py`` and
``tools/analysis/compare_models.py``.

MMPose's :func:`~mmpose.apis.inference_topdown` returns one data sample per
box, with the predicted heatmaps and (NSRM) limb masks on the heatmap grid
over that box's input crop. :func:`merge_nsrm_data_samples` puts both into
image space, as MMPose's :func:`~mmpose.structures.merge_data_samples` does
for the heatmaps alone.

Note:
    - number of boxes (instances) of an image: N
    - number of keypoints: K
    - number of structure channels: C (1 / 6 / 7 for G1 / G6 / G1&6)
    - heatmap grid: (h, w); image: (H, W)
"""
import argparse
import copy
import json
import os
import os.path as osp
import warnings
from datetime import datetime
from typing import Dict, List, Optional, Sequence, Tuple

import mmcv
import numpy as np
import torch
from mmengine.structures import PixelData
from mmengine.visualization import Visualizer

from mmpose.registry import VISUALIZERS
from mmpose.structures import (PoseDataSample, merge_data_samples,
                               revert_heatmap)

from ..utils.runner_setup import load_config

with warnings.catch_warnings():
    # mmpose.apis (also imported by mmpose.visualization) imports
    # pkg_resources through mmengine's get_installed_path; on its first
    # import pkg_resources warns that it is deprecated and adds a global
    # warning filter. Importing this project leaves the caller's warning
    # filters as they were.
    warnings.filterwarnings(
        'ignore', message='pkg_resources is deprecated', category=UserWarning)
    from mmpose.apis import inference_topdown, init_model

#: File name extensions read as images (lower case).
IMAGE_EXTENSIONS: Tuple[str, ...] = ('.bmp', '.jpeg', '.jpg', '.png', '.tif',
                                     '.tiff', '.webp')


class InputError(ValueError):
    """An input file or option the tools cannot use (the message names it
    and says why)."""


def add_drawing_args(parser: argparse.ArgumentParser
                     ) -> argparse.ArgumentParser:
    """Adds the options the demo and ``compare_models.py`` share:
    ``--device`` (default ``cpu``) and ``--kpt-thr`` (default 0.3, MMPose's
    drawing threshold of keypoint scores)."""
    parser.add_argument('--device', default='cpu',
                        help='device, e.g. cpu or cuda:0 (default: cpu)')
    parser.add_argument(
        '--kpt-thr', type=float, default=0.3,
        help='draw keypoints whose score is above this (default: 0.3)')
    return parser


def revert_limb_masks(limb_masks, input_center: np.ndarray,
                      input_scale: np.ndarray,
                      img_shape: Sequence[int]) -> np.ndarray:
    """Warps limb masks from the heatmap grid over a crop back to the image,
    as MMPose's ``revert_heatmap`` does for heatmaps (also for ``C = 1``,
    where OpenCV drops the channel axis that ``revert_heatmap`` expects).

    Args:
        limb_masks (np.ndarray | torch.Tensor): (C, h, w) on the heatmap
            grid of the crop.
        input_center (np.ndarray): The crop's centre (x, y) in image pixels,
            shape (2,) (as ``TopdownAffine`` sets ``input_center``).
        input_scale (np.ndarray): The crop's size (w, h) in image pixels,
            shape (2,) (``input_scale``).
        img_shape (Sequence[int]): ``(H, W)`` of the image.

    Returns:
        np.ndarray: (C, H, W) float32, zero outside the crop.
    """
    if torch.is_tensor(limb_masks):
        limb_masks = limb_masks.detach().cpu().numpy()
    masks = np.asarray(limb_masks, dtype=np.float32)
    if masks.ndim != 3:
        raise ValueError('limb_masks must have shape (C, h, w), got '
                         f'{masks.shape}')
    center = np.asarray(input_center, dtype=np.float32)
    scale = np.asarray(input_scale, dtype=np.float32)
    img_shape = tuple(int(v) for v in img_shape[:2])
    if len(masks) == 1:
        return revert_heatmap(masks[0], center, scale, img_shape)[None]
    return revert_heatmap(masks, center, scale, img_shape)


def merge_nsrm_data_samples(
        data_samples: Sequence[PoseDataSample]) -> PoseDataSample:
    """MMPose's ``merge_data_samples``, plus the limb masks in image space.

    The instances and the heatmaps are merged by MMPose's function (all
    instances; heatmaps reverted to the image and merged by max). The
    ``pred_fields.limb_masks`` (C, h, w) of every sample are reverted to the
    image the same way (:func:`revert_limb_masks` with the sample's
    ``input_center``, ``input_scale`` and ``ori_shape``) and merged over the
    instances by max.

    Args:
        data_samples (Sequence[PoseDataSample]): The N per-box predictions
            of one image (``inference_topdown``'s output, or a model's
            ``test_step`` output one sample at a time).

    Returns:
        PoseDataSample: One sample with ``pred_instances`` (N instances),
        ``pred_fields.heatmaps`` (K, H, W) when the samples have heatmaps and
        ``pred_fields.limb_masks`` (C, H, W) float32 when they have limb
        masks.

    Raises:
        ValueError: some samples with limb masks and some without, masks
            with different channel counts, or a sample without the metainfo
            the revert needs.
    """
    data_samples = list(data_samples)
    merged = merge_data_samples(data_samples)
    has_masks = [
        'pred_fields' in d and 'limb_masks' in d.pred_fields
        for d in data_samples
    ]
    if not any(has_masks):
        return merged
    if not all(has_masks):
        raise ValueError(
            f'merge_nsrm_data_samples: {sum(has_masks)} of '
            f'{len(data_samples)} data samples have pred_fields.limb_masks; '
            'merge the predictions of one model at a time')
    reverted = []
    for i, sample in enumerate(data_samples):
        missing = [
            key for key in ('input_center', 'input_scale', 'ori_shape')
            if key not in sample.metainfo
        ]
        if missing:
            raise ValueError(
                f'merge_nsrm_data_samples: data sample {i} lacks metainfo '
                f'{missing}, needed to put its limb masks into image space')
        reverted.append(
            revert_limb_masks(sample.pred_fields.limb_masks,
                              sample.input_center, sample.input_scale,
                              sample.ori_shape))
    channels = sorted({len(m) for m in reverted})
    if len(channels) > 1:
        raise ValueError('merge_nsrm_data_samples: the data samples have '
                         f'limb masks with different channel counts '
                         f'{channels}')
    limb_masks = np.max(np.stack(reverted), axis=0)
    if 'pred_fields' not in merged:
        merged.pred_fields = PixelData()
    merged.pred_fields.set_data(dict(limb_masks=limb_masks))
    return merged


def check_file(path: str, what: str) -> str:
    """Returns ``path``, or raises ``FileNotFoundError`` naming ``what``
    (e.g. ``'Checkpoint'``) and the path."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what} file not found: {path!r} (looked in '
                                f'{osp.abspath(path)})')
    return path


def read_image(path: str) -> np.ndarray:
    """Reads an image file.

    Args:
        path (str): The file.

    Returns:
        np.ndarray: (H, W, 3) uint8 BGR.

    Raises:
        FileNotFoundError: no such file.
        InputError: the file is not an image OpenCV can decode.
    """
    check_file(path, 'Image')
    image = mmcv.imread(path, channel_order='bgr')
    if image is None:
        raise InputError(f'{path}: cannot read this file as an image (not '
                         'an image, or a truncated or unsupported one)')
    return image


def list_images(folder: str) -> List[str]:
    """The image files directly in ``folder``, sorted by name.

    Args:
        folder (str): A folder.

    Returns:
        List[str]: Paths of the files whose extension is one of
        :data:`IMAGE_EXTENSIONS` (any case).

    Raises:
        InputError: the folder holds no such file.
    """
    names = sorted(
        name for name in os.listdir(folder)
        if osp.splitext(name)[1].lower() in IMAGE_EXTENSIONS
        and osp.isfile(osp.join(folder, name)))
    if not names:
        raise InputError(
            f'{folder}: no images in this folder (looked for files ending in '
            f'{", ".join(IMAGE_EXTENSIONS)})')
    return [osp.join(folder, name) for name in names]


def collect_images(path: str) -> List[str]:
    """One image file as a list, or the images of a folder
    (:func:`list_images`); ``FileNotFoundError`` when ``path`` is neither."""
    if osp.isdir(path):
        return list_images(path)
    return [check_file(path, 'Input image')]


def load_bboxes(path: str) -> Dict[str, np.ndarray]:
    """Reads a ``--bboxes`` file.

    The file is a JSON object mapping an image's file name (no folder) to a
    list of its hands' boxes ``[x1, y1, x2, y2]`` in pixels, e.g.
    ``{"hand1.jpg": [[10, 20, 110, 140]], "two.png": [[0, 0, 50, 60],
    [60, 0, 120, 70]]}``.

    Args:
        path (str): The JSON file.

    Returns:
        Dict[str, np.ndarray]: File name -> boxes (N, 4) float32, xyxy.

    Raises:
        FileNotFoundError: no such file.
        InputError: not JSON, not an object, or a value that is not a
            non-empty list of boxes with ``x2 > x1`` and ``y2 > y1``.
    """
    check_file(path, 'Bounding-box')
    try:
        with open(path) as f:
            data = json.load(f)
    except json.JSONDecodeError as err:
        raise InputError(f'{path}: not valid JSON ({err})') from err
    if not isinstance(data, dict):
        raise InputError(
            f'{path}: expected a JSON object {{"<image file name>": '
            f'[[x1, y1, x2, y2], ...], ...}}, got a {type(data).__name__}')
    boxes = {}
    for name, value in data.items():
        try:
            array = np.asarray(value, dtype=np.float32)
        except (TypeError, ValueError):
            array = None
        if (array is None or array.ndim != 2 or array.shape[1] != 4
                or len(array) == 0 or not np.isfinite(array).all()):
            raise InputError(
                f'{path}: {name!r} must map to a non-empty list of boxes '
                f'[x1, y1, x2, y2] (numbers), got {value!r}')
        bad = (array[:, 2] <= array[:, 0]) | (array[:, 3] <= array[:, 1])
        if bad.any():
            raise InputError(
                f'{path}: {name!r} has boxes with x2 <= x1 or y2 <= y1: '
                f'{array[bad].tolist()} (the format is [x1, y1, x2, y2])')
        boxes[str(name)] = array
    return boxes


def whole_image_bbox(image_shape: Sequence[int]) -> np.ndarray:
    """The box of the whole image, ``[[0, 0, W, H]]`` (1, 4) float32."""
    height, width = image_shape[:2]
    return np.array([[0, 0, width, height]], dtype=np.float32)


def init_nsrm_model(config: str,
                    checkpoint: str,
                    device: str = 'cpu',
                    cfg_options: Optional[dict] = None) -> torch.nn.Module:
    """MMPose's ``init_model`` with ``test_cfg.output_heatmaps=True`` (so an
    NSRM model returns its limb masks) and clear errors for missing files.

    Args:
        config (str): Config file.
        checkpoint (str): Checkpoint file.
        device (str): e.g. ``'cpu'`` or ``'cuda:0'``. Defaults to ``'cpu'``.
        cfg_options (dict, optional): Overrides merged into the config.

    Returns:
        torch.nn.Module: The model in eval mode, with ``cfg`` and
        ``dataset_meta``.
    """
    cfg = load_config(config)
    check_file(checkpoint, 'Checkpoint')
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.merge_from_dict(dict(model=dict(test_cfg=dict(output_heatmaps=True))))
    return init_model(cfg, checkpoint, device=device)


def inference_nsrm(model: torch.nn.Module,
                   image: np.ndarray,
                   bboxes: Optional[np.ndarray] = None) -> PoseDataSample:
    """Top-down inference on one image, merged into image space.

    Args:
        model (torch.nn.Module): From :func:`init_nsrm_model`.
        image (np.ndarray): (H, W, 3) uint8 BGR (:func:`read_image`).
        bboxes (np.ndarray, optional): (N, 4) xyxy boxes. Defaults to the
            whole image.

    Returns:
        PoseDataSample: :func:`merge_nsrm_data_samples` of the N per-box
        predictions: ``pred_instances.keypoints`` (N, K, 2) in image pixels,
        ``pred_fields.heatmaps`` (K, H, W) and, for NSRM models,
        ``pred_fields.limb_masks`` (C, H, W).
    """
    if bboxes is None:
        bboxes = whole_image_bbox(image.shape)
    return merge_nsrm_data_samples(
        inference_topdown(model, image, bboxes, bbox_format='xyxy'))


def build_visualizer(model: torch.nn.Module, **overrides) -> Visualizer:
    """The visualizer of the model's config (``cfg.visualizer``), under a
    name no other visualizer instance has, with the model's dataset meta
    (skeleton and colours).

    Args:
        model (torch.nn.Module): A model from :func:`init_nsrm_model`.
        **overrides: Visualizer arguments to override (e.g. ``radius``).

    Returns:
        Visualizer: e.g. an ``NSRMPoseLocalVisualizer``.
    """
    cfg = copy.deepcopy(model.cfg.get('visualizer', None))
    if cfg is None:
        raise InputError('the config has no `visualizer` (configs here get '
                         "NSRMPoseLocalVisualizer from configs/_base_/"
                         "default_runtime.py)")
    cfg.update(overrides)
    name = cfg.get('name', 'visualizer')
    if Visualizer.check_instance_created(name):
        name = f'{name}-{datetime.now().timestamp()}'
        while Visualizer.check_instance_created(name):
            name += '+'
    cfg['name'] = name
    visualizer = VISUALIZERS.build(cfg)
    visualizer.set_dataset_meta(model.dataset_meta)
    return visualizer
