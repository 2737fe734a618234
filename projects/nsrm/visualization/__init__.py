"""Visualizers of NSRM (registered in ``VISUALIZERS``), their test hook
(``HOOKS``) and the pure mask-drawing helpers."""
from .nsrm_visualizer import (NSRMPoseLocalVisualizer,
                              NSRMPoseVisualizationHook, limb_mask_panels)

__all__ = [
    'NSRMPoseLocalVisualizer', 'NSRMPoseVisualizationHook', 'limb_mask_panels'
]
