"""projects/nsrm/apis/inference.py: limb masks merged into image space (on
the hand, not shifted or transposed), and the input helpers the demo and
the analysis tools share."""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData, PixelData

from mmpose.registry import DATASETS
from mmpose.structures import PoseDataSample, merge_data_samples
from projects.nsrm.apis import (InputError, collect_images, inference_nsrm,
                                init_nsrm_model, list_images, load_bboxes,
                                merge_nsrm_data_samples, read_image,
                                revert_limb_masks)
from projects.nsrm.structures import HAND_LIMBS
from projects.nsrm.testing import REPO

LPM = osp.join(REPO, 'configs/nsrm/lpm_g1g6_synthetic_cpu.py')
CPM = osp.join(REPO, 'configs/nsrm/cpm_synthetic_cpu.py')
TIPS = [4, 8, 12, 16, 20]  # thumb, index, middle, ring, little


@pytest.fixture(scope='module')
def val_dataset(tiny_hands):
    """The LPM-G1&6 config's own val dataset (LimbMaskTarget in its
    pipeline) on the tiny synthetic hands."""
    init_default_scope('mmpose')
    cfg = Config.fromfile(LPM)
    cfg.val_dataloader.dataset.data_root = tiny_hands + '/'
    return DATASETS.build(cfg.val_dataloader.dataset)


def gt_masks_as_prediction(dataset, index, transform=None):
    """A data sample whose predicted limb masks are the sample's ground-truth
    masks (C, 32, 32) from the val pipeline, with the pipeline's metainfo;
    ``transform`` optionally corrupts them first. Returns it with the
    image-space keypoints (21, 2) and their labels (21,)."""
    packed = dataset[index]['data_samples']
    info = dataset.get_data_info(index)
    masks = packed.gt_fields.limb_masks.numpy()
    if transform is not None:
        masks = np.ascontiguousarray(transform(masks))
    sample = PoseDataSample(metainfo=packed.metainfo)
    sample.pred_fields = PixelData(
        heatmaps=torch.zeros(21, *masks.shape[1:]),
        limb_masks=torch.from_numpy(masks))
    sample.pred_instances = InstanceData(
        keypoints=info['keypoints'].copy(), keypoint_scores=np.ones((1, 21)),
        bboxes=info['bbox'], bbox_scores=np.ones(1))
    return sample, info['keypoints'][0], info['keypoints_visible'][0] > 0


def on_hand(g1, keypoints, labelled, margin=12):
    """The G1 mask (H, W) is above 0.5 at every labelled keypoint that ends
    a drawn limb, and below 0.05 everywhere farther than ``margin`` px from
    the box around the labelled keypoints."""
    drawn = {k for a, b in HAND_LIMBS if labelled[a] and labelled[b]
             for k in (a, b)}
    xy = np.round(keypoints[sorted(drawn)]).astype(int)
    high = g1[xy[:, 1], xy[:, 0]].min() > 0.5
    lo, hi = keypoints[labelled].min(0), keypoints[labelled].max(0)
    ys, xs = np.mgrid[:g1.shape[0], :g1.shape[1]]
    far = ((xs < lo[0] - margin) | (xs > hi[0] + margin)
           | (ys < lo[1] - margin) | (ys > hi[1] + margin))
    assert far.sum() > 1000  # the check below is not vacuous
    return bool(high and g1[far].max() < 0.05)


@pytest.mark.parametrize('index', [0, 1, 2])
def test_reverted_gt_masks_sit_on_the_hand(val_dataset, index):
    sample, keypoints, labelled = gt_masks_as_prediction(val_dataset, index)
    merged = merge_nsrm_data_samples([sample])
    masks = merged.pred_fields.limb_masks
    assert masks.shape == (7, 128, 128) and masks.dtype == np.float32
    assert on_hand(masks[0], keypoints, labelled)
    # each finger's G6 channel is the brightest of the five at its own tip
    tips = np.round(keypoints[TIPS]).astype(int)
    at_tips = masks[1:6][:, tips[:, 1], tips[:, 0]]  # (channel, tip)
    assert labelled[TIPS].all()
    np.testing.assert_array_equal(at_tips.argmax(axis=0), np.arange(5))
    assert at_tips.diagonal().min() > 0.5


@pytest.mark.parametrize('corrupt', [
    lambda m: m.transpose(0, 2, 1),  # x and y swapped
    lambda m: np.roll(m, 4, axis=2),  # 4 heatmap px (9-17 image px) right
    lambda m: np.roll(m, -4, axis=1),  # up
], ids=['transposed', 'shifted-x', 'shifted-y'])
def test_the_on_hand_check_fails_for_misplaced_masks(val_dataset, corrupt):
    for index in (0, 1, 2):
        sample, keypoints, labelled = gt_masks_as_prediction(
            val_dataset, index, corrupt)
        g1 = merge_nsrm_data_samples([sample]).pred_fields.limb_masks[0]
        assert not on_hand(g1, keypoints, labelled)


def test_instances_and_heatmaps_are_mmposes_merge(val_dataset):
    sample, _, _ = gt_masks_as_prediction(val_dataset, 0)
    sample.pred_fields.heatmaps = torch.rand(21, 32, 32,
                                             generator=torch.Generator()
                                             .manual_seed(0))
    ours = merge_nsrm_data_samples([sample])
    mmpose = merge_data_samples([sample])
    np.testing.assert_array_equal(ours.pred_fields.heatmaps,
                                  mmpose.pred_fields.heatmaps)
    np.testing.assert_array_equal(ours.pred_instances.keypoints,
                                  mmpose.pred_instances.keypoints)
    assert 'limb_masks' not in mmpose.pred_fields  # what MMPose drops


def box_sample(center, value, channels=7):
    """A 128x128-image prediction whose masks are ``value`` everywhere on a
    32x32 grid over a 32x32 px crop at ``center``."""
    sample = PoseDataSample(metainfo=dict(
        input_center=np.array(center, np.float32),
        input_scale=np.array([32.0, 32.0], np.float32),
        ori_shape=(128, 128), input_size=(128, 128)))
    sample.pred_fields = PixelData(
        limb_masks=torch.full((channels, 32, 32), float(value)))
    sample.pred_instances = InstanceData(keypoints=np.zeros((1, 21, 2)))
    return sample


def test_instances_are_merged_by_max():
    """Crop A (value 0.3) covers x, y in [16, 48), crop B (0.8) [32, 64):
    the merge is 0.3 on A alone, 0.8 on the overlap and on B, 0 elsewhere."""
    merged = merge_nsrm_data_samples(
        [box_sample((32, 32), 0.3), box_sample((48, 48), 0.8)])
    masks = merged.pred_fields.limb_masks
    assert masks.shape == (7, 128, 128)
    assert len(merged.pred_instances) == 2
    np.testing.assert_allclose(masks[:, 20, 20], 0.3, atol=1e-6)
    np.testing.assert_allclose(masks[:, 40, 40], 0.8, atol=1e-6)
    np.testing.assert_allclose(masks[:, 60, 60], 0.8, atol=1e-6)
    np.testing.assert_allclose(masks[:, 20, 60], 0.0, atol=1e-6)
    np.testing.assert_allclose(masks[:, 100, 100], 0.0, atol=1e-6)


def test_single_channel_masks_are_reverted():
    """G1-only masks (1, h, w): MMPose's revert_heatmap loses the channel
    axis there (OpenCV returns a 2-D image)."""
    merged = merge_nsrm_data_samples([box_sample((32, 32), 1.0, channels=1)])
    masks = merged.pred_fields.limb_masks
    assert masks.shape == (1, 128, 128)
    assert masks[0, 30, 30] == pytest.approx(1.0)
    assert masks[0, 90, 30] == 0.0
    assert revert_limb_masks(np.ones((1, 8, 8)), np.array([4, 4]),
                             np.array([8, 8]), (16, 20)).shape == (1, 16, 20)


def test_merge_errors_name_the_problem():
    with_masks = box_sample((32, 32), 1.0)
    without = box_sample((32, 32), 1.0)
    without.pred_fields = PixelData(heatmaps=torch.zeros(21, 32, 32))
    with pytest.raises(ValueError, match='1 of 2 data samples have'):
        merge_nsrm_data_samples([with_masks, without])
    with pytest.raises(ValueError, match='different channel counts'):
        merge_nsrm_data_samples(
            [box_sample((32, 32), 1.0),
             box_sample((32, 32), 1.0, channels=6)])
    bare = PoseDataSample(metainfo=dict(ori_shape=(128, 128)))
    bare.pred_fields = PixelData(limb_masks=torch.zeros(7, 32, 32))
    bare.pred_instances = InstanceData(keypoints=np.zeros((1, 21, 2)))
    with pytest.raises(ValueError, match=r"lacks metainfo \['input_center'"):
        merge_nsrm_data_samples([bare])


def test_read_and_list_images(tiny_hands, tmp_path):
    image = read_image(osp.join(tiny_hands, 'images', 'val', '000000.jpg'))
    assert image.shape == (128, 128, 3) and image.dtype == np.uint8
    with pytest.raises(FileNotFoundError, match='nothere.jpg'):
        read_image(str(tmp_path / 'nothere.jpg'))
    (tmp_path / 'broken.jpg').write_text('not an image')
    with pytest.raises(InputError, match='broken.jpg: cannot read'):
        read_image(str(tmp_path / 'broken.jpg'))
    empty = tmp_path / 'empty'
    empty.mkdir()
    (empty / 'notes.txt').write_text('x')
    with pytest.raises(InputError, match='empty: no images in this folder'):
        list_images(str(empty))
    for name in ('b.PNG', 'a.jpg', 'c.txt'):
        (empty / name).write_bytes(b'')
    assert [osp.basename(p) for p in collect_images(str(empty))] == [
        'a.jpg', 'b.PNG'
    ]
    assert collect_images(str(empty / 'a.jpg')) == [str(empty / 'a.jpg')]
    with pytest.raises(FileNotFoundError, match='Input image file not found'):
        collect_images(str(empty / 'z.jpg'))


def write_json(path, data):
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def test_load_bboxes(tmp_path):
    boxes = load_bboxes(write_json(tmp_path / 'ok.json', {
        'a.jpg': [[1, 2, 30, 40]],
        'b.png': [[0, 0, 5, 5], [10, 10, 20, 30.5]]}))
    assert sorted(boxes) == ['a.jpg', 'b.png']
    np.testing.assert_array_equal(boxes['b.png'],
                                  [[0, 0, 5, 5], [10, 10, 20, 30.5]])
    assert boxes['a.jpg'].dtype == np.float32
    cases = [
        ('{"a.jpg": [[1, 2, 3, 4]', 'not valid JSON'),
        ([[1, 2, 3, 4]], 'expected a JSON object'),
        ({'a.jpg': [1, 2, 3, 4]}, "'a.jpg' must map to a non-empty list"),
        ({'a.jpg': []}, "'a.jpg' must map to a non-empty list"),
        ({'a.jpg': [[1, 2, 'x', 4]]}, "'a.jpg' must map"),
        ({'a.jpg': [[10, 2, 5, 40]]}, r'x2 <= x1 or y2 <= y1: \[\[10.0'),
    ]
    for i, (data, message) in enumerate(cases):
        path = write_json(tmp_path / f'bad{i}.json', data)
        with pytest.raises(InputError, match=message) as err:
            load_bboxes(path)
        assert f'bad{i}.json' in str(err.value)
    with pytest.raises(FileNotFoundError, match='Bounding-box file'):
        load_bboxes(str(tmp_path / 'missing.json'))


def test_init_model_errors_and_heatmap_output(tiny_checkpoints, tmp_path):
    with pytest.raises(FileNotFoundError, match='Checkpoint file not found'):
        init_nsrm_model(CPM, str(tmp_path / 'none.pth'))
    with pytest.raises(FileNotFoundError, match='Config file not found'):
        init_nsrm_model(str(tmp_path / 'none.py'), tiny_checkpoints['cpm'])
    # the CPM config does not ask for heatmaps; the helper does
    assert 'output_heatmaps' not in Config.fromfile(CPM).model.test_cfg
    model = init_nsrm_model(CPM, tiny_checkpoints['cpm'])
    assert model.test_cfg['output_heatmaps'] is True


def test_inference_puts_the_masks_in_the_box_crop(tiny_checkpoints,
                                                  tiny_hands):
    """A box [0, 0, 64, 64] is cropped around (32, 32) with side 80 (x1.25
    padding), so the masks are zero right of / below x, y = 72."""
    model = init_nsrm_model(LPM, tiny_checkpoints['lpm'])
    image = read_image(osp.join(tiny_hands, 'images', 'val', '000001.jpg'))
    sample = inference_nsrm(model, image,
                            np.array([[0, 0, 64, 64]], np.float32))
    masks = sample.pred_fields.limb_masks
    assert masks.shape == (7, 128, 128)
    assert sample.pred_fields.heatmaps.shape == (21, 128, 128)
    assert sample.pred_instances.keypoints.shape == (1, 21, 2)
    assert masks[:, :70, :70].min() > 0  # sigmoid outputs over the crop
    assert masks[:, 74:, :].max() == 0 and masks[:, :, 74:].max() == 0
    # CPM has no structure stages: heatmaps only
    cpm = init_nsrm_model(CPM, tiny_checkpoints['cpm'])
    assert 'limb_masks' not in inference_nsrm(cpm, image).pred_fields
