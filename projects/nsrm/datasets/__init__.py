"""Hand datasets and pipeline transforms of NSRM."""
from .hand_datasets import NSRMOneHand10KDataset, SyntheticHandDataset
from .transforms import LimbMaskTarget

__all__ = ['LimbMaskTarget', 'NSRMOneHand10KDataset', 'SyntheticHandDataset']
