"""Evaluation of NSRM: pure metric functions (``functional``) behind
registered metrics (``metrics``), as in MMPose."""
