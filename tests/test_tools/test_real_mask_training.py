"""The "Real Mask" configs: structure supervision by the hand's own
segmentation. The configs' layout (fast), then one CPU epoch through
tools/train.py and the checkpoint through tools/test.py (slow)."""
import glob
import json
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmpose.registry import TRANSFORMS
from mmpose.utils import register_all_modules

import projects.nsrm  # noqa: F401
from projects.nsrm.testing import REPO, TINY_OPTIONS, data_options, run_tool

register_all_modules()

REAL_MASK = 'configs/nsrm/real_mask_synthetic_cpu.py'
REAL_MASK_PP = 'configs/nsrm/real_mask_pp_synthetic_cpu.py'
LPM_CPU = 'configs/nsrm/lpm_g1g6_synthetic_cpu.py'


def load(path):
    return Config.fromfile(osp.join(REPO, path))


def test_real_mask_configs():
    real, pp, lpm = load(REAL_MASK), load(REAL_MASK_PP), load(LPM_CPU)
    pipeline = real.train_dataloader.dataset.pipeline
    # the base's transforms, then the mask loaded and warped to the grid
    assert pipeline[:-3] == real.train_transforms == lpm.train_transforms
    assert [t['type'] for t in pipeline[-3:]] == [
        'LoadHandMask', 'HandMaskTarget', 'FastPackPoseInputs']
    load_mask, target = pipeline[-3], pipeline[-2]
    assert load_mask == dict(type='LoadHandMask', source='segmentation')
    assert target == dict(type='HandMaskTarget',
                          input_size=real.codec['input_size'],
                          heatmap_size=real.codec['heatmap_size'],
                          groups='G1')
    assert not [t for t in pipeline if t['type'] == 'LimbMaskTarget']
    for transform in pipeline:
        TRANSFORMS.build(transform)
    # one structure channel, constant lambda 1.0
    assert real.model.head.groups == 'G1'
    assert real.model.head.loss == dict(type='NSRMLoss', lambda_g1=1.0)
    assert real.custom_hooks == []
    # ++: the same with lpm_g1g6_synthetic_cpu's decay
    assert pp.custom_hooks == lpm.custom_hooks == [
        dict(type='LambdaDecayHook', gamma=0.1, step=4)]
    real_dict, pp_dict = real.to_dict(), pp.to_dict()
    for cfg in (real_dict, pp_dict):
        cfg.pop('custom_hooks')
    assert real_dict == pp_dict
    # same model, data and schedule as the synthetic LPM sibling
    for key in ('codec', 'val_pipeline', 'train_cfg', 'optim_wrapper',
                'param_scheduler'):
        assert real[key] == lpm[key], key
    # (the LPM config also scores its limb masks: LimbMaskQuality)
    assert real.val_evaluator == lpm.val_evaluator[:-1]
    assert real.model.backbone == lpm.model.backbone
    for key in ('num_structure_stages', 'num_pose_stages', 'stage_channels'):
        assert real.model.head[key] == lpm.model.head[key], key


@pytest.fixture(scope='module')
def trained(tiny_hands, tmp_path_factory):
    """real_mask_synthetic_cpu for 1 epoch on the tiny data."""
    work_dir = str(tmp_path_factory.mktemp('real_mask') / 'work')
    run_tool(['tools/train.py', REAL_MASK, '--work-dir', work_dir,
              '--cfg-options', *TINY_OPTIONS, *data_options(tiny_hands),
              'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
              'log_processor.window_size=1'])
    scalars = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(scalars[0]) as f:
        records = [json.loads(line) for line in f]
    return dict(work_dir=work_dir, ckpt=osp.join(work_dir, 'epoch_1.pth'),
                train=[r for r in records if 'loss' in r])


@pytest.mark.slow  # trains a model in a subprocess
def test_one_epoch_logs_the_real_mask_structure_loss(trained):
    train = trained['train']
    assert len(train) == 4  # 16 images, batch 4, logged every iteration
    for r in train:
        assert np.isfinite(r['loss']) and r['loss_structure_g1'] > 0
        # G1 only, lambda 1.0: the total is pose + structure
        assert 'loss_structure_g6' not in r
        assert r['loss'] == pytest.approx(
            r['loss_pose'] + r['loss_structure_g1'], rel=1e-4)
        assert 'lambda_g1' not in r  # no LambdaDecayHook


@pytest.mark.slow  # runs tools/test.py in a subprocess
def test_test_py_gives_pck_for_the_checkpoint(trained, tiny_hands,
                                              tmp_path):
    out = str(tmp_path / 'metrics.json')
    run_tool(['tools/test.py', REAL_MASK, trained['ckpt'], '--work-dir',
              str(tmp_path / 'test'), '--out', out, '--cfg-options',
              *TINY_OPTIONS, *data_options(tiny_hands)])
    with open(out) as f:
        metrics = json.load(f)
    thresholds = ('0.1', '0.15', '0.2', '0.25', '0.3')
    assert set(metrics) == {'PCK', 'AUC', 'EPE', 'PCK-mean',
                            *(f'PCK@{t}' for t in thresholds)}
    assert 0.0 <= metrics['PCK'] <= 1.0 and metrics['EPE'] > 0
