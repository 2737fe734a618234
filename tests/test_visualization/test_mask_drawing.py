"""The pure mask-drawing helpers: blending, colours, grid geometry."""
import cv2
import numpy as np
import pytest

from projects.nsrm.visualization.mask_drawing import (colorize_mask,
                                                      grid_to_crop,
                                                      overlay_mask, tile_grid)


def test_zero_mask_leaves_the_image_untouched():
    image = np.random.default_rng(0).integers(0, 256, (20, 30, 3), np.uint8)
    out = overlay_mask(image, np.zeros((5, 6)))
    np.testing.assert_array_equal(out, image)
    assert out is not image


def test_full_mask_blends_alpha_of_the_colour():
    image = np.full((4, 4, 3), 100, np.uint8)
    colour = colorize_mask(np.ones((4, 4)))[0, 0].astype(float)
    out = overlay_mask(image, np.ones((4, 4)), alpha=0.25)
    expected = np.round(0.75 * 100 + 0.25 * colour)
    np.testing.assert_array_equal(out[2, 3], expected)


def test_small_mask_is_stretched_over_the_image():
    """The left half of a 2x2 mask on lands on the left half of 8x8."""
    image = np.zeros((8, 8, 3), np.uint8)
    mask = np.array([[1.0, 0.0], [1.0, 0.0]])
    out = overlay_mask(image, mask, alpha=1.0)
    assert out[:, 0].sum() > 0 and out[:, 7].sum() == 0


def test_colorize_clips_and_rejects_bad_masks():
    np.testing.assert_array_equal(colorize_mask(np.full((2, 2), 3.0)),
                                  colorize_mask(np.ones((2, 2))))
    with pytest.raises(ValueError, match='2-D'):
        colorize_mask(np.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match='NaN'):
        colorize_mask(np.full((2, 2), np.nan))
    with pytest.raises(ValueError, match='uint8'):
        overlay_mask(np.zeros((4, 4, 3)), np.zeros((4, 4)))


def test_grid_geometry_and_labels():
    tiles = [np.zeros((10, 20, 3), np.uint8) for _ in range(7)]
    grid = tile_grid(tiles, labels=list('abcdefg'), cols=4, pad=2)
    assert grid.shape == (2 * 12 + 2, 4 * 22 + 2, 3)
    # the eighth cell (row 2, col 4) stays background
    assert (grid[14:24, 68:88] == 255).all()
    # a label writes white text into its tile (a size text fits in)
    labelled = tile_grid([np.zeros((60, 80, 3), np.uint8)], labels=['G1'])
    assert (labelled[4:64, 4:84] > 200).any()
    assert not (tile_grid([np.zeros((60, 80, 3), np.uint8)])[4:64, 4:84]
                > 0).any()
    with pytest.raises(ValueError, match='same size'):
        tile_grid([tiles[0], np.zeros((5, 5, 3), np.uint8)])
    with pytest.raises(ValueError, match='2 labels for 1 tiles'):
        tile_grid(tiles[:1], labels=['a', 'b'])


def test_grid_is_placed_as_the_codecs_place_it():
    """Heatmap pixel (row 5, col 3) of a 32x32 grid lies on crop pixel
    (20, 12) of the 128x128 crop (s = 4, MSRAHeatmap's decode: index * s);
    bilinear in between. A plain cv2.resize would put it 1.5 px
    (= (s - 1) / 2) further right and down."""
    mask = np.zeros((32, 32), np.float32)
    mask[5, 3] = 1.0
    crop = grid_to_crop(mask, (128, 128))
    assert crop.shape == (128, 128) and crop.dtype == np.float32
    assert np.unravel_index(crop.argmax(), crop.shape) == (20, 12)
    assert crop[20, 12] == 1.0
    for row, col in ((20, 14), (20, 10), (22, 12), (18, 12)):
        assert crop[row, col] == pytest.approx(0.5, abs=1 / 32)
    assert crop[20, 13] == pytest.approx(0.75, abs=1 / 32)
    assert crop[20, 16] == 0 and crop[24, 12] == 0
    cols = np.arange(128)
    centre = (crop.sum(axis=0) * cols).sum() / crop.sum()
    resized = cv2.resize(mask, (128, 128), interpolation=cv2.INTER_LINEAR)
    centre_resized = (resized.sum(axis=0) * cols).sum() / resized.sum()
    assert centre == pytest.approx(12.0, abs=1e-3)
    assert centre_resized == pytest.approx(13.5, abs=1e-3)

    # a non-square crop (w 96, h 64) over a 24x16 grid; edges repeated
    mask = np.zeros((16, 24), np.float32)
    mask[2, 7] = 1.0
    mask[:, -1] = 0.5
    crop = grid_to_crop(mask, (96, 64))
    assert crop.shape == (64, 96)
    assert crop[8, 28] == 1.0 and crop[8, 30] == pytest.approx(0.5, abs=.04)
    np.testing.assert_allclose(crop[:, 92:], 0.5)
