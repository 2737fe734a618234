"""Losses of NSRM."""
from .nsrm_loss import NSRMLoss, pose_sse_loss, structure_bce_loss

__all__ = ['NSRMLoss', 'pose_sse_loss', 'structure_bce_loss']
