"""Deterministic synthetic 2D hand images with OneHand10K-style annotations.

Pure numpy + OpenCV: this package imports neither torch nor MMPose (nor
``projects.nsrm``), so a small training / smoke-test data set can be
produced on any machine before the MMPose stack is installed, and its worker
processes start quickly.

Each image shows one articulated 21-keypoint hand in MMPose hand order
(0 wrist; 1-4 thumb CMC..tip; 5-8 index; 9-12 middle; 13-16 ring; 17-20 little
finger, base..tip) on a cluttered background, sometimes partly covered by
occluders or leaving the frame.

Modules:

* :mod:`.hand_model`: keypoint names, limbs, pose sampling and placement.
* :mod:`.primitives`, :mod:`.background`: colours, textures, shapes and
  cluttered backgrounds.
* :mod:`.rendering`: :func:`render_hand` and keypoint visibility
  (keypoints in the pixel-centre convention).
* :mod:`.coco`: COCO annotations (``bbox`` / ``segmentation`` in the
  pixel-edge convention of pycocotools).
* :mod:`.generate`: :func:`generate_synthetic_hands` /
  :func:`ensure_synthetic_hands`, which write the data set (layout in that
  module's docstring).
* :mod:`.validation`: argument checks.
"""
from .coco import categories, make_annotation, mask_to_polygons, polygon_area
from .generate import (GENERATOR_NAME, GENERATOR_VERSION, JPEG_QUALITY, SPLITS,
                       ensure_synthetic_hands, generate_synthetic_hands)
from .hand_model import KEYPOINT_NAMES, LIMBS, NUM_KEYPOINTS
from .rendering import keypoint_pixels, render_hand, visibility
from .validation import MAX_IMG_SIZE, MIN_IMG_SIZE

__all__ = [
    'GENERATOR_NAME', 'GENERATOR_VERSION', 'JPEG_QUALITY', 'KEYPOINT_NAMES',
    'LIMBS', 'MAX_IMG_SIZE', 'MIN_IMG_SIZE', 'NUM_KEYPOINTS', 'SPLITS',
    'categories', 'ensure_synthetic_hands', 'generate_synthetic_hands',
    'keypoint_pixels', 'make_annotation', 'mask_to_polygons', 'polygon_area',
    'render_hand', 'visibility'
]
