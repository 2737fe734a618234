"""Tests of ``LoadHandMask`` and ``HandMaskTarget``: the real hand mask
stays aligned with the image through MMPose's top-down transforms."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.dataset import Compose
from mmpose.datasets.transforms.formatting import PackPoseInputs
from mmpose.registry import DATASETS, TRANSFORMS
from mmpose.structures.bbox import get_warp_matrix
from mmpose.utils import register_all_modules

from projects.nsrm.codecs.utils.hand_masks import (hand_mask_target,
                                                   polygons_to_mask, warp_mask)
from projects.nsrm.datasets.transforms import HandMaskTarget, LoadHandMask
from projects.nsrm.datasets.transforms.hand_mask_target import hand_mask_path

register_all_modules()

INPUT, HEATMAP = (128, 128), (32, 32)
CODEC = dict(type='MSRAHeatmap', input_size=INPUT, heatmap_size=HEATMAP,
             sigma=2, unbiased=True)
# every sample flipped and rotated (by up to 90 degrees), as in training
AUGMENT = [
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal', prob=1.0),
    dict(type='RandomBBoxTransform', rotate_factor=90,
         scale_factor=(0.8, 1.2), rotate_prob=1.0),
    dict(type='TopdownAffine', input_size=INPUT),
    dict(type='GenerateTarget', encoder=CODEC),
]
TARGET = dict(type='HandMaskTarget', input_size=INPUT, heatmap_size=HEATMAP)


def build(cfgs):
    return Compose([TRANSFORMS.build(c) for c in cfgs])


@pytest.fixture(scope='module')
def samples(tiny_hands):
    """The 16 raw training samples (dataset dicts) of the tiny data."""
    ds = DATASETS.build(
        dict(type='SyntheticHandDataset', data_root=tiny_hands,
             data_prefix=dict(img='images/'),
             ann_file='annotations/synthetic_hands_train.json',
             pipeline=[]))
    return [ds.get_data_info(i) for i in range(len(ds))]


def run(pipeline, sample, seed):
    np.random.seed(seed)
    return pipeline(dict(sample))


def keypoint_cells(results):
    """(N, 2) integer grid cells (x, y) of the visible keypoints inside the
    heatmap."""
    kpts = results['transformed_keypoints'][0, :, :2]
    vis = results['keypoints_visible'][0] > 0
    cells = np.round(kpts[vis] * np.array(HEATMAP) / np.array(INPUT))
    cells = cells.astype(int)
    inside = ((cells >= 0) & (cells < np.array(HEATMAP))).all(axis=1)
    return cells[inside]


# --------------------------------------------------------------- alignment
def test_mask_covers_the_keypoints_through_flip_and_rotation(samples):
    pipeline = build([dict(type='LoadImage'), dict(type='LoadHandMask'),
                      *AUGMENT, TARGET])
    on_hand, unflipped_on_hand, total = 0, 0, 0
    for i, sample in enumerate(samples):
        res = run(pipeline, sample, seed=i)
        assert res['flip'] and res['bbox_rotation'][0] != 0
        masks = res['limb_masks']
        assert masks.shape == (1, 32, 32) and masks.dtype == np.float32
        assert 0 <= masks.min() and masks.max() <= 1
        cells = keypoint_cells(res)
        on_hand += (masks[0, cells[:, 1], cells[:, 0]] > 0.25).sum()
        total += len(cells)
        # the same target had the mask not been flipped with the image
        mat = get_warp_matrix(res['bbox_center'][0], res['bbox_scale'][0],
                              res['bbox_rotation'][0], output_size=INPUT)
        unflipped = hand_mask_target(res['img_mask'][:, ::-1], mat, INPUT,
                                     HEATMAP)
        unflipped_on_hand += (
            unflipped[cells[:, 1], cells[:, 0]] > 0.25).sum()
    assert total > 200
    assert on_hand >= 0.95 * total, (on_hand, total)
    assert unflipped_on_hand < 0.7 * total, (unflipped_on_hand, total)


def test_target_equals_the_warped_polygon_rasterised_flipped(samples):
    """Independent route: mirror the polygons (pixel-edge x' = W - x),
    rasterise them and warp them with TopdownAffine's own matrix."""
    pipeline = build([dict(type='LoadImage'), dict(type='LoadHandMask'),
                      *AUGMENT, TARGET])
    for i, sample in enumerate(samples[:6]):
        res = run(pipeline, sample, seed=100 + i)
        h, w = res['ori_shape']
        mirrored = []
        for poly in sample['segmentation']:
            p = np.asarray(poly, np.float64).reshape(-1, 2)
            p[:, 0] = w - p[:, 0]
            mirrored.append(p.ravel().tolist())
        mask = polygons_to_mask(mirrored, h, w)
        mat = get_warp_matrix(res['bbox_center'][0], res['bbox_scale'][0],
                              res['bbox_rotation'][0], output_size=INPUT)
        np.testing.assert_allclose(
            res['limb_masks'][0],
            hand_mask_target(mask, mat, INPUT, HEATMAP), atol=1e-6)


def test_mask_is_warped_exactly_like_the_image(samples):
    """Feed the mask itself as the image: after flip, rotation and
    TopdownAffine, the warped image is the mask HandMaskTarget warps."""
    pipeline = build([dict(type='LoadImage'), dict(type='LoadHandMask'),
                      *AUGMENT])
    for i, sample in enumerate(samples[:4]):
        sample = dict(sample)
        mask = polygons_to_mask(sample['segmentation'], 128, 128)
        sample['img'] = np.repeat(mask[..., None] * 255, 3, axis=2)
        res = run(pipeline, sample, seed=200 + i)
        mat = HandMaskTarget(INPUT, HEATMAP)._warp_mat(res)
        ours = warp_mask(res['img_mask'], mat, INPUT)
        np.testing.assert_allclose(ours, res['img'][..., 0] / 255.,
                                   atol=1.5 / 255)
        assert ours.sum() > 100


def test_load_hand_mask_before_or_after_random_flip(samples):
    before = build([dict(type='LoadImage'), dict(type='LoadHandMask'),
                    *AUGMENT, TARGET])
    after = build([dict(type='LoadImage'), *AUGMENT,
                   dict(type='LoadHandMask'), TARGET])
    for i, sample in enumerate(samples[:4]):
        a, b = run(before, sample, seed=i), run(after, sample, seed=i)
        np.testing.assert_array_equal(a['img_mask'], b['img_mask'])
        np.testing.assert_array_equal(a['limb_masks'], b['limb_masks'])


def test_packed_into_gt_fields_next_to_the_heatmaps(samples):
    pipeline = build([dict(type='LoadImage'), dict(type='LoadHandMask'),
                      *AUGMENT, TARGET, dict(type='PackPoseInputs')])
    packed = run(pipeline, samples[0], seed=0)
    fields = packed['data_samples'].gt_fields
    assert tuple(fields.limb_masks.shape) == (1, 32, 32)
    assert tuple(fields.heatmaps.shape) == (21, 32, 32)
    assert 'limb_masks' not in PackPoseInputs.field_mapping_table


def test_warp_mat_in_results_is_used_values_by_hand():
    """WholeImageResize stores warp_mat; the bbox is then ignored."""
    mask = np.zeros((16, 16), np.uint8)
    mask[0:6, 8:16] = 1
    res = HandMaskTarget((16, 16), (4, 4))(dict(
        img_mask=mask, warp_mat=np.array([[1, 0, -4], [0, 1, 2]], np.float32),
        bbox_center=np.array([[100., 100.]]),
        bbox_scale=np.array([[1., 1.]])))
    # input columns 4..11 and rows 2..7 (see test_hand_masks.py)
    fx = np.array([0, 2.5, 4, 1.5]) / 4
    fy = np.array([0.5, 4, 1.5, 0]) / 4
    np.testing.assert_allclose(res['limb_masks'][0], np.outer(fy, fx),
                               atol=1e-6)
    assert res['field_mapping_table']['limb_masks'] == 'limb_masks'


def test_whole_image_resize_keeps_the_mask_aligned():
    if 'WholeImageResize' not in TRANSFORMS:
        pytest.skip('WholeImageResize is not registered yet')
    # a 64x32 (W x H) image, hand in its left half, stretched to 32x32:
    # x_input = x / 2, so cell j (window [4j - 2, 4j + 2] after the grid
    # shift) samples image columns 8j - 3, 8j - 1, 8j + 1, 8j + 3
    img = np.zeros((32, 64, 3), np.uint8)
    seg = [[0, 0, 32, 0, 32, 32, 0, 32]]
    seg[0][2] = 31.9  # not a rectangle-only box: a slanted right edge
    pipeline = build([
        dict(type='LoadImage'), dict(type='LoadHandMask'),
        dict(type='WholeImageResize', input_size=(32, 32)),
        dict(type='HandMaskTarget', input_size=(32, 32),
             heatmap_size=(8, 8))
    ])
    res = pipeline(dict(img=img, img_path='x.jpg', segmentation=seg))
    np.testing.assert_allclose(res['warp_mat'], [[0.5, 0, 0], [0, 1, 0]])
    # cell 0: columns -3, -1 (outside), 1, 3; cell 4: 29, 31, 33, 35
    np.testing.assert_allclose(res['limb_masks'][0, 4],
                               [0.5, 1, 1, 1, 0.5, 0, 0, 0], atol=1e-6)


# -------------------------------------------------------------- mask files
def write_onehand10k_sample(root, mask):
    """Train/source/1.jpg and Train/mask/1.png like OneHand10K."""
    img_path = osp.join(root, 'Train', 'source', '1.jpg')
    mask_path = osp.join(root, 'Train', 'mask', '1.png')
    for p in (img_path, mask_path):
        os.makedirs(osp.dirname(p), exist_ok=True)
    h, w = mask.shape
    cv2.imwrite(img_path, np.full((h, w, 3), 90, np.uint8))
    cv2.imwrite(mask_path, mask)
    return img_path, mask_path


def test_hand_mask_path_rule():
    assert hand_mask_path('data/onehand10k/Train/source/12.jpg') == \
        'data/onehand10k/Train/mask/12.png'
    # the directory nearest the file is replaced, the suffix only once
    assert hand_mask_path('/source/d/Test/source/a.b.jpg', ('source', 'm'),
                          '.bmp') == '/source/d/Test/m/a.b.bmp'
    with pytest.raises(ValueError, match="image path 'd/source.jpg' has no "
                       "directory named 'source'"):
        hand_mask_path('d/source.jpg')


def test_mask_file_is_read_and_binarised(tmp_path):
    mask = np.zeros((6, 8), np.uint8)
    mask[1:4, 2:6] = 255
    mask[5, 0] = 127  # below the threshold
    mask[0, 7] = 128  # at the threshold: hand
    img_path, _ = write_onehand10k_sample(str(tmp_path), mask)
    res = build([dict(type='LoadImage'),
                 dict(type='LoadHandMask', source='mask_file')])(
                     dict(img_path=img_path))
    expected = np.zeros((6, 8), np.uint8)
    expected[1:4, 2:6] = 1
    expected[0, 7] = 1
    np.testing.assert_array_equal(res['img_mask'], expected)
    # a 0/1 mask needs threshold=1
    cv2.imwrite(osp.join(str(tmp_path), 'Train', 'mask', '1.png'),
                (mask > 0).astype(np.uint8))
    with pytest.raises(ValueError, match=r'1.png has values up to 1, all '
                       r'below threshold=128.*set threshold'):
        build([dict(type='LoadImage'),
               dict(type='LoadHandMask', source='mask_file')])(
                   dict(img_path=img_path))
    res = build([dict(type='LoadImage'),
                 dict(type='LoadHandMask', source='mask_file',
                      threshold=1)])(dict(img_path=img_path))
    assert res['img_mask'].sum() == 12 + 1 + 1


def test_mask_file_errors_name_the_file(tmp_path):
    root = str(tmp_path)
    img_path, mask_path = write_onehand10k_sample(
        root, np.zeros((6, 8), np.uint8))
    load = build([dict(type='LoadImage'),
                  dict(type='LoadHandMask', source='mask_file')])
    # a mask of another size
    cv2.imwrite(mask_path, np.zeros((6, 9), np.uint8))
    with pytest.raises(ValueError, match=r'mask file .*1.png is 9x6 but its '
                       r'image .*1.jpg is 8x6'):
        load(dict(img_path=img_path))
    # not an image
    with open(mask_path, 'wb') as f:
        f.write(b'not a png')
    with pytest.raises(ValueError, match='cannot decode mask file .*1.png'):
        load(dict(img_path=img_path))
    # missing
    os.remove(mask_path)
    with pytest.raises(FileNotFoundError,
                       match=r'mask file .*Train/mask/1.png not found for '
                       r'image .*Train/source/1.jpg'):
        load(dict(img_path=img_path))


# ------------------------------------------------------------ segmentation
def test_rle_segmentations_decode_like_polygons():
    from xtcocotools import mask as mask_utils
    poly = [[2, 1, 9, 2, 7, 8, 1, 6]]
    mask = polygons_to_mask(poly, 10, 12)
    rle = mask_utils.encode(np.asfortranarray(mask))  # compressed, bytes
    load = LoadHandMask()
    img = np.zeros((10, 12, 3), np.uint8)

    def loaded(seg):
        return load(dict(img=img, ori_shape=(10, 12), img_path='a.jpg',
                         segmentation=seg))['img_mask']

    np.testing.assert_array_equal(loaded(rle), mask)
    np.testing.assert_array_equal(
        loaded(dict(rle, counts=rle['counts'].decode('ascii'))), mask)
    # uncompressed RLE: run lengths, column-major, starting with zeros
    flat = np.asfortranarray(mask).ravel(order='F')
    edges = np.flatnonzero(np.diff(flat)) + 1
    counts = np.diff(np.r_[0, edges, flat.size]).tolist()
    if flat[0]:
        counts = [0] + counts
    np.testing.assert_array_equal(
        loaded(dict(size=[10, 12], counts=counts)), mask)
    with pytest.raises(ValueError, match=r"RLE segmentation of image "
                       r"'a.jpg' must have \"counts\" and size \[10, 12\]"):
        loaded(dict(rle, size=[12, 10]))


@pytest.mark.parametrize('seg,message', [
    (None, r"no segmentation in image 'a.jpg' \(annotation id 7\)"),
    ([], 'no segmentation in'),
    ([[1, 1, 5, 1, 5, 4, 1, 4]],
     r"segmentation of image 'a.jpg' \(annotation id 7\) is only its "
     r"bounding rectangle.*source='mask_file'"),
    ([[1, 1, 5]], r'bad segmentation in .*polygon 0 must be'),
    ('poly', 'must be a list of polygons or an RLE dict, got str'),
])
def test_segmentation_errors_name_the_annotation(seg, message):
    with pytest.raises(ValueError, match=message):
        LoadHandMask()(dict(img_path='a.jpg', id=7, ori_shape=(8, 8),
                            segmentation=seg))


def test_onehand10k_json_segmentation_is_refused(realdata):
    """MMPose's OneHand10K jsons hold the box in `segmentation`."""
    with open(osp.join(realdata, 'onehand10k', 'test_onehand10k.json')) as f:
        coco = json.load(f)
    sizes = {im['id']: (im['height'], im['width']) for im in coco['images']}
    for ann in coco['annotations']:
        with pytest.raises(ValueError, match='only its bounding rectangle'):
            LoadHandMask()(dict(img_path='x.jpg', id=ann['id'],
                                ori_shape=sizes[ann['image_id']],
                                segmentation=ann['segmentation']))


# ----------------------------------------------------------------- target
def test_hand_mask_target_errors():
    target = HandMaskTarget(INPUT, HEATMAP)
    with pytest.raises(ValueError, match='needs results\\["img_mask"\\]: '
                       'add LoadHandMask'):
        target(dict())
    with pytest.raises(ValueError, match='place it after TopdownAffine'):
        target(dict(img_mask=np.ones((4, 4), np.uint8)))
    with pytest.raises(ValueError, match=r'the image was warped to '
                       r'\(64, 64\)'):
        target(dict(img_mask=np.ones((4, 4), np.uint8), input_size=(64, 64),
                    bbox_center=np.zeros((1, 2)),
                    bbox_scale=np.ones((1, 2))))
    with pytest.raises(ValueError, match=r'warp_mat"\] must be \(2, 3\)'):
        target(dict(img_mask=np.ones((4, 4), np.uint8), warp_mat=np.eye(3)))
    with pytest.raises(ValueError, match='LoadHandMask needs results'):
        LoadHandMask()(dict(segmentation=[[0, 0, 1, 0, 0, 1]]))


@pytest.mark.parametrize('cls,kwargs,message', [
    (HandMaskTarget, dict(input_size=(32, 32), heatmap_size=(64, 64)),
     'must not exceed input_size'),
    (HandMaskTarget, dict(input_size=(32, 0), heatmap_size=(8, 8)),
     'input_size must be'),
    (HandMaskTarget, dict(input_size=(32, 32), heatmap_size=(8, 8),
                          groups='G1&6'),
     "groups must be 'G1' \\(a hand mask is one structure channel\\), got "
     "'G1&6'"),
    (LoadHandMask, dict(source='polygons'), 'source must be one of'),
    (LoadHandMask, dict(mask_dir_rule=('source', )), 'mask_dir_rule must'),
    (LoadHandMask, dict(mask_dir_rule='source'), 'mask_dir_rule must'),
    (LoadHandMask, dict(mask_dir_rule=('a/b', 'c')), 'mask_dir_rule must'),
    (LoadHandMask, dict(mask_suffix='png'), 'mask_suffix must'),
    (LoadHandMask, dict(threshold=0), 'threshold must be an int'),
    (LoadHandMask, dict(threshold=0.5), 'threshold must be an int'),
])
def test_invalid_constructor_args(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls(**kwargs)


def test_registry_build_and_repr():
    t = TRANSFORMS.build(dict(type='LoadHandMask', source='mask_file'))
    assert isinstance(t, LoadHandMask)
    assert repr(t) == ("LoadHandMask(source='mask_file', mask_dir_rule="
                       "('source', 'mask'), mask_suffix='.png', "
                       'threshold=128, backend_args=None)')
    t = TRANSFORMS.build(TARGET)
    assert repr(t) == ('HandMaskTarget(input_size=(128, 128), '
                       "heatmap_size=(32, 32), groups='G1')")
