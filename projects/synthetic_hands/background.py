"""Cluttered, textured backgrounds that the hand is composited onto."""
import cv2
import numpy as np

from .primitives import (SHIFT, linear_ramp, pattern, rand_colour,
                         random_shape, skin_colour, smooth_noise, to_cv)


def background(rng, size):
    """Cluttered / textured background, (size, size, 3) float32 BGR.

    A smooth-noise, gradient, flat or patterned base, optionally with a
    second texture, random clutter (:func:`draw_clutter`), low-frequency
    brightness noise and blur.
    """
    c0 = rng.uniform(0, 255, 3).astype(np.float32)
    c1 = rng.uniform(0, 255, 3).astype(np.float32)
    kind = rng.integers(4)
    if kind == 0:
        img = smooth_noise(rng, size) * 255
    elif kind == 1:
        img = c0 + (c1 - c0) * linear_ramp(rng, size)[..., None]
    elif kind == 2:
        img = np.broadcast_to(c0, (size, size, 3)).copy()
    else:
        img = c0 + (c1 - c0) * pattern(rng, size)[..., None]
    if rng.random() < 0.4:
        tex = pattern(rng, size)[..., None]
        img = img + (rng.uniform(0, 255, 3) - img) * tex * rng.uniform(.1, .5)
    img = np.ascontiguousarray(np.clip(img, 0, 255).astype(np.uint8))
    draw_clutter(rng, img)
    out = img.astype(np.float32)
    if rng.random() < 0.5:
        out += (smooth_noise(rng, size, 1, (8, 40)) - 0.5) * rng.uniform(
            10, 60)
    if rng.random() < 0.3:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.6, 2.0))
    return out


def draw_clutter(rng, img):
    """Draw random shapes/lines (some skin coloured) on a uint8 image."""
    size = img.shape[0]
    for _ in range(int(rng.integers(0, 25))):
        colour = rand_colour(rng)
        if rng.random() < 0.1:
            colour = tuple(int(c) for c in skin_colour(rng))
        center = rng.uniform(0, size, 2)
        if rng.random() < 0.3:
            p, q = to_cv(center), to_cv(rng.uniform(0, size, 2))
            cv2.line(img, tuple(p[0, 0]), tuple(q[0, 0]), colour,
                     int(rng.integers(1, 6)), cv2.LINE_AA, SHIFT)
            continue
        shape = random_shape(rng, center, size * rng.uniform(0.05, 0.5))
        if rng.random() < 0.2:
            cv2.polylines(img, [to_cv(shape)], True, colour,
                          int(rng.integers(1, 4)), cv2.LINE_AA, SHIFT)
        else:
            cv2.fillPoly(img, [to_cv(shape)], colour, cv2.LINE_AA, SHIFT)
