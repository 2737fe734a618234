"""The articulated 2D hand: keypoint names, limbs, pose sampling, placement.

Keypoints follow MMPose's hand order: 0 wrist; 1-4 thumb CMC..tip; 5-8
index; 9-12 middle; 13-16 ring; 17-20 little finger, base..tip.

A hand is first sampled in canonical "palm units" (palm width ~0.9, image
axes with y down, fingers pointing up (-y), thumb on the -x side) by
:func:`canonical_hand`, then mapped to pixels by :func:`place_hand`.
"""
import numpy as np

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

# Canonical hand in palm units. Row order: thumb, index, middle, ring,
# little.
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


def finger_keypoints(finger):
    """Keypoint indices of one finger, base to tip.

    Args:
        finger (int): 0 thumb, 1 index, 2 middle, 3 ring, 4 little.

    Returns:
        list[int]: Four indices into the 21 keypoints.
    """
    return [1, 2, 3, 4] if finger == 0 else list(
        range(4 * finger + 1, 4 * finger + 5))


def sample_flexion(rng):
    """Per-finger flexion level in [0, 1], (5,) (thumb first)."""
    mode = rng.random()
    if mode < 0.35:  # open hand
        return rng.uniform(0, 0.2, 5)
    if mode < 0.5:  # fist-like
        return rng.uniform(0.6, 1.0, 5)
    extended = rng.random(5) < 0.5  # pointing, peace, pinch, ...
    return np.where(extended, rng.uniform(0, 0.25, 5), rng.uniform(0.3, 1, 5))


def finger_chain(base, angle, bones, flex, tilt, converge):
    """Joints after ``base`` of one finger, (3, 2).

    Args:
        base (np.ndarray): MCP position, (2,).
        angle (float): Finger direction in degrees clockwise from up.
        bones (np.ndarray): Phalanx lengths, (3,).
        flex (np.ndarray): Flexion of MCP, PIP, DIP in degrees, (3,).
        tilt (np.ndarray): Image projection of the palm normal, (2,).
        converge (float): Lateral drift of flexed segments.

    Returns:
        np.ndarray: PIP, DIP and tip positions, (3, 2).
    """
    a = np.deg2rad(angle)
    u = np.array([np.sin(a), -np.cos(a)])
    w = np.array([np.cos(a), np.sin(a)])
    phi = np.deg2rad(np.cumsum(flex))[:, None]
    dirs = np.cos(phi) * u + np.sin(phi) * (tilt + converge * w)
    return base + np.cumsum(bones[:, None] * dirs, axis=0)


def thumb_chain(base, angle, bones, bend, fore):
    """Joints after the CMC of the thumb, (3, 2).

    The thumb bends in the image plane towards the palm (``bend``, degrees
    per joint) and is foreshortened by opposition (``fore``, degrees).

    Args:
        base (np.ndarray): CMC position, (2,).
        angle (float): Thumb direction in degrees clockwise from up.
        bones (np.ndarray): Metacarpal, proximal and distal lengths, (3,).
        bend (np.ndarray): In-plane bend per joint in degrees, (3,).
        fore (np.ndarray): Foreshortening angle per bone in degrees, (3,).

    Returns:
        np.ndarray: MCP, IP and tip positions, (3, 2).
    """
    ang = np.deg2rad(angle + np.cumsum(bend))
    dirs = np.stack([np.sin(ang), -np.cos(ang)], 1) * np.cos(
        np.deg2rad(fore))[:, None]
    return base + np.cumsum(bones[:, None] * dirs, axis=0)


def canonical_hand(rng):
    """Sample an articulated hand in palm units.

    Args:
        rng (np.random.Generator): Source of randomness.

    Returns:
        tuple: keypoints (21, 2), phalanx widths (5, 4), palm outline (12, 2)
        and palm crease polylines (3, 3, 2), all in canonical coordinates.
    """
    level = sample_flexion(rng)
    bones = _BONES * rng.uniform(0.88, 1.12) * rng.uniform(0.95, 1.05, (5, 1))
    spread = rng.uniform(-0.3, 1.0) * (1 - 0.6 * level)
    angles = _BASE_ANGLES + _SPREAD * spread + rng.uniform(-4, 4, 5)
    angles[0] += rng.uniform(-15, 15)
    tilt = rng.normal(0, 0.25, 2)
    kps = np.zeros((NUM_KEYPOINTS, 2))
    kps[1] = _BASES[0] + rng.normal(0, 0.02, 2)
    kps[2:5] = thumb_chain(kps[1], angles[0], bones[0],
                           level[0] * rng.uniform([0, 0, 0], [25, 45, 65]),
                           level[0] * rng.uniform([0, 10, 10], [50, 60, 60]))
    for f in range(1, 5):
        pip = level[f] * rng.uniform(60, 110)
        flex = np.array([level[f] * rng.uniform(40, 90), pip,
                         np.clip(pip * rng.uniform(0.5, 0.9), 0, 85)])
        base = _BASES[f] + rng.normal(0, 0.015, 2)
        kps[4 * f + 1] = base
        kps[4 * f + 2:4 * f + 5] = finger_chain(base, angles[f], bones[f],
                                                flex, tilt, _CONVERGE[f])
    widths = _WIDTHS * rng.uniform(0.85, 1.15)
    palm = _PALM * rng.uniform(0.95, 1.05, 2)
    palm = palm + rng.normal(0, 0.015, _PALM.shape)
    creases = _PALM_CREASES + rng.normal(0, 0.03, _PALM_CREASES.shape)
    return kps, widths, palm, creases


def place_hand(rng, kps, size, pad):
    """Random mirror/rotation/scale/translation mapping palm units to pixels.

    About a third of the hands are placed so that some fingertips leave the
    frame; the wrist is always kept inside it.

    Args:
        rng (np.random.Generator): Source of randomness.
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
