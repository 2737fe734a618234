"""Tests of projects/synthetic_hands/rendering.py."""
import numpy as np
import pytest

from projects.synthetic_hands import (LIMBS, keypoint_pixels, make_annotation,
                                      render_hand, visibility)


@pytest.fixture(scope='module')
def samples():
    """50 rendered hands (128 px) with their annotations."""
    out = []
    for i in range(50):
        s = render_hand(np.random.default_rng([11, 0, i]), 128)
        out.append((s, make_annotation(s, i + 1, i + 1)))
    return out


def test_render_outputs(samples):
    s, _ = samples[0]
    assert s['image'].shape == (128, 128, 3) and s['image'].dtype == np.uint8
    assert s['keypoints'].shape == (21, 2)
    assert s['keypoints'].dtype == np.float32
    assert s['visible'].shape == (21, ) and s['visible'].dtype == bool
    assert s['hand_mask'].shape == (128, 128) and s['hand_mask'].dtype == bool


def test_render_hand_is_deterministic():
    a = render_hand(np.random.default_rng([7, 1, 5]), 96)
    b = render_hand(np.random.default_rng([7, 1, 5]), 96)
    c = render_hand(np.random.default_rng([7, 1, 6]), 96)
    assert np.array_equal(a['image'], b['image'])
    assert np.array_equal(a['keypoints'], b['keypoints'])
    assert not np.array_equal(a['image'], c['image'])


def test_keypoint_pixels_by_hand():
    # pixel (col, row) is centred at (x, y) = (col, row): floor(x + 0.5)
    pts = np.array([[0.49, -0.5], [0.5, 1.49], [-0.51, 2.5]])
    got = keypoint_pixels(pts)
    assert got.dtype == np.int64
    assert got.tolist() == [[0, 0], [1, 1], [-1, 3]]


def test_visibility_by_hand():
    mask = np.zeros((4, 4), bool)
    mask[1, 2] = True  # row 1, col 2
    kps = np.array([[2.0, 1.0], [2.4, 0.6], [2.6, 1.0], [-0.6, 0.0],
                    [2.0, 4.2]])
    assert visibility(kps, mask).tolist() == [True, True, False, False,
                                              False]


def test_occlusion_happens_but_most_points_visible(samples):
    n_vis = np.array([s['visible'].sum() for s, _ in samples])
    n_occluded = sum(int((s['visible'] == 0).sum()) for s, _ in samples)
    assert n_occluded > 0
    assert (n_vis < 21).sum() >= 3  # several images have hidden points
    assert (n_vis >= 15).mean() >= 0.7
    assert any(s['occluder_mask'].any() for s, _ in samples)
    assert any(not s['occluder_mask'].any() for s, _ in samples)


def test_visibility_matches_masks(samples):
    for s, ann in samples:
        pix = keypoint_pixels(s['keypoints'])
        inside = np.all((pix >= 0) & (pix < 128), axis=1)
        on_hand = np.zeros(21, bool)
        on_hand[inside] = s['hand_mask'][pix[inside, 1], pix[inside, 0]]
        assert np.array_equal(s['visible'], on_hand)
        under = np.zeros(21, bool)
        under[inside] = s['occluder_mask'][pix[inside, 1], pix[inside, 0]]
        assert not np.any(s['visible'] & under)
        assert not np.any(s['hand_mask'] & s['occluder_mask'])
        # every hidden in-frame point is hidden by an occluder
        assert np.array_equal(~s['visible'] & inside, under)
        kps = np.reshape(ann['keypoints'], (-1, 3))
        assert np.array_equal(kps[:, 2] == 2, s['visible'])


def test_visible_keypoints_show_skin(samples):
    near, far = [], []
    for s, _ in samples:
        pix = keypoint_pixels(s['keypoints'])
        inside = np.all((pix >= 0) & (pix < 128), axis=1)
        dist = np.linalg.norm(
            s['image'][pix[inside, 1], pix[inside, 0]].astype(float) -
            s['skin_bgr'], axis=1)
        near += dist[s['visible'][inside]].tolist()
        far += dist[~s['visible'][inside]].tolist()
    assert np.mean(np.array(near) < 60) >= 0.85
    assert len(far) > 0 and np.median(far) > 2 * np.median(near)


def test_limbs_lie_on_the_drawn_hand(samples):
    """Limb midpoints are on palm/finger pixels (before occlusion)."""
    for s, _ in samples:
        kps = s['keypoints']
        for a, b in LIMBS:
            mid = keypoint_pixels((kps[a] + kps[b]) / 2)
            if np.all((mid >= 0) & (mid < 128)):
                assert s['part_map'][mid[1], mid[0]] >= 2, (a, b)


def test_render_hand_argument_errors():
    with pytest.raises(ValueError, match='img_size'):
        render_hand(np.random.default_rng(0), 63)
    with pytest.raises(ValueError, match='rng'):
        render_hand(0, 128)
