"""Dataset definitions: registration, real files, and clear errors."""
import json
import os.path as osp
import shutil

import numpy as np
import pytest
from mmpose.registry import DATASETS
from mmpose.utils import register_all_modules

import projects.nsrm  # noqa: F401

register_all_modules()

LOAD = [dict(type='LoadImage'), dict(type='GetBBoxCenterScale')]


def build(root, ann='annotations/synthetic_hands_train.json', **kwargs):
    cfg = dict(type='SyntheticHandDataset', data_root=root, ann_file=ann,
               data_prefix=dict(img='images/'), pipeline=LOAD, **kwargs)
    return DATASETS.build(cfg)


def copy_dataset(src, dst):
    shutil.copytree(src, dst)
    return str(dst)


def test_synthetic_dataset_reads_generated_files(tiny_hands):
    ds = build(tiny_hands)
    with open(osp.join(tiny_hands, 'annotations',
                       'synthetic_hands_train.json')) as f:
        raw = json.load(f)
    assert len(ds) == len(raw['annotations']) == 16
    sample = ds[0]
    assert sample['img'].shape == (128, 128, 3)
    assert sample['keypoints'].shape == (1, 21, 2)
    assert len(sample['skeleton_links']) == 20
    ann = raw['annotations'][0]
    vis = np.array(ann['keypoints'][2::3]) > 0
    np.testing.assert_array_equal(sample['keypoints_visible'][0] > 0, vis)


def test_missing_data_root_names_expected_place(tmp_path):
    root = str(tmp_path / 'nowhere')
    with pytest.raises(FileNotFoundError) as err:
        build(root)
    msg = str(err.value)
    assert osp.join(root, 'annotations', 'synthetic_hands_train.json') in msg
    assert f'The data_root folder {root} does not exist' in msg
    assert 'tools/generate_synthetic_hands.py' in msg
    assert 'README.md, section "Data"' in msg


def test_missing_annotation_file(tiny_hands):
    with pytest.raises(FileNotFoundError, match='annotations/nope.json'):
        build(tiny_hands, ann='annotations/nope.json')


def test_onehand10k_missing_files_point_to_readme(tmp_path):
    cfg = dict(type='NSRMOneHand10KDataset', data_root=str(tmp_path),
               ann_file='annotations/onehand10k_train.json',
               data_prefix=dict(img=''), pipeline=[])
    with pytest.raises(FileNotFoundError,
                       match=r'onehand10k_train\.json.*README\.md'):
        DATASETS.build(cfg)


def test_missing_image_names_the_file(tiny_hands, tmp_path):
    root = copy_dataset(tiny_hands, tmp_path / 'copy')
    ds = build(root)
    path = ds.get_data_info(0)['img_path']
    shutil.move(path, path + '.gone')
    with pytest.raises(Exception) as err:
        ds[0]
    assert path in str(err.value)


def test_unreadable_image_names_the_file(tiny_hands, tmp_path):
    root = copy_dataset(tiny_hands, tmp_path / 'copy')
    ds = build(root)
    path = ds.get_data_info(1)['img_path']
    with open(path, 'wb') as f:
        f.write(b'this is not a jpeg')
    with pytest.raises(Exception) as err:
        ds[1]
    assert path in str(err.value)


def test_wrong_keypoint_count_names_the_annotation(tiny_hands, tmp_path):
    root = copy_dataset(tiny_hands, tmp_path / 'copy')
    ann_path = osp.join(root, 'annotations', 'synthetic_hands_train.json')
    with open(ann_path) as f:
        raw = json.load(f)
    bad = raw['annotations'][3]
    bad['keypoints'] = bad['keypoints'][:-3]  # 20 keypoints instead of 21
    with open(ann_path, 'w') as f:
        json.dump(raw, f)
    with pytest.raises(ValueError) as err:
        build(root)
    msg = str(err.value)
    assert f'annotation id {bad["id"]}' in msg
    assert ann_path in msg and 'has 60 keypoint values; expected 63' in msg


def test_real_onehand10k_annotations_load(realdata):
    root = osp.join(realdata, 'onehand10k')
    cfg = dict(type='NSRMOneHand10KDataset', data_root=root,
               ann_file='test_onehand10k.json', data_prefix=dict(img=''),
               pipeline=LOAD, test_mode=True)
    ds = DATASETS.build(cfg)
    assert len(ds) == 4
    sample = ds[0]
    h, w = sample['img'].shape[:2]
    assert sample['ori_shape'] == (h, w)
    # unlabelled keypoints ([0, 0, 0] in the file) are invisible
    raw = sample['raw_ann_info']['keypoints']
    np.testing.assert_array_equal(sample['keypoints_visible'][0] > 0,
                                  np.array(raw[2::3]) > 0)
