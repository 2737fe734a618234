"""NSRM end to end: a short CPU training run through tools/train.py, then
the trained checkpoint through MMPose's inference APIs."""
import glob
import json
import os.path as osp

import numpy as np
import pytest
from projects.nsrm.testing import (REPO, TINY_OPTIONS, data_options,
                                   run_tool)

pytestmark = pytest.mark.slow  # trains a model in a subprocess

NSRM_CPU = 'configs/nsrm/lpm_g1g6_synthetic_cpu.py'


@pytest.fixture(scope='module')
def trained(tiny_hands, tmp_path_factory):
    """lpm_g1g6_synthetic_cpu for 2 epochs on the tiny data."""
    work_dir = str(tmp_path_factory.mktemp('nsrm') / 'work')
    run_tool(['tools/train.py', NSRM_CPU, '--work-dir', work_dir,
              '--cfg-options', *TINY_OPTIONS, *data_options(tiny_hands),
              'train_cfg.max_epochs=2', 'train_cfg.val_interval=1',
              # per-iteration values, so that the logged parts sum up
              'log_processor.window_size=1'])
    scalars = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(scalars[0]) as f:
        records = [json.loads(line) for line in f]
    return dict(work_dir=work_dir, ckpt=osp.join(work_dir, 'epoch_2.pth'),
                train=[r for r in records if 'loss' in r],
                val=[r for r in records if 'PCK' in r])


def test_two_epoch_cpu_run_lowers_the_logged_total_loss(trained):
    train = trained['train']
    assert len(train) == 8  # 16 images, batch 4, 2 epochs, logged every iter
    for r in train:
        # the total is the sum of the three terms; lambdas are logged apart
        assert r['loss'] == pytest.approx(
            r['loss_pose'] + r['loss_structure_g1'] + r['loss_structure_g6'],
            rel=1e-4)
        assert r['lambda_g1'] == pytest.approx(0.1)
        assert r['lambda_g6'] == pytest.approx(0.02)
        assert np.isfinite(r['loss'])
    epoch1 = np.mean([r['loss'] for r in train[:4]])
    epoch2 = np.mean([r['loss'] for r in train[4:]])
    assert epoch2 < epoch1, (epoch1, epoch2)
    assert [sorted(v) for v in trained['val']][0][:3] == ['AUC', 'EPE', 'PCK']


def test_init_model_and_inference_topdown(trained, tiny_hands):
    from mmpose.apis import inference_topdown, init_model
    model = init_model(
        osp.join(REPO, NSRM_CPU),
        trained['ckpt'], device='cpu',
        cfg_options=dict(model=dict(test_cfg=dict(output_heatmaps=True))))
    img = osp.join(tiny_hands, 'images', 'val', '000000.jpg')
    results = inference_topdown(model, img, bboxes=np.array([[0, 0, 128,
                                                                128]]))
    assert len(results) == 1
    pred = results[0]
    assert pred.pred_instances.keypoints.shape == (1, 21, 2)
    assert pred.pred_instances.keypoint_scores.shape == (1, 21)
    assert pred.pred_fields.heatmaps.shape == (21, 32, 32)
    masks = pred.pred_fields.limb_masks
    assert masks.shape == (7, 32, 32)
    assert float(masks.min()) >= 0 and float(masks.max()) <= 1


def test_mmpose_inferencer_runs_nsrm(trained, tiny_hands):
    from mmpose.apis import MMPoseInferencer
    inferencer = MMPoseInferencer(
        pose2d=osp.join(REPO, NSRM_CPU),
        pose2d_weights=trained['ckpt'], device='cpu', det_model='whole_image')
    img = osp.join(tiny_hands, 'images', 'val', '000001.jpg')
    result = next(inferencer(img))
    instances = result['predictions'][0]
    assert len(instances) == 1
    assert np.asarray(instances[0]['keypoints']).shape == (21, 2)
    assert len(instances[0]['keypoint_scores']) == 21


def test_mmpose_log_analysis_plots_the_structure_losses(trained, tmp_path):
    scalars = glob.glob(
        osp.join(trained['work_dir'], '*', 'vis_data', 'scalars.json'))[0]
    out = str(tmp_path / 'curves.png')
    proc = run_tool([
        'tools/analysis/analyze_logs.py', 'plot_curve', scalars, '--keys',
        'loss_pose', 'loss_structure_g1', '--out', out
    ])
    assert f'save curve to: {out}' in proc.stdout
    with open(out, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
