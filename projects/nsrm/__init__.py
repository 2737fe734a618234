"""NSRM (Nonparametric Structure Regularization Machine) for MMPose.

Importing this package registers every module of the project in MMPose's
registries, so configs only need::

    custom_imports = dict(imports=['projects.nsrm'], allow_failed_imports=False)

It also makes checkpoint loading safe under torch >= 2.6 (see
:mod:`projects.nsrm.safe_checkpoint`).
"""
from . import safe_checkpoint
from .datasets import NSRMOneHand10KDataset, SyntheticHandDataset

safe_checkpoint.install()

__all__ = ['NSRMOneHand10KDataset', 'SyntheticHandDataset']
