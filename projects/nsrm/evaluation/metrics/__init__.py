"""Registered metrics (``METRICS``) over :mod:`..functional`."""
