"""Tests of the pure NSRM limb-mask maths
(projects/nsrm/codecs/utils/limb_masks.py)."""
import math

import numpy as np
import pytest

from projects.nsrm.codecs.utils.limb_masks import (MASK_TYPES,
                                                   compose_limb_groups,
                                                   generate_limb_masks,
                                                   limb_maps)
from projects.nsrm.structures.hand_topology import (GROUP_MODES,
                                                    HAND_G6_GROUPS,
                                                    HAND_LIMBS,
                                                    num_mask_channels)
from projects.nsrm.testing import HAND

SIZE = (46, 46)
VIS = np.ones(21)


def single(a, b, size, mask_type, sigma=1.0):
    return limb_maps(
        np.array([a], float), np.array([b], float), None, size, mask_type,
        sigma)[0]


def hand_limb_maps(kpts, mask_type, sigma=1.0, size=SIZE, vis=None):
    s = np.array(HAND_LIMBS)
    valid = None
    if vis is not None:
        valid = (vis[s[:, 0]] > 0) & (vis[s[:, 1]] > 0)
    return limb_maps(kpts[s[:, 0]], kpts[s[:, 1]], valid, size, mask_type,
                     sigma)


# ---------------------------------------------------------------- constants
def test_constants():
    assert len(HAND_LIMBS) == 20
    assert HAND_LIMBS[:5] == ((0, 1), (1, 2), (2, 3), (3, 4), (0, 5))
    assert HAND_LIMBS[-1] == (19, 20)
    assert HAND_G6_GROUPS == ((1, 2, 3), (5, 6, 7), (9, 10, 11),
                              (13, 14, 15), (17, 18, 19), (0, 4, 8, 12, 16))
    # the groups partition the 20 limbs
    assert sorted(i for g in HAND_G6_GROUPS for i in g) == list(range(20))
    assert MASK_TYPES == ('LDM', 'LPM')
    assert GROUP_MODES == ('G1', 'G6', 'G1&6')
    assert [num_mask_channels(g) for g in GROUP_MODES] == [1, 6, 7]


# ------------------------------------------------------ single-limb values
def test_ldm_horizontal_limb_hand_computed():
    m = single((2, 3), (7, 3), (10, 8), 'LDM')
    assert m.shape == (8, 10) and m.dtype == np.float32
    # m[y, x]
    for x, y in [(2, 3), (7, 4), (5, 2), (7, 2), (2, 4)]:
        assert m[y, x] == 1.0, (x, y)
    for x, y in [(1, 3), (8, 3), (5, 5), (5, 1), (0, 0)]:
        assert m[y, x] == 0.0, (x, y)
    # the full rectangle: columns 2..7, rows 2..4
    expected = np.zeros((8, 10), np.float32)
    expected[2:5, 2:8] = 1
    np.testing.assert_array_equal(m, expected)


def test_ldm_sigma_controls_half_width():
    m = single((2, 3), (7, 3), (10, 8), 'LDM', sigma=2.0)
    assert m[5, 5] == 1.0 and m[1, 5] == 1.0 and m[6, 5] == 0.0
    m = single((2, 3), (7, 3), (10, 8), 'LDM', sigma=0.5)
    assert m[3, 5] == 1.0 and m[4, 5] == 0.0 and m[2, 5] == 0.0


def test_lpm_horizontal_limb_hand_computed():
    m = single((2, 3), (7, 3), (10, 8), 'LPM')
    assert m.shape == (8, 10) and m.dtype == np.float32
    np.testing.assert_allclose(m[3, 5], 1.0, rtol=1e-6)
    np.testing.assert_allclose(m[5, 5], math.exp(-4 / 2), rtol=1e-6)
    # beyond the end: distance to the END point (2), not to the line (0)
    np.testing.assert_allclose(m[3, 9], math.exp(-4 / 2), rtol=1e-6)
    # before the start: (0,0) -> (2,3): d^2 = 4 + 9
    np.testing.assert_allclose(m[0, 0], math.exp(-(4 + 9) / 2), rtol=1e-6)
    # sigma scales the exponent
    m2 = single((2, 3), (7, 3), (10, 8), 'LPM', sigma=2.0)
    np.testing.assert_allclose(m2[5, 5], math.exp(-4 / 8), rtol=1e-6)
    g = generate_limb_masks(
        np.array([[2, 3], [7, 3]], float), np.ones(2), (10, 8), 'LPM', 'G1',
        sigma=2.0, limbs=[(0, 1)])
    np.testing.assert_allclose(g[0], m2, atol=1e-7)
    np.testing.assert_allclose(g[0, 0, 0], math.exp(-13 / 8), rtol=1e-6)


def test_diagonal_limb_hand_computed():
    # limb (1,1) -> (5,5) on a 8x8 grid: u = (1,1)/sqrt2
    size = (8, 8)
    lpm = single((1, 1), (5, 5), size, 'LPM')
    ldm = single((1, 1), (5, 5), size, 'LDM')
    # pixel (4,2): projection t = 4/sqrt2 inside, perp = 2/sqrt2, d^2 = 2
    np.testing.assert_allclose(lpm[2, 4], math.exp(-2 / 2), rtol=1e-6)
    assert ldm[2, 4] == 0.0  # |perp| = 1.414 > 1
    # pixel (3,2): perp = 1/sqrt2 = 0.707 <= 1, along = 3/sqrt2 in range
    np.testing.assert_allclose(lpm[2, 3], math.exp(-0.5 / 2), rtol=1e-6)
    assert ldm[2, 3] == 1.0
    # end points and pixels on the segment are inside with value 1
    for p in range(1, 6):
        assert ldm[p, p] == 1.0
        np.testing.assert_allclose(lpm[p, p], 1.0, rtol=1e-6)
    # pixel (7,7) beyond the end: d^2 = 4 + 4 = 8 (line distance would be 0)
    np.testing.assert_allclose(lpm[7, 7], math.exp(-8 / 2), rtol=1e-6)
    assert ldm[7, 7] == 0.0 and ldm[6, 6] == 0.0 and ldm[0, 0] == 0.0
    # pixel (6,5): beyond end, d^2 = 1 -> exp(-0.5); LDM: along=11/sqrt2>4sqrt2
    np.testing.assert_allclose(lpm[5, 6], math.exp(-1 / 2), rtol=1e-6)
    assert ldm[5, 6] == 0.0


def test_ldm_end_points_always_inside():
    # inclusive boundaries must survive float rounding for any direction
    size = (12, 12)
    starts, ends = [], []
    for ax, ay, bx, by in [(0, 0, 3, 9), (0, 0, 9, 8), (0, 0, 11, 1),
                           (2, 7, 11, 0), (5, 5, 1, 2), (0, 11, 11, 0)]:
        starts.append((ax, ay))
        ends.append((bx, by))
    m = limb_maps(np.array(starts, float), np.array(ends, float), None, size,
                  'LDM')
    for i, ((ax, ay), (bx, by)) in enumerate(zip(starts, ends)):
        assert m[i, ay, ax] == 1 and m[i, by, bx] == 1, (starts[i], ends[i])
    # pixels exactly sigma away (perpendicular) from a diagonal limb
    # (0,0)->(3,4): u = (0.6, 0.8), u_perp = (-0.8, 0.6); a + 5 u_perp at
    # sigma = 5 is (-4, 3) -> shift the limb by (4, 0) to land on the grid
    m = single((4, 0), (7, 4), size, 'LDM', sigma=5.0)
    assert m[3, 0] == 1  # |perp| == sigma exactly, along == 0
    assert m[3, 11] == 0  # along 6.6 > 5 = |limb| -> outside


def test_lpm_matches_brute_force_segment_distance():
    rng = np.random.RandomState(0)
    a = rng.uniform(-5, 20, (6, 2))
    b = rng.uniform(-5, 20, (6, 2))
    w, h = 15, 11
    m = limb_maps(a, b, None, (w, h), 'LPM', 1.5)
    for i in range(6):
        for y in range(h):
            for x in range(w):
                p = np.array([x, y], float)
                v = b[i] - a[i]
                t = np.clip(np.dot(p - a[i], v) / np.dot(v, v), 0, 1)
                dd = np.sum((p - a[i] - t * v)**2)
                np.testing.assert_allclose(
                    m[i, y, x], math.exp(-dd / (2 * 1.5**2)), atol=1e-5)


def test_invalid_limbs_are_zero():
    a = np.array([[2, 3], [1, 1], [np.nan, 1]], float)
    b = np.array([[7, 3], [5, 5], [4, 4]], float)
    for mt in MASK_TYPES:
        m = limb_maps(a, b, np.array([True, False, True]), (10, 8), mt)
        assert m[0].max() == 1.0
        assert not m[1].any() and not m[2].any()
        assert np.isfinite(m).all()


# ------------------------------------------------------------- composition
@pytest.mark.parametrize('mask_type', MASK_TYPES)
def test_g1_and_g6_are_max_over_members(mask_type):
    maps = hand_limb_maps(HAND, mask_type)
    assert maps.shape == (20, 46, 46)
    out = generate_limb_masks(HAND, VIS, SIZE, mask_type, 'G1&6')
    assert out.shape == (7, 46, 46) and out.dtype == np.float32
    np.testing.assert_allclose(out[0], maps.max(0), atol=1e-6)
    for c, members in enumerate(HAND_G6_GROUPS, start=1):
        np.testing.assert_allclose(
            out[c], maps[list(members)].max(0), atol=1e-6)
        others = [i for i in range(20) if i not in members]
        # the channel is not the max over other limbs
        assert np.abs(out[c] - maps[others].max(0)).max() > 0.5
    # compose_limb_groups gives the same
    np.testing.assert_allclose(
        compose_limb_groups(maps, 'G1&6', HAND_G6_GROUPS), out, atol=1e-6)


def test_compose_is_the_max_over_members_for_any_maps():
    # compose_limb_groups is public: any float maps, negative ones too
    maps = np.random.default_rng(5).normal(size=(20, 5, 6)).astype(
        np.float32) - 3
    out = compose_limb_groups(maps, 'G1&6')
    np.testing.assert_array_equal(out[0], maps.max(0))
    for c, members in enumerate(HAND_G6_GROUPS, start=1):
        np.testing.assert_array_equal(out[c], maps[list(members)].max(0))
    assert out.max() < 0


@pytest.mark.parametrize('groups', GROUP_MODES)
def test_lpm_groups_equal_max_of_limb_maps_exactly(groups):
    # generate_limb_masks takes the Gaussian of the min squared distance
    # (exp is monotone) instead of the max of the per-limb Gaussians: the
    # result must be bit-identical, with invisible, zero-length and
    # off-grid limbs in the mix
    rng = np.random.default_rng(3)
    for trial in range(50):
        kpts = rng.uniform(-10, 56, (21, 2))
        kpts[4] = kpts[3]  # a zero-length limb
        vis = (rng.random(21) > 0.2).astype(float)
        expected = compose_limb_groups(
            hand_limb_maps(kpts, 'LPM', sigma=1.5, vis=vis), groups)
        out = generate_limb_masks(kpts, vis, SIZE, 'LPM', groups, 1.5)
        assert out.dtype == np.float32
        np.testing.assert_array_equal(out, expected)


def test_thumb_only_pixel_is_zero_in_index_channel():
    out = generate_limb_masks(HAND, VIS, SIZE, 'LPM', 'G1&6')
    # pixel on the thumb tip limb (3,4), far from the index finger
    x, y = 10, 27
    assert out[1, y, x] > 0.6  # thumb channel
    assert out[2, y, x] < 1e-6  # index channel
    assert out[0, y, x] == out[1, y, x]  # G1 is the thumb there
    ldm = generate_limb_masks(HAND, VIS, SIZE, 'LDM', 'G1&6')
    assert ldm[1, y, x] == 1 and ldm[2, y, x] == 0 and ldm[0, y, x] == 1


def test_channel_counts_and_order():
    for mt in MASK_TYPES:
        g1 = generate_limb_masks(HAND, VIS, SIZE, mt, 'G1')
        g6 = generate_limb_masks(HAND, VIS, SIZE, mt, 'G6')
        g16 = generate_limb_masks(HAND, VIS, SIZE, mt, 'G1&6')
        assert g1.shape == (1, 46, 46)
        assert g6.shape == (6, 46, 46)
        assert g16.shape == (7, 46, 46)
        np.testing.assert_array_equal(g16[:1], g1)
        np.testing.assert_array_equal(g16[1:], g6)
        # G1 is the max of the G6 channels for the hand (groups partition)
        np.testing.assert_allclose(g1[0], g6.max(0), atol=1e-6)
    maps = hand_limb_maps(HAND, 'LPM')
    assert compose_limb_groups(maps, 'G1').shape == (1, 46, 46)
    assert compose_limb_groups(maps, 'G6').shape == (6, 46, 46)


def test_g1_covers_limbs_outside_the_groups():
    # G1 is the max over ALL limbs, even those in no G6 group
    groups = ((1, 2, 3), (5, 6, 7), (9, 10, 11), (13, 14, 15), (17, 18, 19),
              (4, 8, 12, 16))  # limb 0 (wrist->thumb base) left out
    out = generate_limb_masks(HAND, VIS, SIZE, 'LPM', 'G1&6',
                              limb_groups=groups)
    maps = hand_limb_maps(HAND, 'LPM')
    np.testing.assert_allclose(out[0], maps.max(0), atol=1e-6)
    np.testing.assert_allclose(out[6], maps[[4, 8, 12, 16]].max(0),
                               atol=1e-6)
    assert np.abs(out[0] - out[1:].max(0)).max() > 0.5


def test_custom_limbs():
    kpts = np.array([[2, 3], [7, 3], [0, 0]], float)
    out = generate_limb_masks(kpts, np.ones(3), (10, 8), 'LDM', 'G1',
                              limbs=[(0, 1)])
    np.testing.assert_array_equal(out[0], single((2, 3), (7, 3), (10, 8),
                                                 'LDM'))


# ------------------------------------------------------- missing keypoints
@pytest.mark.parametrize('mask_type', MASK_TYPES)
@pytest.mark.parametrize('groups', GROUP_MODES)
def test_invisible_keypoint_zeroes_its_limbs(mask_type, groups):
    vis = VIS.copy()
    vis[6] = 0
    out = generate_limb_masks(HAND, vis, SIZE, mask_type, groups)
    # reference: limbs 5 (5,6) and 6 (6,7) removed
    keep = [i for i in range(20) if i not in (5, 6)]
    limbs = [HAND_LIMBS[i] for i in keep]
    remap = {old: new for new, old in enumerate(keep)}
    groups6 = [tuple(remap[i] for i in g if i in remap)
               for g in HAND_G6_GROUPS]
    ref = generate_limb_masks(HAND, VIS, SIZE, mask_type, groups,
                              limbs=limbs, limb_groups=groups6)
    np.testing.assert_allclose(out, ref, atol=1e-6)
    full = generate_limb_masks(HAND, VIS, SIZE, mask_type, groups)
    assert np.abs(full - out).max() > 0.5  # it did remove something
    # through limb_maps: exactly limbs 5 and 6 are zero
    maps = hand_limb_maps(HAND, mask_type, vis=vis)
    zero = [i for i in range(20) if not maps[i].any()]
    assert zero == [5, 6]


@pytest.mark.parametrize('bad', [np.nan, np.inf, -np.inf])
def test_nonfinite_keypoint_is_invisible(bad):
    kpts = HAND.copy()
    kpts[6, 1] = bad
    vis = VIS.copy()
    vis[6] = 0
    for mt in MASK_TYPES:
        out = generate_limb_masks(kpts, VIS, SIZE, mt, 'G1&6')
        ref = generate_limb_masks(HAND, vis, SIZE, mt, 'G1&6')
        assert np.isfinite(out).all()
        np.testing.assert_array_equal(out, ref)


def test_no_visible_keypoint_gives_zeros():
    for mt in MASK_TYPES:
        for g in GROUP_MODES:
            out = generate_limb_masks(HAND, np.zeros(21), SIZE, mt, g)
            assert out.shape == (num_mask_channels(g), 46, 46)
            assert out.dtype == np.float32
            assert not out.any() and np.isfinite(out).all()
    out = generate_limb_masks(np.full((21, 2), np.nan), VIS, SIZE)
    assert not out.any() and np.isfinite(out).all()


def test_wrist_unlabelled_zeroes_palm_only():
    vis = VIS.copy()
    vis[0] = 0  # OneHand10K often leaves keypoints unlabelled
    out = generate_limb_masks(HAND, vis, SIZE, 'LPM', 'G1&6')
    assert not out[6].any()  # palm = the five wrist limbs
    assert all(out[c].max() > 0.99 for c in range(1, 6))


def test_keypoints_outside_grid():
    # a limb from far left to far right crosses the whole grid on row 3
    kpts = np.array([[-50, 3], [100, 3]], float)
    out = generate_limb_masks(kpts, np.ones(2), (10, 8), 'LDM', 'G1',
                              limbs=[(0, 1)])
    expected = np.zeros((8, 10), np.float32)
    expected[2:5] = 1
    np.testing.assert_array_equal(out[0], expected)
    # fully outside: LPM tail only, no NaN
    kpts = np.array([[-50, -50], [-40, -50]], float)
    out = generate_limb_masks(kpts, np.ones(2), (10, 8), 'LPM', 'G1',
                              limbs=[(0, 1)])
    assert np.isfinite(out).all() and out.max() < 1e-6


# -------------------------------------------------------- zero-length limb
def test_zero_length_limb():
    size = (10, 8)
    with np.errstate(all='raise'):  # no division by zero / invalid op
        lpm = single((4, 3), (4, 3), size, 'LPM')
        ldm = single((4, 3), (4, 3), size, 'LDM')
        almost = single((4, 3), (4, 3 + 1e-9), size, 'LPM')
    assert np.isfinite(lpm).all() and np.isfinite(ldm).all()
    # LPM: Gaussian blob at the point
    np.testing.assert_allclose(lpm[3, 4], 1.0, rtol=1e-6)
    np.testing.assert_allclose(lpm[3, 5], math.exp(-1 / 2), rtol=1e-6)
    np.testing.assert_allclose(lpm[4, 4], math.exp(-1 / 2), rtol=1e-6)
    np.testing.assert_allclose(lpm[4, 5], math.exp(-2 / 2), rtol=1e-6)
    np.testing.assert_allclose(almost, lpm, atol=1e-6)
    # LDM: the disc |p - a| <= sigma (a plus sign at sigma = 1), never all ones
    expected = np.zeros((8, 10), np.float32)
    expected[3, 3:6] = 1
    expected[2:5, 4] = 1
    np.testing.assert_array_equal(ldm, expected)
    ldm2 = single((4, 3), (4, 3), size, 'LDM', sigma=1.5)
    assert ldm2.sum() == 9  # 3x3 block: corners at distance sqrt2 <= 1.5
    # through generate_limb_masks (two coincident keypoints)
    kpts = np.array([[4, 3], [4, 3]], float)
    out = generate_limb_masks(kpts, np.ones(2), size, 'LDM', 'G1',
                              limbs=[(0, 1)])
    np.testing.assert_array_equal(out[0], expected)
    out = generate_limb_masks(kpts, np.ones(2), size, 'LPM', 'G1',
                              limbs=[(0, 1)])
    np.testing.assert_allclose(out[0], lpm, atol=1e-7)


# ------------------------------------------------------ geometry / layout
def test_non_square_shape_and_orientation():
    w, h = 12, 20
    # vertical limb at column 3 from row 2 to row 15
    kpts = np.array([[3, 2], [3, 15]], float)
    for mt in MASK_TYPES:
        out = generate_limb_masks(kpts, np.ones(2), (w, h), mt, 'G1',
                                  limbs=[(0, 1)])
        assert out.shape == (1, h, w)
        np.testing.assert_allclose(out[0, 2:16, 3], 1.0, rtol=1e-6)
        row = out[0, 9]  # crosses the limb at column 3
        assert row[3] == row.max() and row[3] > row[1] and row[3] > row[5]
        assert row[8] < 1e-3
        assert out[0, 0].max() < 0.2 and out[0, 19].max() < 1e-3
    ldm = generate_limb_masks(kpts, np.ones(2), (w, h), 'LDM', 'G1',
                              limbs=[(0, 1)])[0]
    expected = np.zeros((h, w), np.float32)
    expected[2:16, 2:5] = 1  # columns 2..4, rows 2..15
    np.testing.assert_array_equal(ldm, expected)
    out = generate_limb_masks(HAND * [0.5, 1.0], VIS, (23, 46), 'LPM', 'G1&6')
    assert out.shape == (7, 46, 23)


@pytest.mark.parametrize('mask_type', MASK_TYPES)
@pytest.mark.parametrize('size', [(46, 46), (30, 46)])
def test_horizontal_flip_equivariance(mask_type, size):
    w, h = size
    kpts = HAND * [w / 46, 1.0]
    flipped = kpts.copy()
    flipped[:, 0] = (w - 1) - kpts[:, 0]
    vis = VIS.copy()
    vis[3] = 0
    out = generate_limb_masks(kpts, vis, size, mask_type, 'G1&6')
    out_f = generate_limb_masks(flipped, vis, size, mask_type, 'G1&6')
    np.testing.assert_allclose(out_f, out[..., ::-1], atol=1e-5)
    assert np.abs(out_f - out).max() > 0.5  # not trivially symmetric


def test_keypoints_with_extra_columns_and_int_dtype():
    kpts3 = np.concatenate([HAND, np.ones((21, 1))], axis=1)
    np.testing.assert_array_equal(
        generate_limb_masks(kpts3, VIS, SIZE),
        generate_limb_masks(HAND, VIS, SIZE))
    ki = np.round(HAND).astype(np.int32)
    out = generate_limb_masks(ki, VIS.astype(bool), SIZE, 'LDM')
    assert out.dtype == np.float32 and out.max() == 1


# ---------------------------------------------------------- invalid args
@pytest.mark.parametrize('kwargs,name', [
    (dict(mask_type='XYZ'), 'mask_type'),
    (dict(mask_type='lpm'), 'mask_type'),
    (dict(groups='G2'), 'groups'),
    (dict(groups=None), 'groups'),
    (dict(sigma=0), 'sigma'),
    (dict(sigma=-1.0), 'sigma'),
    (dict(sigma=float('nan')), 'sigma'),
    (dict(sigma=float('inf')), 'sigma'),
    (dict(sigma='1'), 'sigma'),
    (dict(limbs=[(0, 21)]), 'limbs'),
    (dict(limbs=[(-1, 2)]), 'limbs'),
    (dict(limbs=[(0, 1, 2)]), 'limbs'),
    (dict(limb_groups=((1, 2, 3), (5, 6, 7), (9, 10, 11), (13, 14, 15),
                       (17, 18, 19), (0, 4, 8, 12, 20))), 'limb_groups'),
    (dict(limb_groups=((1, 2, 3), (5, 6, 7))), 'limb_groups'),
    (dict(limb_groups=HAND_G6_GROUPS, limbs=HAND_LIMBS[:10]), 'limb_groups'),
    (dict(heatmap_size=(0, 46)), 'heatmap_size'),
    (dict(heatmap_size=(46.0, 46)), 'heatmap_size'),
    (dict(heatmap_size=(46, )), 'heatmap_size'),
    (dict(keypoints=np.zeros(21)), 'keypoints'),
    (dict(keypoints_visible=np.ones(20)), 'keypoints_visible'),
])
def test_invalid_args_raise(kwargs, name):
    args = dict(keypoints=HAND, keypoints_visible=VIS, heatmap_size=SIZE)
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        generate_limb_masks(**args)


def test_limb_groups_ignored_for_g1_and_validated_for_g6():
    bad = ((1, 2, 3), )
    out = generate_limb_masks(HAND, VIS, SIZE, groups='G1', limb_groups=bad)
    assert out.shape == (1, 46, 46)
    with pytest.raises(ValueError, match='limb_groups'):
        generate_limb_masks(HAND, VIS, SIZE, groups='G6', limb_groups=bad)
    maps = hand_limb_maps(HAND, 'LPM')
    with pytest.raises(ValueError, match='limb_groups'):
        compose_limb_groups(maps, 'G1&6', bad)
    with pytest.raises(ValueError, match='groups'):
        compose_limb_groups(maps, 'G7')


def test_limb_maps_invalid_args():
    a = np.zeros((1, 2))
    with pytest.raises(ValueError, match='mask_type'):
        limb_maps(a, a + 1, None, (5, 5), 'foo')
    with pytest.raises(ValueError, match='sigma'):
        limb_maps(a, a + 1, None, (5, 5), 'LPM', 0.0)
    with pytest.raises(ValueError, match='ends'):
        limb_maps(a, np.zeros((2, 2)), None, (5, 5))
    with pytest.raises(ValueError, match='valid'):
        limb_maps(a, a + 1, np.ones(3, bool), (5, 5))
    with pytest.raises(ValueError, match='groups'):
        num_mask_channels('G2')
