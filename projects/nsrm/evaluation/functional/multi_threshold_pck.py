"""PCK at several thresholds in one pass, as the NSRM paper reports it.

A keypoint is correct when its Euclidean error, divided by the image's
normaliser, is strictly below the threshold (``d / norm < thr``, as MMPose's
``keypoint_pck_accuracy`` compares). Only labelled keypoints count. The
paper's normaliser is the longer side of the tight box around the image's
labelled ground-truth keypoints (:func:`keypoint_bbox_size`).

Note:
    - number of images (rows, one instance each): N
    - number of keypoints: K
    - number of thresholds: T
"""
from typing import Sequence, Tuple

import numpy as np

#: How the per-keypoint hits are averaged (see :func:`multi_threshold_pck`).
AVERAGE_MODES = ('image', 'keypoint')


def keypoint_bbox_size(gt: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The longer side of the tight box around each row's labelled keypoints.

    Args:
        gt (np.ndarray): Ground-truth keypoints in shape (N, K, 2), as (x, y).
        mask (np.ndarray): Labelled keypoints in shape (N, K), bool.

    Returns:
        np.ndarray: ``max(max(x) - min(x), max(y) - min(y))`` over the
        labelled keypoints of each row, in shape (N,), float64. 0 for a row
        with fewer than two labelled keypoints (no box).
    """
    gt = np.asarray(gt, dtype=np.float64)
    mask = np.asarray(mask, dtype=bool)
    _check_shapes(gt=gt, mask=mask)
    lo = np.where(mask[..., None], gt, np.inf).min(axis=1)  # (N, 2)
    hi = np.where(mask[..., None], gt, -np.inf).max(axis=1)  # (N, 2)
    size = (hi - lo).max(axis=1)  # -inf for a row without labels
    return np.where(mask.any(axis=1), size, 0.0)


def countable_rows(mask: np.ndarray, norm_size: np.ndarray) -> np.ndarray:
    """Rows that PCK counts: at least one labelled keypoint and a positive,
    finite normaliser. The others are skipped.

    Args:
        mask (np.ndarray): Labelled keypoints in shape (N, K), bool.
        norm_size (np.ndarray): Normalisers in shape (N,).

    Returns:
        np.ndarray: Counted rows in shape (N,), bool.
    """
    norm_size = np.asarray(norm_size, dtype=np.float64)
    return (np.asarray(mask, dtype=bool).any(axis=1) & np.isfinite(norm_size)
            & (norm_size > 0))


def multi_threshold_pck(pred: np.ndarray,
                        gt: np.ndarray,
                        mask: np.ndarray,
                        norm_size: np.ndarray,
                        thresholds: Sequence[float],
                        average: str = 'image') -> Tuple[np.ndarray, int, int]:
    """PCK at every threshold of ``thresholds``.

    Args:
        pred (np.ndarray): Predicted keypoints in shape (N, K, 2).
        gt (np.ndarray): Ground-truth keypoints in shape (N, K, 2).
        mask (np.ndarray): Labelled keypoints in shape (N, K), bool.
        norm_size (np.ndarray): Each row's normaliser in shape (N,), in the
            keypoints' unit (e.g. :func:`keypoint_bbox_size`).
        thresholds (Sequence[float]): T thresholds, fractions of the
            normaliser.
        average (str): ``'image'``: the fraction of each row's labelled
            keypoints that are correct, then the mean over rows (the
            authors' evaluation); ``'keypoint'``: the fraction of all
            labelled keypoints of all counted rows. Defaults to ``'image'``.

    Returns:
        tuple:
        - pck (np.ndarray): PCK at each threshold, fractions in [0, 1], in
          shape (T,).
        - counted (int): Rows counted.
        - skipped (int): Rows skipped: no labelled keypoint, or a normaliser
          that is not positive (e.g. a single labelled keypoint under
          :func:`keypoint_bbox_size`).

    Raises:
        ValueError: shapes that do not match, an unknown ``average``, or no
            countable row at all (an empty evaluation has no PCK).
    """
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    mask = np.asarray(mask, dtype=bool)
    norm_size = np.asarray(norm_size, dtype=np.float64)
    thresholds = np.asarray(thresholds, dtype=np.float64).reshape(-1)
    _check_shapes(pred=pred, gt=gt, mask=mask, norm_size=norm_size)
    if average not in AVERAGE_MODES:
        raise ValueError(f'average must be one of {AVERAGE_MODES}, '
                         f'got {average!r}')

    rows = countable_rows(mask, norm_size)
    counted, skipped = int(rows.sum()), int((~rows).sum())
    if counted == 0:
        raise ValueError(
            f'no image with labelled keypoints and a positive normaliser: '
            f'all {len(rows)} images were skipped '
            f'({int(mask.sum())} labelled keypoints in all), so there is no '
            'PCK to report')

    # normalised errors of the counted rows: (n, K)
    error = np.linalg.norm(pred[rows] - gt[rows], axis=-1)
    error = error / norm_size[rows, None]
    labelled = mask[rows]
    hits = (error[None] < thresholds[:, None, None]) & labelled[None]
    if average == 'image':
        pck = (hits.sum(axis=2) / labelled.sum(axis=1)).mean(axis=1)
    else:
        pck = hits.sum(axis=(1, 2)) / labelled.sum()
    return pck, counted, skipped


def _check_shapes(pred=None, gt=None, mask=None, norm_size=None) -> None:
    """Raises ValueError naming the first array whose shape does not fit
    (N, K, 2) / (N, K) / (N,)."""
    if gt is not None and (gt.ndim != 3 or gt.shape[-1] != 2):
        raise ValueError(f'gt must have shape (N, K, 2), got {gt.shape}')
    if pred is not None and pred.shape != gt.shape:
        raise ValueError(f'pred must have the shape of gt {gt.shape}, '
                         f'got {pred.shape}')
    if mask.shape != gt.shape[:2]:
        raise ValueError(f'mask must have shape (N, K) = {gt.shape[:2]}, '
                         f'got {mask.shape}')
    if norm_size is not None and norm_size.shape != gt.shape[:1]:
        raise ValueError(f'norm_size must have shape (N,) = {gt.shape[:1]}, '
                         f'got {norm_size.shape}')
