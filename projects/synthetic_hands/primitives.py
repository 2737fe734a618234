"""Random colours, textures and shapes shared by backgrounds, hands and
occluders.

Images are float32 or uint8 BGR arrays of shape (size, size, 3). Polygons
are float (N, 2) arrays of ``(x, y)`` pixel-centre coordinates; OpenCV draws
them with ``SHIFT`` fractional bits after :func:`to_cv`.
"""
from functools import lru_cache

import cv2
import numpy as np

SHIFT = 4  # sub-pixel bits for OpenCV drawing
_ONE = 1 << SHIFT


# ------------------------------------------------------------------ colour --
def hsv_to_bgr(h, s, v):
    """Convert one OpenCV HSV colour (H in [0, 180)) to a float BGR (3,)."""
    hsv = np.array([[[h, s, v]]], dtype=np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0].astype(np.float32)


def skin_colour(rng):
    """Random skin tone as BGR float32 (3,)."""
    return hsv_to_bgr(rng.uniform(4, 20), rng.uniform(50, 165),
                      rng.uniform(75, 245))


def non_skin_colour(rng):
    """Random colour clearly outside skin hues (or a dark/bright grey)."""
    if rng.random() < 0.2:
        grey = rng.choice([rng.uniform(10, 70), rng.uniform(190, 250)])
        return hsv_to_bgr(0, rng.uniform(0, 25), grey)
    return hsv_to_bgr(rng.uniform(32, 160), rng.uniform(90, 255),
                      rng.uniform(50, 255))


def rand_colour(rng):
    """Any random BGR colour as a tuple of Python ints (for cv2 drawing)."""
    return tuple(int(c) for c in rng.integers(0, 256, 3))


# ----------------------------------------------------------------- pattern --
@lru_cache(maxsize=8)
def _grid(size):
    """Pixel coordinate grids ``(xx, yy)``, each (size, size) float32."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    return xx, yy


def linear_ramp(rng, size):
    """Ramp in [0, 1] along a random direction, (size, size) float32."""
    xx, yy = _grid(size)
    ang = rng.uniform(0, 2 * np.pi)
    t = xx * np.cos(ang) + yy * np.sin(ang)
    return (t - t.min()) / max(float(t.max() - t.min()), 1e-6)


def pattern(rng, size):
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


def smooth_noise(rng, size, channels=3, cells=(2, 12)):
    """Low-frequency noise in [0, 1], (size, size, channels) float32.

    Args:
        rng (np.random.Generator): Source of randomness.
        size (int): Image side.
        channels (int): Number of independent channels.
        cells (tuple[int, int]): Range of the coarse grid size that is
            upsampled (bicubic) to ``size``.
    """
    k = int(rng.integers(cells[0], cells[1] + 1))
    low = rng.random((k, k, channels), dtype=np.float32)
    out = cv2.resize(low, (size, size), interpolation=cv2.INTER_CUBIC)
    return np.clip(out.reshape(size, size, channels), 0, 1)


# ------------------------------------------------------------------ shapes --
def to_cv(points):
    """Float (N, 2) points -> int32 (N, 1, 2) fixed point for cv2 shift."""
    return np.round(np.asarray(points) * _ONE).astype(np.int32).reshape(
        -1, 1, 2)


def ellipse_points(center, axes, angle, n=32):
    """Polygon (n, 2) approximating a rotated ellipse."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    pts = np.stack([axes[0] * np.cos(t), axes[1] * np.sin(t)], 1)
    c, s = np.cos(angle), np.sin(angle)
    return pts @ np.array([[c, s], [-s, c]]) + center


def rect_points(center, half, angle):
    """Corners (4, 2) of a rectangle with half sizes ``half`` rotated."""
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * half
    c, s = np.cos(angle), np.sin(angle)
    return corners @ np.array([[c, s], [-s, c]]) + center


def random_shape(rng, center, size):
    """Random closed shape (rectangle, bar, ellipse, blob) as (N, 2)."""
    kind = rng.integers(4)
    angle = rng.uniform(0, np.pi)
    if kind == 0:
        return rect_points(center, size * rng.uniform(0.25, 0.6, 2), angle)
    if kind == 1:  # long thin bar (pen, stick, strap)
        half = size * np.array([rng.uniform(0.6, 1.2), rng.uniform(.06, .15)])
        return rect_points(center, half, angle)
    if kind == 2:
        return ellipse_points(center, size * rng.uniform(0.2, 0.55, 2), angle)
    n = int(rng.integers(3, 8))
    t = np.sort(rng.uniform(0, 2 * np.pi, n))
    r = size * rng.uniform(0.2, 0.6, n)
    return np.stack([r * np.cos(t), r * np.sin(t)], 1) + center


def capsule(a, b, ra, rb, n=16):
    """Tapered capsule (convex hull of two discs) from a to b, (M, 2)."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    ring = np.stack([np.cos(t), np.sin(t)], 1)
    pts = np.concatenate([a + ra * ring, b + rb * ring]).astype(np.float32)
    return cv2.convexHull(pts).reshape(-1, 2).astype(np.float64)
