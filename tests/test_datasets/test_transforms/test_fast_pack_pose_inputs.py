"""FastPackPoseInputs: MMPose's PackPoseInputs with a faster channels-first
image copy; everything it packs must equal the parent's, bit for bit."""
import numpy as np
import pytest
import torch

from mmpose.datasets.transforms import PackPoseInputs
from projects.nsrm.datasets.transforms import (FastPackPoseInputs,
                                               LimbMaskTarget,
                                               channels_first)


def results(img):
    rng = np.random.default_rng(0)
    kpts = rng.uniform(0, 368, (1, 21, 2)).astype(np.float32)
    res = dict(
        img=img, img_shape=img.shape[:2], ori_shape=(480, 640),
        input_size=(368, 368), id=7, img_id=3, img_path='x.jpg',
        keypoints=kpts, keypoints_visible=np.ones((1, 21), np.float32),
        transformed_keypoints=kpts, bbox=np.array([[1., 2., 30., 40.]]),
        bbox_score=np.ones(1, np.float32),
        heatmaps=rng.random((21, 46, 46)).astype(np.float32),
        keypoint_weights=np.ones((1, 21), np.float32))
    return LimbMaskTarget(input_size=(368, 368), heatmap_size=(46, 46))(res)


def packed_equal(a, b):
    assert a['inputs'].dtype == b['inputs'].dtype
    assert a['inputs'].shape == b['inputs'].shape
    assert a['inputs'].is_contiguous() and b['inputs'].is_contiguous()
    assert torch.equal(a['inputs'], b['inputs'])
    sa, sb = a['data_samples'], b['data_samples']
    assert sa.metainfo.keys() == sb.metainfo.keys()
    for key in sa.metainfo:
        np.testing.assert_array_equal(sa.metainfo[key], sb.metainfo[key])
    for field in ('gt_instances', 'gt_instance_labels', 'gt_fields'):
        fa, fb = getattr(sa, field), getattr(sb, field)
        assert sorted(fa.keys()) == sorted(fb.keys()), field
        for key in fa.keys():
            va, vb = fa.get(key), fb.get(key)
            if isinstance(va, torch.Tensor):
                assert torch.equal(va, vb), (field, key)
            else:
                np.testing.assert_array_equal(va, vb)


@pytest.mark.parametrize('shape,dtype', [
    ((368, 368, 3), np.uint8),
    ((50, 70, 3), np.float32),
    ((50, 70, 4), np.uint8),
    ((50, 70), np.uint8),
    ((50, 70, 1), np.uint8),
    ((50, 70, 5), np.uint8),  # more channels than cv2.split's fast path
    ((50, 70, 3), np.int64),  # a dtype cv2 does not take
])
def test_packs_exactly_what_pack_pose_inputs_packs(shape, dtype):
    rng = np.random.default_rng(1)
    img = (rng.random(shape) * 255).astype(dtype)
    fast = FastPackPoseInputs()(results(img))
    ref = PackPoseInputs()(results(img))
    packed_equal(fast, ref)
    assert fast['data_samples'].gt_fields.limb_masks.shape == (7, 46, 46)


def test_non_contiguous_image():
    rng = np.random.default_rng(2)
    img = (rng.random((60, 80, 3)) * 255).astype(np.uint8)[::2, ::-1]
    assert not img.flags.c_contiguous
    packed_equal(FastPackPoseInputs()(results(img)),
                 PackPoseInputs()(results(img)))


def test_channels_first_values_and_layout():
    img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    chw = channels_first(img)
    assert chw.shape == (3, 2, 3) and chw.is_contiguous()
    # channel c of pixel (y, x) is 9 y + 3 x + c
    assert chw[1, 1, 2].item() == 9 + 6 + 1
    assert chw[:, 0, 0].tolist() == [0, 1, 2]


def test_channels_first_rejects_other_shapes():
    with pytest.raises(ValueError, match=r'img must have shape'):
        channels_first(np.zeros((2, 3, 4, 5), np.uint8))


def test_the_paper_configs_pack_with_it():
    from mmengine.config import Config
    for name in ('lpm_g1g6_panoptic', 'cpm_onehand10k'):
        cfg = Config.fromfile(f'configs/nsrm/{name}.py')
        for loader in ('train_dataloader', 'test_dataloader'):
            pipeline = cfg[loader].dataset.pipeline
            assert pipeline[-1]['type'] == 'FastPackPoseInputs', (name,
                                                                  loader)
