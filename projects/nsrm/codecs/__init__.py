"""Target maths of NSRM (pure numpy, in ``codecs/utils``) and the authors'
keypoint-heatmap codec (``NSRMHeatmap``, in MMPose's ``KEYPOINT_CODECS``)."""
from .nsrm_heatmap import NSRMHeatmap

__all__ = ['NSRMHeatmap']
