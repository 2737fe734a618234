"""COCO keypoint annotations of rendered hands in two labelling regimes.

:data:`LABELLINGS` (chosen per data set, recorded in its ``meta.json``):

* ``'onehand10k'`` (the default): every hidden keypoint, occluded or outside
  the image, is unlabelled ``[0, 0, 0]``, as OneHand10K's missing points;
* ``'panoptic'``: a keypoint hidden by an occluder but inside the image keeps
  its true position as labelled-but-occluded ``[x, y, 1]`` (COCO visibility
  1, as CMU Panoptic labels points from its multi-view triangulation);
  keypoints outside the image stay ``[0, 0, 0]``.

Visible keypoints are ``[x, y, 2]`` in both; ``keypoints_full`` (true
positions of all 21 keypoints, ``v = 2`` visible, 1 hidden) is the same in
both.

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
from .rendering import inside_image
from .validation import check_choice

#: The labelling regimes of :func:`make_annotation`, default first.
LABELLINGS = ('onehand10k', 'panoptic')


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


def keypoint_flags(visible, inside, labelling='onehand10k'):
    """COCO visibility flags ``v`` of the written ``keypoints``.

    Args:
        visible (np.ndarray): Keypoint seen in the image, (K,) bool.
        inside (np.ndarray): Keypoint pixel inside the image, (K,) bool.
        labelling (str): One of :data:`LABELLINGS`.

    Returns:
        np.ndarray: (K,) int64: 2 visible; 1 hidden inside the image
        (``'panoptic'`` only); 0 unlabelled (hidden in ``'onehand10k'``,
        outside the image in both).

    Raises:
        ValueError: If ``labelling`` is unknown.
    """
    check_choice('labelling', labelling, LABELLINGS)
    visible, inside = np.asarray(visible, bool), np.asarray(inside, bool)
    occluded = inside & ~visible if labelling == 'panoptic' else False
    return np.where(visible, 2, np.where(occluded, 1, 0)).astype(np.int64)


def make_annotation(sample, image_id, ann_id, labelling='onehand10k'):
    """COCO annotation dict for one rendered sample.

    ``keypoints`` follow ``labelling`` (:func:`keypoint_flags`): unlabelled
    keypoints are ``[0, 0, 0]``, labelled ones keep their true position.
    ``keypoints_full`` has every true position with ``v = 2`` (visible) or
    1 (hidden), whatever ``labelling``.

    The ``bbox`` (what MMPose's ``GetBBoxCenterScale`` crops around) covers
    the visible hand mask and every labelled keypoint: in ``'onehand10k'``
    the visible ones, in ``'panoptic'`` the occluded ones inside the image
    too (the tight keypoint box of the Panoptic converter, grown to the
    visible hand as in the OneHand10K regime).

    Args:
        sample (dict): Output of
            :func:`~projects.synthetic_hands.rendering.render_hand` (uses
            ``keypoints`` (21, 2), ``visible`` (21,) and ``hand_mask``
            (H, W)).
        image_id (int): COCO image id.
        ann_id (int): COCO annotation id.
        labelling (str): One of :data:`LABELLINGS`. Defaults to
            ``'onehand10k'``.

    Returns:
        dict: ``id``, ``image_id``, ``category_id``, ``iscrowd``,
        ``keypoints`` / ``keypoints_full`` (63 numbers each),
        ``num_keypoints`` (labelled keypoints, ``v > 0``), ``bbox``
        (x, y, w, h), ``area`` (hand-mask pixels) and ``segmentation``
        (polygons of the visible hand mask).

    Raises:
        ValueError: If ``labelling`` is unknown.
    """
    vis = sample['visible']
    mask = sample['hand_mask']
    flags = keypoint_flags(vis, inside_image(sample['keypoints'],
                                             mask.shape[0]), labelling)
    full = _flat_keypoints(sample['keypoints'], np.where(vis, 2, 1))
    kps = [v if flags[i // 3] else 0 for i, v in enumerate(full)]
    kps[2::3] = flags.tolist()
    labelled = flags > 0
    boxes = []
    if mask.any():
        ys, xs = np.nonzero(mask)
        boxes += [[xs.min(), ys.min()], [xs.max() + 1, ys.max() + 1]]
    pts = np.asarray(kps, dtype=np.float64).reshape(-1, 3)[labelled, :2]
    boxes += pts.tolist()
    if not boxes:  # nothing visible: fall back to the true keypoints
        boxes = np.asarray(full).reshape(-1, 3)[:, :2].tolist()
    lo, hi = np.min(boxes, 0), np.max(boxes, 0)
    return {
        'id': int(ann_id), 'image_id': int(image_id), 'category_id': 1,
        'iscrowd': 0, 'keypoints': kps, 'keypoints_full': full,
        'num_keypoints': int(labelled.sum()),
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
