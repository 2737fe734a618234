"""Tests of the structure-quality metric (predicted limb masks against the
limb-mask targets): projects/nsrm/evaluation/functional/limb_mask_quality.py
and metrics/limb_mask_quality.py, and of both new figures end to end."""
import json
import math
import os.path as osp

import numpy as np
import pytest
import torch

import projects.nsrm.evaluation.metrics.limb_mask_quality as metric_module
from mmpose.registry import METRICS
from projects.nsrm import LimbMaskQuality
from projects.nsrm.evaluation.functional import (mask_bce_sums,
                                                 mask_iou_counts, mean_bce,
                                                 mean_iou)
from projects.nsrm.testing import REPO, record_logs
from projects.nsrm.utils.runner_setup import (adapt_cfg_to_device,
                                              build_runner, load_config)

LN = math.log


def two_samples():
    """(pred, target), each (2, C=2, 2, 2).

    Sample 0: channel 0 target [[1, 0], [0.5, 0]], pred [[0.8, 0.2], [0.5,
    0.9]]: above 0.5, pred {(0,0), (1,1)}, target {(0,0)} (0.5 is not
    above): IoU 1/2. Channel 1: target 0, pred 0.1: both empty, no IoU.
    Sample 1: channel 0 pred == target [[1, 0], [0, 1]]: IoU 1 (BCE at the
    eps clip); channel 1 pred [[0.9, 0.9], [0.1, 0.1]], target [[1, 0], [0,
    0]]: IoU 1/2.
    """
    pred = np.array([
        [[[0.8, 0.2], [0.5, 0.9]], [[0.1, 0.1], [0.1, 0.1]]],
        [[[1.0, 0.0], [0.0, 1.0]], [[0.9, 0.9], [0.1, 0.1]]],
    ])
    target = np.array([
        [[[1.0, 0.0], [0.5, 0.0]], [[0.0, 0.0], [0.0, 0.0]]],
        [[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 0.0]]],
    ])
    return pred, target


def bce_by_hand():
    """The (2, 2) BCE sums of :func:`two_samples`, pixel by pixel."""
    at_clip = -LN(1 - 1e-6)  # p == t in {0, 1}, clipped to eps
    return np.array([
        [-LN(0.8) - LN(0.8) + LN(2) - LN(0.1), 4 * -LN(0.9)],
        [4 * at_clip, -LN(0.9) - LN(0.1) - 2 * LN(0.9)],
    ])


def test_iou_counts_and_bce_sums_hand_computed():
    pred, target = two_samples()
    inter, union = mask_iou_counts(pred, target)
    np.testing.assert_array_equal(inter, [[1, 0], [2, 1]])
    np.testing.assert_array_equal(union, [[2, 0], [2, 2]])
    assert inter.dtype == np.int64 and inter.shape == (2, 2)
    np.testing.assert_allclose(mask_bce_sums(pred, target), bce_by_hand(),
                               rtol=1e-12, atol=1e-15)
    # the threshold is strict and adjustable: at 0.4 the 0.5s count
    inter, union = mask_iou_counts(pred, target, thr=0.4)
    np.testing.assert_array_equal(inter[0], [2, 0])


def test_mean_iou_skips_empty_unions_and_mean_bce_pools_pixels():
    pred, target = two_samples()
    miou, counted, skipped = mean_iou(*mask_iou_counts(pred, target))
    assert (miou, counted, skipped) == (pytest.approx(2 / 3), 3, 1)
    assert mean_iou(np.zeros((2, 3)), np.zeros((2, 3))) == (None, 0, 6)
    assert mean_bce(bce_by_hand(), np.array([4, 4])) == pytest.approx(
        bce_by_hand().sum() / 16)


def test_eps_clipping_keeps_the_bce_finite():
    pred = np.zeros((1, 1, 1, 2))
    target = np.array([[[[1.0, 0.0]]]])
    np.testing.assert_allclose(mask_bce_sums(pred, target),
                               [[-LN(1e-6) - LN(1 - 1e-6)]])


@pytest.mark.parametrize('pred, target, message', [
    (np.zeros((1, 2, 2)), np.zeros((1, 2, 2)),
     r'pred must have shape \(N, C, H, W\), got \(1, 2, 2\)'),
    (np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 2, 3)),
     r'target must have the shape of pred \(1, 1, 2, 2\), got '
     r'\(1, 1, 2, 3\)'),
    (np.full((1, 1, 2, 2), -2.0), np.zeros((1, 1, 2, 2)),
     r'pred must hold probabilities in \[0, 1\], got values in \[-2, -2\] '
     r'\(logits\? apply the sigmoid first\)'),
    (np.zeros((1, 1, 2, 2)), np.array([[[[0, 1], [np.nan, 0]]]]),
     r'target must hold probabilities in \[0, 1\], got values in \[0, 1\]'),
])
def test_functional_errors(pred, target, message):
    with pytest.raises(ValueError, match=message):
        mask_bce_sums(pred, target)


# ---------------------------------------------------------------- metric


def sample(pred, target, tensors=False):
    """A data-sample dict as MMPose's evaluator hands it to a metric."""
    if tensors:
        pred, target = torch.from_numpy(pred), torch.from_numpy(target)
    return dict(img_path='a.jpg', pred_fields=dict(limb_masks=pred),
                gt_fields=dict(limb_masks=target))


@pytest.fixture
def log(monkeypatch):
    return record_logs(monkeypatch, metric_module)


def evaluate(metric, data_samples):
    metric.process([{}] * len(data_samples), data_samples)
    return metric.evaluate(len(data_samples))


def test_prediction_equal_to_a_binary_target_is_perfect(log):
    rng = np.random.default_rng(0)
    target = (rng.random((7, 12, 10)) > 0.7).astype(np.float32)
    metrics = evaluate(LimbMaskQuality(groups='G1&6'),
                       [sample(target, target, tensors=True)] * 3)
    assert metrics['structure/mIoU@0.5'] == 1.0
    assert 0 < metrics['structure/BCE'] < 1e-5
    for group in ('G1', 'G6'):
        assert metrics[f'structure/mIoU@0.5-{group}'] == 1.0
        assert metrics[f'structure/BCE-{group}'] < 1e-5


def test_metric_hand_computed(log):
    pred, target = two_samples()
    metric = LimbMaskQuality()
    metrics = evaluate(metric, [sample(pred[0], target[0]),
                                sample(pred[1], target[1], tensors=True)])
    assert list(metrics) == ['structure/mIoU@0.5', 'structure/BCE']
    assert metrics['structure/mIoU@0.5'] == pytest.approx(2 / 3)
    assert metrics['structure/BCE'] == pytest.approx(bce_by_hand().sum() / 16)
    assert ('info', 'LimbMaskQuality: mIoU@0.5 over 3 maps; 1 maps with an '
            'empty prediction and target skipped') in log


def test_g1_and_g6_figures_use_the_channel_order(log):
    """Channel 0 is G1 (perfect), channels 1-6 are the G6 groups (each
    predicts 2 of its 4 target pixels, nothing else: IoU 1/2)."""
    target = np.zeros((7, 4, 4))
    target[:, :2, :2] = 1
    pred = target.copy()
    pred[1:, 1, :2] = 0
    metrics = evaluate(LimbMaskQuality(groups='G1&6', prefix='val'),
                       [sample(pred, target)])
    assert metrics['val/mIoU@0.5-G1'] == 1.0
    assert metrics['val/mIoU@0.5-G6'] == pytest.approx(0.5)
    assert metrics['val/mIoU@0.5'] == pytest.approx((1 + 6 * 0.5) / 7)
    # two wrong pixels per G6 channel at the clipped -log(1e-6)
    at_clip, wrong = -LN(1 - 1e-6), -LN(1e-6)
    g6 = (2 * wrong + 14 * at_clip) / 16
    assert metrics['val/BCE-G1'] == pytest.approx(at_clip)
    assert metrics['val/BCE-G6'] == pytest.approx(g6)
    assert metrics['val/BCE'] == pytest.approx((at_clip + 6 * g6) / 7)
    # groups='G1' or None: no per-group keys
    metrics = evaluate(LimbMaskQuality(), [sample(pred, target)])
    assert not any('-G' in key for key in metrics)


def test_all_maps_empty_leaves_the_iou_out(log):
    zeros = np.zeros((1, 3, 3))
    metrics = evaluate(LimbMaskQuality(), [sample(zeros + 0.2, zeros)] * 2)
    assert list(metrics) == ['structure/BCE']
    assert metrics['structure/BCE'] == pytest.approx(-LN(0.8))
    assert ('warning', 'LimbMaskQuality: no mIoU@0.5: the predicted and '
            'target masks are empty (nothing above 0.5) in all 2 maps'
            ) in log


def test_missing_masks_say_how_to_enable_them():
    pred, target = two_samples()
    no_pred = dict(gt_fields=dict(limb_masks=target[0]))
    with pytest.raises(ValueError) as err:
        LimbMaskQuality().process([{}], [no_pred])
    assert str(err.value) == (
        'LimbMaskQuality: the data samples have no pred_fields.limb_masks; '
        'set model.test_cfg.output_heatmaps=True (the head then returns '
        'pred_fields.limb_masks); a model without structure stages (CPM) '
        'has no limb masks to evaluate')
    # a CPM model with output_heatmaps: pred_fields without limb_masks
    no_pred['pred_fields'] = dict(heatmaps=np.zeros((21, 2, 2)))
    with pytest.raises(ValueError, match='no pred_fields.limb_masks'):
        LimbMaskQuality().process([{}], [no_pred])
    no_target = dict(pred_fields=dict(limb_masks=pred[0]),
                     gt_fields=dict())
    with pytest.raises(ValueError) as err:
        LimbMaskQuality().process([{}], [no_target])
    assert str(err.value) == (
        'LimbMaskQuality: the data samples have no gt_fields.limb_masks; add '
        "the config's LimbMaskTarget (or HandMaskTarget) to the val/test "
        'pipeline, before PackPoseInputs')


def test_mismatched_masks_are_errors():
    pred, target = two_samples()
    with pytest.raises(ValueError, match=r'pred_fields.limb_masks '
                       r'\(2, 2, 2\) and gt_fields.limb_masks \(1, 2, 2\) '
                       'differ in shape'):
        LimbMaskQuality().process([{}], [sample(pred[0], target[0][:1])])
    with pytest.raises(ValueError, match=r"LimbMaskQuality\(groups='G1&6'\) "
                       r'expects 7 limb-mask channels, got 2'):
        LimbMaskQuality(groups='G1&6').process([{}],
                                               [sample(pred[0], target[0])])
    with pytest.raises(ValueError, match=r'LimbMaskQuality: limb masks of '
                       r'a.jpg: pred must hold probabilities in \[0, 1\], '
                       r'got values in \[-2.3, 3.3\] \(logits\?'):
        logits = pred[0] * 7 - 3
        LimbMaskQuality().process([{}], [sample(logits, target[0])])


@pytest.mark.parametrize('kwargs, message', [
    (dict(thr=1.0), 'thr must be a number in (0, 1), got 1.0'),
    (dict(thr='0.5'), "thr must be a number in (0, 1), got '0.5'"),
    (dict(eps=0.0), 'eps must be a number in (0, 0.5), got 0.0'),
    (dict(groups='G2'), "groups must be one of ('G1', 'G6', 'G1&6'), got "
     "'G2'"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError) as err:
        LimbMaskQuality(**kwargs)
    assert str(err.value) == f'LimbMaskQuality: {message}'


def test_registered_with_its_defaults():
    metric = METRICS.build(dict(type='LimbMaskQuality', groups='G1'))
    assert isinstance(metric, LimbMaskQuality)
    assert (metric.thr, metric.eps, metric.num_channels) == (0.5, 1e-6, 1)
    assert metric.prefix == 'structure'


# ------------------------------------------------------------ end to end

#: The README's config snippet: LimbMaskTarget in the evaluation pipeline,
#: the head's limb masks in its outputs, both figures in the evaluator.
EVAL_SNIPPET = """
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=_base_.codec['input_size']),
    limb_mask_target,
    dict(type='PackPoseInputs')
]
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
model = dict(test_cfg=dict(output_heatmaps=True))
val_evaluator = [
    dict(type='PCKAccuracy', thr=0.2),
    dict(type='AUC'),
    dict(type='EPE'),
    dict(type='MultiThresholdPCK'),
    dict(type='LimbMaskQuality', groups=limb_mask_target['groups']),
]
test_evaluator = val_evaluator
"""


@pytest.mark.slow  # builds and runs the model on 8 images: 10-20 s
def test_both_figures_end_to_end_on_an_untrained_nsrm(tiny_hands,
                                                      tmp_path):
    """lpm_g1g6_synthetic_cpu.py plus the snippet, on the synthetic val
    split with its hidden keypoints labelled v = 1 (``keypoints_full``),
    through runner.test() of an untrained model."""
    config = tmp_path / 'eval_cfg.py'
    config.write_text(
        "_base_ = ['" + osp.join(REPO, 'configs/nsrm/'
                                 'lpm_g1g6_synthetic_cpu.py') + "']\n"
        "limb_mask_target = _base_.limb_mask_target\n" + EVAL_SNIPPET)
    with open(osp.join(tiny_hands,
                       'annotations/synthetic_hands_val.json')) as f:
        coco = json.load(f)
    for ann in coco['annotations']:
        ann['keypoints'] = ann['keypoints_full']  # hidden: v = 1
    flags = np.array([a['keypoints'][2::3] for a in coco['annotations']])
    assert (flags == 1).any() and (flags == 2).any()
    ann_file = tmp_path / 'val_flagged.json'
    ann_file.write_text(json.dumps(coco))

    cfg = load_config(str(config))
    assert cfg.test_dataloader.dataset.pipeline[3].type == 'LimbMaskTarget'
    cfg.merge_from_dict({
        'work_dir': str(tmp_path / 'work'),
        'test_dataloader.dataset.data_root': tiny_hands,
        'test_dataloader.dataset.ann_file': str(ann_file),
        'test_dataloader.num_workers': 0,
        'test_dataloader.persistent_workers': False,
        'test_dataloader.batch_size': 4,
    })
    dataset = cfg.test_dataloader.dataset
    for key in ('labelling', 'occlusion'):  # the regime check, where present
        if key in dataset:
            dataset[key] = None  # the flagged copy is a file of neither
    metrics = build_runner(adapt_cfg_to_device(cfg)).test()

    split = [f'PCK@{t}/{s}' for s in ('visible', 'occluded')
             for t in ('0.1', '0.15', '0.2', '0.25', '0.3')]
    structure = [f'structure/{m}{g}' for m in ('mIoU@0.5', 'BCE')
                 for g in ('', '-G1', '-G6')]
    names = ['PCK', 'PCK-mean', 'PCK-mean/visible', 'PCK-mean/occluded',
             *split, *structure]
    assert set(names) <= set(metrics), sorted(metrics)
    assert all(np.isfinite(metrics[n]) for n in names)
    assert all(0 <= metrics[n] <= 1 for n in names if 'BCE' not in n)
    # untrained: the sigmoid outputs sit near 0.5, so the BCE is near log 2
    assert 0.3 < metrics['structure/BCE'] < 1.5
