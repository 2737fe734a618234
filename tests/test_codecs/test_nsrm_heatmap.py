"""Tests of the authors' argmax heatmap codec
(projects/nsrm/codecs/nsrm_heatmap.py)."""
import numpy as np
import pytest

from mmpose.codecs import MSRAHeatmap
from mmpose.registry import KEYPOINT_CODECS
from projects.nsrm import NSRMHeatmap

SIZES = dict(input_size=(368, 368), heatmap_size=(46, 46))  # scale 8


def peaked_maps():
    """Two 46x46 maps: map 0 peaks at cell (x=20, y=13) with its right and
    lower neighbours the higher ones; map 1 peaks at (x=5, y=40) with its
    left and upper neighbours the higher ones."""
    maps = np.zeros((2, 46, 46), np.float32)
    maps[0, 13, 20], maps[0, 13, 21], maps[0, 13, 19] = 0.9, 0.5, 0.2
    maps[0, 14, 20], maps[0, 12, 20] = 0.3, 0.1
    maps[1, 40, 5], maps[1, 40, 4], maps[1, 40, 6] = 0.7, 0.4, 0.1
    maps[1, 39, 5], maps[1, 41, 5] = 0.6, 0.2
    return maps


def test_none_decodes_the_integer_cell_scaled_back():
    keypoints, scores = NSRMHeatmap(**SIZES).decode(peaked_maps())
    np.testing.assert_array_equal(keypoints, [[[160, 104], [40, 320]]])
    np.testing.assert_allclose(scores, [[0.9, 0.7]])
    assert keypoints.shape == (1, 2, 2) and scores.shape == (1, 2)


def test_shift_moves_a_quarter_cell_towards_the_higher_neighbour():
    codec = NSRMHeatmap(**SIZES, refine='shift')
    keypoints, _ = codec.decode(peaked_maps())
    # (20.25, 13.25) * 8 and (4.75, 39.75) * 8
    np.testing.assert_array_equal(keypoints, [[[162, 106], [38, 318]]])
    msra, _ = MSRAHeatmap(**SIZES, sigma=1, unbiased=False).decode(
        peaked_maps())
    np.testing.assert_array_equal(keypoints, msra)


def test_dark_equals_mmpose_unbiased_decoding():
    rng = np.random.default_rng(0)
    codec = NSRMHeatmap(**SIZES, refine='dark')
    msra = MSRAHeatmap(**SIZES, sigma=1, unbiased=True)
    keypoints = rng.uniform(20, 348, (1, 21, 2))
    maps = codec.encode(keypoints)['heatmaps']
    for heatmaps in (maps, peaked_maps()):
        dark, dark_scores = codec.decode(heatmaps)
        expected, expected_scores = msra.decode(heatmaps)
        np.testing.assert_array_equal(dark, expected)
        np.testing.assert_array_equal(dark_scores, expected_scores)
    # DARK recovers the sub-pixel centre that the integer argmax rounds
    # (within half a cell, 4 px, per axis); the input maps stay unchanged
    before = maps.copy()
    dark, _ = codec.decode(maps)
    np.testing.assert_array_equal(maps, before)
    argmax, _ = NSRMHeatmap(**SIZES).decode(maps)
    np.testing.assert_array_equal(argmax, np.round(keypoints / 8) * 8)
    assert np.abs(dark - keypoints).max() < 0.5
    assert 2 < np.abs(argmax - keypoints).max() <= 4


def test_encode_equals_mmpose_unbiased_encoding():
    rng = np.random.default_rng(1)
    keypoints = rng.uniform(-20, 388, (1, 21, 2))
    visible = (rng.random((1, 21)) > 0.3).astype(np.float32)
    visible[0, :2] = [0, 1]
    encoded = NSRMHeatmap(**SIZES).encode(keypoints, visible)
    expected = MSRAHeatmap(**SIZES, sigma=1, unbiased=True).encode(
        keypoints, visible)
    assert set(encoded) == {'heatmaps', 'keypoint_weights'}
    np.testing.assert_array_equal(encoded['heatmaps'], expected['heatmaps'])
    np.testing.assert_array_equal(encoded['keypoint_weights'],
                                  expected['keypoint_weights'])
    invisible = visible[0] == 0
    assert invisible.any()
    assert not encoded['heatmaps'][invisible].any()
    assert not encoded['keypoint_weights'][0, invisible].any()
    # a visible keypoint inside the grid: Gaussian of peak 1 at the cell
    # nearest to x / 8
    inside = (~invisible) & (keypoints[0] > 4).all(1) & (
        keypoints[0] < 364).all(1)
    k = int(np.flatnonzero(inside)[0])
    x, y = keypoints[0, k] / 8
    cell = np.unravel_index(encoded['heatmaps'][k].argmax(), (46, 46))
    assert cell == (round(y), round(x))
    assert encoded['heatmaps'][k].max() == pytest.approx(
        np.exp(-((round(x) - x)**2 + (round(y) - y)**2) / 2), rel=1e-6)


@pytest.mark.parametrize('sigma', [1.0, 1.5, 3.0])
def test_vectorised_encoding_is_mmposes_bit_for_bit(sigma):
    """Keypoints near and beyond every edge (a 3-sigma square wholly
    outside the grid zeroes the weight), unlabelled ones, a non-square
    grid."""
    sizes = dict(input_size=(256, 192), heatmap_size=(64, 48))  # scale 4
    rng = np.random.default_rng(int(sigma * 10))
    keypoints = rng.uniform(-60, 320, (1, 21, 2))
    keypoints[0, 0] = (-4 * (3 * sigma + 1) - 0.5, 50)  # left of the grid
    keypoints[0, 1] = (100, 4 * (48 + 3 * sigma) + 0.5)  # below it
    visible = (rng.random((1, 21)) > 0.2).astype(np.float32)
    visible[0, :2] = 1
    encoded = NSRMHeatmap(**sizes, sigma=sigma).encode(keypoints, visible)
    expected = MSRAHeatmap(**sizes, sigma=sigma, unbiased=True).encode(
        keypoints, visible)
    np.testing.assert_array_equal(encoded['heatmaps'], expected['heatmaps'])
    np.testing.assert_array_equal(encoded['keypoint_weights'],
                                  expected['keypoint_weights'])
    assert encoded['keypoint_weights'][0, :2].tolist() == [0, 0]
    with pytest.raises(ValueError, match='encodes a single instance, got 2'):
        NSRMHeatmap(**sizes).encode(np.zeros((2, 21, 2)))


def test_round_trip_at_grid_cells_and_non_square_sizes():
    codec = NSRMHeatmap(input_size=(64, 96), heatmap_size=(16, 12))
    keypoints = np.array([[[12.0, 40.0], [60.0, 0.0], [0.0, 88.0]]])
    maps = codec.encode(keypoints)['heatmaps']
    assert maps.shape == (3, 12, 16)
    decoded, scores = codec.decode(maps)
    np.testing.assert_array_equal(decoded, keypoints)  # x * 4, y * 8
    np.testing.assert_array_equal(scores, np.ones((1, 3)))


def test_an_empty_map_gives_mmpose_no_maximum_cell():
    keypoints, scores = NSRMHeatmap(**SIZES).decode(
        np.zeros((1, 46, 46), np.float32))
    np.testing.assert_array_equal(keypoints, [[[-8, -8]]])
    np.testing.assert_array_equal(scores, [[0]])


def test_registered_with_the_papers_defaults():
    codec = KEYPOINT_CODECS.build(dict(type='NSRMHeatmap', **SIZES))
    assert type(codec) is NSRMHeatmap and isinstance(codec, MSRAHeatmap)
    assert (codec.sigma, codec.refine, codec.unbiased) == (1.0, 'none', True)
    np.testing.assert_array_equal(codec.scale_factor, [8, 8])


def test_unknown_refine_is_an_error():
    with pytest.raises(ValueError) as err:
        NSRMHeatmap(**SIZES, refine='udp')
    assert str(err.value) == ("NSRMHeatmap: refine must be one of "
                              "('none', 'shift', 'dark'), got 'udp'")
