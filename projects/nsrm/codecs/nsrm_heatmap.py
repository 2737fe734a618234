"""The NSRM authors' keypoint heatmaps: DARK-style sub-pixel Gaussian targets,
decoded by the integer argmax."""
from typing import Optional, Tuple

import numpy as np

from mmpose.codecs import MSRAHeatmap
from mmpose.codecs.utils import (get_heatmap_maximum, refine_keypoints,
                                 refine_keypoints_dark)
from mmpose.registry import KEYPOINT_CODECS

from .utils.keypoint_heatmaps import gaussian_keypoint_heatmaps

#: Decoding refinements of :class:`NSRMHeatmap`.
REFINE_MODES = ('none', 'shift', 'dark')


@KEYPOINT_CODECS.register_module()
class NSRMHeatmap(MSRAHeatmap):
    """Keypoint confidence maps as the NSRM paper (Eq. 6) trains and its
    authors evaluate them.

    Encoding is ``MSRAHeatmap(..., unbiased=True)``'s (identical output,
    computed for all keypoints at once by
    :func:`~projects.nsrm.codecs.utils.gaussian_keypoint_heatmaps`): a
    full Gaussian of ``sigma`` heatmap pixels centred on the sub-pixel
    keypoint ``x_input * W / w``; an invisible keypoint gives a zero map and a
    zero weight. Decoding takes each map's integer argmax and scales it back,
    ``x_input = x_grid * w / W``; MMPose's refinements are options.

    Note:

        - instance number: N (1: single-instance encoding)
        - keypoint number: K
        - keypoint dimension: D (2)
        - image size: [w, h]
        - heatmap size: [W, H]

    Encoded:

        - heatmaps (np.ndarray): The generated heatmap in shape (K, H, W)
            where [W, H] is the ``heatmap_size``
        - keypoint_weights (np.ndarray): The target weights in shape (N, K)

    Args:
        input_size (tuple): Image size in [w, h], e.g. (368, 368).
        heatmap_size (tuple): Heatmap size in [W, H], e.g. (46, 46).
        sigma (float): The Gaussian's sigma in heatmap pixels. Defaults to
            1.0 (the paper's sigma_KCM).
        refine (str): Decoding refinement of the argmax: ``'none'`` (the
            authors': the integer cell), ``'shift'`` (MMPose's quarter-pixel
            step towards the higher neighbour, ``MSRAHeatmap(unbiased=False)``)
            or ``'dark'`` (MMPose's DARK Taylor refinement,
            ``MSRAHeatmap(unbiased=True)``). Defaults to ``'none'``.
        blur_kernel_size (int): The Gaussian blur kernel size of DARK's
            heatmap modulation (``refine='dark'`` only). Defaults to 11.
    """

    def __init__(self,
                 input_size: Tuple[int, int],
                 heatmap_size: Tuple[int, int],
                 sigma: float = 1.0,
                 refine: str = 'none',
                 blur_kernel_size: int = 11) -> None:
        if refine not in REFINE_MODES:
            raise ValueError(f'NSRMHeatmap: refine must be one of '
                             f'{REFINE_MODES}, got {refine!r}')
        super().__init__(
            input_size=input_size,
            heatmap_size=heatmap_size,
            sigma=sigma,
            unbiased=True,
            blur_kernel_size=blur_kernel_size)
        self.refine = refine

    def encode(self,
               keypoints: np.ndarray,
               keypoints_visible: Optional[np.ndarray] = None) -> dict:
        """Encodes one instance's keypoints (input image space) as heatmaps.

        Args:
            keypoints (np.ndarray): Keypoint coordinates in shape (1, K, D).
            keypoints_visible (np.ndarray, optional): Visibilities in shape
                (1, K). Defaults to all ones.

        Returns:
            dict:
            - heatmaps (np.ndarray): (K, H, W) float32.
            - keypoint_weights (np.ndarray): (1, K).
        """
        if keypoints.shape[0] != 1:
            raise ValueError(
                f'{type(self).__name__} encodes a single instance, got '
                f'{keypoints.shape[0]} instances (keypoints shape '
                f'{keypoints.shape})')
        if keypoints_visible is None:
            keypoints_visible = np.ones(keypoints.shape[:2], dtype=np.float32)
        heatmaps, keypoint_weights = gaussian_keypoint_heatmaps(
            heatmap_size=self.heatmap_size,
            keypoints=keypoints / self.scale_factor,
            keypoints_visible=keypoints_visible,
            sigma=self.sigma)
        return dict(heatmaps=heatmaps, keypoint_weights=keypoint_weights)

    def decode(self, encoded: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Decodes keypoints (in the input image space) from heatmaps.

        Args:
            encoded (np.ndarray): Heatmaps in shape (K, H, W).

        Returns:
            tuple:
            - keypoints (np.ndarray): Keypoint coordinates in shape (1, K, 2).
              A map whose maximum is <= 0 gives MMPose's "no maximum" cell
              (-1, -1), scaled like the others.
            - scores (np.ndarray): Each map's maximum value, in shape (1, K).
        """
        heatmaps = encoded.copy()  # DARK blurs in place
        keypoints, scores = get_heatmap_maximum(heatmaps)
        keypoints, scores = keypoints[None], scores[None]
        if self.refine == 'shift':
            keypoints = refine_keypoints(keypoints, heatmaps)
        elif self.refine == 'dark':
            keypoints = refine_keypoints_dark(
                keypoints, heatmaps, blur_kernel_size=self.blur_kernel_size)
        return keypoints * self.scale_factor, scores
