"""Tests of the PCK split into visible (v = 2) and occluded (v = 1)
keypoints: projects/nsrm/evaluation/functional/visibility_pck.py and the
``split_visibility`` option of MultiThresholdPCK."""
import os.path as osp

import numpy as np
import pytest

import projects.nsrm.evaluation.metrics.multi_threshold_pck as metric_module
from projects.nsrm import MultiThresholdPCK
from projects.nsrm.evaluation.functional import (keypoint_bbox_size,
                                                 visibility_split_pck,
                                                 visibility_subsets)
from projects.nsrm.evaluation.metrics.multi_threshold_pck import \
    raw_visibility_flags
from projects.nsrm.testing import record_logs

THRESHOLDS = (0.1, 0.2, 0.3)


def three_images():
    """Rows of (gt, error offsets, raw COCO flags).

    A: visible kp0 (0, 0) and kp1 (50, 0), occluded kp2 (0, 100) and kp3
    (40, 40): the box of ALL labelled keypoints is 100 (the visible ones
    alone: 50). Errors 5, 12 (visible: 0.05, 0.12), 25, 18 (occluded:
    0.25, 0.18).
    B: visible only, box 50, errors 4, 9 (0.08, 0.18); two unlabelled.
    C: occluded only, box 40, errors 2, 10, 14 (0.05, 0.25, 0.35); one
    unlabelled.
    """
    gt = np.array([
        [[0, 0], [50, 0], [0, 100], [40, 40]],
        [[10, 10], [60, 10], [30, 30], [0, 0]],
        [[0, 0], [40, 0], [0, 20], [0, 0]],
    ], dtype=float)
    offset = np.array([
        [[3, 4], [12, 0], [15, 20], [0, 18]],
        [[0, 4], [9, 0], [500, 0], [700, 0]],
        [[2, 0], [0, 10], [14, 0], [900, 0]],
    ], dtype=float)
    flags = np.array([[2, 2, 1, 1], [2, 2, 0, 0], [1, 1, 1, 0]], float)
    return gt, offset, flags


def test_subsets_are_the_labelled_keypoints_of_each_flag():
    _, _, flags = three_images()
    subsets = visibility_subsets(flags > 0, flags)
    assert list(subsets) == ['visible', 'occluded']
    np.testing.assert_array_equal(
        subsets['visible'], [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(
        subsets['occluded'], [[0, 0, 1, 1], [0, 0, 0, 0], [1, 1, 1, 0]])
    # a keypoint MMPose does not count (mask False) is in no subset
    mask = flags > 0
    mask[0, 2] = False
    assert not visibility_subsets(mask, flags)['occluded'][0, 2]


def test_split_pck_hand_computed_with_the_overall_normaliser():
    gt, offset, flags = three_images()
    mask = flags > 0
    norm = keypoint_bbox_size(gt, mask)
    np.testing.assert_array_equal(norm, [100, 50, 40])
    split = visibility_split_pck(gt + offset, gt, mask, flags, norm,
                                 THRESHOLDS, 'image')
    # visible: A 1/2, 1, 1 and B 1/2, 1, 1 (C has none: skipped)
    pck, counted, skipped = split['visible']
    np.testing.assert_allclose(pck, [0.5, 1.0, 1.0])
    assert (counted, skipped) == (2, 1)
    # occluded: A 0, 1/2, 1 and C 1/3, 1/3, 2/3 (B has none: skipped)
    pck, counted, skipped = split['occluded']
    np.testing.assert_allclose(pck, [1 / 6, 5 / 12, 5 / 6])
    assert (counted, skipped) == (2, 1)

    split = visibility_split_pck(gt + offset, gt, mask, flags, norm,
                                 THRESHOLDS, 'keypoint')
    # pooled: visible 0.05 0.12 0.08 0.18; occluded 0.25 0.18 0.05 0.25 0.35
    np.testing.assert_allclose(split['visible'][0], [2 / 4, 1, 1])
    np.testing.assert_allclose(split['occluded'][0], [1 / 5, 2 / 5, 4 / 5])


def test_a_subset_without_countable_rows_is_left_out_not_nan():
    gt, offset, flags = three_images()
    flags = np.where(flags > 0, 1.0, 0.0)  # OneHand10K style: all 1
    mask = flags > 0
    split = visibility_split_pck(gt + offset, gt, mask, flags,
                                 keypoint_bbox_size(gt, mask), THRESHOLDS)
    assert list(split) == ['occluded']
    # a subset whose only row has a zero normaliser is left out too
    split = visibility_split_pck(gt + offset, gt, mask, flags,
                                 np.zeros(3), THRESHOLDS)
    assert split == {}


@pytest.mark.parametrize('bad', [0, 3, 0.5])
def test_labelled_keypoint_with_a_non_coco_flag_is_an_error(bad):
    gt, offset, flags = three_images()
    mask = flags > 0
    flags[1, 1] = bad
    with pytest.raises(ValueError) as err:
        visibility_split_pck(gt + offset, gt, mask, flags,
                             keypoint_bbox_size(gt, mask), THRESHOLDS)
    assert str(err.value) == (
        '1 labelled keypoints have a visibility flag other than 1 '
        f'(occluded) or 2 (visible), e.g. keypoint 1 of row 1 has v = '
        f'{bad:g}; the visible / occluded split needs COCO flags')


def test_bad_shapes_and_average():
    gt, offset, flags = three_images()
    mask = flags > 0
    with pytest.raises(ValueError, match=r'flags must have the shape of '
                       r'mask \(3, 4\), got \(3, 3\)'):
        visibility_subsets(mask, flags[:, :3])
    with pytest.raises(ValueError, match=r'norm_size must have shape'):
        visibility_split_pck(gt, gt, mask, flags, np.ones(2), THRESHOLDS)
    with pytest.raises(ValueError, match="average must be one of"):
        visibility_split_pck(gt, gt, mask, flags, np.ones(3), THRESHOLDS,
                             'pixel')


# ---------------------------------------------------------------- metric


def samples(flags=None, nested=False, raw=True):
    """The three images as MMPose data-sample dicts, with the raw COCO
    annotation (``raw_ann_info``) PackPoseInputs packs by default."""
    gt, offset, default_flags = three_images()
    flags = default_flags if flags is None else flags
    out = []
    for g, o, f in zip(gt, offset, flags):
        kpts = np.concatenate([g, f[:, None]], axis=1)
        sample = dict(
            gt_instances=dict(keypoints=g[None],
                              keypoints_visible=np.minimum(1, f)[None]),
            pred_instances=dict(keypoints=(g + o)[None]))
        if raw:
            sample['raw_ann_info'] = dict(
                id=1, keypoints=kpts.tolist() if nested else
                kpts.reshape(-1).tolist())
        out.append(sample)
    return out


def evaluate(metric, data_samples):
    metric.process([{}] * len(data_samples), data_samples)
    return metric.evaluate(len(data_samples))


@pytest.fixture
def log(monkeypatch):
    return record_logs(monkeypatch, metric_module)


@pytest.mark.parametrize('nested', [False, True])
def test_metric_reports_both_subsets_hand_computed(log, nested):
    metrics = evaluate(MultiThresholdPCK(thresholds=THRESHOLDS),
                       samples(nested=nested))
    assert list(metrics) == [
        'PCK@0.1', 'PCK@0.2', 'PCK@0.3', 'PCK-mean', 'PCK@0.1/visible',
        'PCK@0.2/visible', 'PCK@0.3/visible', 'PCK-mean/visible',
        'PCK@0.1/occluded', 'PCK@0.2/occluded', 'PCK@0.3/occluded',
        'PCK-mean/occluded'
    ]
    # overall, per image: A (.05 .12 .25 .18) 1/4 3/4 1; B 1/2 1 1;
    # C (.05 .25 .35) 1/3 1/3 2/3
    assert [metrics[f'PCK@{t:g}'] for t in THRESHOLDS] == pytest.approx(
        [13 / 36, 25 / 36, 8 / 9])
    assert [metrics[f'PCK@{t:g}/visible']
            for t in THRESHOLDS] == pytest.approx([0.5, 1.0, 1.0])
    assert metrics['PCK-mean/visible'] == pytest.approx(2.5 / 3)
    assert [metrics[f'PCK@{t:g}/occluded']
            for t in THRESHOLDS] == pytest.approx([1 / 6, 5 / 12, 5 / 6])
    assert metrics['PCK-mean/occluded'] == pytest.approx(17 / 36)
    assert ('info', 'MultiThresholdPCK: visible/occluded split over '
            'visible 2 images, occluded 2 images') in log


def test_metric_prefix_and_pooled_average(log):
    metric = MultiThresholdPCK(thresholds=THRESHOLDS, average='keypoint',
                               prefix='val')
    metrics = evaluate(metric, samples())
    assert metrics['val/PCK@0.3/occluded'] == pytest.approx(4 / 5)
    assert metrics['val/PCK-mean/visible'] == pytest.approx(2.5 / 3)


def test_all_labelled_keypoints_flagged_1_gives_no_split(log):
    """MMPose's OneHand10K and Panoptic files flag every labelled keypoint
    1: an "occluded" figure would be the overall one under another name."""
    _, _, flags = three_images()
    metrics = evaluate(MultiThresholdPCK(thresholds=THRESHOLDS),
                       samples(flags=np.minimum(1, flags)))
    assert list(metrics) == ['PCK@0.1', 'PCK@0.2', 'PCK@0.3', 'PCK-mean']
    assert ('info', 'MultiThresholdPCK: no visible/occluded split: the '
            'labelled keypoints of the counted images all have visibility '
            'flag 1 (the split needs both 2 = visible and 1 = occluded)'
            ) in log


def test_samples_without_raw_flags_give_no_split(log):
    data_samples = samples()
    del data_samples[1]['raw_ann_info']
    metrics = evaluate(MultiThresholdPCK(thresholds=THRESHOLDS),
                       data_samples)
    assert list(metrics) == ['PCK@0.1', 'PCK@0.2', 'PCK@0.3', 'PCK-mean']
    assert ('info', 'MultiThresholdPCK: no visible/occluded split: 1 of 3 '
            'data samples carry no raw COCO visibility flags '
            "(raw_ann_info['keypoints'], packed by PackPoseInputs unless its "
            "meta_keys leave 'raw_ann_info' out)") in log


def test_split_off_ignores_the_flags(log):
    _, _, flags = three_images()
    flags[0, 0] = 7  # would be an error with the split on
    metric = MultiThresholdPCK(thresholds=THRESHOLDS, split_visibility=False)
    metrics = evaluate(metric, samples(flags=flags))
    assert list(metrics) == ['PCK@0.1', 'PCK@0.2', 'PCK@0.3', 'PCK-mean']
    assert not any('split' in msg for _, msg in log)
    with pytest.raises(ValueError, match=r"MultiThresholdPCK: 1 labelled "
                       r"keypoints have a visibility flag other than 1 .*"
                       r"Fix the flags in the annotation file, or set "
                       r"split_visibility=False"):
        evaluate(MultiThresholdPCK(thresholds=THRESHOLDS),
                 samples(flags=flags))


def test_bad_split_visibility_argument():
    with pytest.raises(ValueError) as err:
        MultiThresholdPCK(split_visibility='yes')
    assert str(err.value) == ('MultiThresholdPCK: split_visibility must be '
                              "True or False, got 'yes'")


def test_raw_visibility_flags_formats():
    flat = dict(keypoints=[1, 2, 2, 3, 4, 1, 5, 6, 0])
    np.testing.assert_array_equal(raw_visibility_flags(flat, (1, 3)),
                                  [[2, 1, 0]])
    nested = dict(keypoints=[[1, 2, 2], [3, 4, 1], [5, 6, 0]])
    np.testing.assert_array_equal(raw_visibility_flags(nested, (1, 3)),
                                  [[2, 1, 0]])
    # bottom-up: one annotation per instance
    np.testing.assert_array_equal(
        raw_visibility_flags([flat, nested], (2, 3)), [[2, 1, 0]] * 2)
    # nothing usable: None (no split), never a guess
    for raw, shape in ((None, (1, 3)), (dict(id=3), (1, 3)),
                       (flat, (1, 4)), ([flat], (2, 3))):
        assert raw_visibility_flags(raw, shape) is None


def test_onehand10k_real_file_flags_every_labelled_keypoint_1(realdata,
                                                              log):
    """Through the dataset and MMPose's val pipeline: raw_ann_info reaches
    the metric, and the real OneHand10K file has no v = 2 (so no split)."""
    from mmpose.datasets.transforms import (GetBBoxCenterScale, LoadImage,
                                            PackPoseInputs, TopdownAffine)
    from projects.nsrm import NSRMOneHand10KDataset
    root = osp.join(realdata, 'onehand10k')
    dataset = NSRMOneHand10KDataset(
        data_root=root, ann_file='test_onehand10k.json',
        data_prefix=dict(img=''), test_mode=True, pipeline=[
            LoadImage(), GetBBoxCenterScale(),
            TopdownAffine(input_size=(64, 64)),
            PackPoseInputs()
        ])
    data_samples = []
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        sample.pred_instances = sample.gt_instances.clone()
        data_samples.append(sample.to_dict())
    assert all('raw_ann_info' in s for s in data_samples)
    metrics = evaluate(MultiThresholdPCK(), data_samples)
    assert metrics['PCK-mean'] == 1.0 and 'PCK-mean/occluded' not in metrics
    assert ('info', 'MultiThresholdPCK: no visible/occluded split: the '
            'labelled keypoints of the counted images all have visibility '
            'flag 1 (the split needs both 2 = visible and 1 = occluded)'
            ) in log
