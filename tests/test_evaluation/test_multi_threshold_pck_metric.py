"""Tests of the registered MultiThresholdPCK metric
(projects/nsrm/evaluation/metrics/multi_threshold_pck.py)."""
import numpy as np
import pytest
from mmengine.evaluator import Evaluator
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData

import projects.nsrm.evaluation.metrics.multi_threshold_pck as metric_module
from mmpose.registry import METRICS
from mmpose.structures import PoseDataSample
from projects.nsrm import MultiThresholdPCK
from projects.nsrm.testing import record_logs

THRESHOLDS = (0.1, 0.2, 0.25, 0.3)


def sample(gt, offset, visible, bbox=None, vis_ndim=2):
    """A data sample dict as MMPose's evaluator hands it to a metric."""
    gt = np.asarray(gt, float)[None]
    visible = np.asarray(visible, float)[None]
    if vis_ndim == 3:
        visible = visible[..., None]
    gt_instances = dict(keypoints=gt, keypoints_visible=visible)
    if bbox is not None:
        gt_instances['bboxes'] = np.asarray(bbox, float)[None]
    return dict(gt_instances=gt_instances,
                pred_instances=dict(keypoints=gt + np.asarray(offset, float)))


def three_images():
    """A: labelled-keypoint box 100, errors 5, 12, 25; annotation box 200.
    B: box 50, errors 4, 9; annotation box 50. C: a single labelled keypoint
    (keypoint box 0), predicted exactly; annotation box 100."""
    a = sample([[0, 0], [100, 0], [0, 60], [500, 500]],
               [[3, 4], [12, 0], [15, 20], [900, 900]], [1, 1, 1, 0],
               bbox=[0, 0, 200, 100])
    b = sample([[10, 10], [60, 10], [30, 30], [0, 0]],
               [[0, 4], [9, 0], [700, 0], [800, 0]], [1, 1, 0, 0],
               bbox=[5, 0, 55, 50], vis_ndim=3)
    c = sample([[40, 40], [0, 0], [0, 0], [0, 0]], np.zeros((4, 2)),
               [2, 0, 0, 0], bbox=[0, 0, 100, 30])
    return [a, b, c]


def evaluate(metric, samples, batch_size=2):
    for i in range(0, len(samples), batch_size):
        chunk = samples[i:i + batch_size]
        metric.process([{}] * len(chunk), chunk)
    return metric.evaluate(len(samples))


@pytest.fixture
def log(monkeypatch):
    return record_logs(monkeypatch, metric_module)


def test_paper_default_keypoint_box_per_image(log):
    metrics = evaluate(MultiThresholdPCK(thresholds=THRESHOLDS),
                       three_images())
    # C skipped; A 1/3, 2/3, 2/3, 1 and B 1/2, 1, 1, 1, then the mean
    expected = [5 / 12, 5 / 6, 5 / 6, 1.0]
    assert list(metrics) == ['PCK@0.1', 'PCK@0.2', 'PCK@0.25', 'PCK@0.3',
                             'PCK-mean']
    assert [metrics[k] for k in list(metrics)[:4]] == pytest.approx(expected)
    assert metrics['PCK-mean'] == pytest.approx(37 / 48)
    assert all(isinstance(v, float) for v in metrics.values())
    assert ('info', "Evaluating MultiThresholdPCK (norm='keypoint_bbox', "
            "average='image'): 2 images, 5 labelled keypoints counted") in log
    assert ('warning', 'MultiThresholdPCK: skipped 1 images without labelled '
            'keypoints or with a zero normaliser (1 labelled keypoints not '
            'counted)') in log


def test_pooled_over_keypoints(log):
    metrics = evaluate(
        MultiThresholdPCK(thresholds=THRESHOLDS, average='keypoint'),
        three_images())
    assert [metrics[f'PCK@{t:g}'] for t in THRESHOLDS] == pytest.approx(
        [2 / 5, 4 / 5, 4 / 5, 1.0])
    assert metrics['PCK-mean'] == pytest.approx(0.75)


def test_annotation_box_normaliser(log):
    metrics = evaluate(MultiThresholdPCK(thresholds=THRESHOLDS, norm='bbox'),
                       three_images())
    # A / 200: 0.025, 0.06, 0.125; B / 50: 0.08, 0.18; C counted: 0
    assert [metrics[f'PCK@{t:g}'] for t in THRESHOLDS] == pytest.approx(
        [(2 / 3 + 1 / 2 + 1) / 3, 1.0, 1.0, 1.0])
    assert not any(level == 'warning' for level, _ in log)


def test_panoptic_threshold_keys():
    metric = MultiThresholdPCK(thresholds=(0.04, 0.06, 0.08, 0.1, 0.12))
    metrics = evaluate(metric, three_images()[:1])
    assert list(metrics) == ['PCK@0.04', 'PCK@0.06', 'PCK@0.08', 'PCK@0.1',
                             'PCK@0.12', 'PCK-mean']
    # errors 0.05, 0.12, 0.25 of image A
    assert [metrics[k] for k in list(metrics)[:5]] == pytest.approx(
        [0, 1 / 3, 1 / 3, 1 / 3, 1 / 3])


def test_defaults_are_the_papers():
    metric = METRICS.build(dict(type='MultiThresholdPCK'))
    assert isinstance(metric, MultiThresholdPCK)
    assert metric.thresholds == (0.1, 0.15, 0.2, 0.25, 0.3)
    assert (metric.norm, metric.average) == ('keypoint_bbox', 'image')


@pytest.mark.parametrize('kwargs, message', [
    (dict(thresholds=()), 'thresholds must be a non-empty sequence of '
     'numbers, got ()'),
    (dict(thresholds='0.1'), 'thresholds must be a non-empty sequence of '
     "numbers, got '0.1'"),
    (dict(thresholds=(0.1, 1.5)), 'every threshold must be in (0, 1] (a '
     'fraction of the normaliser), got [1.5]'),
    (dict(thresholds=(0.0, 0.1)), 'every threshold must be in (0, 1] (a '
     'fraction of the normaliser), got [0.0]'),
    (dict(thresholds=(0.1, 0.2, 0.1)), 'thresholds must be unique, got '
     '[0.1, 0.2, 0.1]'),
    (dict(norm='head'), "norm must be one of ('keypoint_bbox', 'bbox'), got "
     "'head'"),
    (dict(average='pixel'), "average must be one of ('image', 'keypoint'), "
     "got 'pixel'"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError) as err:
        MultiThresholdPCK(**kwargs)
    assert str(err.value) == f'MultiThresholdPCK: {message}'


def test_nothing_to_evaluate_is_an_error_naming_the_metric():
    only_c = three_images()[2:]
    with pytest.raises(ValueError, match=r"MultiThresholdPCK\(norm="
                       r"'keypoint_bbox'\): no image with labelled keypoints"
                       r".*Check that the evaluation annotations have "
                       r"labelled keypoints"):
        evaluate(MultiThresholdPCK(), only_c)
    with pytest.raises(ValueError, match='MultiThresholdPCK: no data sample '
                       'was evaluated'):
        MultiThresholdPCK().compute_metrics([])


def test_bbox_norm_without_boxes_and_mismatched_predictions():
    no_box = sample([[0, 0], [10, 10]], np.zeros((2, 2)), [1, 1])
    with pytest.raises(ValueError, match=r"MultiThresholdPCK\(norm='bbox'\) "
                       r"needs gt_instances\['bboxes'\]"):
        MultiThresholdPCK(norm='bbox').process([{}], [no_box])
    no_box['pred_instances']['keypoints'] = np.zeros((2, 2, 2))
    with pytest.raises(ValueError, match=r'pred_instances.keypoints '
                       r'\(2, 2, 2\) and gt_instances.keypoints \(1, 2, 2\) '
                       'differ in shape'):
        MultiThresholdPCK().process([{}], [no_box])


def pose_data_sample(gt, pred, bbox):
    data_sample = PoseDataSample()
    data_sample.gt_instances = InstanceData(
        keypoints=gt[None], keypoints_visible=np.ones((1, len(gt))),
        bboxes=np.asarray(bbox, float)[None])
    data_sample.pred_instances = InstanceData(keypoints=pred[None])
    return data_sample


def test_beside_mmpose_metrics_in_one_evaluator():
    """The four metrics of a val_evaluator list, on PoseDataSamples; with
    every keypoint labelled, the pooled bbox PCK equals MMPose's PCK."""
    with DefaultScope.overwrite_default_scope('mmpose'):  # as the runner
        evaluator = Evaluator([
            dict(type='MultiThresholdPCK'),
            dict(type='MultiThresholdPCK', thresholds=(0.2, ), norm='bbox',
                 average='keypoint', prefix='bbox'),
            dict(type='PCKAccuracy', thr=0.2),
            dict(type='AUC'),
            dict(type='EPE'),
        ])
    rng = np.random.default_rng(0)
    samples = []
    for _ in range(6):
        gt = rng.uniform(0, 100, (21, 2))
        pred = gt + rng.normal(0, 10, gt.shape)
        samples.append(pose_data_sample(gt, pred, [0, 0, 120, 90]))
    evaluator.process(samples[:4], {})
    evaluator.process(samples[4:], {})
    metrics = evaluator.evaluate(6)
    assert set(metrics) == {
        'PCK@0.1', 'PCK@0.15', 'PCK@0.2', 'PCK@0.25', 'PCK@0.3', 'PCK-mean',
        'bbox/PCK@0.2', 'bbox/PCK-mean', 'PCK', 'AUC', 'EPE'
    }
    assert metrics['bbox/PCK@0.2'] == pytest.approx(metrics['PCK'])
    assert 0 < metrics['PCK@0.1'] < metrics['PCK@0.3'] < 1
