"""Top-down hand pose inference with ONNX Runtime on a file written by
:func:`~projects.nsrm.deploy.onnx_export.export_onnx`.

The pre- and post-processing are MMPose's own, configured from the file's
metadata, so the keypoints equal those of ``mmpose.apis.inference_topdown``
on the PyTorch model::

    image (H, W, 3) BGR + boxes (N, 4) xyxy
      -> GetBBoxCenterScale + TopdownAffine   (or WholeImageResize)
      -> crops (N, h_in, w_in, 3) uint8
      -> BGR->RGB, (x - mean) / std           (the data preprocessor's)
      -> ONNX Runtime: heatmaps (N, K, H, W) [, limb_masks (N, C, H, W)]
         (flip test: the flipped crops in the same batch, merged by
         mmpose's flip_heatmaps as the heads do)
      -> codec.decode per crop                (the head's decoder)
      -> keypoints / input_size * input_scale + input_center
         - input_scale / 2                    (TopdownPoseEstimator)

Only ``onnxruntime`` (not ``onnx``) is needed, imported when a model is
loaded.
"""
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
from mmcv.transforms import Compose

from mmpose.models.utils.tta import flip_heatmaps
from mmpose.registry import KEYPOINT_CODECS, TRANSFORMS

from .. import codecs  # noqa: F401  registers NSRMHeatmap
from .. import datasets  # noqa: F401  registers WholeImageResize
from .onnx_export import import_onnx_package, parse_metadata


def normalize_crops(crops: np.ndarray, mean: Sequence[float],
                    std: Sequence[float], bgr_to_rgb: bool) -> np.ndarray:
    """The data preprocessor's normalisation of a batch of crops.

    Same order and precision as MMEngine's ``ImgDataPreprocessor``: channel
    swap, cast to float32, ``(x - mean) / std``.

    Args:
        crops (np.ndarray): Crops in shape (N, h, w, 3), uint8 (BGR when
            ``bgr_to_rgb``).
        mean (Sequence[float]): 3 channel means (after the swap).
        std (Sequence[float]): 3 channel stds (after the swap).
        bgr_to_rgb (bool): Reverse the channel order first.

    Returns:
        np.ndarray: Network input in shape (N, 3, h, w), float32.
    """
    crops = np.asarray(crops)
    if crops.ndim != 4 or crops.shape[-1] != 3:
        raise ValueError(
            f'crops must be (N, h, w, 3), got shape {crops.shape}')
    x = crops.transpose(0, 3, 1, 2)
    if bgr_to_rgb:
        x = x[:, ::-1]
    x = x.astype(np.float32)
    mean = np.asarray(mean, dtype=np.float32).reshape(1, -1, 1, 1)
    std = np.asarray(std, dtype=np.float32).reshape(1, -1, 1, 1)
    return np.ascontiguousarray((x - mean) / std)


def crop_to_image(keypoints: np.ndarray, input_size: Sequence[int],
                  centers: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """Maps keypoints from crop pixels to image pixels, as
    ``TopdownPoseEstimator.add_pred_to_datasample`` does.

    Args:
        keypoints (np.ndarray): In crop pixels, shape (N, K, 2).
        input_size (Sequence[int]): Crop size ``(w, h)``.
        centers (np.ndarray): Crop centres in the image, shape (N, 2).
        scales (np.ndarray): Crop sizes in the image ``(w, h)``, shape
            (N, 2).

    Returns:
        np.ndarray: Keypoints in image pixels, shape (N, K, 2), the dtype
        of ``keypoints``.
    """
    out = np.array(keypoints, copy=True)
    centers = np.asarray(centers)[:, None]
    scales = np.asarray(scales)[:, None]
    out[..., :2] = (out[..., :2] / tuple(input_size) * scales + centers -
                    0.5 * scales)
    return out


def merge_flip(maps: np.ndarray, maps_flip: np.ndarray,
               flip_indices: Optional[Sequence[int]], flip_mode: str,
               shift_heatmap: bool) -> np.ndarray:
    """Averages maps with those of the flipped crops (MMPose's flip test:
    ``(maps + flip_heatmaps(maps_flip)) * 0.5``, in float32 torch).

    Args:
        maps (np.ndarray): Maps of the crops, shape (N, C, H, W).
        maps_flip (np.ndarray): Maps of the flipped crops, (N, C, H, W).
        flip_indices (Sequence[int], optional): Channel of each channel's
            mirror (keypoints), or None (limb masks: no swap).
        flip_mode (str): ``flip_heatmaps`` mode.
        shift_heatmap (bool): Shift the flipped maps by one pixel.

    Returns:
        np.ndarray: The averaged maps, shape (N, C, H, W).
    """
    flipped = flip_heatmaps(
        torch.from_numpy(np.ascontiguousarray(maps_flip)),
        flip_indices=None if flip_indices is None else list(flip_indices),
        flip_mode=flip_mode,
        shift_heatmap=shift_heatmap)
    return ((torch.from_numpy(maps) + flipped) * 0.5).numpy()


class OnnxPoseModel:
    """An exported top-down pose model run by ONNX Runtime.

    Args:
        path (str): An ``.onnx`` file written by ``export_onnx``.
        providers (Sequence[str]): ONNX Runtime execution providers.
            Defaults to ``('CPUExecutionProvider', )``.
        num_threads (int, optional): ONNX Runtime intra-op threads (default:
            ONNX Runtime's choice).

    Attributes:
        meta (dict): The parsed metadata (see ``onnx_export.METADATA_KEYS``).
        codec: The head's keypoint codec, built from ``meta['codec']``.
    """

    def __init__(self,
                 path: str,
                 providers: Sequence[str] = ('CPUExecutionProvider', ),
                 num_threads: Optional[int] = None):
        ort = import_onnx_package('onnxruntime')
        if not osp.isfile(path):
            raise FileNotFoundError(f'ONNX model file not found: {path}')
        options = ort.SessionOptions()
        if num_threads is not None:
            options.intra_op_num_threads = int(num_threads)
        self.path = path
        self.session = ort.InferenceSession(
            path, sess_options=options, providers=list(providers))
        self.meta = parse_metadata(
            self.session.get_modelmeta().custom_metadata_map, path)
        names = [o.name for o in self.session.get_outputs()]
        if names != self.meta['output_names']:
            raise ValueError(f'{path}: graph outputs {names} differ from '
                             f"the metadata's {self.meta['output_names']}")
        codec = dict(self.meta['codec'])
        for key in ('input_size', 'heatmap_size'):
            codec[key] = tuple(codec[key])
        self.codec = KEYPOINT_CODECS.build(codec)
        steps = []
        for step in self.meta['pipeline']:
            step = dict(step)
            if 'input_size' in step:
                step['input_size'] = tuple(step['input_size'])
            steps.append(TRANSFORMS.build(step))
        self.crop = Compose(steps)

    @property
    def input_size(self) -> Tuple[int, int]:
        """Model input size ``(w, h)``."""
        return tuple(self.meta['input_size'])

    @property
    def structure_channels(self) -> Tuple[str, ...]:
        """Names of the ``limb_masks`` channels (empty without them)."""
        return tuple(self.meta['structure_channels'])

    def preprocess(self, image_bgr: np.ndarray, bboxes: np.ndarray
                   ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Crops and normalises the boxes of an image.

        Args:
            image_bgr (np.ndarray): Image in shape (H, W, 3), uint8, BGR.
            bboxes (np.ndarray): Boxes in shape (N, 4), xyxy pixels.

        Returns:
            tuple:
            - inputs (np.ndarray): (N, 3, h_in, w_in) float32.
            - centers (np.ndarray): crop centres in the image, (N, 2).
            - scales (np.ndarray): crop sizes ``(w, h)`` in the image,
              (N, 2).
        """
        crops, centers, scales = [], [], []
        for bbox in bboxes:
            results = self.crop(
                dict(img=image_bgr, bbox=bbox[None],
                     bbox_score=np.ones(1, dtype=np.float32)))
            crops.append(results['img'])
            centers.append(results['input_center'])
            scales.append(results['input_scale'])
        w, h = self.input_size
        if not crops:
            return (np.zeros((0, 3, h, w), np.float32), np.zeros((0, 2)),
                    np.zeros((0, 2)))
        inputs = normalize_crops(
            np.stack(crops), self.meta['mean'], self.meta['std'],
            self.meta['bgr_to_rgb'])
        return inputs, np.stack(centers), np.stack(scales)

    def forward(self, inputs: np.ndarray) -> Dict[str, np.ndarray]:
        """Runs the network, with the flip test when the model's test_cfg
        had it.

        Args:
            inputs (np.ndarray): (N, 3, h_in, w_in) float32.

        Returns:
            Dict[str, np.ndarray]: ``heatmaps`` (N, K, H, W) and, when
            exported, ``limb_masks`` (N, C, H, W) in [0, 1].
        """
        meta = self.meta
        n = inputs.shape[0]
        batch = inputs
        if meta['flip_test']:
            batch = np.concatenate([inputs, inputs[..., ::-1]])
        outs = self.session.run(meta['output_names'],
                                {meta['input_name']: batch})
        maps = dict(zip(meta['output_names'], outs))
        if meta['flip_test']:
            maps['heatmaps'] = merge_flip(
                maps['heatmaps'][:n], maps['heatmaps'][n:],
                meta['flip_indices'], meta['flip_mode'],
                meta['shift_heatmap'])
            if 'limb_masks' in maps:
                maps['limb_masks'] = merge_flip(
                    maps['limb_masks'][:n], maps['limb_masks'][n:], None,
                    'heatmap', meta['shift_heatmap'])
        return maps

    def predict(self,
                image_bgr: np.ndarray,
                bboxes: Optional[np.ndarray] = None) -> Dict[str, np.ndarray]:
        """Predicts the keypoints of the hands in given boxes.

        Args:
            image_bgr (np.ndarray): Image in shape (H, W, 3), uint8, BGR (as
                ``cv2.imread`` / ``mmcv.imread`` give it).
            bboxes (np.ndarray, optional): Boxes in shape (N, 4), xyxy
                pixels (integer boxes are cast to float32, float boxes kept
                as given). None: the whole image, one box
                ``[0, 0, W, H]`` as ``inference_topdown``; an empty array
                gives empty results. (A ``WholeImageResize`` model crops the
                whole image for every box, as its PyTorch pipeline does.)

        Returns:
            Dict[str, np.ndarray]:
            - keypoints: (N, K, 2) in image pixels.
            - scores: (N, K) keypoint scores.
            - heatmaps: (N, K, H', W') on the crop's heatmap grid.
            - limb_masks: (N, C, H', W') in [0, 1], channels
              :attr:`structure_channels` (only when exported).
            - input_center, input_scale: (N, 2) each, the crops in the image
              (to map the grid back: ``image = grid * input_scale /
              [W', H'] + input_center - input_scale / 2``).
        """
        image_bgr = np.asarray(image_bgr)
        if (image_bgr.ndim != 3 or image_bgr.shape[-1] != 3
                or image_bgr.dtype != np.uint8):
            raise ValueError('image_bgr must be an (H, W, 3) uint8 BGR '
                             f'image, got {image_bgr.dtype} '
                             f'{image_bgr.shape}')
        if bboxes is None:
            h, w = image_bgr.shape[:2]
            bboxes = np.array([[0, 0, w, h]], dtype=np.float32)
        bboxes = np.asarray(bboxes)
        if bboxes.size == 0:
            bboxes = bboxes.reshape(0, 4)
        if bboxes.ndim != 2 or bboxes.shape[1] != 4:
            raise ValueError(
                f'bboxes must be (N, 4) xyxy, got shape {bboxes.shape}')
        if not np.issubdtype(bboxes.dtype, np.floating):
            bboxes = bboxes.astype(np.float32)

        inputs, centers, scales = self.preprocess(image_bgr, bboxes)
        num_k = self.meta['num_keypoints']
        if len(bboxes) == 0:
            w, h = self.meta['heatmap_size']
            out = dict(
                keypoints=np.zeros((0, num_k, 2), np.float32),
                scores=np.zeros((0, num_k), np.float32),
                heatmaps=np.zeros((0, num_k, h, w), np.float32),
                input_center=centers, input_scale=scales)
            if 'limb_masks' in self.meta['output_names']:
                out['limb_masks'] = np.zeros(
                    (0, len(self.structure_channels), h, w), np.float32)
            return out

        maps = self.forward(inputs)
        keypoints, scores = [], []
        for heatmaps in maps['heatmaps']:
            kpts, kpt_scores = self.codec.decode(heatmaps)
            if isinstance(kpt_scores, tuple):  # (scores, visibility)
                kpt_scores = kpt_scores[0]
            keypoints.append(kpts)
            scores.append(kpt_scores)
        keypoints = crop_to_image(
            np.concatenate(keypoints), self.input_size, centers, scales)
        out = dict(keypoints=keypoints, scores=np.concatenate(scores),
                   input_center=centers, input_scale=scales, **maps)
        return out
