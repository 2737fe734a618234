"""WholeImageResize: the paper's OneHand10K input (the whole image stretched
to 368x368), and MMPose's estimator mapping predictions back per axis."""
import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData

from mmpose.datasets.transforms import PackPoseInputs
from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.structures import PoseDataSample
from projects.nsrm.datasets.transforms import (WholeImageResize,
                                               whole_image_warp)


def sample(img_w=200, img_h=100):
    img = np.zeros((img_h, img_w, 3), np.uint8)
    img[20:40, 100:150] = 255  # a white block: rows 20-39, columns 100-149
    keypoints = np.array([[[100., 20.], [150., 40.], [0., 0.]]], np.float32)
    return dict(
        img=img, img_shape=(img_h, img_w), ori_shape=(img_h, img_w),
        keypoints=keypoints, keypoints_visible=np.ones((1, 3), np.float32),
        bbox=np.array([[90., 10., 160., 50.]], np.float32),
        bbox_score=np.ones(1, np.float32),
        bbox_center=np.array([[125., 30.]], np.float32),
        bbox_scale=np.array([[87.5, 50.]], np.float32))


def test_warp_is_a_per_axis_scale():
    np.testing.assert_allclose(
        whole_image_warp((200, 100), (368, 368)),
        [[1.84, 0, 0], [0, 3.68, 0]], rtol=1e-6)


def test_image_and_keypoints_are_stretched_alike():
    results = WholeImageResize(input_size=(40, 20))(sample())
    # 200x100 -> 40x20: x / 5, y / 5 here
    assert results['img'].shape == (20, 40, 3)
    np.testing.assert_allclose(results['transformed_keypoints'],
                               [[[20., 4.], [30., 8.], [0., 0.]]])
    # the white block (x 100-150, y 20-40) lands at x 20-30, y 4-8
    white = results['img'][..., 0] > 127
    ys, xs = np.nonzero(white)
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (20, 29, 4, 7)
    # the sample's box is the whole image; the annotation box is kept
    np.testing.assert_allclose(results['bbox_center'], [[100., 50.]])
    np.testing.assert_allclose(results['bbox_scale'], [[200., 100.]])
    np.testing.assert_allclose(results['bbox'], [[90., 10., 160., 50.]])
    assert results['input_size'] == (40, 20)
    np.testing.assert_allclose(results['input_center'], [100., 50.])
    np.testing.assert_allclose(results['input_scale'], [200., 100.])
    np.testing.assert_allclose(results['warp_mat'],
                               whole_image_warp((200, 100), (40, 20)))


def test_the_estimator_maps_predictions_back_to_the_image():
    """A prediction at a keypoint's transformed position comes back at the
    keypoint's image position, each axis scaled on its own."""
    results = WholeImageResize(input_size=(368, 368))(sample(300, 120))
    packed = PackPoseInputs()(results)
    data_sample = packed['data_samples']
    pred = InstanceData()
    pred.keypoints = results['transformed_keypoints'][..., :2].copy()
    pred.keypoint_scores = np.ones((1, 3), np.float32)
    estimator = TopdownPoseEstimator.__new__(TopdownPoseEstimator)
    torch.nn.Module.__init__(estimator)
    estimator.test_cfg = {}
    out = estimator.add_pred_to_datasample([pred], None, [data_sample])
    np.testing.assert_allclose(out[0].pred_instances.keypoints,
                               sample()['keypoints'], atol=1e-4)
    assert isinstance(out[0], PoseDataSample)


def test_bad_input_size_names_the_argument():
    with pytest.raises(ValueError, match='input_size'):
        WholeImageResize(input_size=(368, 0))
