"""Render one synthetic hand image with its keypoints, masks and visibility.

:func:`render_hand` draws a sampled hand (:mod:`.hand_model`) onto a
cluttered background (:mod:`.background`) as shaded capsules and a palm
polygon, sometimes with a forearm, covers it with non-skin occluders and adds
photometric noise. How many occluders, how large and how many keypoints they
must leave visible is an :class:`OcclusionLevel` of
:data:`OCCLUSION_LEVELS`: ``'default'`` (0-3 occluders on 40% of the images,
at least 10 keypoints kept visible) or ``'hard'`` (1-4 larger ones on 75%,
at least 6 kept visible).

Keypoints use the pixel-centre convention of OpenCV drawing and MMPose flips:
pixel ``(col, row)`` is centred at ``(x, y) = (col, row)``, so the pixel of a
keypoint is ``floor(x + 0.5), floor(y + 0.5)`` (:func:`keypoint_pixels`).
"""
from typing import NamedTuple, Tuple

import cv2
import numpy as np

from .background import background
from .hand_model import (NUM_KEYPOINTS, canonical_hand, finger_keypoints,
                         place_hand)
from .primitives import (SHIFT, capsule, linear_ramp, non_skin_colour, pattern,
                         random_shape, skin_colour, smooth_noise, to_cv)
from .validation import check_choice, check_img_size

# Part ids in the part map: 0 background, then forearm, palm and the 15
# phalanges (finger f, bone k -> FINGER_ID0 + 3 * f + k).
ARM_ID, PALM_ID, FINGER_ID0 = 1, 2, 3
_NUM_IDS = FINGER_ID0 + 15


class OcclusionLevel(NamedTuple):
    """How :func:`render_hand` covers a hand with occluders.

    Attributes:
        probability (float): Chance that an image gets occluders at all.
        count (tuple[int, int]): Smallest and largest number of occluders
            (uniform, both included).
        size (tuple[float, float]): Range of an occluder's size as a
            fraction of the hand size (longer side of the keypoint box plus
            a finger width); a shape spans 0.4-2.4 times its size.
        spread (float): Standard deviation of an occluder's centre around a
            random keypoint, as a fraction of the hand size.
        min_visible (int): Fewest keypoints that must stay visible; an
            occluder draw that leaves fewer is redrawn (3 tries), then the
            image keeps no occluder.
    """

    probability: float
    count: Tuple[int, int]
    size: Tuple[float, float]
    spread: float
    min_visible: int


#: The occlusion settings of :func:`render_hand`. ``'default'`` is the
#: generator's original behaviour (same random draws, same bytes).
OCCLUSION_LEVELS = {
    'default': OcclusionLevel(probability=0.4, count=(1, 3),
                              size=(0.15, 0.45), spread=0.15, min_visible=10),
    'hard': OcclusionLevel(probability=0.75, count=(1, 4),
                           size=(0.25, 0.6), spread=0.15, min_visible=6),
}
_OCCLUSION_TRIES = 3


def _hand_parts(kps_px, widths_px, palm_px, arm):
    """Polygons of all parts in painter's order as ``[(part_id, (N, 2))]``.

    Args:
        kps_px (np.ndarray): Keypoints in pixels, (21, 2).
        widths_px (np.ndarray): Full widths in pixels, (5, 4).
        palm_px (np.ndarray): Palm outline in pixels, (M, 2).
        arm (np.ndarray | None): Forearm capsule polygon, (K, 2).
    """
    parts = [] if arm is None else [(ARM_ID, arm)]
    parts.append((PALM_ID, palm_px))
    order = [4, 3, 2, 1, 0]  # little finger first, thumb last (on top)
    for f in order:
        chain = kps_px[finger_keypoints(f)]
        for k in range(3):
            poly = capsule(chain[k], chain[k + 1], widths_px[f, k] / 2,
                           widths_px[f, k + 1] / 2)
            parts.append((FINGER_ID0 + 3 * f + k, poly))
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
        pts = [to_cv(poly)]
        cv2.fillPoly(part_map, pts, int(pid), cv2.LINE_8, SHIFT)
        cv2.fillPoly(alpha, pts, 255, cv2.LINE_AA, SHIFT)
    return part_map, alpha.astype(np.float32) / 255


def _crease_map(kps_px, widths_px, creases_px, size):
    """Owner map of thin crease lines (finger index + 1, palm = 6)."""
    owner = np.zeros((size, size), np.uint8)
    for f in range(5):
        idx = finger_keypoints(f)
        for j in (1, 2):
            d = kps_px[idx[j + 1]] - kps_px[idx[j - 1]]
            n = np.array([-d[1], d[0]]) / max(np.linalg.norm(d), 1e-6)
            half = n * widths_px[f, j] * 0.4
            p, q = to_cv(kps_px[idx[j]] - half), to_cv(kps_px[idx[j]] + half)
            cv2.line(owner, tuple(p[0, 0]), tuple(q[0, 0]), f + 1, 1,
                     cv2.LINE_8, SHIFT)
    for line in creases_px:
        cv2.polylines(owner, [to_cv(line)], False, 6, 1, cv2.LINE_8, SHIFT)
    return owner


def _part_lut(rng, skin, arm_colour):
    """Colour per part id, (_NUM_IDS, 3) float32, with mild per-part tint."""
    lut = skin[None, :] * rng.uniform(0.93, 1.07, (_NUM_IDS, 1))
    lut[0] = skin
    lut[ARM_ID] = arm_colour
    return lut.astype(np.float32)


def _shade_hand(rng, part_map, crease_owner, skin, arm_colour):
    """Skin colour layer with shading, outlines and creases, (H, W, 3)."""
    size = part_map.shape[0]
    kernel = np.ones((3, 3), np.uint8)
    grown, shrunk = cv2.dilate(part_map, kernel), cv2.erode(part_map, kernel)
    ids = np.where(part_map > 0, part_map, grown)  # colour AA fringes too
    layer = _part_lut(rng, skin, arm_colour)[ids]
    shade = 1 + rng.uniform(0.1, 0.35) * (linear_ramp(rng, size) - 0.5)
    shade += (smooth_noise(rng, size, 1, (3, 6))[..., 0] - 0.5) * 0.15
    dark = np.ones((size, size), np.float32)
    dark[grown != shrunk] = rng.uniform(0.7, 0.9)
    finger_of = np.zeros(256, np.uint8)
    finger_of[PALM_ID] = 6
    finger_of[FINGER_ID0:FINGER_ID0 + 15] = np.repeat(np.arange(1, 6), 3)
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
    return capsule(a, b, 0.34 * scale, 0.45 * scale)


def _occluders(rng, img, kps_px, scale, size, level):
    """Draw non-skin occluders on ``img`` in place.

    Args:
        level (OcclusionLevel): Chance, count and size of the occluders.

    Returns:
        np.ndarray: Occluder mask, (size, size) bool.
    """
    mask = np.zeros((size, size), np.uint8)
    if rng.random() >= level.probability:
        return mask.astype(bool)
    hand_size = float(np.ptp(kps_px, axis=0).max()) + scale * 0.3
    for _ in range(int(rng.integers(level.count[0], level.count[1] + 1))):
        center = kps_px[rng.integers(NUM_KEYPOINTS)] + rng.normal(
            0, level.spread * hand_size, 2)
        poly = [to_cv(random_shape(rng, center,
                                   hand_size * rng.uniform(*level.size)))]
        cv2.fillPoly(mask, poly, 1, cv2.LINE_8, SHIFT)
        cover = np.zeros((size, size), np.uint8)
        cv2.fillPoly(cover, poly, 255, cv2.LINE_AA, SHIFT)
        colour = non_skin_colour(rng)
        field = colour * (1 + 0.3 * (linear_ramp(rng, size) - 0.5))[..., None]
        if rng.random() < 0.3:
            field *= (0.7 + 0.3 * pattern(rng, size))[..., None]
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
    """Pixel (col, row) holding each keypoint, (N, 2) int64.

    Args:
        keypoints (np.ndarray): Pixel-centre coordinates ``(x, y)``, (N, 2)
            (or (2,) for a single point).

    Returns:
        np.ndarray: ``floor(keypoints + 0.5)`` as int64.
    """
    return np.floor(np.asarray(keypoints) + 0.5).astype(np.int64)


def inside_image(kps_px, size):
    """Whether each keypoint's pixel (:func:`keypoint_pixels`) is in the
    image.

    Args:
        kps_px (np.ndarray): Keypoints in pixels, (K, 2).
        size (int): Side of the square image.

    Returns:
        np.ndarray: (K,) bool.
    """
    pix = keypoint_pixels(kps_px)
    return np.all((pix >= 0) & (pix < size), axis=1)


def visibility(kps_px, hand_mask):
    """Visible = inside the image and on the visible hand mask.

    Args:
        kps_px (np.ndarray): Keypoints in pixels, (K, 2).
        hand_mask (np.ndarray): Visible hand pixels, (size, size) bool.

    Returns:
        np.ndarray: (K,) bool.
    """
    pix = keypoint_pixels(kps_px)
    inside = inside_image(kps_px, hand_mask.shape[0])
    vis = np.zeros(len(pix), bool)
    vis[inside] = hand_mask[pix[inside, 1], pix[inside, 0]]
    return vis


def render_hand(rng, img_size=256, occlusion='default'):
    """Render one synthetic hand image.

    The background, hand pose, placement and colours are drawn before the
    occluders, so the same ``rng`` state gives the same hand and keypoints
    under either ``occlusion`` level; the occluders and the photometric
    jitter drawn after them differ.

    Args:
        rng (np.random.Generator): Source of all randomness.
        img_size (int): Side of the square image in pixels (>= 64).
        occlusion (str): A key of :data:`OCCLUSION_LEVELS`, ``'default'``
            or ``'hard'``.

    Returns:
        dict: ``image`` (H, W, 3) uint8 BGR; ``keypoints`` (21, 2) float32
        true positions (pixel-centre convention, may lie outside the image);
        ``visible`` (21,) bool; ``hand_mask`` (H, W) bool visible hand
        pixels (hand minus occluders, forearm excluded); ``occluder_mask``
        (H, W) bool; ``part_map`` (H, W) uint8 part ids before occlusion
        (0 background, 1 forearm, 2 palm, 3.. phalanges); ``skin_bgr`` (3,)
        float32 base skin colour; ``mirrored`` bool (left/right flip).

    Raises:
        ValueError: If ``rng`` is not a numpy Generator, ``img_size`` is
            out of range or ``occlusion`` is unknown.
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f'rng must be a numpy Generator, got {type(rng)}')
    size = check_img_size(img_size)
    level = OCCLUSION_LEVELS[check_choice('occlusion', occlusion,
                                          OCCLUSION_LEVELS)]
    bg = background(rng, size)
    kps, widths, palm, creases = canonical_hand(rng)
    to_px, scale, mirrored = place_hand(rng, kps, size, pad=0.15)
    kps_px = to_px(kps)
    arm = _forearm(rng, to_px, scale)
    parts = _hand_parts(kps_px, widths * scale, to_px(palm), arm)
    part_map, alpha = _rasterise(parts, size)
    owner = _crease_map(kps_px, widths * scale, [to_px(c) for c in creases],
                        size)
    skin = skin_colour(rng)
    arm_colour = skin if rng.random() < 0.7 else non_skin_colour(rng)
    layer = _shade_hand(rng, part_map, owner, skin, arm_colour)
    img = bg + (layer - bg) * alpha[..., None]
    hand = part_map >= PALM_ID
    occ = np.zeros_like(hand)
    for _ in range(_OCCLUSION_TRIES):  # keep level.min_visible visible
        trial = img.copy()
        occ = _occluders(rng, trial, kps_px, scale, size, level)
        if visibility(kps_px, hand & ~occ).sum() >= level.min_visible:
            img = trial
            break
        occ = np.zeros_like(hand)
    hand_mask = hand & ~occ
    return dict(image=_finish(rng, img), keypoints=kps_px.astype(np.float32),
                visible=visibility(kps_px, hand_mask), hand_mask=hand_mask,
                occluder_mask=occ, part_map=part_map, skin_bgr=skin,
                mirrored=mirrored)
