"""Inference helpers: NSRM predictions merged into image space, and the
input handling the demo and the analysis tools share."""
from .inference import (IMAGE_EXTENSIONS, InputError, add_drawing_args,
                        build_visualizer, collect_images, inference_nsrm,
                        init_nsrm_model, list_images, load_bboxes,
                        merge_nsrm_data_samples, read_image,
                        revert_limb_masks, whole_image_bbox)

__all__ = [
    'IMAGE_EXTENSIONS', 'InputError', 'add_drawing_args', 'build_visualizer',
    'collect_images', 'inference_nsrm', 'init_nsrm_model', 'list_images',
    'load_bboxes', 'merge_nsrm_data_samples', 'read_image',
    'revert_limb_masks', 'whole_image_bbox'
]
