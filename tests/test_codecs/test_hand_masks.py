"""Tests of the pure real-hand-mask maths
(projects/nsrm/codecs/utils/hand_masks.py): values counted by hand."""
import numpy as np
import pytest

from projects.nsrm.codecs.utils.hand_masks import (area_reduce,
                                                   grid_aligned_warp,
                                                   hand_mask_target,
                                                   is_box_polygon,
                                                   polygons_to_mask, warp_mask)

IDENTITY = np.array([[1., 0., 0.], [0., 1., 0.]])


# ------------------------------------------------------- polygons_to_mask
def test_square_covers_the_pixels_whose_centres_are_inside():
    # pixel-edge convention: x in [1, 4], y in [1, 3] holds the centres of
    # columns 1, 2, 3 and rows 1, 2: 6 pixels
    mask = polygons_to_mask([[1, 1, 4, 1, 4, 3, 1, 3]], 5, 6)
    expected = np.zeros((5, 6), np.uint8)
    expected[1:3, 1:4] = 1
    assert mask.dtype == np.uint8
    np.testing.assert_array_equal(mask, expected)


def test_triangle_pixel_count():
    # centre (c + .5, r + .5) inside x + y < 4.2 <=> c + r <= 3:
    # 4 + 3 + 2 + 1 = 10 pixels, a staircase
    mask = polygons_to_mask([[0, 0, 4.2, 0, 0, 4.2]], 6, 6)
    assert mask.sum() == 10
    rows, cols = np.nonzero(mask)
    assert (rows + cols <= 3).all()
    # the vertex order (clockwise or not) does not matter
    np.testing.assert_array_equal(
        polygons_to_mask([[0, 4.2, 4.2, 0, 0, 0]], 6, 6), mask)


def test_several_polygons_are_united_and_clipped_to_the_image():
    a = [0, 0, 3, 0, 3, 2, 0, 2]  # columns 0-2, rows 0-1: 6 pixels
    b = [2, 1, 5, 1, 5, 3, 2, 3]  # columns 2-4, rows 1-2: 6 pixels
    # they share pixel (col 2, row 1): 6 + 6 - 1 = 11
    assert polygons_to_mask([a, b], 4, 6).sum() == 11
    # a polygon reaching outside the image: only its inside pixels
    mask = polygons_to_mask([[-3, -3, 2, -3, 2, 2, -3, 2]], 4, 4)
    np.testing.assert_array_equal(np.nonzero(mask), ([0, 0, 1, 1],
                                                     [0, 1, 0, 1]))
    assert not polygons_to_mask([[10, 10, 12, 10, 12, 12]], 4, 4).any()


def test_matches_pycocotools_up_to_boundary_pixels():
    """xtcocotools (MMPose's pycocotools) rasterises COCO polygons with the
    same pixel-edge convention; the two differ only on the outline."""
    from xtcocotools import mask as mask_utils
    rng = np.random.default_rng(0)
    t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    for _ in range(3):
        r = 20 + 8 * rng.random(40)
        poly = np.stack([50 + r * np.cos(t), 45 + r * np.sin(t)],
                        1).ravel().tolist()
        ours = polygons_to_mask([poly], 100, 110)
        coco = mask_utils.decode(
            mask_utils.merge(mask_utils.frPyObjects([poly], 100, 110)))
        diff = ours != coco
        assert diff.sum() <= 0.01 * coco.sum()
        # every difference touches the outline (a pixel of the other kind
        # among its 4 neighbours)
        pad = np.pad(coco, 1)
        ys, xs = np.nonzero(diff)
        neigh = np.stack([pad[ys, xs + 1], pad[ys + 2, xs + 1],
                          pad[ys + 1, xs], pad[ys + 1, xs + 2]])
        assert (neigh != coco[ys, xs]).any(axis=0).all()


@pytest.mark.parametrize('polygons,message', [
    ([], 'non-empty list'),
    ({'counts': [], 'size': [4, 4]}, 'non-empty list'),
    ([[0, 0, 1, 1]], 'polygon 0 must be a flat .* at least 3 points'),
    ([[0, 0, 1, 0, 1, 1], [0, 0, 1]], 'polygon 1 must be'),
    ([[0, 0, 1, 0, float('nan'), 1]], 'polygon 0 has non-finite'),
    ([['a', 0, 1, 0, 1, 1]], 'polygon 0 is not a flat list of numbers'),
])
def test_bad_polygons_raise(polygons, message):
    with pytest.raises(ValueError, match=message):
        polygons_to_mask(polygons, 4, 4)


def test_is_box_polygon_spots_onehand10k_box_segmentations():
    # an annotation of MMPose's onehand10k_test.json: the bbox [63, 92, 99,
    # 194] as an 8-point polygon
    box = [[63, 92, 63, 188.5, 63, 285, 112.0, 285, 161, 285, 161, 188.5,
            161, 92, 112.0, 92]]
    assert is_box_polygon(box)
    assert is_box_polygon([[0, 0, 4, 0, 4, 3, 0, 3]])
    assert not is_box_polygon([[0, 0, 4.2, 0, 0, 4.2]])  # a triangle
    assert not is_box_polygon([[0, 0, 4, 0, 4, 3, 0, 3]] * 2)  # two parts
    assert not is_box_polygon([[0, 0, 4, 0, 4, 0, 0, 0]])  # no area


# ---------------------------------------------------------------- warping
def test_warp_mask_by_translation_and_scale():
    mask = np.zeros((6, 6), np.uint8)
    mask[1, 2] = 1  # (x, y) = (2, 1)
    moved = warp_mask(mask, [[1, 0, 3], [0, 1, 2]], (8, 5))
    assert moved.shape == (5, 8) and moved.dtype == np.float32
    expected = np.zeros((5, 8), np.float32)
    expected[3, 5] = 1  # (2 + 3, 1 + 2)
    np.testing.assert_array_equal(moved, expected)
    # x2: the pixel lands on (4, 2), its neighbours get bilinear halves
    scaled = warp_mask(mask, [[2, 0, 0], [0, 2, 0]], (12, 12))
    np.testing.assert_allclose(
        scaled[1:4, 3:6], [[.25, .5, .25], [.5, 1, .5], [.25, .5, .25]])
    assert scaled.sum() == pytest.approx(4.0)


def test_area_reduce_block_means_and_fractional_cells():
    m = np.arange(16, dtype=np.float32).reshape(4, 4)
    np.testing.assert_allclose(area_reduce(m, (2, 2)),
                               [[2.5, 4.5], [10.5, 12.5]])
    # 6 -> 4 columns: each cell 1.5 pixels wide,
    # cell 0 = (0 + .5 * 1) / 1.5, cell 1 = (.5 * 1 + 2) / 1.5, ...
    np.testing.assert_allclose(
        area_reduce(np.arange(6.)[None], (4, 1)),
        [[1 / 3, 5 / 3, 10 / 3, 14 / 3]], rtol=1e-5)
    with pytest.raises(ValueError, match=r'heatmap_size \(8, 2\) must not '
                       r'exceed the mask size \(4, 4\)'):
        area_reduce(m, (8, 2))


def test_grid_aligned_warp_adds_half_a_cell_less_half_a_pixel():
    shifted = grid_aligned_warp(IDENTITY, (368, 184), (46, 46))
    # s_x = 8, s_y = 4: ((8 - 1) / 2, (4 - 1) / 2)
    np.testing.assert_allclose(shifted, [[1, 0, 3.5], [0, 1, 1.5]])


def test_hand_mask_target_values_by_hand():
    """Cell j averages the mask over the window [4j - 2, 4j + 2] (input
    pixel-centre coordinates) centred on the keypoint grid point 4j."""
    mask = np.zeros((16, 16), np.uint8)
    mask[0:6, 8:16] = 1
    # moved by (-4, +2): columns 4..11 = [3.5, 11.5], rows 2..7 = [1.5, 7.5]
    target = hand_mask_target(mask, [[1, 0, -4], [0, 1, 2]], (16, 16),
                              (4, 4))
    assert target.shape == (4, 4) and target.dtype == np.float32
    # x overlaps of [3.5, 11.5] with [-2, 2], [2, 6], [6, 10], [10, 14]
    fx = np.array([0, 2.5, 4, 1.5]) / 4
    # y overlaps of [1.5, 7.5] with the same windows
    fy = np.array([0.5, 4, 1.5, 0]) / 4
    np.testing.assert_allclose(target, np.outer(fy, fx), atol=1e-6)


def test_hand_mask_target_of_a_full_image():
    # an 8x8 image of hand, identity warp, 2x2 cells: cell 0 covers
    # [-2, 2] of which [-0.5, 2] is image: 2.5 / 4 per axis
    target = hand_mask_target(np.ones((8, 8)), IDENTITY, (8, 8), (2, 2))
    np.testing.assert_allclose(target, [[0.625**2, 0.625], [0.625, 1]])


def test_a_blob_at_a_grid_point_is_centred_on_its_cell():
    """A 7x7 square of hand centred on input (12, 20) = grid point (3, 5)
    at stride 4 gives a map symmetric about cell (3, 5); a plain block
    average would shift it by 1.5 input pixels to the bottom right."""
    mask = np.zeros((32, 32), np.uint8)
    mask[17:24, 9:16] = 1  # x in [8.5, 15.5], y in [16.5, 23.5]
    target = hand_mask_target(mask, IDENTITY, (32, 32), (8, 8))
    # windows [4j - 2, 4j + 2]: x overlaps 1.5, 4, 1.5 for j = 2, 3, 4
    fx = np.zeros(8)
    fx[2:5] = [0.375, 1, 0.375]
    fy = np.zeros(8)
    fy[4:7] = [0.375, 1, 0.375]
    np.testing.assert_allclose(target, np.outer(fy, fx), atol=1e-6)
    # blocks [4j - 0.5, 4j + 3.5] of a plain block mean: 3 / 4, 1, 0
    plain = area_reduce(warp_mask(mask, IDENTITY, (32, 32)), (8, 8))
    np.testing.assert_allclose(plain[5, 1:6], [0, 0.75, 1, 0, 0])


@pytest.mark.parametrize('warp_mat,message', [
    (np.eye(3), r'warp_mat must be a finite \(2, 3\)'),
    ([[1, 0, np.inf], [0, 1, 0]], r'warp_mat must be a finite \(2, 3\)'),
])
def test_bad_warp_matrices_raise(warp_mat, message):
    with pytest.raises(ValueError, match=message):
        hand_mask_target(np.ones((4, 4)), warp_mat, (4, 4), (2, 2))


def test_bad_masks_and_sizes_raise():
    with pytest.raises(ValueError, match=r'non-empty \(H, W\) array'):
        warp_mask(np.ones((4, 4, 3)), IDENTITY, (4, 4))
    with pytest.raises(ValueError, match='input_size must be a'):
        hand_mask_target(np.ones((4, 4)), IDENTITY, (4, 0), (2, 2))
