"""Synthetic limb masks of NSRM (Chen et al., WACV 2020, Sec. 3.1-3.2).

Pure numpy, no torch or MMPose import (the hand's limbs, groups and channel
order come from :mod:`projects.nsrm.structures.hand_topology`). All maps
live on the heatmap grid: a pixel ``p = (x, y)`` has integer coordinates,
``x`` the column and ``y`` the row, and keypoints are given in the same grid
units (no half-pixel shift).

Single-limb representations for a limb ``L = (a, b)`` with unit direction
``u = (b - a) / |b - a|`` and unit normal ``u_perp``:

- **LDM** (Eq. 1-2): ``1`` where ``0 <= (p - a).u <= |b - a|`` and
  ``|(p - a).u_perp| <= sigma`` (boundaries inclusive), else ``0``.
- **LPM** (Eq. 3): ``exp(-d^2 / (2 sigma^2))`` where ``d`` is the exact
  Euclidean distance from ``p`` to the *segment* ``[a, b]`` (the projection
  parameter is clamped to ``[0, 1]``, so beyond an end point ``d`` is the
  distance to that end point).

Composition (Eq. 4): a group mask is the pixel-wise max over its member
limbs. ``G1`` groups all limbs, ``G6`` uses six anatomical groups (five
fingers and the palm), ``G1&6`` stacks ``[G1, G6...]`` (7 channels).
"""
from functools import lru_cache
from numbers import Real
from typing import Optional, Sequence, Tuple

import numpy as np

from ...structures.hand_topology import (HAND_G6_GROUPS, HAND_LIMBS,
                                         channel_members, validate_groups)

__all__ = [
    'MASK_TYPES', 'limb_maps', 'compose_limb_groups', 'generate_limb_masks',
    'draw_limb_masks', 'validate_mask_type', 'validate_sigma',
    'validate_size', 'validate_limbs'
]

#: Supported single-limb representations.
MASK_TYPES: Tuple[str, ...] = ('LDM', 'LPM')

# Length below which a limb is treated as a single point.
_MIN_LIMB_LENGTH = 1e-6
# Slack (in grid pixels) on the inclusive LDM boundaries, to absorb float32
# rounding (e.g. the end point of a diagonal limb must stay inside).
_LDM_EPS = 1e-4


# ---------------------------------------------------------------------------
# validation helpers
# ---------------------------------------------------------------------------
def validate_mask_type(mask_type: str) -> str:
    """Return ``mask_type`` if it is ``'LDM'`` or ``'LPM'``, else raise a
    ``ValueError`` naming it."""
    if not isinstance(mask_type, str) or mask_type not in MASK_TYPES:
        raise ValueError(f'mask_type must be one of {MASK_TYPES}, '
                         f'got {mask_type!r}')
    return mask_type


def validate_sigma(sigma: float) -> float:
    """Check ``sigma`` is a finite real number > 0 and return it as float.

    Raises:
        ValueError: naming ``sigma`` otherwise.
    """
    if (isinstance(sigma, (bool, np.bool_)) or not isinstance(sigma, Real)
            or not np.isfinite(sigma) or sigma <= 0):
        raise ValueError(
            f'sigma must be a finite number > 0, got {sigma!r}')
    return float(sigma)


def validate_size(size: Sequence[int],
                  name: str = 'heatmap_size') -> Tuple[int, int]:
    """Check a ``(w, h)`` size holds two positive integers.

    Args:
        size (Sequence[int]): ``(w, h)``.
        name (str): Argument name used in the error message.

    Returns:
        Tuple[int, int]: ``(w, h)`` as Python ints.

    Raises:
        ValueError: naming ``name`` otherwise.
    """
    try:
        vals = tuple(size)
    except TypeError:
        vals = None
    if (vals is None or len(vals) != 2 or any(
            isinstance(v, (bool, np.bool_)) or not isinstance(
                v, (int, np.integer)) or v <= 0 for v in vals)):
        raise ValueError(
            f'{name} must be a (w, h) pair of positive ints, got {size!r}')
    return int(vals[0]), int(vals[1])


def validate_limbs(limbs: Sequence[Sequence[int]],
                   num_keypoints: int) -> np.ndarray:
    """Check limbs are ``(start, end)`` keypoint index pairs in range.

    Args:
        limbs (Sequence[Sequence[int]]): ``L`` keypoint index pairs.
        num_keypoints (int): ``K``, the number of keypoints.

    Returns:
        np.ndarray: The limbs in shape (L, 2), int64.

    Raises:
        ValueError: naming ``limbs`` if malformed or an index is outside
            ``[0, K)``.
    """
    try:
        arr = np.asarray(limbs)
    except Exception as e:  # ragged input etc.
        raise ValueError(f'limbs must be a sequence of (start, end) '
                         f'index pairs: {e}') from None
    if arr.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    if arr.ndim != 2 or arr.shape[1] != 2 or not np.issubdtype(
            arr.dtype, np.integer):
        raise ValueError('limbs must be a sequence of (start, end) integer '
                         f'index pairs, got array of shape {arr.shape} and '
                         f'dtype {arr.dtype}')
    if arr.min() < 0 or arr.max() >= num_keypoints:
        bad = [tuple(int(v) for v in pair) for pair in arr
               if pair.min() < 0 or pair.max() >= num_keypoints]
        raise ValueError(f'limbs reference keypoint indices out of range '
                         f'[0, {num_keypoints}): {bad}')
    return arr.astype(np.int64)


# ---------------------------------------------------------------------------
# single-limb maps
# ---------------------------------------------------------------------------
@lru_cache(maxsize=32)
def _grid(w: int, h: int) -> Tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates, x in shape (1, 1, W) and y in shape (1, H, 1)."""
    xs = np.arange(w, dtype=np.float32).reshape(1, 1, w)
    ys = np.arange(h, dtype=np.float32).reshape(1, h, 1)
    xs.flags.writeable = False
    ys.flags.writeable = False
    return xs, ys


def _along_perp(starts: np.ndarray, ends: np.ndarray, w: int, h: int):
    """Limb-frame coordinates of every pixel.

    Args:
        starts (np.ndarray): Finite start points ``a`` in shape (L, 2).
        ends (np.ndarray): Finite end points ``b`` in shape (L, 2).
        w (int): Grid width ``W``.
        h (int): Grid height ``H``.

    Returns:
        tuple:
        - along (np.ndarray): ``(p - a).u`` in shape (L, H, W), float32
        - perp (np.ndarray): ``(p - a).u_perp`` in shape (L, H, W), float32
        - length (np.ndarray): ``|b - a|`` in shape (L, ), float32 (0 for
            degenerate limbs)
        - degenerate (np.ndarray): ``|b - a| < 1e-6`` in shape (L, ), bool

        For a degenerate limb ``u = (1, 0)`` and ``length = 0``, so that
        ``along^2 + perp^2 = |p - a|^2``.
    """
    starts = np.asarray(starts, dtype=np.float64)
    ends = np.asarray(ends, dtype=np.float64)
    vec = ends - starts  # (L, 2)
    length = np.sqrt((vec * vec).sum(axis=1))  # (L,)
    degenerate = length < _MIN_LIMB_LENGTH
    safe_len = np.where(degenerate, 1.0, length)
    ux = np.where(degenerate, 1.0, vec[:, 0] / safe_len)
    uy = np.where(degenerate, 0.0, vec[:, 1] / safe_len)
    length = np.where(degenerate, 0.0, length)

    xs, ys = _grid(w, h)
    f32 = np.float32
    dx = xs - starts[:, 0].astype(f32)[:, None, None]  # (L, 1, W)
    dy = ys - starts[:, 1].astype(f32)[:, None, None]  # (L, H, 1)
    ux = ux.astype(f32)[:, None, None]
    uy = uy.astype(f32)[:, None, None]
    along = dx * ux + dy * uy  # (L, H, W)
    perp = dy * ux - dx * uy  # (L, H, W)
    return along, perp, length.astype(f32), degenerate


def _sq_dist_from_frame(along: np.ndarray, perp: np.ndarray,
                        length: np.ndarray) -> np.ndarray:
    """Squared distance to the segment from limb-frame coordinates.

    ``d^2 = perp^2 + (along - clip(along, 0, length))^2``; all arrays (L, H,
    W) except ``length`` (L, ). Overwrites ``along`` and ``perp``.
    """
    # excess beyond the segment along its axis: min(along, 0) +
    # max(along - length, 0) == along - clip(along, 0, length) (np.clip is
    # several times slower than maximum + minimum on arrays this small)
    excess = np.maximum(along, 0.0)
    np.minimum(excess, length[:, None, None], out=excess)
    np.subtract(along, excess, out=excess)
    np.multiply(excess, excess, out=excess)
    np.multiply(perp, perp, out=perp)
    np.add(perp, excess, out=perp)
    return perp


def _ldm_from_frame(along: np.ndarray, perp: np.ndarray, length: np.ndarray,
                    degenerate: np.ndarray, sigma: float) -> np.ndarray:
    """Boolean LDM membership in shape (L, H, W) from limb-frame
    coordinates (see :func:`limb_maps` for the degenerate case)."""
    lim = sigma + _LDM_EPS
    inside = np.abs(perp) <= lim
    inside &= along >= -_LDM_EPS
    inside &= along <= (length + _LDM_EPS)[:, None, None]
    if degenerate.any():
        # zero-length limb: the disc |p - a| <= sigma
        d = degenerate
        inside[d] = (along[d]**2 + perp[d]**2) <= lim * lim
    return inside


def _check_starts_ends(starts, ends, valid):
    starts = np.asarray(starts, dtype=np.float64)
    ends = np.asarray(ends, dtype=np.float64)
    if starts.ndim != 2 or starts.shape[1] != 2:
        raise ValueError(f'starts must have shape (L, 2), got {starts.shape}')
    if ends.shape != starts.shape:
        raise ValueError(f'ends must have shape {starts.shape} like starts, '
                         f'got {ends.shape}')
    if valid is None:
        valid = np.ones(len(starts), dtype=bool)
    else:
        valid = np.asarray(valid)
        if valid.shape != (len(starts), ):
            raise ValueError(f'valid must have shape ({len(starts)},), got '
                             f'{valid.shape}')
        valid = valid.astype(bool)
    # non-finite end points make the limb invalid
    valid = valid & np.isfinite(starts).all(1) & np.isfinite(ends).all(1)
    return starts, ends, valid


def _sq_dists(starts: np.ndarray, ends: np.ndarray, valid: np.ndarray,
              w: int, h: int) -> np.ndarray:
    """Squared distances to each limb's segment in shape (L, H, W), float32,
    ``+inf`` for invalid limbs (so that ``exp(-d^2 / (2 sigma^2))`` is 0)."""
    d2 = np.full((len(starts), h, w), np.inf, dtype=np.float32)
    if valid.any():
        along, perp, length, _ = _along_perp(starts[valid], ends[valid], w,
                                             h)
        d2[valid] = _sq_dist_from_frame(along, perp, length)
    return d2


def _gaussian_of_sq_dist(d2: np.ndarray, sigma: float) -> np.ndarray:
    """``exp(-d2 / (2 sigma^2))`` in place on float32 ``d2``."""
    d2 *= np.float32(-0.5 / sigma**2)
    return np.exp(d2, out=d2)


def _maps(starts: np.ndarray, ends: np.ndarray, valid: np.ndarray, w: int,
          h: int, mask_type: str, sigma: float) -> np.ndarray:
    """:func:`limb_maps` on checked arguments (``valid`` already excludes
    non-finite end points)."""
    if mask_type == 'LPM':
        return _gaussian_of_sq_dist(_sq_dists(starts, ends, valid, w, h),
                                    sigma)
    out = np.zeros((len(starts), h, w), dtype=np.float32)
    if valid.any():
        along, perp, length, degenerate = _along_perp(
            starts[valid], ends[valid], w, h)
        out[valid] = _ldm_from_frame(along, perp, length, degenerate, sigma)
    return out


def limb_maps(starts: np.ndarray,
              ends: np.ndarray,
              valid: Optional[np.ndarray],
              heatmap_size: Tuple[int, int],
              mask_type: str = 'LPM',
              sigma: float = 1.0) -> np.ndarray:
    """Single-limb masks (LDM or LPM) for many limbs at once.

    Args:
        starts (np.ndarray): Limb start points ``a`` in shape (L, 2), grid
            units, ``(x, y)`` with ``x`` the column and ``y`` the row.
        ends (np.ndarray): Limb end points ``b`` in shape (L, 2).
        valid (np.ndarray, optional): Limb validity in shape (L, ), bool.
            ``None`` means all valid. Invalid limbs (including those with
            NaN / inf end points) give all-zero maps.
        heatmap_size (Tuple[int, int]): Grid size ``(W, H)``.
        mask_type (str): ``'LDM'`` or ``'LPM'``. Defaults to ``'LPM'``.
        sigma (float): ``sigma_LDM`` (half width of the LDM rectangle) or
            ``sigma_LPM`` (Gaussian spread), in grid pixels. Defaults to 1.

    Returns:
        np.ndarray: The maps in shape (L, H, W), float32, values in [0, 1].

    Notes:
        - LDM: ``1`` where ``0 <= (p - a).u <= |b - a|`` and
          ``|(p - a).u_perp| <= sigma``, boundaries inclusive (up to 1e-4
          grid pixels of float slack), else ``0``.
        - LPM: ``exp(-d^2 / (2 sigma^2))`` with ``d`` the exact distance to
          the segment ``[a, b]``.
        - Zero-length limb (``|b - a| < 1e-6``): LPM is the Gaussian blob
          ``exp(-|p - a|^2 / (2 sigma^2))``; LDM is the disc
          ``|p - a| <= sigma`` (the rectangle degenerates, so the set of
          points within ``sigma`` of the segment is used, consistent with
          LPM). It is never an all-ones map.
    """
    validate_mask_type(mask_type)
    sigma = validate_sigma(sigma)
    w, h = validate_size(heatmap_size)
    starts, ends, valid = _check_starts_ends(starts, ends, valid)
    return _maps(starts, ends, valid, w, h, mask_type, sigma)


# ---------------------------------------------------------------------------
# composition
# ---------------------------------------------------------------------------
def _reduce_channels(maps: np.ndarray, members: Sequence[Sequence[int]],
                     ufunc: np.ufunc, empty: float) -> np.ndarray:
    """``ufunc`` (``np.maximum`` / ``np.minimum``) of ``maps`` (L, H, W)
    over each channel's members, in shape (C, H, W), float32; ``empty`` for
    a channel without members. Reduces views in place (no fancy-index
    copies)."""
    out = np.full((len(members), *maps.shape[1:]), empty, dtype=np.float32)
    for c, limbs in enumerate(members):
        if len(limbs):
            out[c] = maps[limbs[0]]
            for i in limbs[1:]:
                ufunc(out[c], maps[i], out=out[c])
    return out


def _compose(maps: np.ndarray,
             members: Sequence[Sequence[int]]) -> np.ndarray:
    """Pixel-wise max of ``maps`` (L, H, W) over each channel's members;
    (C, H, W) float32, zeros for a channel without members."""
    return _reduce_channels(maps, members, np.maximum, 0.0)


def compose_limb_groups(
    limb_maps: np.ndarray,
    groups: str = 'G1&6',
    limb_groups: Sequence[Sequence[int]] = HAND_G6_GROUPS
) -> np.ndarray:
    """Compose single-limb maps into group masks (Eq. 4, pixel-wise max).

    Args:
        limb_maps (np.ndarray): Single-limb maps in shape (L, H, W).
        groups (str): ``'G1'``, ``'G6'`` or ``'G1&6'``. Defaults to
            ``'G1&6'``.
        limb_groups (Sequence[Sequence[int]]): The six G6 groups as
            sequences of LIMB indices into ``limb_maps``. Ignored for
            ``'G1'``. Defaults to ``HAND_G6_GROUPS``.

    Returns:
        np.ndarray: The masks in shape (C, H, W), float32, in the channel
        order of :mod:`projects.nsrm.structures.hand_topology` (``[G1]``,
        ``[thumb, ..., palm]`` or ``[G1, thumb, ..., palm]``). G1 is the max
        over ALL limbs; a group with no limbs is all zeros.
    """
    limb_maps = np.asarray(limb_maps)
    if limb_maps.ndim != 3:
        raise ValueError('limb_maps must have shape (L, H, W), got '
                         f'{limb_maps.shape}')
    return _compose(limb_maps,
                    channel_members(groups, len(limb_maps), limb_groups))


# ---------------------------------------------------------------------------
# top level
# ---------------------------------------------------------------------------
def draw_limb_masks(keypoints: np.ndarray, usable: np.ndarray,
                    limbs: np.ndarray, members: Sequence[Sequence[int]],
                    heatmap_size: Tuple[int, int], mask_type: str,
                    sigma: float) -> np.ndarray:
    """The masks of one instance from arguments checked beforehand.

    :func:`generate_limb_masks` after its checks; ``LimbMaskTarget`` calls
    it directly with the settings it validated once at construction.

    Args:
        keypoints (np.ndarray): Keypoints in shape (K, 2), grid units.
        usable (np.ndarray): Keypoint usability in shape (K, ), bool
            (labelled and finite).
        limbs (np.ndarray): Limbs as keypoint index pairs, (L, 2) int64.
        members (Sequence[Sequence[int]]): Limb indices of each output
            channel (``hand_topology.channel_members``).
        heatmap_size (Tuple[int, int]): ``(W, H)``.
        mask_type (str): ``'LDM'`` or ``'LPM'``.
        sigma (float): ``sigma_LDM`` / ``sigma_LPM`` in grid pixels.

    Returns:
        np.ndarray: The masks in shape (C, H, W), float32.
    """
    valid = usable[limbs[:, 0]] & usable[limbs[:, 1]]  # (L,)
    w, h = heatmap_size
    starts, ends = keypoints[limbs[:, 0]], keypoints[limbs[:, 1]]
    if mask_type == 'LPM':
        # exp is monotone: the max over limbs of exp(-d^2 / 2s^2) is the
        # Gaussian of the min of d^2, so only C maps (not L) are exp'd
        near = _reduce_channels(_sq_dists(starts, ends, valid, w, h),
                                members, np.minimum, np.inf)  # (C, H, W)
        return _gaussian_of_sq_dist(near, sigma)
    return _compose(_maps(starts, ends, valid, w, h, mask_type, sigma),
                    members)


def generate_limb_masks(
    keypoints: np.ndarray,
    keypoints_visible: np.ndarray,
    heatmap_size: Tuple[int, int],
    mask_type: str = 'LPM',
    groups: str = 'G1&6',
    sigma: float = 1.0,
    limbs: Sequence[Sequence[int]] = HAND_LIMBS,
    limb_groups: Sequence[Sequence[int]] = HAND_G6_GROUPS,
) -> np.ndarray:
    """Generate the NSRM composite limb masks of one instance.

    ``compose_limb_groups(limb_maps(...), groups, limb_groups)`` over the
    limbs whose both end points are usable.

    Args:
        keypoints (np.ndarray): Keypoint coordinates in shape (K, 2) (extra
            trailing coordinates beyond x, y are ignored), in heatmap-grid
            units. Keypoints outside the grid are fine.
        keypoints_visible (np.ndarray): Keypoint visibilities in shape (K, ).
            A keypoint is usable iff its visibility is > 0 and its
            coordinates are finite.
        heatmap_size (Tuple[int, int]): Heatmap size ``(W, H)``.
        mask_type (str): ``'LDM'`` or ``'LPM'``. Defaults to ``'LPM'``.
        groups (str): ``'G1'``, ``'G6'`` or ``'G1&6'``. Defaults to
            ``'G1&6'``.
        sigma (float): ``sigma_LDM`` / ``sigma_LPM`` in grid pixels.
            Defaults to 1.
        limbs (Sequence[Sequence[int]]): ``L`` (start, end) keypoint index
            pairs. Defaults to ``HAND_LIMBS``.
        limb_groups (Sequence[Sequence[int]]): Six groups of LIMB indices
            (used by G6). Defaults to ``HAND_G6_GROUPS``.

    Returns:
        np.ndarray: The masks in shape (C, H, W), float32, ``C`` = 1 / 6 / 7
        for ``'G1'`` / ``'G6'`` / ``'G1&6'`` (channel order as in
        :func:`compose_limb_groups`). A limb is drawn iff both its end points
        are usable; with no usable limb the masks are all zeros.

    Raises:
        ValueError: naming the offending argument (``mask_type``,
            ``groups``, ``sigma``, ``heatmap_size``, ``keypoints``,
            ``keypoints_visible``, ``limbs`` or ``limb_groups``).
    """
    validate_mask_type(mask_type)
    validate_groups(groups)
    sigma = validate_sigma(sigma)
    size = validate_size(heatmap_size)
    kpts = np.asarray(keypoints, dtype=np.float64)
    if kpts.ndim != 2 or kpts.shape[1] < 2:
        raise ValueError(
            f'keypoints must have shape (K, 2), got {kpts.shape}')
    kpts = kpts[:, :2]
    vis = np.asarray(keypoints_visible)
    if vis.shape != (len(kpts), ):
        raise ValueError(f'keypoints_visible must have shape ({len(kpts)},), '
                         f'got {vis.shape}')
    limbs = validate_limbs(limbs, len(kpts))
    members = channel_members(groups, len(limbs), limb_groups)
    usable = (vis > 0) & np.isfinite(kpts).all(axis=1)  # (K,)
    return draw_limb_masks(kpts, usable, limbs, members, size, mask_type,
                           sigma)
