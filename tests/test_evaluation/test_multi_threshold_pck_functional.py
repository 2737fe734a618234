"""Tests of the pure multi-threshold PCK
(projects/nsrm/evaluation/functional/multi_threshold_pck.py)."""
import numpy as np
import pytest

from mmpose.evaluation.functional import keypoint_pck_accuracy
from projects.nsrm.evaluation.functional import (countable_rows,
                                                 keypoint_bbox_size,
                                                 multi_threshold_pck)

THRESHOLDS = (0.1, 0.2, 0.25, 0.3)


def two_images():
    """Image A: 3 labelled keypoints, normaliser 100, errors 5, 12, 25
    (0.05, 0.12, 0.25 exactly). Image B: 2 labelled keypoints, normaliser
    50, errors 4, 9 (0.08, 0.18). The unlabelled keypoint of each image is
    predicted far away (and must not count)."""
    gt = np.array([
        [[0, 0], [100, 0], [0, 60], [500, 500]],
        [[10, 10], [60, 10], [30, 30], [0, 0]],
    ], dtype=float)
    offset = np.array([
        [[3, 4], [12, 0], [15, 20], [900, 900]],  # |(15, 20)| = 25
        [[0, 4], [9, 0], [700, 0], [800, 0]],
    ], dtype=float)
    mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], dtype=bool)
    return gt + offset, gt, mask, np.array([100.0, 50.0])


def test_keypoint_bbox_size_is_the_longer_side_of_the_labelled_keypoints():
    gt = np.array([
        [[10, 20], [50, 30], [30, 80]],  # x 40, y 60
        [[10, 20], [50, 30], [30, 80]],  # third unlabelled: x 40, y 10
        [[10, 20], [50, 30], [30, 80]],  # nothing labelled
        [[10, 20], [50, 30], [30, 80]],  # one keypoint: no box
    ], dtype=float)
    mask = np.array([[1, 1, 1], [1, 1, 0], [0, 0, 0], [0, 1, 0]], bool)
    np.testing.assert_array_equal(
        keypoint_bbox_size(gt, mask), [60.0, 40.0, 0.0, 0.0])
    # the example images: 100 and 50
    _, gt2, mask2, norm2 = two_images()
    np.testing.assert_array_equal(keypoint_bbox_size(gt2, mask2), norm2)


def test_image_and_keypoint_averages_hand_computed():
    pred, gt, mask, norm = two_images()
    pck, counted, skipped = multi_threshold_pck(pred, gt, mask, norm,
                                                THRESHOLDS, 'image')
    # per image: A 1/3, 2/3, 2/3 (0.25 is not < 0.25), 1; B 1/2, 1, 1, 1
    np.testing.assert_allclose(pck, [(1 / 3 + 1 / 2) / 2, (2 / 3 + 1) / 2,
                                     (2 / 3 + 1) / 2, 1.0])
    assert (counted, skipped) == (2, 0)
    pck, _, _ = multi_threshold_pck(pred, gt, mask, norm, THRESHOLDS,
                                    'keypoint')
    # pooled over the 5 labelled keypoints: 2, 4, 4, 5 correct
    np.testing.assert_allclose(pck, [2 / 5, 4 / 5, 4 / 5, 1.0])
    assert pck.shape == (4, )


def test_strictly_below_the_threshold():
    gt = np.zeros((1, 2, 2))
    gt[0, 1] = [100, 0]  # normaliser 100
    pred = gt + [[[15.0, 20.0], [0.0, 0.0]]]  # error exactly 25
    mask = np.ones((1, 2), bool)
    pck, _, _ = multi_threshold_pck(pred, gt, mask, np.array([100.0]),
                                    (0.25, 0.2500001))
    np.testing.assert_array_equal(pck, [0.5, 1.0])


def test_rows_without_labels_or_normaliser_are_skipped():
    pred, gt, mask, norm = two_images()
    # C: no labelled keypoint; D: one labelled keypoint, keypoint-box 0
    pred = np.concatenate([pred, pred[:1] + 1000, pred[:1] + 1000])
    gt = np.concatenate([gt, gt[:1], gt[:1]])
    mask = np.concatenate([mask, [[0, 0, 0, 0], [0, 1, 0, 0]]]).astype(bool)
    norm_size = keypoint_bbox_size(gt, mask)
    np.testing.assert_array_equal(norm_size, [100, 50, 0, 0])
    np.testing.assert_array_equal(
        countable_rows(mask, norm_size), [True, True, False, False])
    for average, expected in (('image', [5 / 12, 5 / 6, 5 / 6, 1.0]),
                              ('keypoint', [0.4, 0.8, 0.8, 1.0])):
        pck, counted, skipped = multi_threshold_pck(
            pred, gt, mask, norm_size, THRESHOLDS, average)
        np.testing.assert_allclose(pck, expected)
        assert (counted, skipped) == (2, 2)
        assert np.isfinite(pck).all()


def test_every_row_skipped_is_an_error_not_a_number():
    gt = np.zeros((2, 3, 2))
    mask = np.array([[0, 0, 0], [0, 1, 0]], bool)
    with pytest.raises(ValueError, match='no image with labelled keypoints '
                       'and a positive normaliser: all 2 images were skipped '
                       r'\(1 labelled keypoints in all\)'):
        multi_threshold_pck(gt, gt, mask, keypoint_bbox_size(gt, mask),
                            (0.1, ))


def test_perfect_predictions_and_monotonic_in_threshold():
    rng = np.random.default_rng(0)
    gt = rng.uniform(0, 200, (30, 21, 2))
    mask = rng.random((30, 21)) > 0.3
    norm = keypoint_bbox_size(gt, mask)
    thresholds = np.linspace(0.02, 1.0, 12)
    pck, _, _ = multi_threshold_pck(gt, gt, mask, norm, thresholds)
    np.testing.assert_array_equal(pck, np.ones(12))
    pred = gt + rng.normal(0, 20, gt.shape)
    for average in ('image', 'keypoint'):
        pck, _, _ = multi_threshold_pck(pred, gt, mask, norm, thresholds,
                                        average)
        assert np.all(np.diff(pck) >= 0) and 0 < pck[0] < pck[-1] <= 1


def test_pooled_equals_mmpose_pck_when_every_keypoint_is_labelled():
    """MMPose's keypoint_pck_accuracy averages per keypoint type, which is
    the pooled average when all keypoints are labelled."""
    rng = np.random.default_rng(1)
    gt = rng.uniform(0, 100, (40, 21, 2))
    pred = gt + rng.normal(0, 8, gt.shape)
    mask = np.ones((40, 21), bool)
    norm = rng.uniform(50, 150, 40)
    for thr in (0.05, 0.1, 0.2):
        _, expected, _ = keypoint_pck_accuracy(
            pred, gt, mask, thr, np.repeat(norm[:, None], 2, axis=1))
        pck, _, _ = multi_threshold_pck(pred, gt, mask, norm, (thr, ),
                                        'keypoint')
        assert pck[0] == pytest.approx(expected, abs=1e-12)


def test_bad_shapes_and_average_are_errors():
    pred, gt, mask, norm = two_images()
    with pytest.raises(ValueError, match=r'pred must have the shape of gt '
                       r'\(2, 4, 2\), got \(2, 3, 2\)'):
        multi_threshold_pck(pred[:, :3], gt, mask, norm, (0.1, ))
    with pytest.raises(ValueError, match=r'mask must have shape \(N, K\) = '
                       r'\(2, 4\), got \(2, 3\)'):
        multi_threshold_pck(pred, gt, mask[:, :3], norm, (0.1, ))
    with pytest.raises(ValueError, match=r'norm_size must have shape \(N,\) '
                       r'= \(2,\), got \(3,\)'):
        multi_threshold_pck(pred, gt, mask, np.ones(3), (0.1, ))
    with pytest.raises(ValueError, match=r'gt must have shape \(N, K, 2\)'):
        keypoint_bbox_size(gt[0], mask)
    with pytest.raises(ValueError, match="average must be one of "
                       r"\('image', 'keypoint'\), got 'pixel'"):
        multi_threshold_pck(pred, gt, mask, norm, (0.1, ), 'pixel')
