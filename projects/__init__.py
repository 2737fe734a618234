"""OpenMMLab-style projects living in this repository."""
