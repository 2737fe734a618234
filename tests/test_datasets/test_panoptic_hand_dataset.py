"""NSRMPanopticHandDataset: MMPose's Panoptic jsons without the head_size
crash, and the converted hand143 files."""
import json
import os.path as osp
import shutil

import numpy as np
import pytest
from mmengine.dataset import pseudo_collate
from mmpose.datasets.transforms import (GetBBoxCenterScale, LoadImage,
                                        TopdownAffine)
from mmpose.evaluation.metrics import PCKAccuracy
from mmpose.models.data_preprocessors import PoseDataPreprocessor
from mmpose.registry import DATASETS
from mmpose.utils import register_all_modules

import projects.nsrm  # noqa: F401
from projects.nsrm.datasets.converters import convert_panoptic_hand143
from projects.nsrm.datasets.panoptic_hand import head_size_array
from projects.nsrm.testing import (REPO, TINY_OPTIONS, run_tool,
                                   write_raw_panoptic_hand143)

register_all_modules()

PACK = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=(64, 64)),
    dict(type='PackPoseInputs')
]


def build(dataset_type, root, ann_file, pipeline=PACK, **kwargs):
    return DATASETS.build(
        dict(type=dataset_type, data_root=root, ann_file=ann_file,
             data_prefix=dict(img=''), pipeline=pipeline, test_mode=True,
             **kwargs))


def preprocess(dataset):
    """All samples packed, collated and through the data preprocessor."""
    batch = pseudo_collate([dataset[i] for i in range(len(dataset))])
    return PoseDataPreprocessor()(batch)


@pytest.fixture
def panoptic(realdata):
    return osp.join(realdata, 'panoptic')


@pytest.fixture(scope='module')
def hand143(tmp_path_factory):
    """A converted tiny raw release (README layout: --out = --root)."""
    root = write_raw_panoptic_hand143(str(tmp_path_factory.mktemp('p143')))
    convert_panoptic_hand143(root, log=None, progress=False)
    return root


def test_mmpose_class_crashes_at_the_data_preprocessor(panoptic):
    """Documents MMPose 1.3.2's bug that the subclass fixes."""
    ds = build('PanopticHand2DDataset', panoptic, 'test_panoptic.json')
    assert isinstance(ds.get_data_info(0)['head_size'], float)
    with pytest.raises(AssertionError,
                       match='value must contain `__len__` attribute'):
        preprocess(ds)


def test_head_size_is_packed_and_pckh_works(panoptic):
    ds = build('NSRMPanopticHandDataset', panoptic, 'test_panoptic.json')
    with open(osp.join(panoptic, 'test_panoptic.json')) as f:
        anns = json.load(f)['annotations']
    assert len(ds) == 4
    info = ds.get_data_info(0)
    assert info['head_size'].dtype == np.float32
    np.testing.assert_array_equal(info['head_size'], [anns[0]['head_size']])
    out = preprocess(ds)
    assert out['inputs'].shape == (4, 3, 64, 64)
    samples = out['data_samples']
    # two MPII hands (head size 140 px), two NZSL hands (72.5531 px)
    np.testing.assert_allclose(
        [s.gt_instances.head_size for s in samples],
        [[140.0], [140.0], [72.5531], [72.5531]], rtol=1e-6)
    # every prediction 20 px off: within 0.2 x 140 = 28 px (MPII), not
    # within 0.2 x 72.6 = 14.5 px (NZSL); the boxes' longer sides are all
    # below 100 px, so none is within 0.2 x the box
    metric = PCKAccuracy(thr=0.2, norm_item=['bbox', 'head'])
    metric.process([], [
        dict(gt_instances=s.gt_instances.to_dict(),
             pred_instances=dict(
                 keypoints=s.gt_instances.keypoints + [20.0, 0.0]))
        for s in samples
    ])
    result = metric.compute_metrics(metric.results)
    assert result['PCKh'] == pytest.approx(0.5)
    assert result['PCK'] == pytest.approx(0.0)


def test_annotations_without_head_size_or_segmentation_load(panoptic,
                                                            tmp_path):
    with open(osp.join(panoptic, 'test_panoptic.json')) as f:
        coco = json.load(f)
    for ann in coco['annotations'][:2]:
        del ann['head_size'], ann['segmentation']
    for name in {img['file_name'] for img in coco['images']}:
        shutil.copy(osp.join(panoptic, name), tmp_path / name)
    with open(tmp_path / 'ann.json', 'w') as f:
        json.dump(coco, f)
    with pytest.raises(KeyError, match='segmentation'):
        build('PanopticHand2DDataset', str(tmp_path), 'ann.json')
    ds = build('NSRMPanopticHandDataset', str(tmp_path), 'ann.json')
    assert 'head_size' not in ds.get_data_info(0)
    assert ds.get_data_info(2)['head_size'].shape == (1, )


@pytest.mark.parametrize('value', [float('nan'), -3.0, 0, 'big', True])
def test_a_bad_head_size_names_the_annotation(panoptic, tmp_path, value):
    with open(osp.join(panoptic, 'test_panoptic.json')) as f:
        coco = json.load(f)
    coco['annotations'][1]['head_size'] = value
    ann_file = str(tmp_path / 'ann.json')
    with open(ann_file, 'w') as f:
        json.dump(coco, f)
    with pytest.raises(ValueError) as err:
        build('NSRMPanopticHandDataset', panoptic, ann_file)
    assert str(err.value) == (
        f'NSRMPanopticHandDataset: annotation id 100587 in {ann_file} has '
        f'head_size {value!r}; expected a positive number of pixels (the '
        'PCKh normaliser), or no head_size key.')


def test_head_size_array():
    out = head_size_array(72.5531)
    assert out.shape == (1, ) and out.dtype == np.float32
    assert out[0] == np.float32(72.5531)
    assert head_size_array('12') == np.float32(12)
    for bad in (None, 0, -1, float('inf'), 'x', False, [3.0, 4.0]):
        assert head_size_array(bad) is None, bad


def test_converted_train_json_loads_and_packs(hand143):
    ds = build('NSRMPanopticHandDataset', hand143,
               'annotations/panoptic_hand143_train.json')
    with open(osp.join(hand143, 'annotations',
                       'panoptic_hand143_train.json')) as f:
        coco = json.load(f)
    assert len(ds) == len(coco['annotations']) == 16
    info = ds.get_data_info(0)
    assert 'head_size' not in info
    assert info['img_path'] == osp.join(hand143, coco['images'][0][
        'file_name'])
    kpts = np.array(coco['annotations'][0]['keypoints']).reshape(21, 3)
    np.testing.assert_array_equal(info['keypoints_visible'][0],
                                  kpts[:, 2] > 0)
    assert len(ds.metainfo['skeleton_links']) == 20
    out = preprocess(ds)
    assert out['inputs'].shape == (16, 3, 64, 64)


def json_bbox(root, ann_id):
    with open(osp.join(root, 'annotations',
                       'panoptic_hand143_train.json')) as f:
        anns = json.load(f)['annotations']
    return next(a['bbox'] for a in anns if a['id'] == ann_id)


def test_paper_crop_is_2_2_times_the_longer_side(hand143):
    ds = build('NSRMPanopticHandDataset', hand143,
               'annotations/panoptic_hand143_train.json', pipeline=[])
    info = ds.get_data_info(0)
    _, _, w, h = json_bbox(hand143, info['id'])
    results = LoadImage()(dict(info))
    results = GetBBoxCenterScale(padding=2.2)(results)
    results = TopdownAffine(input_size=(368, 368))(results)
    side = 2.2 * max(w, h)
    np.testing.assert_allclose(results['bbox_scale'], [[side, side]],
                               rtol=1e-5)
    assert results['img'].shape == (368, 368, 3)
    # the tight box lands centred, its longer side 368 / 2.2 px long
    vis = info['keypoints_visible'][0] > 0
    moved = results['transformed_keypoints'][0][vis]
    lo, hi = moved.min(axis=0), moved.max(axis=0)
    np.testing.assert_allclose((lo + hi) / 2, [184, 184], atol=1e-3)
    assert max(hi - lo) == pytest.approx(368 / 2.2, rel=1e-5)


@pytest.mark.slow
def test_one_iteration_training_and_test_on_mmpose_jsons(panoptic, tmp_path):
    """tools/train.py (1 iteration + validation) and tools/test.py with
    PCKh on MMPose's Panoptic files."""
    config = tmp_path / 'panoptic_cpu.py'
    config.write_text(
        f"_base_ = ['{REPO}/configs/nsrm/lpm_g1g6_synthetic_cpu.py']\n"
        # _delete_: the base's synthetic-only fields (labelling, occlusion)
        # must not reach the Panoptic dataset
        f"panoptic = dict(_delete_=True, type='NSRMPanopticHandDataset', "
        f"data_root='{panoptic}/', ann_file='test_panoptic.json', "
        "data_prefix=dict(img=''))\n"
        'train_dataloader = dict(dataset=dict(**panoptic, '
        'pipeline={{_base_.train_pipeline}}))\n'
        'val_dataloader = dict(dataset=dict(**panoptic, '
        'pipeline={{_base_.eval_pipeline}}))\n'
        'test_dataloader = val_dataloader\n'
        "val_evaluator = [dict(type='PCKAccuracy', thr=0.2, "
        "norm_item=['bbox', 'head'])]\n"
        'test_evaluator = val_evaluator\n')
    work_dir = str(tmp_path / 'work')
    options = [*TINY_OPTIONS, 'train_cfg.max_epochs=1',
               'train_cfg.val_interval=1']
    log = run_tool(['tools/train.py', str(config), '--work-dir', work_dir,
                    '--cfg-options', *options])
    assert 'Epoch(train) [1][1/1]' in log.stdout + log.stderr
    out = str(tmp_path / 'metrics.json')
    run_tool(['tools/test.py', str(config),
              osp.join(work_dir, 'epoch_1.pth'), '--work-dir',
              str(tmp_path / 'test'), '--out', out, '--cfg-options',
              *TINY_OPTIONS])
    with open(out) as f:
        metrics = json.load(f)
    assert set(metrics) == {'PCK', 'PCKh'}
    # each hand's head size exceeds its box's longer side: PCKh >= PCK
    assert 0 <= metrics['PCK'] <= metrics['PCKh'] <= 1
