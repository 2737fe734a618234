"""tools/analysis/compare_models.py: the per-image PCK-mean (as
MultiThresholdPCK scores one image), the side-by-side PNGs, the table and
compare.json."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from projects.nsrm.evaluation import MultiThresholdPCK
from projects.nsrm.testing import REPO, data_options, load_script, run_tool

TOOL = 'tools/analysis/compare_models.py'
LPM = 'configs/nsrm/lpm_g1g6_synthetic_cpu.py'
CPM = 'configs/nsrm/cpm_synthetic_cpu.py'


@pytest.fixture(scope='module')
def tool():
    return load_script(TOOL)


def five_keypoints():
    """Ground truth spanning 100 px in x (the norm of 'keypoint_bbox'), a
    sixth unlabelled keypoint, and predictions off by 5, 12, 18, 26 and 40
    px (the unlabelled one by 1 px)."""
    gt = np.array([[0, 0], [100, 0], [50, 20], [20, 40], [80, 10], [60, 60]],
                  float)
    error = np.array([5, 12, 18, 26, 40, 1], float)
    pred = gt + np.stack([error, np.zeros(6)], axis=1)
    visible = np.array([1, 1, 1, 1, 1, 0])
    return pred, gt, visible


def test_image_pck_mean_by_hand(tool):
    pred, gt, visible = five_keypoints()
    # thresholds x 100 px = 10, 15, 20, 25, 30 px: 1, 2, 3, 3, 4 of 5 hit
    expected = np.mean([1, 2, 3, 3, 4]) / 5  # 0.52
    thresholds = (0.1, 0.15, 0.2, 0.25, 0.3)
    assert tool.image_pck_mean(pred, gt, visible, thresholds) == \
        pytest.approx(expected)
    # norm='bbox': a 200 px box halves every error; 40 px is 0.2, not
    # below 0.2: 3, 4, 4, 5, 5 of 5
    box = np.array([0, 0, 200, 150])
    assert tool.image_pck_mean(pred, gt, visible, thresholds, 'bbox',
                               box) == pytest.approx(0.84)
    # one labelled keypoint has no box: no PCK (the metric skips it)
    assert tool.image_pck_mean(pred, gt, [1, 0, 0, 0, 0, 0],
                               thresholds) is None
    with pytest.raises(ValueError, match="norm must be 'keypoint_bbox'"):
        tool.image_pck_mean(pred, gt, visible, thresholds, 'torso')


def test_image_pck_mean_is_the_metrics_pck_mean(tool):
    """On one image, MultiThresholdPCK's PCK-mean and the tool's agree."""
    rng = np.random.default_rng(0)
    gt = rng.uniform(0, 120, (21, 2))
    pred = gt + rng.normal(0, 15, (21, 2))
    visible = (rng.random(21) > 0.2).astype(float)
    thresholds = (0.05, 0.1, 0.2)
    metric = MultiThresholdPCK(thresholds=thresholds, split_visibility=False)
    metric.process([{}], [dict(
        gt_instances=dict(keypoints=gt[None], keypoints_visible=visible[None]),
        pred_instances=dict(keypoints=pred[None]))])
    expected = metric.evaluate(1)['PCK-mean']
    assert 0 < expected < 1
    assert tool.image_pck_mean(pred, gt, visible, thresholds) == \
        pytest.approx(expected)


def test_pck_settings_follow_the_test_evaluator(tool):
    lpm = Config.fromfile(osp.join(REPO, LPM))
    assert tool.pck_settings(lpm.test_evaluator) == (
        (0.1, 0.15, 0.2, 0.25, 0.3), 'keypoint_bbox')
    panoptic = [dict(type='PCKAccuracy'),
                dict(type='MultiThresholdPCK', thresholds=(0.04, 0.12),
                     norm='bbox')]
    assert tool.pck_settings(panoptic) == ((0.04, 0.12), 'bbox')
    assert tool.pck_settings(dict(type='EPE')) == (
        tool.DEFAULT_THRESHOLDS, 'keypoint_bbox')


def test_table(tool):
    rows = [dict(image='a.jpg', pck=dict(CPM=0.5, NSRM=0.75)),
            dict(image='b.jpg', pck=dict(CPM=None, NSRM=0.25))]
    assert tool.format_table(['CPM', 'NSRM'], rows).splitlines() == [
        'image  PCK CPM (%)  PCK NSRM (%)',
        'a.jpg  50.0         75.0',
        'b.jpg  -            25.0',
        'mean   50.0         50.0',
    ]


@pytest.mark.slow
def test_cpm_against_nsrm(tiny_checkpoints, tiny_hands, tmp_path):
    out_dir = tmp_path / 'cmp'
    proc = run_tool([
        TOOL, CPM, tiny_checkpoints['cpm'], LPM, tiny_checkpoints['lpm'],
        '--out-dir',
        str(out_dir), '--num', '2', '--names', 'CPM', 'NSRM',
        '--cfg-options', *data_options(tiny_hands)
    ])
    with open(out_dir / 'compare.json') as f:
        result = json.load(f)
    assert result['models'] == ['CPM', 'NSRM']
    assert result['thresholds'] == [0.1, 0.15, 0.2, 0.25, 0.3]
    assert result['norm'] == 'keypoint_bbox'
    assert [r['image'] for r in result['images']] == ['val/000000.jpg',
                                                      'val/000001.jpg']
    table = proc.stdout.splitlines()
    start = table.index('image           PCK CPM (%)  PCK NSRM (%)')
    for row, line in zip(result['images'], table[start + 1:start + 3]):
        values = [row['pck'][m] for m in ('CPM', 'NSRM')]
        assert all(0 <= v <= 1 for v in values)
        assert line.split() == [row['image'],
                                *[f'{100 * v:.1f}' for v in values]]
        # titles (24 px) over CPM's skeleton (128 px wide) and NSRM's
        # skeleton | G1 | G6 grid (454 px), 8 px apart
        assert row['png'] == str(out_dir / osp.basename(
            row['image']).replace('.jpg', '.png'))
        assert cv2.imread(row['png']).shape == (152, 128 + 8 + 454, 3)
    for name in ('CPM', 'NSRM'):
        assert result['mean'][name] == pytest.approx(
            np.mean([r['pck'][name] for r in result['images']]))


def test_errors(tool, tiny_checkpoints, tmp_path, capsys):
    missing = str(tmp_path / 'b.pth')
    assert tool.main([CPM, tiny_checkpoints['cpm'], LPM, missing, '--out-dir',
                      str(tmp_path)]) == 1
    assert f'Checkpoint file not found: {missing!r}' in capsys.readouterr(
    ).err
    cpm, lpm = tiny_checkpoints['cpm'], tiny_checkpoints['lpm']
    assert tool.main([CPM, cpm, CPM, cpm,
                      '--out-dir', str(tmp_path)]) == 1
    assert 'the two models need different names' in capsys.readouterr().err
    assert tool.main([CPM, cpm, LPM, lpm,
                      '--out-dir', str(tmp_path), '--num', '0']) == 1
    assert '--num must be >= 1' in capsys.readouterr().err
