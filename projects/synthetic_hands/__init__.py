"""Deterministic synthetic 2D hand images with OneHand10K-style annotations.

Pure numpy + OpenCV: this package imports neither torch nor MMPose (nor
``projects.nsrm``), so a small training / smoke-test data set can be
produced on any machine before the MMPose stack is installed, and its worker
processes start quickly.

Each image shows one articulated 21-keypoint hand in MMPose hand order
(0 wrist; 1-4 thumb CMC..tip; 5-8 index; 9-12 middle; 13-16 ring; 17-20 little
finger, base..tip) on a cluttered background, sometimes partly covered by
occluders (``occlusion``: ``'default'`` or ``'hard'``) or leaving the frame.
Hidden keypoints are written in one of two ``labelling`` regimes:
``'onehand10k'`` (unlabelled) or ``'panoptic'`` (occluded ones inside the
image labelled ``v = 1`` at their true position).

Modules:

* :mod:`.hand_model`: keypoint names, limbs, pose sampling and placement.
* :mod:`.primitives`, :mod:`.background`: colours, textures, shapes and
  cluttered backgrounds.
* :mod:`.rendering`: :func:`render_hand`, the occlusion levels and keypoint
  visibility (keypoints in the pixel-centre convention).
* :mod:`.coco`: COCO annotations in the labelling regimes (``bbox`` /
  ``segmentation`` in the pixel-edge convention of pycocotools).
* :mod:`.generate`: :func:`generate_synthetic_hands` /
  :func:`ensure_synthetic_hands`, which write the data set (layout in that
  module's docstring).
* :mod:`.validation`: argument checks.
"""
from .coco import (LABELLINGS, categories, keypoint_flags, make_annotation,
                   mask_to_polygons, polygon_area)
from .generate import (DEFAULT_REGIME, GENERATOR_NAME, GENERATOR_VERSION,
                       JPEG_QUALITY, KEYPOINT_STATES, SPLITS, check_regime,
                       default_out_dir, ensure_synthetic_hands,
                       generate_synthetic_hands, read_meta)
from .hand_model import KEYPOINT_NAMES, LIMBS, NUM_KEYPOINTS
from .rendering import (OCCLUSION_LEVELS, OcclusionLevel, inside_image,
                        keypoint_pixels, render_hand, visibility)
from .validation import MAX_IMG_SIZE, MIN_IMG_SIZE

__all__ = [
    'DEFAULT_REGIME', 'GENERATOR_NAME', 'GENERATOR_VERSION', 'JPEG_QUALITY',
    'KEYPOINT_NAMES', 'KEYPOINT_STATES', 'LABELLINGS', 'LIMBS',
    'MAX_IMG_SIZE', 'MIN_IMG_SIZE', 'NUM_KEYPOINTS', 'OCCLUSION_LEVELS',
    'OcclusionLevel', 'SPLITS', 'categories', 'check_regime',
    'default_out_dir', 'ensure_synthetic_hands', 'generate_synthetic_hands',
    'inside_image', 'keypoint_flags', 'keypoint_pixels', 'make_annotation',
    'mask_to_polygons', 'polygon_area', 'read_meta', 'render_hand',
    'visibility'
]
