"""Real hand masks as NSRM structure targets (pure numpy / cv2).

The "Real Mask" rows of the paper's Table 2 supervise the G1 structure
channel with the dataset's own hand segmentation instead of the synthetic
limb masks. These functions turn such a segmentation into the same kind of
target as :func:`~.limb_masks.generate_limb_masks` gives for ``groups='G1'``:
a (H, W) float32 map in [0, 1] on the heatmap grid.

Conventions:

- COCO polygons use the pixel-edge convention of pycocotools: pixel
  ``(col, row)`` covers ``[col, col + 1) x [row, row + 1)``, so it is inside
  a polygon when its centre ``(col + 0.5, row + 0.5)`` is (even-odd rule,
  several polygons of one object are united, as pycocotools does).
- Warped masks use the pixel-centre convention of ``cv2.warpAffine`` and of
  MMPose's ``TopdownAffine`` (pixel ``col`` is centred at ``x = col``), the
  one the keypoints follow.
- Heatmap grid: ``x_grid = x_input * W / w`` (no half-pixel shift, as the
  keypoint and limb-mask targets). Heatmap cell ``j`` is the AREA AVERAGE of
  the input-resolution mask over the ``s = w / W`` wide window CENTRED on
  ``x_input = j * s`` (and likewise in y), i.e. the fraction of the cell
  covered by the hand. The window is centred where the keypoint targets put
  cell ``j``; a plain block average (``cv2.resize(INTER_AREA)``) would be
  centred at ``j * s + (s - 1) / 2``, half a cell off (1.5 input pixels at
  ``s = 4``). :func:`hand_mask_target` therefore warps the mask with the
  matrix shifted by ``((s_x - 1) / 2, (s_y - 1) / 2)`` input pixels and then
  block-averages it; the shifted warp samples the source image, so the
  border cells average real mask pixels outside the crop too.
"""
from typing import Sequence, Tuple

import cv2
import numpy as np

from .limb_masks import validate_size


def polygons_to_mask(polygons: Sequence[Sequence[float]], height: int,
                     width: int) -> np.ndarray:
    """Rasterise COCO polygons into a binary mask at image resolution.

    Pixel ``(col, row)`` is set when its centre ``(col + 0.5, row + 0.5)``
    lies inside any of the polygons (pixel-edge convention, even-odd rule
    inside each polygon, union over the polygons). Scanline crossings are
    counted with one cumulative sum per row (no per-pixel Python loop).

    Args:
        polygons (Sequence[Sequence[float]]): P polygons, each a flat list
            ``[x1, y1, x2, y2, ...]`` of at least 3 points, in image pixels
            (pixel-edge convention).
        height (int): Image height H.
        width (int): Image width W.

    Returns:
        np.ndarray: (H, W) uint8, 1 inside the polygons, else 0.
    """
    height, width = int(height), int(width)
    if height < 1 or width < 1:
        raise ValueError(
            f'polygons_to_mask: image size must be positive, got height='
            f'{height}, width={width}')
    if isinstance(polygons, (str, bytes, dict)) or not len(polygons):
        raise ValueError(
            'polygons must be a non-empty list of flat [x1, y1, x2, y2, ...] '
            f'lists, got {polygons!r:.80}')
    row_centres = np.arange(height, dtype=np.float64) + 0.5
    toggles = np.zeros((height, width + 1), dtype=np.int32)
    inside = np.zeros((height, width), dtype=bool)
    for i, poly in enumerate(polygons):
        pts = _polygon_points(poly, i)
        x0, y0 = pts[:, 0], pts[:, 1]
        x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
        # (E, H): edge e crosses the scanline through the row centres
        # (half-open in y, so a vertex on a scanline counts once)
        crosses = ((y0[:, None] <= row_centres) !=
                   (y1[:, None] <= row_centres))
        edge, row = np.nonzero(crosses)
        t = (row_centres[row] - y0[edge]) / (y1[edge] - y0[edge])
        x_cross = x0[edge] + t * (x1[edge] - x0[edge])
        # the crossing flips parity for every column whose centre
        # col + 0.5 lies right of it: col >= floor(x_cross - 0.5) + 1
        first = np.clip(np.floor(x_cross - 0.5) + 1, 0, width).astype(int)
        toggles[:] = 0
        np.add.at(toggles, (row, first), 1)
        inside |= np.cumsum(toggles[:, :width], axis=1) % 2 == 1
    return inside.astype(np.uint8)


def _polygon_points(poly, index: int) -> np.ndarray:
    """One flat polygon as checked (N, 2) float64 points, N >= 3."""
    try:
        pts = np.asarray(poly, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f'polygon {index} is not a flat list of numbers: '
                         f'{poly!r:.80}') from None
    if pts.ndim != 1 or len(pts) < 6 or len(pts) % 2:
        raise ValueError(
            f'polygon {index} must be a flat [x1, y1, x2, y2, ...] list of '
            f'at least 3 points, got shape {pts.shape}')
    if not np.isfinite(pts).all():
        raise ValueError(f'polygon {index} has non-finite coordinates')
    return pts.reshape(-1, 2)


def is_box_polygon(polygons: Sequence[Sequence[float]]) -> bool:
    """Whether a segmentation is only an axis-aligned rectangle.

    MMPose's OneHand10K annotation files store the bounding box as an
    8-point polygon in ``segmentation``; such a "mask" is no hand shape.

    Args:
        polygons (Sequence[Sequence[float]]): COCO polygons.

    Returns:
        bool: True when there is one polygon whose (shoelace) area equals
        the area of its own bounding rectangle (and is not zero).
    """
    if len(polygons) != 1:
        return False
    pts = _polygon_points(polygons[0], 0)
    x, y = pts[:, 0], pts[:, 1]
    area = 0.5 * abs(x @ np.roll(y, -1) - y @ np.roll(x, -1))
    box = np.ptp(x) * np.ptp(y)
    return bool(box > 0 and abs(area - box) <= 1e-6 * box)


def _check_mask(mask: np.ndarray) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.ndim != 2 or 0 in mask.shape:
        raise ValueError(
            f'mask must be a non-empty (H, W) array, got shape {mask.shape}')
    return mask


def _check_warp_mat(warp_mat) -> np.ndarray:
    warp_mat = np.asarray(warp_mat, dtype=np.float64)
    if warp_mat.shape != (2, 3) or not np.isfinite(warp_mat).all():
        raise ValueError('warp_mat must be a finite (2, 3) affine matrix, '
                         f'got {warp_mat.tolist()}')
    return warp_mat


def warp_mask(mask: np.ndarray, warp_mat: np.ndarray,
              input_size: Tuple[int, int]) -> np.ndarray:
    """Warp an image-resolution mask to the model input like the image.

    ``cv2.warpAffine`` with bilinear interpolation (as ``TopdownAffine``
    warps the image) of the mask as float32, zero outside the image.

    Args:
        mask (np.ndarray): (H_img, W_img) mask, values in [0, 1] (bool or
            uint8 0/1 are fine).
        warp_mat (np.ndarray): (2, 3) affine matrix mapping image pixels to
            input pixels (pixel-centre convention, as ``cv2.warpAffine``).
        input_size (Tuple[int, int]): Model input size ``(w, h)``.

    Returns:
        np.ndarray: (h, w) float32 in [0, 1].
    """
    mask = _check_mask(mask)
    w, h = validate_size(input_size, 'input_size')
    warp_mat = _check_warp_mat(warp_mat)
    out = cv2.warpAffine(mask.astype(np.float32), warp_mat, (w, h),
                         flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return np.clip(out, 0, 1)


def area_reduce(mask: np.ndarray, heatmap_size: Tuple[int, int]) -> np.ndarray:
    """Area-average an input-resolution map down to the heatmap size.

    Cell ``(i, j)`` is the mean of the map over input pixels
    ``[j * s_x, (j + 1) * s_x) x [i * s_y, (i + 1) * s_y)`` (pixel-edge
    bounds, ``s_x = w / W``, ``s_y = h / H``; fractional pixels weighted by
    their overlap when ``s`` is not an integer: ``cv2.INTER_AREA``).

    Args:
        mask (np.ndarray): (h, w) map.
        heatmap_size (Tuple[int, int]): ``(W, H)``, at most ``(w, h)``.

    Returns:
        np.ndarray: (H, W) float32.
    """
    mask = _check_mask(mask)
    hm_w, hm_h = validate_size(heatmap_size, 'heatmap_size')
    h, w = mask.shape
    if hm_w > w or hm_h > h:
        raise ValueError(
            f'heatmap_size {(hm_w, hm_h)} must not exceed the mask size '
            f'{(w, h)} (area averaging only reduces)')
    mask = mask.astype(np.float32)
    if w % hm_w == 0 and h % hm_h == 0:  # exact block mean
        return mask.reshape(hm_h, h // hm_h, hm_w, w // hm_w).mean(
            axis=(1, 3), dtype=np.float64).astype(np.float32)
    return cv2.resize(mask, (hm_w, hm_h), interpolation=cv2.INTER_AREA)


def grid_aligned_warp(warp_mat: np.ndarray, input_size: Tuple[int, int],
                      heatmap_size: Tuple[int, int]) -> np.ndarray:
    """The warp matrix followed by the half-cell shift that centres
    :func:`area_reduce`'s blocks on the heatmap grid points.

    Args:
        warp_mat (np.ndarray): (2, 3) image -> input pixels.
        input_size (Tuple[int, int]): ``(w, h)``.
        heatmap_size (Tuple[int, int]): ``(W, H)``.

    Returns:
        np.ndarray: (2, 3) float64, ``warp_mat`` with
        ``((w / W - 1) / 2, (h / H - 1) / 2)`` added to its translation.
    """
    (w, h), (hm_w, hm_h) = input_size, heatmap_size
    shifted = _check_warp_mat(warp_mat).copy()
    shifted[:, 2] += ((w / hm_w - 1) / 2, (h / hm_h - 1) / 2)
    return shifted


def hand_mask_target(mask: np.ndarray, warp_mat: np.ndarray,
                     input_size: Tuple[int, int],
                     heatmap_size: Tuple[int, int]) -> np.ndarray:
    """The structure target of a real hand mask: the fraction of each
    heatmap cell covered by the hand.

    Warps the image-resolution mask to the model input with ``warp_mat``
    shifted by half a cell (:func:`grid_aligned_warp`), then block-averages
    it (:func:`area_reduce`), so that cell ``(i, j)`` averages the mask over
    the cell-sized window centred on input point ``(j * s_x, i * s_y)``,
    where the keypoint heatmaps and limb masks put that cell (see the
    module docstring).

    Args:
        mask (np.ndarray): (H_img, W_img) mask in [0, 1].
        warp_mat (np.ndarray): (2, 3) image -> input pixels.
        input_size (Tuple[int, int]): ``(w, h)``.
        heatmap_size (Tuple[int, int]): ``(W, H)``, at most ``(w, h)``.

    Returns:
        np.ndarray: (H, W) float32 in [0, 1].
    """
    input_size = validate_size(input_size, 'input_size')
    heatmap_size = validate_size(heatmap_size, 'heatmap_size')
    warped = warp_mask(mask,
                       grid_aligned_warp(warp_mat, input_size, heatmap_size),
                       input_size)
    return area_reduce(warped, heatmap_size)
