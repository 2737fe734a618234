"""Pure drawing helpers for limb masks: arrays in, arrays out.

The visualizer, the image demo and the analysis tools share these, so a mask
is coloured, placed and labelled the same way in every figure. Images are
``np.uint8`` BGR arrays (H, W, 3), as OpenCV and MMPose's visualizer use;
masks are float arrays (h, w) with values in [0, 1].
"""
from typing import Optional, Sequence

import cv2
import numpy as np


def _check_image(image: np.ndarray, name: str = 'image') -> None:
    if not (isinstance(image, np.ndarray) and image.dtype == np.uint8
            and image.ndim == 3 and image.shape[2] == 3):
        shape = getattr(image, 'shape', None)
        dtype = getattr(image, 'dtype', None)
        raise ValueError(f'{name} must be a uint8 array (H, W, 3), got '
                         f'shape {shape} and dtype {dtype}')


def colorize_mask(mask: np.ndarray,
                  colormap: int = cv2.COLORMAP_JET) -> np.ndarray:
    """A mask as a colour image.

    Args:
        mask (np.ndarray): (h, w) values in [0, 1] (clipped outside).
        colormap (int): An OpenCV colormap. Defaults to ``COLORMAP_JET``.

    Returns:
        np.ndarray: (h, w, 3) uint8 BGR.
    """
    mask = np.asarray(mask, dtype=np.float32)
    if mask.ndim != 2:
        raise ValueError(f'mask must be 2-D (h, w), got shape {mask.shape}')
    if not np.isfinite(mask).all():
        raise ValueError('mask has NaN or infinite values')
    levels = np.round(np.clip(mask, 0.0, 1.0) * 255).astype(np.uint8)
    return cv2.applyColorMap(levels, colormap)


def overlay_mask(image: np.ndarray,
                 mask: np.ndarray,
                 alpha: float = 0.5,
                 colormap: int = cv2.COLORMAP_JET) -> np.ndarray:
    """Blend a coloured mask over an image, weighted by the mask itself.

    Each pixel becomes ``(1 - alpha * m) * image + alpha * m * colour(m)``,
    so zero mask leaves the image untouched. A mask of another size than the
    image is stretched over the whole image with ``cv2.resize`` (bilinear,
    pixel areas aligned), right for a mask in image space drawn over a
    shrunken copy of the image. A mask on a heatmap grid (a 32x32 limb mask
    of a 128x128 crop) is placed as the codecs place it by
    :func:`grid_to_crop` first.

    Args:
        image (np.ndarray): (H, W, 3) uint8 BGR.
        mask (np.ndarray): (h, w) values in [0, 1].
        alpha (float): Opacity at mask value 1, in [0, 1]. Defaults to 0.5.
        colormap (int): An OpenCV colormap. Defaults to ``COLORMAP_JET``.

    Returns:
        np.ndarray: (H, W, 3) uint8 BGR, a new array.
    """
    _check_image(image)
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f'alpha must be in [0, 1], got {alpha}')
    mask = np.asarray(mask, dtype=np.float32)
    colour = colorize_mask(mask, colormap)
    height, width = image.shape[:2]
    if mask.shape != (height, width):
        mask = cv2.resize(mask, (width, height),
                          interpolation=cv2.INTER_LINEAR)
        colour = cv2.resize(colour, (width, height),
                            interpolation=cv2.INTER_LINEAR)
    weight = alpha * np.clip(mask, 0.0, 1.0)[..., None]
    out = (1.0 - weight) * image + weight * colour
    return np.round(out).astype(np.uint8)


def grid_to_crop(mask: np.ndarray, input_size: Sequence[int]) -> np.ndarray:
    """A heatmap-grid mask stretched over the model's input crop, placed as
    MMPose's codecs place the grid.

    MMPose's heatmap codecs (``MSRAHeatmap`` encodes at ``keypoints /
    scale_factor`` and decodes ``index * scale_factor``) and
    ``LimbMaskTarget`` put the centre of heatmap pixel ``(i, j)`` (row,
    column) on crop pixel ``(i * sy, j * sx)`` (``s = input / heatmap``);
    bilinear in between, the last row and column repeated beyond. A plain
    ``cv2.resize`` puts it on ``i * s + (s - 1) / 2`` instead: 1.5 crop
    pixels too far right and down at 128/32, 3.5 at 368/46.

    Args:
        mask (np.ndarray): (H, W) values on the heatmap grid.
        input_size (Sequence[int]): The crop size ``(w, h)``.

    Returns:
        np.ndarray: (h, w) float32.
    """
    mask = np.asarray(mask, dtype=np.float32)
    if mask.ndim != 2:
        raise ValueError(f'mask must be 2-D (H, W), got shape {mask.shape}')
    in_w, in_h = (int(v) for v in input_size)
    hm_h, hm_w = mask.shape
    # heatmap coordinates to crop coordinates (pixel centres at integers in
    # both, as cv2.warpAffine and TopdownAffine use them)
    matrix = np.array([[in_w / hm_w, 0.0, 0.0], [0.0, in_h / hm_h, 0.0]],
                      dtype=np.float64)
    return cv2.warpAffine(mask, matrix, (in_w, in_h),
                          flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def tile_grid(tiles: Sequence[np.ndarray],
              labels: Optional[Sequence[str]] = None,
              cols: Optional[int] = None,
              pad: int = 4,
              background: int = 255) -> np.ndarray:
    """Tiles of one size in a grid, each with its label written on top.

    Args:
        tiles (Sequence[np.ndarray]): N uint8 BGR images (h, w, 3), one size.
        labels (Sequence[str], optional): N labels (e.g. the structure
            channel names); none when omitted.
        cols (int, optional): Tiles per row. Defaults to N (one row).
        pad (int): Pixels between tiles and around the grid. Defaults to 4.
        background (int): Grey level of the padding. Defaults to 255.

    Returns:
        np.ndarray: (rows * (h + pad) + pad, cols * (w + pad) + pad, 3) uint8
        BGR.
    """
    if len(tiles) == 0:
        raise ValueError('tile_grid needs at least one tile')
    for i, tile in enumerate(tiles):
        _check_image(tile, f'tiles[{i}]')
    height, width = tiles[0].shape[:2]
    if any(t.shape[:2] != (height, width) for t in tiles):
        raise ValueError('tiles must all have the same size, got '
                         f'{sorted({t.shape[:2] for t in tiles})}')
    if labels is not None and len(labels) != len(tiles):
        raise ValueError(f'got {len(labels)} labels for {len(tiles)} tiles')
    cols = len(tiles) if cols is None else int(cols)
    if cols < 1:
        raise ValueError(f'cols must be >= 1, got {cols}')
    rows = -(-len(tiles) // cols)
    grid = np.full((rows * (height + pad) + pad, cols * (width + pad) + pad,
                    3), background, np.uint8)
    scale = max(0.3, min(height, width) / 256)
    for i, tile in enumerate(tiles):
        y = pad + (i // cols) * (height + pad)
        x = pad + (i % cols) * (width + pad)
        tile = tile.copy()
        if labels is not None and labels[i]:
            thickness = max(1, int(round(scale * 2)))
            origin = (3, 3 + int(round(22 * scale)))
            # white text on a dark outline: readable on any mask colour
            cv2.putText(tile, labels[i], origin, cv2.FONT_HERSHEY_SIMPLEX,
                        scale, (0, 0, 0), thickness + 2, cv2.LINE_AA)
            cv2.putText(tile, labels[i], origin, cv2.FONT_HERSHEY_SIMPLEX,
                        scale, (255, 255, 255), thickness, cv2.LINE_AA)
        grid[y:y + height, x:x + width] = tile
    return grid


def mask_grid(image: np.ndarray,
              masks: np.ndarray,
              labels: Optional[Sequence[str]] = None,
              cols: int = 3,
              height: Optional[int] = None,
              alpha: float = 0.5,
              pad: int = 4) -> np.ndarray:
    """Each mask over its own shrunken copy of the image, as a labelled grid
    no taller than ``height``.

    The tiles keep the image's aspect ratio. With ``rows = ceil(N / cols)``
    each tile is ``th = (height - (rows + 1) * pad) // rows`` high and
    ``tw = max(1, round(W * th / H))`` wide.

    Args:
        image (np.ndarray): (H, W, 3) uint8 BGR.
        masks (np.ndarray): (N, h, w) values in [0, 1], each covering the
            whole image (stretched over it when h, w differ from H, W).
        labels (Sequence[str], optional): N labels written on the tiles.
        cols (int): Tiles per row. Defaults to 3.
        height (int, optional): Height of the grid. Defaults to H.
        alpha (float): Opacity at mask value 1. Defaults to 0.5.
        pad (int): Pixels between tiles and around the grid. Defaults to 4.

    Returns:
        np.ndarray: (rows * (th + pad) + pad, cols' * (tw + pad) + pad, 3)
        uint8 BGR, where ``cols' = min(cols, N)``.
    """
    _check_image(image)
    masks = np.asarray(masks, dtype=np.float32)
    if masks.ndim != 3 or len(masks) == 0:
        raise ValueError('masks must have shape (N, h, w) with N >= 1, got '
                         f'{masks.shape}')
    cols = min(int(cols), len(masks))
    if cols < 1:
        raise ValueError(f'cols must be >= 1, got {cols}')
    img_h, img_w = image.shape[:2]
    height = img_h if height is None else int(height)
    rows = -(-len(masks) // cols)
    tile_h = (height - (rows + 1) * pad) // rows
    if tile_h < 1:
        raise ValueError(f'height {height} leaves no room for {rows} rows of '
                         f'tiles with pad {pad}')
    tile_w = max(1, int(round(img_w * tile_h / img_h)))
    small = cv2.resize(image, (tile_w, tile_h), interpolation=cv2.INTER_AREA)
    tiles = [overlay_mask(small, mask, alpha) for mask in masks]
    return tile_grid(tiles, labels, cols, pad)


def hstack_panels(panels: Sequence[np.ndarray],
                  gap: int = 4,
                  background: int = 255) -> np.ndarray:
    """Images side by side, top-aligned; shorter ones are padded below.

    Args:
        panels (Sequence[np.ndarray]): N uint8 images (h_i, w_i, 3).
        gap (int): Background columns between two panels. Defaults to 4.
        background (int): Grey level of the padding. Defaults to 255.

    Returns:
        np.ndarray: (max h_i, sum w_i + (N - 1) * gap, 3) uint8.
    """
    if len(panels) == 0:
        raise ValueError('hstack_panels needs at least one panel')
    for i, panel in enumerate(panels):
        _check_image(panel, f'panels[{i}]')
    if gap < 0:
        raise ValueError(f'gap must be >= 0, got {gap}')
    height = max(p.shape[0] for p in panels)
    width = sum(p.shape[1] for p in panels) + gap * (len(panels) - 1)
    out = np.full((height, width, 3), background, np.uint8)
    x = 0
    for panel in panels:
        out[:panel.shape[0], x:x + panel.shape[1]] = panel
        x += panel.shape[1] + gap
    return out


def title_bar(image: np.ndarray,
              text: str,
              height: int = 24,
              background: int = 255) -> np.ndarray:
    """The image under a strip with one line of black text, shrunk to fit
    the image's width.

    Args:
        image (np.ndarray): (H, W, 3) uint8.
        text (str): The title (ASCII).
        height (int): Height of the strip, >= 8. Defaults to 24.
        background (int): Grey level of the strip. Defaults to 255.

    Returns:
        np.ndarray: (height + H, W, 3) uint8.
    """
    _check_image(image)
    if height < 8:
        raise ValueError(f'height must be >= 8, got {height}')
    width = image.shape[1]
    strip = np.full((height, width, 3), background, np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    (text_w, _), _ = cv2.getTextSize(text, font, 1.0, 1)
    scale = min(height / 40, (width - 6) / max(text_w, 1))
    thickness = max(1, int(round(scale * 2)))
    cv2.putText(strip, text, (3, int(round(height * 0.7))), font, scale,
                (0, 0, 0), thickness, cv2.LINE_AA)
    return np.concatenate([strip, image], axis=0)
