"""How well predicted limb masks match their targets: IoU of the binarised
masks and binary cross-entropy of the probabilities.

The per-sample functions return per-channel sums (arrays in, arrays out), so
that a metric can keep a few numbers per sample instead of whole maps and
pool them at the end (:func:`mean_iou`, :func:`mean_bce`).

Note:
    - number of samples: N
    - number of structure channels: C (1 for G1, 6 for G6, 7 for G1&6)
    - mask height and width: H, W
"""
from typing import Optional, Tuple

import numpy as np

#: Probabilities are clipped to [BCE_EPS, 1 - BCE_EPS] in the BCE.
BCE_EPS = 1e-6


def _check_masks(pred: np.ndarray, target: np.ndarray) -> None:
    """ValueError unless pred and target are (N, C, H, W) of one shape
    with values in [0, 1]."""
    if pred.ndim != 4:
        raise ValueError(f'pred must have shape (N, C, H, W), got '
                         f'{pred.shape}')
    if target.shape != pred.shape:
        raise ValueError(f'target must have the shape of pred {pred.shape}, '
                         f'got {target.shape}')
    for name, arr in (('pred', pred), ('target', target)):
        if arr.size and not (np.isfinite(arr).all() and arr.min() >= 0
                             and arr.max() <= 1):
            raise ValueError(
                f'{name} must hold probabilities in [0, 1], got values in '
                f'[{np.nanmin(arr):g}, {np.nanmax(arr):g}]'
                + (' (logits? apply the sigmoid first)'
                   if name == 'pred' else ''))


def mask_iou_counts(pred: np.ndarray,
                    target: np.ndarray,
                    thr: float = 0.5) -> Tuple[np.ndarray, np.ndarray]:
    """Intersection and union of the masks binarised at ``thr``.

    Args:
        pred (np.ndarray): Predicted probabilities in shape (N, C, H, W).
        target (np.ndarray): Targets in [0, 1] in shape (N, C, H, W).
        thr (float): A pixel is on when its value is strictly above
            ``thr``. Defaults to 0.5.

    Returns:
        tuple:
        - intersection (np.ndarray): Pixels on in both, in shape (N, C),
          int64.
        - union (np.ndarray): Pixels on in either, in shape (N, C), int64.
    """
    pred, target = np.asarray(pred), np.asarray(target)
    _check_masks(pred, target)
    p, t = pred > thr, target > thr
    return ((p & t).sum(axis=(2, 3), dtype=np.int64),
            (p | t).sum(axis=(2, 3), dtype=np.int64))


def mask_bce_sums(pred: np.ndarray,
                  target: np.ndarray,
                  eps: float = BCE_EPS) -> np.ndarray:
    """Elementwise binary cross-entropy, summed over each map's pixels.

    ``-(t log p + (1 - t) log(1 - p))`` with ``p`` clipped to
    ``[eps, 1 - eps]``. Its minimum over ``p`` is the entropy of ``t``: 0
    for a binary target (about ``eps`` per pixel when ``p == t``), above 0
    for a soft (LPM) target.

    Args:
        pred (np.ndarray): Predicted probabilities in shape (N, C, H, W).
        target (np.ndarray): Targets in [0, 1] in shape (N, C, H, W).
        eps (float): The clipping margin. Defaults to :data:`BCE_EPS`.

    Returns:
        np.ndarray: The sums in shape (N, C), float64 (divide by H x W for
        the mean).
    """
    pred = np.asarray(pred, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    _check_masks(pred, target)
    p = np.clip(pred, eps, 1 - eps)
    bce = -(target * np.log(p) + (1 - target) * np.log1p(-p))
    return bce.sum(axis=(2, 3))


def mean_iou(intersection: np.ndarray,
             union: np.ndarray) -> Tuple[Optional[float], int, int]:
    """Mean IoU over the (sample, channel) pairs whose union is not empty.

    A pair whose prediction and target are both empty (nothing above the
    threshold) has no IoU and is skipped, not counted as 0 or 1.

    Args:
        intersection (np.ndarray): Intersections in shape (N, C).
        union (np.ndarray): Unions in shape (N, C).

    Returns:
        tuple:
        - miou (float | None): The mean of ``intersection / union`` over
          the counted pairs, None when no pair is counted (never NaN).
        - counted (int): Pairs counted.
        - skipped (int): Pairs skipped (empty union).
    """
    intersection = np.asarray(intersection, dtype=np.float64)
    union = np.asarray(union, dtype=np.float64)
    if intersection.shape != union.shape:
        raise ValueError(f'intersection {intersection.shape} and union '
                         f'{union.shape} differ in shape')
    keep = union > 0
    counted = int(keep.sum())
    miou = None
    if counted:
        miou = float((intersection[keep] / union[keep]).mean())
    return miou, counted, int(keep.size - counted)


def mean_bce(bce_sums: np.ndarray, num_pixels: np.ndarray) -> float:
    """Mean elementwise BCE over all pixels, channels and samples.

    Args:
        bce_sums (np.ndarray): Per-map sums (:func:`mask_bce_sums`) in shape
            (N, C).
        num_pixels (np.ndarray): Each sample's H x W in shape (N,).

    Returns:
        float: ``sum(bce_sums) / (C * sum(num_pixels))``.
    """
    bce_sums = np.asarray(bce_sums, dtype=np.float64)
    num_pixels = np.asarray(num_pixels, dtype=np.float64)
    if bce_sums.ndim != 2 or num_pixels.shape != bce_sums.shape[:1]:
        raise ValueError(f'bce_sums (N, C) and num_pixels (N,) do not fit: '
                         f'{bce_sums.shape} and {num_pixels.shape}')
    total = num_pixels.sum() * bce_sums.shape[1]
    if total <= 0:
        raise ValueError('no pixel to average the BCE over')
    return float(bce_sums.sum() / total)
