"""Sub-pixel Gaussian keypoint heatmaps for all keypoints at once: pure
numpy, arrays in, arrays out.

The same maps as MMPose's ``generate_unbiased_gaussian_heatmaps`` (the
``MSRAHeatmap(unbiased=True)`` encoding; bit-identical for one instance),
computed for the K keypoints in one broadcast instead of a Python loop over
them: about 4x faster for 21 keypoints on a 46x46 grid, which is a fifth of
the paper pipeline's per-sample cost (``benchmarks/targets_speed.py``).
"""
from typing import Tuple

import numpy as np


def gaussian_keypoint_heatmaps(heatmap_size: Tuple[int, int],
                               keypoints: np.ndarray,
                               keypoints_visible: np.ndarray,
                               sigma: float
                               ) -> Tuple[np.ndarray, np.ndarray]:
    """Full Gaussians centred on sub-pixel keypoints of one instance.

    Map ``k`` is ``exp(-((x - mu_x)^2 + (y - mu_y)^2) / (2 sigma^2))`` over
    the grid's integer pixel centres, with ``mu`` keypoint ``k`` in heatmap
    coordinates. A keypoint with visibility < 0.5 gets a zero map (its weight
    is kept); one whose 3-sigma square lies wholly outside the grid gets a
    zero map and a zero weight, as in MMPose.

    Args:
        heatmap_size (Tuple[int, int]): ``(W, H)``.
        keypoints (np.ndarray): (1, K, 2) in heatmap coordinates.
        keypoints_visible (np.ndarray): (1, K).
        sigma (float): The Gaussian's sigma in heatmap pixels.

    Returns:
        tuple:
        - heatmaps (np.ndarray): (K, H, W) float32.
        - keypoint_weights (np.ndarray): (1, K), a copy of
          ``keypoints_visible`` with the out-of-grid keypoints zeroed.
    """
    keypoints = np.asarray(keypoints)
    if keypoints.ndim != 3 or keypoints.shape[0] != 1:
        raise ValueError('gaussian_keypoint_heatmaps encodes one instance: '
                         'keypoints must have shape (1, K, D), got '
                         f'{keypoints.shape}')
    width, height = heatmap_size
    weights = np.array(keypoints_visible, copy=True)
    mu = keypoints[0, :, :2]
    radius = sigma * 3
    outside = ((mu[:, 0] - radius >= width) | (mu[:, 1] - radius >= height)
               | (mu[:, 0] + radius + 1 < 0) | (mu[:, 1] + radius + 1 < 0))
    labelled = weights[0] >= 0.5
    weights[0, labelled & outside] = 0
    drawn = labelled & ~outside
    heatmaps = np.zeros((len(mu), height, width), dtype=np.float32)
    if drawn.any():
        x = np.arange(0, width, 1, dtype=np.float32)
        y = np.arange(0, height, 1, dtype=np.float32)[:, None]
        # float32 as in MMPose, where NumPy 1.x computes a float32 grid
        # minus a float64 scalar in float32
        mu_x = mu[drawn, 0].astype(np.float32)[:, None, None]
        mu_y = mu[drawn, 1].astype(np.float32)[:, None, None]
        heatmaps[drawn] = np.exp(-((x - mu_x)**2 + (y - mu_y)**2) /
                                 (2 * sigma**2))
    return heatmaps, weights
