"""``WholeImageResize``: the paper's OneHand10K input, the whole image
resized (stretched) to the model input, no hand crop."""
from typing import Dict, Optional, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmpose.registry import TRANSFORMS

from ...codecs.utils.limb_masks import validate_size


def whole_image_warp(image_size: Tuple[int, int],
                     input_size: Tuple[int, int]) -> np.ndarray:
    """The affine matrix that stretches a whole image onto the input.

    Args:
        image_size (Tuple[int, int]): Image size ``(W, H)``.
        input_size (Tuple[int, int]): Model input size ``(w, h)``.

    Returns:
        np.ndarray: (2, 3) float32 ``[[w / W, 0, 0], [0, h / H, 0]]``, in the
        convention of ``cv2.warpAffine`` and MMPose's ``TopdownAffine``
        (``x_input = x_image * w / W``, no half-pixel shift).
    """
    (img_w, img_h), (w, h) = image_size, input_size
    return np.array([[w / img_w, 0., 0.], [0., h / img_h, 0.]],
                    dtype=np.float32)


@TRANSFORMS.register_module()
class WholeImageResize(BaseTransform):
    """Resize the whole image to the model input, each axis on its own (the
    aspect ratio is not kept), as the NSRM paper does on OneHand10K ("we
    don't do any hand cropping").

    It replaces ``GetBBoxCenterScale`` + ``TopdownAffine`` in a top-down
    pipeline. The box of the sample becomes the whole image (``bbox_center``
    and ``bbox_scale``; the annotation ``bbox`` is kept for the metrics), so
    MMPose's ``TopdownPoseEstimator`` maps predictions back to the image with
    ``input_center`` / ``input_scale`` per axis.

    Required Keys:

        - img: (H, W, 3) or (H, W)
        - keypoints (optional): (1, K, 2)

    Added Keys:

        - transformed_keypoints: (1, K, 2) in input pixels
        - warp_mat: (2, 3) float32, image pixels -> input pixels
        - input_size, input_center, input_scale

    Modified Keys:

        - img: (h, w, 3) or (h, w)
        - bbox_center: (1, 2), the image centre ``(W / 2, H / 2)``
        - bbox_scale: (1, 2), the image size ``(W, H)``

    The image is warped with ``cv2.warpAffine`` (bilinear) by
    ``warp_mat``, exactly the mapping applied to the keypoints, as
    ``TopdownAffine`` does.

    Args:
        input_size (Tuple[int, int]): Model input size ``(w, h)``.
    """

    def __init__(self, input_size: Tuple[int, int]):
        super().__init__()
        self.input_size = validate_size(input_size, 'input_size')

    def transform(self, results: Dict) -> Optional[dict]:
        """Resize ``results['img']`` and its keypoints; see the class
        docstring."""
        img = results['img']
        if isinstance(img, list):
            raise ValueError('WholeImageResize expects one image per sample, '
                             f'got a list of {len(img)}')
        img_h, img_w = img.shape[:2]
        if img_w < 1 or img_h < 1:
            raise ValueError('WholeImageResize: empty image '
                             f'{results.get("img_path", "")} ({img.shape})')
        w, h = self.input_size
        warp_mat = whole_image_warp((img_w, img_h), (w, h))
        results['img'] = cv2.warpAffine(
            img, warp_mat, (w, h), flags=cv2.INTER_LINEAR)

        keypoints = results.get('keypoints', None)
        if keypoints is not None:
            transformed = np.array(keypoints, dtype=np.float32, copy=True)
            transformed[..., :2] = keypoints[..., :2] * np.array(
                [w / img_w, h / img_h], dtype=np.float32)
            results['transformed_keypoints'] = transformed

        size = np.array([img_w, img_h], dtype=np.float32)
        results['bbox_center'] = (size / 2)[None]
        results['bbox_scale'] = size[None]
        results['warp_mat'] = warp_mat
        results['input_size'] = (w, h)
        results['input_center'] = size / 2
        results['input_scale'] = size
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(input_size={self.input_size})'
