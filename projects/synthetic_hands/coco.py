"""COCO keypoint annotations (OneHand10K style) of rendered hands.

``bbox`` and ``segmentation`` use the pixel-edge convention of pycocotools
(pixel ``col`` covers ``[col, col + 1)``), so the polygon area matches the
mask pixel count stored as ``area``. Keypoints keep the pixel-centre
convention of :mod:`.rendering` (pixel ``(col, row)`` is centred at
``(x, y) = (col, row)``).
"""
import json
import os

import cv2
import numpy as np

from .hand_model import KEYPOINT_NAMES, LIMBS


def _bridge_holes(mask):
    """Cut thin slits from every hole to the outside (in place).

    COCO polygons cannot express holes; after this the external contours
    describe the mask minus the slits. ``mask`` must have a background border.
    """
    for _ in range(64):
        n, labels, stats, _ = cv2.connectedComponentsWithStats(
            (mask == 0).astype(np.uint8), connectivity=4)
        h, w = mask.shape
        left, top = stats[:, 0], stats[:, 1]
        right, bottom = left + stats[:, 2], top + stats[:, 3]
        holes = [k for k in range(1, n) if left[k] > 0 and top[k] > 0
                 and right[k] < w and bottom[k] < h]
        if not holes:
            return mask
        for k in holes:
            row = labels[top[k], left[k]:right[k]]
            col = left[k] + int(np.argmax(row == k))
            above = np.nonzero(mask[:top[k], col] == 0)[0]
            mask[above[-1] + 1 if len(above) else 0:top[k], col] = 0
    return mask


def mask_to_polygons(mask, upsample=4, epsilon=0.5):
    """COCO polygons of a binary mask (pixel-edge convention).

    Args:
        mask (np.ndarray): (H, W) bool or uint8.
        upsample (int): Contours are traced on a mask upsampled by this
            factor (bilinear, thresholded at 0.5, i.e. slightly smoothed) so
            the polygon area matches the pixel count closely.
        epsilon (float): Douglas-Peucker tolerance in original pixels.

    Returns:
        list[list[float]]: Polygons ``[x1, y1, x2, y2, ...]``; polygons with
        fewer than 3 points are dropped.
    """
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return []
    x0, y0 = xs.min(), ys.min()
    crop = np.pad(mask[y0:ys.max() + 1, x0:xs.max() + 1], 1)
    up = cv2.resize(crop.astype(np.uint8) * 255, None, fx=upsample,
                    fy=upsample, interpolation=cv2.INTER_LINEAR)
    up = (up > 127).astype(np.uint8)
    contours, _ = cv2.findContours(_bridge_holes(up), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    polys = []
    for c in contours:
        c = cv2.approxPolyDP(c, epsilon * upsample, True).reshape(-1, 2)
        if len(c) < 3:
            continue
        pts = (c + 0.5) / upsample - 1 + np.array([x0, y0])
        polys.append([round(float(v), 2) for v in pts.reshape(-1)])
    return polys


def polygon_area(poly):
    """Shoelace area of a flat ``[x1, y1, ...]`` polygon."""
    p = np.asarray(poly, dtype=np.float64).reshape(-1, 2)
    x, y = p[:, 0], p[:, 1]
    return 0.5 * abs(float(x @ np.roll(y, -1) - y @ np.roll(x, -1)))


def _flat_keypoints(kps, flags):
    """Interleave (21, 2) coordinates and (21,) flags into 63 numbers."""
    out = []
    for (x, y), v in zip(kps, flags):
        out += [round(float(x), 2), round(float(y), 2), int(v)]
    return out


def make_annotation(sample, image_id, ann_id):
    """COCO annotation dict for one rendered sample.

    Hidden keypoints (occluded or outside the image) are written as
    ``[0, 0, 0]`` in ``keypoints`` (unlabelled, as OneHand10K's missing
    points) and with their true position and ``v = 1`` in
    ``keypoints_full``; visible ones have ``v = 2`` in both.

    Args:
        sample (dict): Output of
            :func:`~projects.synthetic_hands.rendering.render_hand` (uses
            ``keypoints`` (21, 2), ``visible`` (21,) and ``hand_mask``
            (H, W)).
        image_id (int): COCO image id.
        ann_id (int): COCO annotation id.

    Returns:
        dict: ``id``, ``image_id``, ``category_id``, ``iscrowd``,
        ``keypoints`` / ``keypoints_full`` (63 numbers each),
        ``num_keypoints``, ``bbox`` (x, y, w, h covering the visible
        keypoints and hand mask), ``area`` (hand-mask pixels) and
        ``segmentation`` (polygons of the visible hand mask).
    """
    vis = sample['visible']
    full = _flat_keypoints(sample['keypoints'], np.where(vis, 2, 1))
    kps = [v if vis[i // 3] else 0 for i, v in enumerate(full)]
    mask = sample['hand_mask']
    boxes = []
    if mask.any():
        ys, xs = np.nonzero(mask)
        boxes += [[xs.min(), ys.min()], [xs.max() + 1, ys.max() + 1]]
    pts = np.asarray(kps, dtype=np.float64).reshape(-1, 3)[vis, :2]
    boxes += pts.tolist()
    if not boxes:  # nothing visible: fall back to the true keypoints
        boxes = np.asarray(full).reshape(-1, 3)[:, :2].tolist()
    lo, hi = np.min(boxes, 0), np.max(boxes, 0)
    return {
        'id': int(ann_id), 'image_id': int(image_id), 'category_id': 1,
        'iscrowd': 0, 'keypoints': kps, 'keypoints_full': full,
        'num_keypoints': int(vis.sum()),
        'bbox': [round(float(v), 2) for v in (*lo, *(hi - lo))],
        'area': int(mask.sum()),
        'segmentation': mask_to_polygons(mask),
    }


def categories():
    """COCO ``categories`` entry for the 21-keypoint hand.

    Returns:
        list[dict]: One category (id 1, ``hand``) with the keypoint names
        and the 1-based ``skeleton`` of :data:`LIMBS`.
    """
    return [{'id': 1, 'name': 'hand', 'supercategory': 'hand',
             'keypoints': list(KEYPOINT_NAMES),
             'skeleton': [[a + 1, b + 1] for a, b in LIMBS]}]


def write_json(path, obj):
    """Write json with sorted keys via a temporary file + atomic rename.

    Args:
        path (str): Destination file.
        obj (object): JSON-serialisable object, written compactly
            (``separators=(',', ':')``) with sorted keys.
    """
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(obj, f, sort_keys=True, separators=(',', ':'))
    os.replace(tmp, path)
