"""Tests of projects/synthetic_hands/hand_model.py."""
import numpy as np
import pytest

from projects.synthetic_hands import render_hand
from projects.synthetic_hands.hand_model import (KEYPOINT_NAMES, LIMBS,
                                                 NUM_KEYPOINTS, canonical_hand,
                                                 finger_chain,
                                                 finger_keypoints, place_hand,
                                                 sample_flexion, thumb_chain)


@pytest.fixture(scope='module')
def rendered():
    """Keypoints of 50 rendered hands (128 px)."""
    return [render_hand(np.random.default_rng([11, 0, i]), 128)['keypoints']
            for i in range(50)]


def test_keypoint_names_and_limbs():
    assert len(KEYPOINT_NAMES) == NUM_KEYPOINTS == 21
    assert len(set(KEYPOINT_NAMES)) == 21
    assert KEYPOINT_NAMES[0] == 'wrist' and KEYPOINT_NAMES[4] == 'thumb4'
    expected = [[0, 1], [1, 2], [2, 3], [3, 4], [0, 5], [5, 6], [6, 7],
                [7, 8], [0, 9], [9, 10], [10, 11], [11, 12], [0, 13],
                [13, 14], [14, 15], [15, 16], [0, 17], [17, 18], [18, 19],
                [19, 20]]
    assert [list(limb) for limb in LIMBS] == expected


def test_finger_keypoints():
    assert finger_keypoints(0) == [1, 2, 3, 4]
    assert finger_keypoints(1) == [5, 6, 7, 8]
    assert finger_keypoints(4) == [17, 18, 19, 20]
    chains = [k for f in range(5) for k in finger_keypoints(f)]
    assert sorted(chains) == list(range(1, 21))


def test_finger_chain_by_hand():
    bones = np.array([0.5, 0.3, 0.2])
    zero = np.zeros(3)
    # straight finger pointing up (-y): joints at cumulative bone lengths
    np.testing.assert_allclose(
        finger_chain(np.zeros(2), 0.0, bones, zero, np.zeros(2), 0.0),
        [[0, -0.5], [0, -0.8], [0, -1.0]], atol=1e-12)
    # 90 degrees clockwise from up = +x, starting at the base
    np.testing.assert_allclose(
        finger_chain(np.array([1.0, 2.0]), 90.0, bones, zero, np.zeros(2),
                     0.0), [[1.5, 2], [1.8, 2], [2.0, 2]], atol=1e-12)
    # MCP flexed by 90 degrees: every bone is seen along the palm normal,
    # whose image projection is ``tilt``
    np.testing.assert_allclose(
        finger_chain(np.zeros(2), 0.0, np.ones(3), np.array([90.0, 0, 0]),
                     np.array([0.0, 0.5]), 0.0),
        [[0, 0.5], [0, 1.0], [0, 1.5]], atol=1e-12)


def test_thumb_chain_by_hand():
    ones = np.ones(3)
    zero = np.zeros(3)
    np.testing.assert_allclose(
        thumb_chain(np.zeros(2), 90.0, ones, zero, zero),
        [[1, 0], [2, 0], [3, 0]], atol=1e-12)
    # a 90 degree bend at the second joint turns the last two bones to +x
    np.testing.assert_allclose(
        thumb_chain(np.zeros(2), 0.0, ones, np.array([0.0, 90, 0]), zero),
        [[0, -1], [1, -1], [2, -1]], atol=1e-12)
    # 60 degrees of opposition halves every bone in the image
    np.testing.assert_allclose(
        thumb_chain(np.zeros(2), 90.0, ones, zero, np.full(3, 60.0)),
        [[0.5, 0], [1, 0], [1.5, 0]], atol=1e-12)


def test_sample_flexion_range():
    for i in range(100):
        level = sample_flexion(np.random.default_rng(i))
        assert level.shape == (5, )
        assert np.all((level >= 0) & (level <= 1))


def test_canonical_hand_shapes():
    kps, widths, palm, creases = canonical_hand(np.random.default_rng(0))
    assert kps.shape == (21, 2) and widths.shape == (5, 4)
    assert palm.shape == (12, 2) and creases.shape == (3, 3, 2)
    assert np.array_equal(kps[0], [0, 0])  # the wrist is the origin


def test_place_hand_is_a_similarity_keeping_the_wrist_in_frame():
    mirrored = set()
    for i in range(40):
        rng = np.random.default_rng([5, i])
        kps = canonical_hand(rng)[0]
        to_px, scale, flip = place_hand(rng, kps, 128, pad=0.15)
        px = to_px(kps)
        mirrored.add(flip)
        assert px.shape == (21, 2) and scale > 0
        np.testing.assert_allclose(
            np.linalg.norm(px[9] - px[17]),
            scale * np.linalg.norm(kps[9] - kps[17]), rtol=1e-9)
        assert np.all((px[0] >= 2) & (px[0] <= 125))

        def orientation(p):
            a, b = p[5] - p[0], p[17] - p[0]
            return np.sign(a[0] * b[1] - a[1] * b[0])

        assert (orientation(px) != orientation(kps)) == flip
    assert mirrored == {True, False}


def test_hand_geometry_is_plausible(rendered):
    for kps in rendered:
        palm = np.linalg.norm(kps[9] - kps[0])
        assert palm > 5  # at least ~5 px at 128 px images
        for a, b in LIMBS:
            assert np.linalg.norm(kps[b] - kps[a]) < 1.2 * palm
        assert np.linalg.norm(kps[5] - kps[17]) < 1.2 * palm
