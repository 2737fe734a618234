"""Deterministic synthetic 2D hand images with OneHand10K-style annotations.

Pure numpy + OpenCV (no MMPose import), so a small training / smoke-test data
set can be produced on any machine before the MMPose stack is installed.

Each image shows one articulated 21-keypoint hand in MMPose hand order
(0 wrist; 1-4 thumb CMC..tip; 5-8 index; 9-12 middle; 13-16 ring; 17-20 little
finger, base..tip) on a cluttered background, sometimes partly covered by
occluders or leaving the frame.

Coordinate conventions:

* keypoints use the pixel-centre convention of OpenCV drawing and MMPose flips
  (pixel ``(col, row)`` is centred at ``(x, y) = (col, row)``); the pixel of a
  keypoint is ``floor(x + 0.5), floor(y + 0.5)``.
* ``bbox`` and ``segmentation`` use the pixel-edge convention of pycocotools
  (pixel ``col`` covers ``[col, col + 1)``), so the polygon area matches the
  mask pixel count stored as ``area``.

Layout written by :func:`generate_synthetic_hands`::

    <out_dir>/images/train/000000.jpg ...
    <out_dir>/images/val/000000.jpg ...
    <out_dir>/annotations/synthetic_hands_train.json
    <out_dir>/annotations/synthetic_hands_val.json
    <out_dir>/meta.json          (written last; marks a complete data set)

``file_name`` in the json is relative to ``<out_dir>/images/``, so MMPose's
``OneHand10KDataset(data_root=out_dir, data_prefix=dict(img='images/'))``
reads the data set directly.
"""
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

GENERATOR_NAME = 'nsrm_synthetic_hands'
GENERATOR_VERSION = '1.0'

NUM_KEYPOINTS = 21
KEYPOINT_NAMES = [
    'wrist', 'thumb1', 'thumb2', 'thumb3', 'thumb4', 'forefinger1',
    'forefinger2', 'forefinger3', 'forefinger4', 'middle_finger1',
    'middle_finger2', 'middle_finger3', 'middle_finger4', 'ring_finger1',
    'ring_finger2', 'ring_finger3', 'ring_finger4', 'pinky_finger1',
    'pinky_finger2', 'pinky_finger3', 'pinky_finger4'
]
LIMBS = [(0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8),
         (0, 9), (9, 10), (10, 11), (11, 12), (0, 13), (13, 14), (14, 15),
         (15, 16), (0, 17), (17, 18), (18, 19), (19, 20)]
SPLITS = ('train', 'val')
MIN_IMG_SIZE = 64
MAX_IMG_SIZE = 4096
JPEG_QUALITY = 95

# ---------------------------------------------------------------- geometry --
# Canonical hand in "palm units" (palm width ~0.9), image axes (y down),
# fingers pointing up (-y), thumb on the -x side. Row order: thumb, index,
# middle, ring, little.
_BASES = np.array([[-0.28, -0.22], [-0.36, -1.00], [-0.12, -1.06],
                   [0.12, -1.02], [0.34, -0.92]])
# Base direction, degrees clockwise from "up".
_BASE_ANGLES = np.array([-48.0, -9.0, -1.0, 7.0, 16.0])
# Bone lengths base->tip (thumb: metacarpal, proximal, distal).
_BONES = np.array([[0.42, 0.32, 0.26], [0.46, 0.27, 0.20],
                   [0.50, 0.31, 0.22], [0.47, 0.29, 0.21],
                   [0.37, 0.22, 0.18]])
# Full finger width at the base and at each following joint / tip.
_WIDTHS = np.array([[0.30, 0.26, 0.22, 0.18], [0.22, 0.20, 0.18, 0.15],
                    [0.23, 0.21, 0.19, 0.16], [0.21, 0.19, 0.17, 0.145],
                    [0.19, 0.17, 0.15, 0.13]])
# Typical abduction per finger when spread (degrees) and flexion convergence.
_SPREAD = np.array([-18.0, -12.0, -3.0, 5.0, 13.0])
_CONVERGE = np.array([0.0, -0.05, -0.15, -0.25, -0.35])
_PALM = np.array([[-0.30, 0.08], [-0.40, -0.20], [-0.47, -0.55],
                  [-0.47, -0.92], [-0.38, -1.06], [-0.12, -1.12],
                  [0.12, -1.08], [0.34, -0.99], [0.45, -0.88],
                  [0.47, -0.50], [0.40, -0.10], [0.30, 0.08]])
# Palm creases as 3-point polylines (heart, head, life line).
_PALM_CREASES = np.array([[[0.45, -0.78], [0.05, -0.86], [-0.30, -0.95]],
                          [[-0.44, -0.80], [-0.05, -0.68], [0.40, -0.60]],
                          [[-0.42, -0.78], [-0.22, -0.45], [-0.12, -0.05]]])

_SHIFT = 4  # sub-pixel bits for OpenCV drawing
_ONE = 1 << _SHIFT
_ARM_ID, _PALM_ID, _FINGER_ID0 = 1, 2, 3  # part ids in the part map
_NUM_IDS = _FINGER_ID0 + 15


# ------------------------------------------------------------- validation --
def _check_int(name, value, minimum, maximum=None):
    """Raise ValueError naming ``name`` unless minimum <= value <= maximum."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f'{name} must be an integer, got {value!r}')
    if value < minimum or (maximum is not None and value > maximum):
        upper = '' if maximum is None else f' and <= {maximum}'
        raise ValueError(f'{name} must be >= {minimum}{upper}, got {value}')
    return int(value)


def _check_settings(num_train, num_val, seed, img_size, workers):
    """Validate the generation settings; returns them as plain ints."""
    num_train = _check_int('num_train', num_train, 0)
    num_val = _check_int('num_val', num_val, 0)
    if num_train + num_val == 0:
        raise ValueError('num_train + num_val must be > 0')
    seed = _check_int('seed', seed, 0)
    img_size = _check_int('img_size', img_size, MIN_IMG_SIZE, MAX_IMG_SIZE)
    if workers is not None:
        workers = _check_int('workers', workers, 1)
    return num_train, num_val, seed, img_size, workers


# ------------------------------------------------------------------ colour --
def _hsv_to_bgr(h, s, v):
    """Convert one OpenCV HSV colour (H in [0, 180)) to a float BGR (3,)."""
    hsv = np.array([[[h, s, v]]], dtype=np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0].astype(np.float32)


def _skin_colour(rng):
    """Random skin tone as BGR float32 (3,)."""
    return _hsv_to_bgr(rng.uniform(4, 20), rng.uniform(50, 165),
                       rng.uniform(75, 245))


def _non_skin_colour(rng):
    """Random colour clearly outside skin hues (or a dark/bright grey)."""
    if rng.random() < 0.2:
        grey = rng.choice([rng.uniform(10, 70), rng.uniform(190, 250)])
        return _hsv_to_bgr(0, rng.uniform(0, 25), grey)
    return _hsv_to_bgr(rng.uniform(32, 160), rng.uniform(90, 255),
                       rng.uniform(50, 255))


def _rand_colour(rng):
    """Any random BGR colour as a tuple of Python ints (for cv2 drawing)."""
    return tuple(int(c) for c in rng.integers(0, 256, 3))


# ----------------------------------------------------------------- pattern --
@lru_cache(maxsize=8)
def _grid(size):
    """Pixel coordinate grids ``(xx, yy)``, each (size, size) float32."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    return xx, yy


def _linear_ramp(rng, size):
    """Ramp in [0, 1] along a random direction, (size, size) float32."""
    xx, yy = _grid(size)
    ang = rng.uniform(0, 2 * np.pi)
    t = xx * np.cos(ang) + yy * np.sin(ang)
    return (t - t.min()) / max(float(t.max() - t.min()), 1e-6)


def _pattern(rng, size):
    """Stripes, checkerboard or sine grating in [0, 1], (size, size)."""
    xx, yy = _grid(size)
    period = rng.uniform(4, max(8.0, size / 5))
    kind = rng.integers(3)
    if kind == 0:
        ang = rng.uniform(0, np.pi)
        t = (xx * np.cos(ang) + yy * np.sin(ang)) / period
        return ((t % 1.0) < rng.uniform(0.3, 0.7)).astype(np.float32)
    if kind == 1:
        cells = (np.floor(xx / period) + np.floor(yy / period)) % 2
        return cells.astype(np.float32)
    ang = rng.uniform(0, np.pi)
    t = (xx * np.cos(ang) + yy * np.sin(ang)) / period
    return (0.5 + 0.5 * np.sin(2 * np.pi * t)).astype(np.float32)


def _smooth_noise(rng, size, channels=3, cells=(2, 12)):
    """Low-frequency noise in [0, 1], (size, size, channels) float32."""
    k = int(rng.integers(cells[0], cells[1] + 1))
    low = rng.random((k, k, channels), dtype=np.float32)
    out = cv2.resize(low, (size, size), interpolation=cv2.INTER_CUBIC)
    return np.clip(out.reshape(size, size, channels), 0, 1)


# ------------------------------------------------------------------ shapes --
def _to_cv(points):
    """Float (N, 2) points -> int32 (N, 1, 2) fixed point for cv2 shift."""
    return np.round(np.asarray(points) * _ONE).astype(np.int32).reshape(
        -1, 1, 2)


def _ellipse_points(center, axes, angle, n=32):
    """Polygon (n, 2) approximating a rotated ellipse."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    pts = np.stack([axes[0] * np.cos(t), axes[1] * np.sin(t)], 1)
    c, s = np.cos(angle), np.sin(angle)
    return pts @ np.array([[c, s], [-s, c]]) + center


def _rect_points(center, half, angle):
    """Corners (4, 2) of a rectangle with half sizes ``half`` rotated."""
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * half
    c, s = np.cos(angle), np.sin(angle)
    return corners @ np.array([[c, s], [-s, c]]) + center


def _random_shape(rng, center, size):
    """Random closed shape (rectangle, bar, ellipse, blob) as (N, 2)."""
    kind = rng.integers(4)
    angle = rng.uniform(0, np.pi)
    if kind == 0:
        return _rect_points(center, size * rng.uniform(0.25, 0.6, 2), angle)
    if kind == 1:  # long thin bar (pen, stick, strap)
        half = size * np.array([rng.uniform(0.6, 1.2), rng.uniform(.06, .15)])
        return _rect_points(center, half, angle)
    if kind == 2:
        return _ellipse_points(center, size * rng.uniform(0.2, 0.55, 2), angle)
    n = int(rng.integers(3, 8))
    t = np.sort(rng.uniform(0, 2 * np.pi, n))
    r = size * rng.uniform(0.2, 0.6, n)
    return np.stack([r * np.cos(t), r * np.sin(t)], 1) + center


def _capsule(a, b, ra, rb, n=16):
    """Tapered capsule (convex hull of two discs) from a to b, (M, 2)."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    ring = np.stack([np.cos(t), np.sin(t)], 1)
    pts = np.concatenate([a + ra * ring, b + rb * ring]).astype(np.float32)
    return cv2.convexHull(pts).reshape(-1, 2).astype(np.float64)


# -------------------------------------------------------------- background --
def _background(rng, size):
    """Cluttered / textured background, (size, size, 3) float32 BGR."""
    c0 = rng.uniform(0, 255, 3).astype(np.float32)
    c1 = rng.uniform(0, 255, 3).astype(np.float32)
    kind = rng.integers(4)
    if kind == 0:
        img = _smooth_noise(rng, size) * 255
    elif kind == 1:
        img = c0 + (c1 - c0) * _linear_ramp(rng, size)[..., None]
    elif kind == 2:
        img = np.broadcast_to(c0, (size, size, 3)).copy()
    else:
        img = c0 + (c1 - c0) * _pattern(rng, size)[..., None]
    if rng.random() < 0.4:
        tex = _pattern(rng, size)[..., None]
        img = img + (rng.uniform(0, 255, 3) - img) * tex * rng.uniform(.1, .5)
    img = np.ascontiguousarray(np.clip(img, 0, 255).astype(np.uint8))
    _draw_clutter(rng, img)
    out = img.astype(np.float32)
    if rng.random() < 0.5:
        out += (_smooth_noise(rng, size, 1, (8, 40)) - 0.5) * rng.uniform(
            10, 60)
    if rng.random() < 0.3:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.6, 2.0))
    return out


def _draw_clutter(rng, img):
    """Draw random shapes/lines (some skin coloured) on a uint8 image."""
    size = img.shape[0]
    for _ in range(int(rng.integers(0, 25))):
        colour = _rand_colour(rng)
        if rng.random() < 0.1:
            colour = tuple(int(c) for c in _skin_colour(rng))
        center = rng.uniform(0, size, 2)
        if rng.random() < 0.3:
            p, q = _to_cv(center), _to_cv(rng.uniform(0, size, 2))
            cv2.line(img, tuple(p[0, 0]), tuple(q[0, 0]), colour,
                     int(rng.integers(1, 6)), cv2.LINE_AA, _SHIFT)
            continue
        shape = _random_shape(rng, center, size * rng.uniform(0.05, 0.5))
        if rng.random() < 0.2:
            cv2.polylines(img, [_to_cv(shape)], True, colour,
                          int(rng.integers(1, 4)), cv2.LINE_AA, _SHIFT)
        else:
            cv2.fillPoly(img, [_to_cv(shape)], colour, cv2.LINE_AA, _SHIFT)


# ------------------------------------------------------------------- pose --
def _sample_flexion(rng):
    """Per-finger flexion level in [0, 1], (5,) (thumb first)."""
    mode = rng.random()
    if mode < 0.35:  # open hand
        return rng.uniform(0, 0.2, 5)
    if mode < 0.5:  # fist-like
        return rng.uniform(0.6, 1.0, 5)
    extended = rng.random(5) < 0.5  # pointing, peace, pinch, ...
    return np.where(extended, rng.uniform(0, 0.25, 5), rng.uniform(0.3, 1, 5))


def _finger_chain(base, angle, bones, flex, tilt, converge):
    """Joints after ``base`` of one finger, (3, 2).

    Args:
        base (np.ndarray): MCP position, (2,).
        angle (float): Finger direction in degrees clockwise from up.
        bones (np.ndarray): Phalanx lengths, (3,).
        flex (np.ndarray): Flexion of MCP, PIP, DIP in degrees, (3,).
        tilt (np.ndarray): Image projection of the palm normal, (2,).
        converge (float): Lateral drift of flexed segments.
    """
    a = np.deg2rad(angle)
    u = np.array([np.sin(a), -np.cos(a)])
    w = np.array([np.cos(a), np.sin(a)])
    phi = np.deg2rad(np.cumsum(flex))[:, None]
    dirs = np.cos(phi) * u + np.sin(phi) * (tilt + converge * w)
    return base + np.cumsum(bones[:, None] * dirs, axis=0)


def _thumb_chain(base, angle, bones, bend, fore):
    """Joints after the CMC of the thumb, (3, 2).

    The thumb bends in the image plane towards the palm (``bend``, degrees
    per joint) and is foreshortened by opposition (``fore``, degrees).
    """
    ang = np.deg2rad(angle + np.cumsum(bend))
    dirs = np.stack([np.sin(ang), -np.cos(ang)], 1) * np.cos(
        np.deg2rad(fore))[:, None]
    return base + np.cumsum(bones[:, None] * dirs, axis=0)


def _canonical_hand(rng):
    """Sample an articulated hand in palm units.

    Returns:
        tuple: keypoints (21, 2), phalanx widths (5, 4), palm outline (12, 2)
        and palm crease polylines (3, 3, 2), all in canonical coordinates.
    """
    level = _sample_flexion(rng)
    bones = _BONES * rng.uniform(0.88, 1.12) * rng.uniform(0.95, 1.05, (5, 1))
    spread = rng.uniform(-0.3, 1.0) * (1 - 0.6 * level)
    angles = _BASE_ANGLES + _SPREAD * spread + rng.uniform(-4, 4, 5)
    angles[0] += rng.uniform(-15, 15)
    tilt = rng.normal(0, 0.25, 2)
    kps = np.zeros((NUM_KEYPOINTS, 2))
    kps[1] = _BASES[0] + rng.normal(0, 0.02, 2)
    kps[2:5] = _thumb_chain(kps[1], angles[0], bones[0],
                            level[0] * rng.uniform([0, 0, 0], [25, 45, 65]),
                            level[0] * rng.uniform([0, 10, 10], [50, 60, 60]))
    for f in range(1, 5):
        pip = level[f] * rng.uniform(60, 110)
        flex = np.array([level[f] * rng.uniform(40, 90), pip,
                         np.clip(pip * rng.uniform(0.5, 0.9), 0, 85)])
        base = _BASES[f] + rng.normal(0, 0.015, 2)
        kps[4 * f + 1] = base
        kps[4 * f + 2:4 * f + 5] = _finger_chain(base, angles[f], bones[f],
                                                 flex, tilt, _CONVERGE[f])
    widths = _WIDTHS * rng.uniform(0.85, 1.15)
    palm = _PALM * rng.uniform(0.95, 1.05, 2)
    palm = palm + rng.normal(0, 0.015, _PALM.shape)
    creases = _PALM_CREASES + rng.normal(0, 0.03, _PALM_CREASES.shape)
    return kps, widths, palm, creases


def _place(rng, kps, size, pad):
    """Random mirror/rotation/scale/translation mapping palm units to pixels.

    Args:
        kps (np.ndarray): Canonical keypoints, (21, 2).
        size (int): Image size.
        pad (float): Silhouette margin around the keypoints in palm units.

    Returns:
        tuple: ``f(points (N, 2)) -> pixel points (N, 2)``, the scale in
        pixels per palm unit and whether the hand was mirrored.
    """
    mirrored = bool(rng.random() < 0.5)
    mirror = np.array([-1.0 if mirrored else 1.0, 1.0])
    theta = rng.uniform(0, 2 * np.pi)
    c, s = np.cos(theta), np.sin(theta)
    rot = np.array([[c, s], [-s, c]]) * mirror[:, None]
    p = kps @ rot
    lo, hi = p.min(0) - pad, p.max(0) + pad
    scale = rng.uniform(0.35, 0.85) * size / float((hi - lo).max())
    lo, ext = lo * scale, (hi - lo) * scale
    if rng.random() < 0.35:  # let some fingertips leave the frame
        over = ext * rng.uniform(0.05, 0.25, 2)
    else:
        over = -np.full(2, size * rng.uniform(0.01, 0.06))
    first, last = -over, size + over - ext
    corner = np.where(first <= last, rng.uniform(np.minimum(first, last),
                                                 np.maximum(first, last)),
                      (size - ext) / 2)
    shift = corner - lo
    wrist = p[0] * scale + shift
    shift += np.clip(wrist, 2, size - 3) - wrist  # wrist always in frame
    return (lambda q: np.asarray(q) @ rot * scale + shift), scale, mirrored


# ----------------------------------------------------------------- drawing --
def _hand_parts(kps_px, widths_px, palm_px, arm):
    """Polygons of all parts in painter's order as ``[(part_id, (N, 2))]``.

    Args:
        kps_px (np.ndarray): Keypoints in pixels, (21, 2).
        widths_px (np.ndarray): Full widths in pixels, (5, 4).
        palm_px (np.ndarray): Palm outline in pixels, (M, 2).
        arm (np.ndarray | None): Forearm capsule polygon, (K, 2).
    """
    parts = [] if arm is None else [(_ARM_ID, arm)]
    parts.append((_PALM_ID, palm_px))
    order = [4, 3, 2, 1, 0]  # little finger first, thumb last (on top)
    for f in order:
        chain = kps_px[[1, 2, 3, 4]] if f == 0 else kps_px[4 * f + 1:4 * f + 5]
        for k in range(3):
            poly = _capsule(chain[k], chain[k + 1], widths_px[f, k] / 2,
                            widths_px[f, k + 1] / 2)
            parts.append((_FINGER_ID0 + 3 * f + k, poly))
    return parts


def _rasterise(parts, size):
    """Part-id map (hard) and anti-aliased coverage of the drawn hand.

    Returns:
        tuple: part map (size, size) uint8 (0 = background) and alpha
        (size, size) float32 in [0, 1].
    """
    part_map = np.zeros((size, size), np.uint8)
    alpha = np.zeros((size, size), np.uint8)
    for pid, poly in parts:
        pts = [_to_cv(poly)]
        cv2.fillPoly(part_map, pts, int(pid), cv2.LINE_8, _SHIFT)
        cv2.fillPoly(alpha, pts, 255, cv2.LINE_AA, _SHIFT)
    return part_map, alpha.astype(np.float32) / 255


def _crease_map(kps_px, widths_px, creases_px, size):
    """Owner map of thin crease lines (finger index + 1, palm = 6)."""
    owner = np.zeros((size, size), np.uint8)
    for f in range(5):
        idx = [1, 2, 3, 4] if f == 0 else list(range(4 * f + 1, 4 * f + 5))
        for j in (1, 2):
            d = kps_px[idx[j + 1]] - kps_px[idx[j - 1]]
            n = np.array([-d[1], d[0]]) / max(np.linalg.norm(d), 1e-6)
            half = n * widths_px[f, j] * 0.4
            p, q = _to_cv(kps_px[idx[j]] - half), _to_cv(kps_px[idx[j]] + half)
            cv2.line(owner, tuple(p[0, 0]), tuple(q[0, 0]), f + 1, 1,
                     cv2.LINE_8, _SHIFT)
    for line in creases_px:
        cv2.polylines(owner, [_to_cv(line)], False, 6, 1, cv2.LINE_8, _SHIFT)
    return owner


def _part_lut(rng, skin, arm_colour):
    """Colour per part id, (_NUM_IDS, 3) float32, with mild per-part tint."""
    lut = skin[None, :] * rng.uniform(0.93, 1.07, (_NUM_IDS, 1))
    lut[0] = skin
    lut[_ARM_ID] = arm_colour
    return lut.astype(np.float32)


def _shade_hand(rng, part_map, crease_owner, skin, arm_colour):
    """Skin colour layer with shading, outlines and creases, (H, W, 3)."""
    size = part_map.shape[0]
    kernel = np.ones((3, 3), np.uint8)
    grown, shrunk = cv2.dilate(part_map, kernel), cv2.erode(part_map, kernel)
    ids = np.where(part_map > 0, part_map, grown)  # colour AA fringes too
    layer = _part_lut(rng, skin, arm_colour)[ids]
    shade = 1 + rng.uniform(0.1, 0.35) * (_linear_ramp(rng, size) - 0.5)
    shade += (_smooth_noise(rng, size, 1, (3, 6))[..., 0] - 0.5) * 0.15
    dark = np.ones((size, size), np.float32)
    dark[grown != shrunk] = rng.uniform(0.7, 0.9)
    finger_of = np.zeros(256, np.uint8)
    finger_of[_PALM_ID] = 6
    finger_of[_FINGER_ID0:_FINGER_ID0 + 15] = np.repeat(np.arange(1, 6), 3)
    crease = (crease_owner > 0) & (crease_owner == finger_of[part_map])
    dark[crease] *= rng.uniform(0.8, 0.92)
    dark = cv2.GaussianBlur(dark, (3, 3), 0)
    return layer * (shade * dark)[..., None]


def _forearm(rng, to_px, scale):
    """Forearm capsule in pixels (N, 2) or None (not part of the hand)."""
    if rng.random() >= 0.6:
        return None
    a = to_px(np.array([[0.0, 0.05]]))[0]
    b = to_px(np.array([[rng.uniform(-0.4, 0.4), 4.0]]))[0]
    return _capsule(a, b, 0.34 * scale, 0.45 * scale)


def _occluders(rng, img, kps_px, scale, size):
    """Draw 0-3 non-skin occluders on ``img`` in place.

    Returns:
        np.ndarray: Occluder mask, (size, size) bool.
    """
    mask = np.zeros((size, size), np.uint8)
    if rng.random() >= 0.4:
        return mask.astype(bool)
    hand_size = float(np.ptp(kps_px, axis=0).max()) + scale * 0.3
    for _ in range(int(rng.integers(1, 4))):
        center = kps_px[rng.integers(NUM_KEYPOINTS)] + rng.normal(
            0, 0.15 * hand_size, 2)
        poly = [_to_cv(_random_shape(rng, center,
                                     hand_size * rng.uniform(0.15, 0.45)))]
        cv2.fillPoly(mask, poly, 1, cv2.LINE_8, _SHIFT)
        cover = np.zeros((size, size), np.uint8)
        cv2.fillPoly(cover, poly, 255, cv2.LINE_AA, _SHIFT)
        colour = _non_skin_colour(rng)
        field = colour * (1 + 0.3 * (_linear_ramp(rng, size) - 0.5))[..., None]
        if rng.random() < 0.3:
            field *= (0.7 + 0.3 * _pattern(rng, size))[..., None]
        a = (cover.astype(np.float32) / 255)[..., None]
        img += (field - img) * a
    return mask.astype(bool)


def _finish(rng, img):
    """Global photometric jitter, noise and blur; returns uint8 BGR."""
    img = img * rng.uniform(0.85, 1.15) + rng.uniform(-15, 15)
    if rng.random() < 0.7:
        img += rng.standard_normal(img.shape, dtype=np.float32) * \
            rng.uniform(1, 6)
    if rng.random() < 0.25:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 1.2))
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def keypoint_pixels(keypoints):
    """Pixel (col, row) holding each keypoint, (N, 2) int64."""
    return np.floor(np.asarray(keypoints) + 0.5).astype(np.int64)


def _visibility(kps_px, hand_mask):
    """Visible = inside the image and on the visible hand mask, (21,)."""
    size = hand_mask.shape[0]
    pix = keypoint_pixels(kps_px)
    inside = np.all((pix >= 0) & (pix < size), axis=1)
    vis = np.zeros(len(pix), bool)
    vis[inside] = hand_mask[pix[inside, 1], pix[inside, 0]]
    return vis


def render_hand(rng, img_size=256):
    """Render one synthetic hand image.

    Args:
        rng (np.random.Generator): Source of all randomness.
        img_size (int): Side of the square image in pixels (>= 64).

    Returns:
        dict: ``image`` (H, W, 3) uint8 BGR; ``keypoints`` (21, 2) float32
        true positions (pixel-centre convention, may lie outside the image);
        ``visible`` (21,) bool; ``hand_mask`` (H, W) bool visible hand
        pixels (hand minus occluders, forearm excluded); ``occluder_mask``
        (H, W) bool; ``part_map`` (H, W) uint8 part ids before occlusion
        (0 background, 1 forearm, 2 palm, 3.. phalanges); ``skin_bgr`` (3,)
        float32 base skin colour; ``mirrored`` bool (left/right flip).
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f'rng must be a numpy Generator, got {type(rng)}')
    size = _check_int('img_size', img_size, MIN_IMG_SIZE, MAX_IMG_SIZE)
    background = _background(rng, size)
    kps, widths, palm, creases = _canonical_hand(rng)
    to_px, scale, mirrored = _place(rng, kps, size, pad=0.15)
    kps_px = to_px(kps)
    arm = _forearm(rng, to_px, scale)
    parts = _hand_parts(kps_px, widths * scale, to_px(palm), arm)
    part_map, alpha = _rasterise(parts, size)
    owner = _crease_map(kps_px, widths * scale, [to_px(c) for c in creases],
                        size)
    skin = _skin_colour(rng)
    arm_colour = skin if rng.random() < 0.7 else _non_skin_colour(rng)
    layer = _shade_hand(rng, part_map, owner, skin, arm_colour)
    img = background + (layer - background) * alpha[..., None]
    hand = part_map >= _PALM_ID
    occ = np.zeros_like(hand)
    for _ in range(3):  # keep at least 10 keypoints visible
        trial = img.copy()
        occ = _occluders(rng, trial, kps_px, scale, size)
        if _visibility(kps_px, hand & ~occ).sum() >= 10:
            img = trial
            break
        occ = np.zeros_like(hand)
    hand_mask = hand & ~occ
    return dict(image=_finish(rng, img), keypoints=kps_px.astype(np.float32),
                visible=_visibility(kps_px, hand_mask), hand_mask=hand_mask,
                occluder_mask=occ, part_map=part_map, skin_bgr=skin,
                mirrored=mirrored)


# ------------------------------------------------------------- annotation --
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
        sample (dict): Output of :func:`render_hand` (uses ``keypoints``
            (21, 2), ``visible`` (21,) and ``hand_mask`` (H, W)).
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


def _categories():
    """COCO categories entry for the 21-keypoint hand."""
    return [{'id': 1, 'name': 'hand', 'supercategory': 'hand',
             'keypoints': list(KEYPOINT_NAMES),
             'skeleton': [[a + 1, b + 1] for a, b in LIMBS]}]


# ------------------------------------------------------------- generation --
def _image_rng(seed, split_id, index):
    """Independent generator of image ``index`` of split ``split_id``."""
    return np.random.default_rng([seed, split_id, index])


def _render_task(out_dir, split, split_id, index, seed, img_size):
    """Render image ``index``, save its JPEG; return (image, annotation)."""
    sample = render_hand(_image_rng(seed, split_id, index), img_size)
    file_name = f'{split}/{index:06d}.jpg'
    path = os.path.join(out_dir, 'images', file_name)
    if not cv2.imwrite(path, sample['image'],
                       [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]):
        raise OSError(f'could not write {path}')
    image = {'id': index + 1, 'file_name': file_name, 'width': img_size,
             'height': img_size}
    return image, make_annotation(sample, index + 1, index + 1)


def _render_slice(job):
    """Render ``range(start, stop, step)`` of a split; list of results."""
    return [_render_task(job['out_dir'], job['split'], job['split_id'], i,
                         job['seed'], job['img_size'])
            for i in range(job['start'], job['stop'], job['step'])]


# Workers are fresh interpreters that load this file by path: no package
# __init__ (torch, mmpose) and no re-import of the caller's __main__ as with
# multiprocessing's spawn, and no fork of a process whose OpenCV / OpenMP /
# CUDA threads may hold locks.
_WORKER_BOOT = (
    'import importlib.util as u, sys\n'
    "s = u.spec_from_file_location('_nsrm_synthetic_hands_worker', "
    'sys.argv[1])\n'
    'm = u.module_from_spec(s)\n'
    's.loader.exec_module(m)\n'
    'm._worker_main(sys.argv[2])\n')


def _worker_main(job_json):
    """Entry point of a worker process: render a slice, pickle the result."""
    cv2.setNumThreads(1)
    job = json.loads(job_json)
    with open(job['result'], 'wb') as f:
        pickle.dump(_render_slice(job), f, protocol=pickle.HIGHEST_PROTOCOL)


def _run_workers(jobs):
    """Run each job in its own worker process; results in job order."""
    env = dict(os.environ, OMP_NUM_THREADS='1', OPENBLAS_NUM_THREADS='1',
               MKL_NUM_THREADS='1')
    procs = [subprocess.Popen([sys.executable, '-c', _WORKER_BOOT,
                               os.path.abspath(__file__), json.dumps(job)],
                              env=env) for job in jobs]
    try:
        codes = [p.wait() for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    if any(codes):
        raise RuntimeError(f'synthetic hand workers failed (exit codes '
                           f'{codes}); see their messages above')
    out = []
    for job in jobs:
        with open(job['result'], 'rb') as f:
            out.append(pickle.load(f))
    return out


def _render_split(out_dir, split, split_id, count, seed, img_size, workers):
    """Render all images of a split, ``workers`` processes; ordered list."""
    base = dict(out_dir=out_dir, split=split, split_id=split_id, seed=seed,
                img_size=img_size, stop=count)
    workers = min(workers, count)
    if workers <= 1 or not sys.executable:
        return _render_slice(dict(base, start=0, step=1))
    with tempfile.TemporaryDirectory(prefix='synthetic_hands_') as tmp:
        jobs = [dict(base, start=w, step=workers,
                     result=os.path.join(tmp, f'{w}.pkl'))
                for w in range(workers)]
        parts = _run_workers(jobs)
    results = [None] * count
    for w, part in enumerate(parts):
        results[w::workers] = part
    return results


def _write_json(path, obj):
    """Write json with sorted keys via a temporary file + atomic rename."""
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(obj, f, sort_keys=True, separators=(',', ':'))
    os.replace(tmp, path)


def _remove_stale_images(img_dir, keep):
    """Delete ``NNNNNN.jpg`` files of an earlier, larger generation."""
    for name in os.listdir(img_dir):
        if name.endswith('.jpg') and name[:-4].isdigit() and name not in keep:
            os.remove(os.path.join(img_dir, name))


def _paths(out_dir):
    """Standard file locations below ``out_dir``."""
    out = Path(out_dir)
    return {
        'out_dir': str(out), 'meta': str(out / 'meta.json'),
        'img_dirs': {s: str(out / 'images' / s) for s in SPLITS},
        'ann_files': {s: str(out / 'annotations' /
                             f'synthetic_hands_{s}.json') for s in SPLITS},
    }


def _settings(num_train, num_val, seed, img_size):
    """The meta.json fields that identify a data set."""
    return {'generator': GENERATOR_NAME, 'version': GENERATOR_VERSION,
            'seed': seed, 'num_train': num_train, 'num_val': num_val,
            'img_size': img_size}


def _generate_split(paths, split, split_id, count, seed, img_size, workers):
    """Render one split and write its annotation json."""
    os.makedirs(paths['img_dirs'][split], exist_ok=True)
    results = _render_split(paths['out_dir'], split, split_id, count, seed,
                            img_size, workers)
    _remove_stale_images(paths['img_dirs'][split],
                         {f'{i:06d}.jpg' for i in range(count)})
    coco = {
        'info': {'description': 'NSRM synthetic hands', 'split': split,
                 'generator': GENERATOR_NAME, 'version': GENERATOR_VERSION,
                 'seed': seed, 'img_size': img_size},
        'licenses': [], 'categories': _categories(),
        'images': [r[0] for r in results],
        'annotations': [r[1] for r in results],
    }
    _write_json(paths['ann_files'][split], coco)


def generate_synthetic_hands(out_dir, num_train=1000, num_val=200, seed=0,
                             img_size=256, workers=None):
    """Generate (or overwrite) a synthetic hand data set.

    Image ``i`` of split ``s`` (train = 0, val = 1) is drawn from
    ``np.random.default_rng([seed, s, i])``, so the output is byte-identical
    whatever ``workers`` is. ``meta.json`` is removed first and written last.

    Args:
        out_dir (str | Path): Output root.
        num_train (int): Number of training images (>= 0).
        num_val (int): Number of validation images (>= 0).
        seed (int): Non-negative base seed.
        img_size (int): Square image side (>= 64).
        workers (int | None): Worker processes (fresh interpreters that
            load only this file, so they work from any caller, forked or
            not, without importing torch/mmpose); None = ``os.cpu_count()``,
            1 = render in this process.

    Returns:
        dict: ``out_dir``, ``meta``, ``img_dirs``/``ann_files`` per split,
        ``num_train``, ``num_val``, ``img_size``, ``seed``, ``seconds`` and
        ``generated`` (True).
    """
    num_train, num_val, seed, img_size, workers = _check_settings(
        num_train, num_val, seed, img_size, workers)
    workers = workers or os.cpu_count() or 1
    paths = _paths(out_dir)
    os.makedirs(os.path.dirname(paths['ann_files']['train']), exist_ok=True)
    if os.path.exists(paths['meta']):
        os.remove(paths['meta'])
    start = time.perf_counter()
    for split_id, (split, count) in enumerate(zip(SPLITS,
                                                  (num_train, num_val))):
        _generate_split(paths, split, split_id, count, seed, img_size, workers)
    seconds = time.perf_counter() - start
    meta = dict(_settings(num_train, num_val, seed, img_size),
                ann_files={s: os.path.relpath(p, paths['out_dir'])
                           for s, p in paths['ann_files'].items()},
                seconds=round(seconds, 3), workers=workers)
    _write_json(paths['meta'], meta)
    return dict(paths, num_train=num_train, num_val=num_val, seed=seed,
                img_size=img_size, seconds=seconds, generated=True)


def _read_meta(path):
    """Parsed meta.json or None when absent / unreadable."""
    try:
        with open(path, encoding='utf-8') as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def ensure_synthetic_hands(out_dir, **kwargs):
    """Generate the data set unless a complete matching one exists.

    A data set is reused when ``meta.json`` exists, records the same
    generator version, seed, counts and image size, and both annotation
    files exist. Accepts the keyword arguments of
    :func:`generate_synthetic_hands`.

    Returns:
        dict: As :func:`generate_synthetic_hands`; ``generated`` is False
        (and ``seconds`` 0) when an existing data set was reused.
    """
    unknown = set(kwargs) - {'num_train', 'num_val', 'seed', 'img_size',
                             'workers'}
    if unknown:
        raise ValueError(f'unknown argument(s): {sorted(unknown)}')
    opts = dict(num_train=1000, num_val=200, seed=0, img_size=256,
                workers=None)
    opts.update(kwargs)
    num_train, num_val, seed, img_size, _ = _check_settings(**opts)
    paths = _paths(out_dir)
    meta = _read_meta(paths['meta'])
    wanted = _settings(num_train, num_val, seed, img_size)
    complete = meta is not None and all(
        meta.get(k) == v for k, v in wanted.items()) and all(
            os.path.isfile(p) for p in paths['ann_files'].values())
    if complete:
        print(f'[synthetic_hands] reusing complete data set in {out_dir} '
              f'({num_train} train / {num_val} val, {img_size}px, '
              f'seed {seed})')
        return dict(paths, num_train=num_train, num_val=num_val, seed=seed,
                    img_size=img_size, seconds=0.0, generated=False)
    reason = 'no meta.json' if meta is None else 'settings differ'
    print(f'[synthetic_hands] generating {num_train} train / {num_val} val '
          f'images ({img_size}px, seed {seed}) in {out_dir} ({reason})')
    return generate_synthetic_hands(out_dir, **opts)
