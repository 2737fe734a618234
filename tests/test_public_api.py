"""What users import from ``projects.nsrm`` stays importable, and importing
it registers the modules without touching global state it does not own."""
import subprocess
import sys

import pytest

from projects.nsrm.testing import REPO

pytestmark = pytest.mark.slow  # fresh interpreters import the whole stack

PUBLIC = ('LimbMaskTarget', 'NSRMHead', 'NSRMLoss', 'LambdaDecayHook',
          'SyntheticHandDataset', 'NSRMOneHand10KDataset',
          'generate_limb_masks', 'limb_maps', 'compose_limb_groups',
          'HAND_LIMBS', 'HAND_G6_GROUPS', 'CHANNEL_NAMES', 'channel_slices',
          'num_mask_channels', 'MultiThresholdPCK', 'LimbMaskQuality',
          'NSRMHeatmap', 'NSRMPanopticHandDataset', 'WholeImageResize',
          'LoadHandMask', 'HandMaskTarget')


def run_python(code):
    return subprocess.run([sys.executable, '-c', code], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def test_public_names_and_registries():
    code = f"""
import projects.nsrm as m
from mmpose.registry import (DATASETS, HOOKS, KEYPOINT_CODECS, METRICS,
                             MODELS, TRANSFORMS)
missing = [n for n in {PUBLIC!r} if not hasattr(m, n)]
assert not missing, missing
assert set(m.__all__) >= set({PUBLIC!r}), set({PUBLIC!r}) - set(m.__all__)
assert TRANSFORMS.get('LimbMaskTarget') is m.LimbMaskTarget
assert MODELS.get('NSRMHead') is m.NSRMHead
assert MODELS.get('NSRMLoss') is m.NSRMLoss
assert HOOKS.get('LambdaDecayHook') is m.LambdaDecayHook
assert DATASETS.get('SyntheticHandDataset') is m.SyntheticHandDataset
assert METRICS.get('MultiThresholdPCK') is m.MultiThresholdPCK
assert METRICS.get('LimbMaskQuality') is m.LimbMaskQuality
assert KEYPOINT_CODECS.get('NSRMHeatmap') is m.NSRMHeatmap
"""
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_import_changes_no_warning_filter():
    code = ('import warnings, torch, mmengine, mmpose.models\n'
            'before = list(warnings.filters)\n'
            'import projects.nsrm\n'
            'after = list(warnings.filters)\n'
            'assert after == before, [f for f in after if f not in before]\n')
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr[-3000:]
