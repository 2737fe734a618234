"""PCK split by the COCO visibility flag: on the visible (``v = 2``) and on
the occluded (``v = 1``, labelled but not visible) keypoints separately.

Each subset is scored exactly as the overall figure
(:func:`~.multi_threshold_pck.multi_threshold_pck`): same normaliser (the
caller's, e.g. the tight box of ALL labelled keypoints, visible and
occluded), same averaging, restricted to the subset's keypoints. A row with
no keypoint of a subset is skipped for that subset only.

Note:
    - number of rows (images, one instance each): N
    - number of keypoints: K
    - number of thresholds: T
"""
from typing import Dict, Sequence, Tuple

import numpy as np

from .multi_threshold_pck import (AVERAGE_MODES, _check_shapes, countable_rows,
                                  multi_threshold_pck)

#: The COCO visibility flag of each subset, in report order.
VISIBILITY_FLAGS: Dict[str, int] = {'visible': 2, 'occluded': 1}


def visibility_subsets(mask: np.ndarray,
                       flags: np.ndarray) -> Dict[str, np.ndarray]:
    """The labelled keypoints of each visibility subset.

    Args:
        mask (np.ndarray): Labelled keypoints in shape (N, K), bool.
        flags (np.ndarray): The raw COCO visibility flags in shape (N, K):
            0 unlabelled, 1 labelled but not visible, 2 labelled and
            visible.

    Returns:
        Dict[str, np.ndarray]: ``{'visible': mask & (flags == 2),
        'occluded': mask & (flags == 1)}``, each (N, K) bool.

    Raises:
        ValueError: ``flags`` not of shape (N, K), or a labelled keypoint
            whose flag is neither 1 nor 2 (the split would be wrong).
    """
    mask = np.asarray(mask, dtype=bool)
    flags = np.asarray(flags, dtype=np.float64)
    if flags.shape != mask.shape:
        raise ValueError(f'flags must have the shape of mask {mask.shape}, '
                         f'got {flags.shape}')
    odd = mask & (flags != 1) & (flags != 2)
    if odd.any():
        row, kpt = np.argwhere(odd)[0]
        raise ValueError(
            f'{int(odd.sum())} labelled keypoints have a visibility flag '
            f'other than 1 (occluded) or 2 (visible), e.g. keypoint {kpt} '
            f'of row {row} has v = {flags[row, kpt]:g}; the visible / '
            'occluded split needs COCO flags')
    return {
        name: mask & (flags == value)
        for name, value in VISIBILITY_FLAGS.items()
    }


def visibility_split_pck(
        pred: np.ndarray,
        gt: np.ndarray,
        mask: np.ndarray,
        flags: np.ndarray,
        norm_size: np.ndarray,
        thresholds: Sequence[float],
        average: str = 'image') -> Dict[str, Tuple[np.ndarray, int, int]]:
    """PCK at every threshold on the visible and on the occluded keypoints.

    Args:
        pred (np.ndarray): Predicted keypoints in shape (N, K, 2).
        gt (np.ndarray): Ground-truth keypoints in shape (N, K, 2).
        mask (np.ndarray): Labelled keypoints in shape (N, K), bool.
        flags (np.ndarray): Raw COCO visibility flags in shape (N, K) (see
            :func:`visibility_subsets`).
        norm_size (np.ndarray): Each row's normaliser in shape (N,), the
            one of the overall figure (not recomputed per subset).
        thresholds (Sequence[float]): T thresholds, fractions of the
            normaliser.
        average (str): ``'image'`` or ``'keypoint'``, as in
            :func:`~.multi_threshold_pck.multi_threshold_pck`. Defaults to
            ``'image'``.

    Returns:
        Dict[str, tuple]: For each subset (``'visible'``, ``'occluded'``)
        with at least one countable row (a row with a keypoint of the subset
        and a positive normaliser), ``(pck, counted, skipped)``: PCK in
        shape (T,), rows counted, rows skipped for this subset. A subset
        with no countable row is left out (never a NaN).

    Raises:
        ValueError: shapes that do not match, an unknown ``average``, or a
            labelled keypoint whose flag is neither 1 nor 2.
    """
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    mask = np.asarray(mask, dtype=bool)
    norm_size = np.asarray(norm_size, dtype=np.float64)
    _check_shapes(pred=pred, gt=gt, mask=mask, norm_size=norm_size)
    if average not in AVERAGE_MODES:
        raise ValueError(f'average must be one of {AVERAGE_MODES}, '
                         f'got {average!r}')
    out = {}
    for name, subset in visibility_subsets(mask, flags).items():
        if countable_rows(subset, norm_size).any():
            out[name] = multi_threshold_pck(pred, gt, subset, norm_size,
                                            thresholds, average)
    return out
