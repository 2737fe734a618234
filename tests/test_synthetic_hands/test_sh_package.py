"""Tests of the projects/synthetic_hands package as a whole."""
import subprocess
import sys
from pathlib import Path

import projects.synthetic_hands as synthetic_hands

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_import_is_light():
    """Neither torch, MMPose nor projects.nsrm is imported."""
    code = ('import projects.synthetic_hands, sys; '
            "heavy = [m for m in ('torch', 'mmpose', 'mmengine', "
            "'projects.nsrm') if m in sys.modules]; "
            'assert not heavy, heavy')
    run = subprocess.run([sys.executable, '-c', code], cwd=REPO_ROOT,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr


def test_public_names():
    for name in synthetic_hands.__all__:
        assert hasattr(synthetic_hands, name), name
    for name in ('generate_synthetic_hands', 'ensure_synthetic_hands',
                 'render_hand', 'make_annotation', 'mask_to_polygons',
                 'polygon_area', 'keypoint_pixels', 'KEYPOINT_NAMES',
                 'LIMBS'):
        assert name in synthetic_hands.__all__, name
    assert synthetic_hands.GENERATOR_NAME == 'nsrm_synthetic_hands'
