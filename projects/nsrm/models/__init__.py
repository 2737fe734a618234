"""Models of NSRM: the cascade head and its composite loss."""
from .heads import NSRMHead
from .losses import NSRMLoss

__all__ = ['NSRMHead', 'NSRMLoss']
