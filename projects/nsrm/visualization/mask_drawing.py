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
    image is stretched over the whole image (bilinear), e.g. a 32x32 limb
    mask over the 128x128 crop it was predicted on.

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
