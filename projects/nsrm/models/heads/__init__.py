"""Heads of NSRM."""
from .nsrm_head import NSRMHead

__all__ = ['NSRMHead']
