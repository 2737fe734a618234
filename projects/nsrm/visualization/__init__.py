"""Visualizers of NSRM (registered in ``VISUALIZERS``)."""
