"""Tests of the ``LimbMaskTarget`` transform and its use in an MMPose
top-down pipeline."""
import json
import math
import os.path as osp

import numpy as np
import pytest
from mmengine.dataset import Compose
from mmpose.datasets.datasets.utils import parse_pose_metainfo
from mmpose.datasets.transforms.formatting import PackPoseInputs
from mmpose.registry import TRANSFORMS
from mmpose.utils import register_all_modules

from projects.nsrm.codecs.utils.limb_masks import generate_limb_masks
from projects.nsrm.datasets.transforms import LimbMaskTarget
from projects.nsrm.structures.hand_topology import HAND_G6_GROUPS, HAND_LIMBS
from projects.nsrm.testing import HAND as HAND_46
from projects.nsrm.testing import REALDATA

register_all_modules()

ONEHAND10K_DIR = osp.join(REALDATA, 'onehand10k')
ONEHAND10K_JSON = osp.join(ONEHAND10K_DIR, 'test_onehand10k.json')


def onehand10k_metainfo():
    return parse_pose_metainfo(
        dict(from_file='configs/_base_/datasets/onehand10k.py'))


def one_limb_results(key='transformed_keypoints'):
    """Keypoint 0 at input (80, 160), keypoint 1 at (120, 160); the others
    are invisible, so only limb 0 = (0, 1) (palm group) is drawn."""
    kpts = np.zeros((1, 21, 2), np.float32)
    kpts[0, 0] = (80, 160)  # grid (10, 20) for 368 -> 46
    kpts[0, 1] = (120, 160)  # grid (15, 20)
    vis = np.zeros((1, 21), np.float32)
    vis[0, :2] = 1
    return {key: kpts, 'keypoints_visible': vis}


# ----------------------------------------------------- hand-made results
def test_transform_maps_input_pixels_to_grid():
    t = LimbMaskTarget(input_size=(368, 368), heatmap_size=(46, 46))
    res = t(one_limb_results())
    masks = res['limb_masks']
    assert masks.shape == (7, 46, 46) and masks.dtype == np.float32
    g1 = masks[0]
    # grid (x=10, y=20) is the start point, (15, 20) the end point
    np.testing.assert_allclose(g1[20, 10], 1.0, rtol=1e-6)
    np.testing.assert_allclose(g1[20, 15], 1.0, rtol=1e-6)
    np.testing.assert_allclose(g1[20, 12], 1.0, rtol=1e-6)
    np.testing.assert_allclose(g1[22, 12], math.exp(-4 / 2), rtol=1e-6)
    np.testing.assert_allclose(g1[20, 8], math.exp(-4 / 2), rtol=1e-6)
    np.testing.assert_allclose(g1[20, 17], math.exp(-4 / 2), rtol=1e-6)
    assert g1[19, 10] < 1.0 and g1[20, 9] < 1.0  # not a shifted grid
    # limb 0 belongs to the palm (channel 6) only
    np.testing.assert_array_equal(masks[6], g1)
    assert not masks[1:6].any()
    # registered for PackPoseInputs, default table preserved
    table = res['field_mapping_table']
    assert table['limb_masks'] == 'limb_masks'
    for k, v in PackPoseInputs.field_mapping_table.items():
        assert table[k] == v
    assert 'limb_masks' not in PackPoseInputs.field_mapping_table


def test_transform_scales_x_and_y_separately():
    # anisotropic: x scale 46/368 = 1/8, y scale 46/184 = 1/4
    res = one_limb_results()
    res['transformed_keypoints'][0, :2] = [(80, 80), (120, 80)]
    masks = LimbMaskTarget((368, 184), (46, 46))(res)['limb_masks']
    np.testing.assert_allclose(masks[0, 20, 10], 1.0, rtol=1e-6)
    np.testing.assert_allclose(masks[0, 20, 15], 1.0, rtol=1e-6)
    assert masks[0, 10, 10] < 1e-6
    # non-square heatmap: (W, H) = (40, 20), input (320, 160)
    res = one_limb_results()
    res['transformed_keypoints'][0, :2] = [(80, 40), (80, 120)]
    masks = LimbMaskTarget((320, 160), (40, 20))(res)['limb_masks']
    assert masks.shape == (7, 20, 40)
    np.testing.assert_allclose(masks[0, 5:16, 10], 1.0, rtol=1e-6)


def test_transform_ldm_and_groups():
    res = LimbMaskTarget((368, 368), (46, 46), mask_type='LDM',
                         groups='G1')(one_limb_results())
    masks = res['limb_masks']
    assert masks.shape == (1, 46, 46)
    expected = np.zeros((46, 46), np.float32)
    expected[19:22, 10:16] = 1
    np.testing.assert_array_equal(masks[0], expected)
    res = LimbMaskTarget((368, 368), (46, 46), groups='G6',
                         sigma=2.0)(one_limb_results())
    assert res['limb_masks'].shape == (6, 46, 46)
    np.testing.assert_allclose(res['limb_masks'][5, 22, 12],
                               math.exp(-4 / 8), rtol=1e-6)


def test_transform_falls_back_to_keypoints():
    t = LimbMaskTarget((368, 368), (46, 46))
    a = t(one_limb_results('keypoints'))['limb_masks']
    b = t(one_limb_results('transformed_keypoints'))['limb_masks']
    np.testing.assert_array_equal(a, b)
    assert a[0, 20, 10] == pytest.approx(1.0)
    # transformed_keypoints wins over keypoints
    res = one_limb_results('keypoints')
    res['transformed_keypoints'] = res['keypoints'] + [[80.0, 0.0]]
    c = t(res)['limb_masks']
    np.testing.assert_allclose(c[0, 20, 20], 1.0, rtol=1e-6)
    assert c[0, 20, 10] < 1e-3
    # explicit None falls back too (like GenerateTarget)
    res = one_limb_results('keypoints')
    res['transformed_keypoints'] = None
    np.testing.assert_array_equal(t(res)['limb_masks'], a)


def test_transform_uses_skeleton_links():
    res = one_limb_results()
    res['transformed_keypoints'][0, 2] = (80, 240)  # grid (10, 30)
    res['keypoints_visible'][0, 2] = 1
    t = LimbMaskTarget((368, 368), (46, 46), groups='G1')
    # skeleton_links [(0, 2)]: the vertical limb (10,20)-(10,30) only
    res['skeleton_links'] = [(0, 2)]
    m = t(dict(res))['limb_masks'][0]
    np.testing.assert_allclose(m[25, 10], 1.0, rtol=1e-6)  # on (0,2)
    np.testing.assert_allclose(m[20, 13], math.exp(-9 / 2), rtol=1e-5)
    assert m[20, 15] < 1e-5  # the end of (0,1) is not drawn
    # empty skeleton_links -> HAND_LIMBS: limbs (0,1) and (1,2)
    res['skeleton_links'] = []
    m = t(dict(res))['limb_masks'][0]
    np.testing.assert_allclose(m[20, 15], 1.0, rtol=1e-6)
    # (10,25) is not on a drawn limb: d^2 = 5 to limb (1,2) (15,20)-(10,30)
    np.testing.assert_allclose(m[25, 10], math.exp(-5 / 2), rtol=1e-5)
    # explicit limbs win over skeleton_links
    res['skeleton_links'] = [(0, 2)]
    m = LimbMaskTarget((368, 368), (46, 46), groups='G1',
                       limbs=[(0, 1)])(dict(res))['limb_masks'][0]
    np.testing.assert_allclose(m[20, 15], 1.0, rtol=1e-6)
    assert m[25, 10] < 1e-5


def test_skeleton_links_of_other_keypoint_orders():
    # RHD orders keypoints wrist, thumb4 (tip) .. thumb1, ...: its
    # skeleton_links list the same limbs in the same order, so the LIMB
    # indices of HAND_G6_GROUPS still hold. Masks must equal those of the
    # MMPose-ordered hand.
    rhd_to_mmpose = [0, 4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9, 16, 15, 14, 13,
                     20, 19, 18, 17]
    kpts = HAND_46 * 8.0  # input pixels for 368
    rhd_kpts = kpts[rhd_to_mmpose]
    mmpose_of_rhd = {m: r for r, m in enumerate(rhd_to_mmpose)}
    rhd_links = [(mmpose_of_rhd[a], mmpose_of_rhd[b]) for a, b in HAND_LIMBS]
    t = LimbMaskTarget((368, 368), (46, 46))
    ref = t(dict(transformed_keypoints=kpts[None],
                 keypoints_visible=np.ones((1, 21))))['limb_masks']
    out = t(dict(transformed_keypoints=rhd_kpts[None],
                 keypoints_visible=np.ones((1, 21)),
                 skeleton_links=rhd_links))['limb_masks']
    np.testing.assert_allclose(out, ref, atol=1e-6)
    # without the skeleton links the RHD order would be misread
    wrong = t(dict(transformed_keypoints=rhd_kpts[None],
                   keypoints_visible=np.ones((1, 21))))['limb_masks']
    assert np.abs(wrong - ref).max() > 0.5


def test_transform_matches_pure_function_and_visibility_formats():
    kpts = HAND_46 * [192 / 46, 256 / 46]  # input (w=192, h=256)
    vis = np.ones((1, 21), np.float32)
    vis[0, 6] = 0
    t = LimbMaskTarget((192, 256), (48, 64), mask_type='LPM', sigma=1.5)
    out = t(dict(transformed_keypoints=kpts[None].astype(np.float32),
                 keypoints_visible=vis))['limb_masks']
    assert out.shape == (7, 64, 48)
    grid = kpts * [48 / 192, 64 / 256]
    ref = generate_limb_masks(grid, vis[0], (48, 64), 'LPM', 'G1&6', 1.5)
    np.testing.assert_allclose(out, ref, atol=1e-5)
    # (1, K, 2) visibility (visible, weight) -> [..., 0]
    vis2 = np.stack([vis, np.full_like(vis, 0.5)], axis=-1)
    out2 = t(dict(transformed_keypoints=kpts[None],
                  keypoints_visible=vis2))['limb_masks']
    np.testing.assert_allclose(out2, ref, atol=1e-5)
    # missing keypoints_visible -> all visible
    out3 = t(dict(transformed_keypoints=kpts[None]))['limb_masks']
    ref3 = generate_limb_masks(grid, np.ones(21), (48, 64), 'LPM', 'G1&6',
                               1.5)
    np.testing.assert_allclose(out3, ref3, atol=1e-5)


def test_existing_field_mapping_table_is_extended_not_mutated():
    table = dict(heatmaps='heatmaps', foo='bar')
    res = one_limb_results()
    res['field_mapping_table'] = table
    out = LimbMaskTarget((368, 368), (46, 46))(res)
    assert out['field_mapping_table'] == dict(
        heatmaps='heatmaps', foo='bar', limb_masks='limb_masks')
    assert table == dict(heatmaps='heatmaps', foo='bar')


def test_transform_rejects_bad_samples():
    t = LimbMaskTarget((368, 368), (46, 46))
    two = dict(transformed_keypoints=np.zeros((2, 21, 2)),
               keypoints_visible=np.ones((2, 21)))
    with pytest.raises(ValueError, match='top-down'):
        t(two)
    with pytest.raises(ValueError, match='keypoints'):
        t(dict(keypoints_visible=np.ones((1, 21))))
    with pytest.raises(ValueError, match='keypoints_visible'):
        t(dict(transformed_keypoints=np.zeros((1, 21, 2)),
               keypoints_visible=np.ones((1, 20))))
    # limbs out of range of K (given, or from skeleton_links)
    t2 = LimbMaskTarget((368, 368), (46, 46), limbs=[(0, 21)], groups='G1')
    with pytest.raises(ValueError, match='limbs'):
        t2(one_limb_results())
    res = one_limb_results()
    res['skeleton_links'] = [(0, 30)]
    with pytest.raises(ValueError, match='limbs'):
        LimbMaskTarget((368, 368), (46, 46), groups='G1')(res)
    # a 10-limb skeleton cannot feed the six hand groups
    res = one_limb_results()
    res['skeleton_links'] = HAND_LIMBS[:10]
    with pytest.raises(ValueError, match='limb_groups'):
        LimbMaskTarget((368, 368), (46, 46))(res)


@pytest.mark.parametrize('kwargs,name', [
    (dict(mask_type='XDM'), 'mask_type'),
    (dict(groups='G3'), 'groups'),
    (dict(sigma=0.0), 'sigma'),
    (dict(sigma=-2), 'sigma'),
    (dict(sigma=float('nan')), 'sigma'),
    (dict(input_size=(368, 0)), 'input_size'),
    (dict(input_size=(368.0, 368)), 'input_size'),
    (dict(input_size=368), 'input_size'),
    (dict(heatmap_size=(-46, 46)), 'heatmap_size'),
    (dict(heatmap_size=(46, 46, 46)), 'heatmap_size'),
    (dict(limbs=[(0, 1, 2)]), 'limbs'),
    (dict(limbs=[(-1, 2)]), 'limbs'),
    (dict(limbs=[]), 'limbs'),
    (dict(limb_groups=[(1, 2, 3)]), 'limb_groups'),
    (dict(limbs=HAND_LIMBS[:10], limb_groups=HAND_G6_GROUPS), 'limb_groups'),
])
def test_invalid_constructor_args(kwargs, name):
    args = dict(input_size=(368, 368), heatmap_size=(46, 46))
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        LimbMaskTarget(**args)


def test_registry_build_and_repr():
    t = TRANSFORMS.build(
        dict(type='LimbMaskTarget', input_size=(192, 256),
             heatmap_size=(48, 64), mask_type='LDM', groups='G1', sigma=2))
    assert isinstance(t, LimbMaskTarget)
    r = repr(t)
    for s in ('LimbMaskTarget(', 'input_size=(192, 256)',
              'heatmap_size=(48, 64)', "mask_type='LDM'", "groups='G1'",
              'sigma=2.0', 'limbs=None', 'limb_groups=None'):
        assert s in r, (s, r)


# ---------------------------------------------------------- MMPose pipeline
def build_pipeline(input_size, heatmap_size, **mask_kwargs):
    cfgs = [
        dict(type='LoadImage'),
        dict(type='GetBBoxCenterScale'),
        dict(type='TopdownAffine', input_size=input_size),
        dict(type='GenerateTarget',
             encoder=dict(type='MSRAHeatmap', input_size=input_size,
                          heatmap_size=heatmap_size, sigma=1,
                          unbiased=True)),
        dict(type='LimbMaskTarget', input_size=input_size,
             heatmap_size=heatmap_size, **mask_kwargs),
        dict(type='PackPoseInputs'),
    ]
    return Compose([TRANSFORMS.build(c) for c in cfgs])


def synthetic_sample(img_w=320, img_h=240):
    meta = onehand10k_metainfo()
    rng = np.random.RandomState(0)
    img = rng.randint(0, 255, (img_h, img_w, 3), dtype=np.uint8)
    # the 46x46 hand placed into a 150x150 box at (100, 50)
    kpts = HAND_46 * (150 / 46) + [100, 50]
    vis = np.ones((1, 21), np.float32)
    vis[0, 20] = 0  # little finger tip unlabelled
    return dict(
        img=img,
        img_shape=img.shape[:2],
        img_id=0,
        id=0,
        bbox=np.array([[100, 50, 250, 200]], np.float32),
        bbox_score=np.ones(1, np.float32),
        keypoints=kpts[None].astype(np.float32),
        keypoints_visible=vis,
        skeleton_links=meta['skeleton_links'],
        flip_indices=meta['flip_indices'],
        dataset_keypoint_weights=meta['dataset_keypoint_weights'],
    )


def check_packed(packed, n_channels, w, h, results_grid_kpts, vis):
    ds = packed['data_samples']
    heatmaps = ds.gt_fields.heatmaps
    masks = ds.gt_fields.limb_masks
    assert tuple(heatmaps.shape) == (21, h, w)
    assert tuple(masks.shape) == (n_channels, h, w)
    assert tuple(ds.gt_instance_labels.keypoint_weights.shape) == (1, 21)
    masks = masks.numpy()
    heatmaps = heatmaps.numpy()
    # the masks are those of the transformed keypoints on the grid
    ref = generate_limb_masks(results_grid_kpts, vis, (w, h))
    np.testing.assert_allclose(masks, ref, atol=1e-5)
    # same grid convention as the heatmaps: every visible keypoint's heatmap
    # peak lies on the hand mask
    for k in np.flatnonzero(vis):
        y, x = np.unravel_index(heatmaps[k].argmax(), heatmaps[k].shape)
        assert masks[0, y, x] > math.exp(-0.5), k
    return masks, heatmaps


@pytest.mark.parametrize('input_size,heatmap_size', [((368, 368), (46, 46)),
                                                     ((192, 256), (48, 64))])
def test_pipeline_with_mmpose_transforms(input_size, heatmap_size):
    pipeline = build_pipeline(input_size, heatmap_size)
    sample = synthetic_sample()
    vis = sample['keypoints_visible'][0].copy()
    # run the same steps up to GenerateTarget to get transformed keypoints
    pre = Compose(pipeline.transforms[:4])(dict(synthetic_sample()))
    w, h = heatmap_size
    grid = pre['transformed_keypoints'][0] * [w / input_size[0],
                                              h / input_size[1]]
    packed = pipeline(sample)
    assert tuple(packed['inputs'].shape) == (3, input_size[1], input_size[0])
    masks, _ = check_packed(packed, 7, w, h, grid, vis)
    # the little-finger tip limb (19,20) is not drawn: little channel is the
    # max of limbs 17 and 18 only
    ref = generate_limb_masks(grid, vis, (w, h), limbs=HAND_LIMBS[:19],
                              limb_groups=((1, 2, 3), (5, 6, 7),
                                           (9, 10, 11), (13, 14, 15),
                                           (17, 18), (0, 4, 8, 12, 16)))
    np.testing.assert_allclose(masks, ref, atol=1e-5)


def test_pipeline_with_image_file(tmp_path):
    import cv2
    sample = synthetic_sample()
    path = str(tmp_path / 'hand.png')
    cv2.imwrite(path, sample.pop('img'))
    sample.pop('img_shape')
    sample['img_path'] = path
    packed = build_pipeline((256, 256), (64, 64), mask_type='LDM',
                            groups='G1')(sample)
    masks = packed['data_samples'].gt_fields.limb_masks
    assert tuple(masks.shape) == (1, 64, 64)
    assert set(np.unique(masks.numpy())) == {0.0, 1.0}


def test_pipeline_real_onehand10k_sample():
    if not osp.exists(ONEHAND10K_JSON):
        pytest.skip(f'OneHand10K sample data not found at {ONEHAND10K_JSON} '
                    '(optional real-data check)')
    with open(ONEHAND10K_JSON) as f:
        coco = json.load(f)
    ann = coco['annotations'][0]
    img_info = next(i for i in coco['images'] if i['id'] == ann['image_id'])
    img_path = osp.join(ONEHAND10K_DIR, img_info['file_name'])
    if not osp.exists(img_path):
        pytest.skip(f'OneHand10K image not found: {img_path}')
    meta = onehand10k_metainfo()
    raw = np.array(ann['keypoints'], np.float32).reshape(1, -1, 3)
    x, y, bw, bh = ann['bbox']
    results = dict(
        img_path=img_path,
        img_id=ann['image_id'],
        id=ann['id'],
        bbox=np.array([[x, y, x + bw, y + bh]], np.float32),
        bbox_score=np.ones(1, np.float32),
        keypoints=raw[..., :2],
        keypoints_visible=np.minimum(1, raw[..., 2]),
        skeleton_links=meta['skeleton_links'],
        flip_indices=meta['flip_indices'],
        dataset_keypoint_weights=meta['dataset_keypoint_weights'],
    )
    vis = results['keypoints_visible'][0].copy()
    unlabelled = np.flatnonzero(vis == 0)
    assert len(unlabelled) > 0, 'expected a sample with unlabelled keypoints'

    input_size, heatmap_size = (368, 368), (46, 46)
    pipeline = build_pipeline(input_size, heatmap_size)
    pre = Compose(pipeline.transforms[:4])(dict(results))
    grid = pre['transformed_keypoints'][0] * (46 / 368)
    packed = pipeline(results)
    masks, _ = check_packed(packed, 7, 46, 46, grid, vis)

    # non-zero where the hand is: on every labelled keypoint
    for k in np.flatnonzero(vis):
        gx, gy = np.round(grid[k]).astype(int)
        if 0 <= gx < 46 and 0 <= gy < 46:
            assert masks[0, gy, gx] > 0.5, k
    # zero for the limbs touching unlabelled keypoints
    bad_limbs = [i for i, (a, b) in enumerate(HAND_LIMBS)
                 if a in unlabelled or b in unlabelled]
    assert bad_limbs
    for c, members in enumerate(HAND_G6_GROUPS, start=1):
        if set(members) <= set(bad_limbs):
            assert not masks[c].any(), c
        else:
            assert masks[c].max() > 0.99, c
    # G1 is the max of the groups actually drawn; far from the hand ~ 0
    np.testing.assert_allclose(masks[0], masks[1:].max(0), atol=1e-6)
    assert 0.02 < (masks[0] > 0.5).mean() < 0.5


def test_an_inference_input_without_keypoints_passes_through():
    """MMPose's inference_topdown builds its samples with the test pipeline
    and no ground truth: TopdownAffine leaves a () placeholder, and the
    transform adds no target instead of failing."""
    from mmpose.datasets.transforms import TopdownAffine
    results = dict(img=np.zeros((64, 64, 3), np.uint8),
                   bbox_center=np.array([[32., 32.]], np.float32),
                   bbox_scale=np.array([[64., 64.]], np.float32))
    results = TopdownAffine(input_size=(64, 64))(results)
    assert np.ndim(results['transformed_keypoints']) == 0
    out = LimbMaskTarget(input_size=(64, 64), heatmap_size=(16, 16))(results)
    assert 'limb_masks' not in out
    assert 'limb_masks' not in out.get('field_mapping_table', {})
    # with ground-truth keypoints the target is still required and made
    results = dict(img=np.zeros((64, 64, 3), np.uint8),
                   keypoints=np.full((1, 21, 2), 32., np.float32),
                   keypoints_visible=np.ones((1, 21), np.float32),
                   bbox_center=np.array([[32., 32.]], np.float32),
                   bbox_scale=np.array([[64., 64.]], np.float32))
    results = TopdownAffine(input_size=(64, 64))(results)
    out = LimbMaskTarget(input_size=(64, 64), heatmap_size=(16, 16))(results)
    assert out['limb_masks'].shape == (7, 16, 16)
