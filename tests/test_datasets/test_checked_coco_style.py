"""Annotation checks of CheckedCocoStyleMixin: rules, messages, skipping."""
import glob
import json
import logging
import math
import os
import os.path as osp
import shutil

import pytest
from mmpose.registry import DATASETS
from mmpose.utils import register_all_modules

import projects.nsrm  # noqa: F401
from projects.nsrm.datasets import checked_coco_style
from projects.nsrm.datasets.checked_coco_style import (AnnotationProblem,
                                                       check_bbox,
                                                       check_coco_annotations,
                                                       check_keypoints,
                                                       format_problems)
from projects.nsrm.testing import TINY_OPTIONS, data_options, run_tool

register_all_modules()

K = 21
SIZE = (128.0, 128.0)  # the tiny set's images are 128 x 128
TRAIN = osp.join('annotations', 'synthetic_hands_train.json')
BASELINE = 'configs/baseline/heatmap_resnet_synthetic_cpu.py'


def read_train(root):
    with open(osp.join(root, TRAIN)) as f:
        return json.load(f)


def write(raw, path):
    with open(path, 'w') as f:
        json.dump(raw, f)  # writes NaN / Infinity as Python's json reads them
    return str(path)


def build(root, ann_file, **kwargs):
    cfg = dict(type='SyntheticHandDataset', data_root=root, ann_file=ann_file,
               data_prefix=dict(img='images/'), pipeline=[], **kwargs)
    return DATASETS.build(cfg)


def labelled(ann):
    """Index of the first labelled keypoint (v > 0) of an annotation."""
    return next(k for k in range(K) if ann['keypoints'][3 * k + 2] > 0)


def set_keypoint(kpts, k, x, y, v):
    kpts[3 * k:3 * k + 3] = [x, y, v]


@pytest.fixture
def raw(tiny_hands):
    """A fresh copy of the tiny training set's annotation file."""
    return read_train(tiny_hands)


@pytest.fixture
def warnings(monkeypatch):
    """Records what the mixin logs through MMEngine's print_log."""
    calls = []
    monkeypatch.setattr(checked_coco_style, 'print_log',
                        lambda msg, **kw: calls.append((msg, kw)))
    return calls


# --------------------------------------------------------------- pure rules
def hand(v=2.0, x=64.0, y=64.0):
    return [x, y, v] * K


def test_unlabelled_zeros_and_edge_keypoints_pass():
    assert check_keypoints([0, 0, 0] * K, K, SIZE) == []
    kpts = hand()
    set_keypoint(kpts, 0, -128.0, 256.0, 2)  # exactly -W and 2H: allowed
    set_keypoint(kpts, 1, 130.0, -5.0, 1)  # a little outside the image
    set_keypoint(kpts, 2, 1e30, -1e30, 0)  # far away but unlabelled
    assert check_keypoints(kpts, K, SIZE) == []
    nested = [[64.0, 64.0, 2]] * K  # MMPose reshapes nested lists alike
    assert check_keypoints(nested, K, SIZE) == []


@pytest.mark.parametrize('x, y', [(-128.5, 64), (256.5, 64), (64, -129),
                                  (64, 300), (1e30, 64)])
def test_labelled_keypoint_farther_out_than_the_image_size(x, y):
    kpts = hand()
    set_keypoint(kpts, 4, x, y, 1)
    [(rule, what)] = check_keypoints(kpts, K, SIZE)
    assert rule == 'keypoints_far_outside'
    assert what == (f'labelled keypoint 4 is [{x:g}, {y:g}, 1] '
                    'in a 128x128 image')
    # without a known image size only finiteness is checked
    assert check_keypoints(kpts, K, None) == []


def test_non_finite_and_negative_visibility():
    kpts = hand()
    set_keypoint(kpts, 7, math.nan, 3.0, 0)  # NaN even when unlabelled
    set_keypoint(kpts, 9, 5.0, math.inf, 2)
    set_keypoint(kpts, 11, 5.0, 6.0, -1)
    assert check_keypoints(kpts, K, SIZE) == [
        ('keypoints_non_finite', 'keypoint 7 is [nan, 3, 0]'),
        ('negative_visibility', 'keypoint 11 is [5, 6, -1]'),
    ]
    kpts[1] = None  # json null reads as NaN
    assert check_keypoints(kpts, K, SIZE)[0] == (
        'keypoints_non_finite', 'keypoint 0 is [64, nan, 2]')


def test_keypoint_count_and_type():
    assert check_keypoints(hand()[:-3], K, SIZE) == [
        ('keypoint_count',
         'has 60 keypoint values; expected 63 (21 keypoints x [x, y, v])')]
    [(rule, what)] = check_keypoints(['a'] * 63, K, SIZE)
    assert rule == 'keypoint_count' and 'not a list of numbers' in what


@pytest.mark.parametrize('bbox, rule', [
    ([0, 0, 10, 10], None),
    ([126.5, 0, 10, 10], None),  # 0.5 px wide after clipping to [0, 127]
    ([-50, -50, 60, 60], None),  # partly outside
    ([10, 10, 0, 5], 'bbox_no_area'),
    ([10, 10, 5, -1], 'bbox_no_area'),
    ([127, 0, 10, 10], 'bbox_no_area'),  # clipped to x1 = x2 = 127
    ([200, 10, 10, 10], 'bbox_no_area'),  # entirely right of the image
    ([math.nan, 0, 10, 10], 'bbox_invalid'),
    ([0, 0, math.inf, 10], 'bbox_invalid'),
    ([0, 0, 10], 'bbox_invalid'),
    (None, 'bbox_invalid'),
])
def test_bbox_rules(bbox, rule):
    found = check_bbox(bbox, SIZE)
    assert [r for r, _ in found] == ([rule] if rule else [])


def test_whole_file_rules_and_ids():
    images = [dict(id=1, file_name='a.jpg', width=128, height=128),
              dict(id=2, file_name='b.jpg', width=128, height=128),
              dict(id=2, file_name='c.jpg', width=128, height=128),
              dict(id=3, file_name='d.jpg', width=0, height=128)]
    good = dict(bbox=[0, 0, 10, 10], keypoints=hand())
    anns = [dict(id=10, image_id=1, **good),
            dict(id=11, image_id=1, **good),
            dict(id=11, image_id=2, **good),
            dict(id=12, image_id=99, **good),
            dict(image_id=1, **good)]
    problems = check_coco_annotations(dict(images=images, annotations=anns),
                                      K)
    assert [(p.rule, p.ann_id, p.fatal) for p in problems] == [
        ('bad_image_size', None, True),
        ('duplicate_image_id', None, True),
        ('image_not_found', 12, False),
        ('missing_id', None, True),
        ('duplicate_annotation_id', 11, False),
    ]
    assert problems[1].detail == ("image id 2 is used by 2 image entries "
                                  "(file names 'b.jpg', 'c.jpg')")
    assert problems[4].detail == ('annotation id 11 is used by 2 annotations '
                                  '(image ids 1, 2)')
    assert check_coco_annotations([], K)[0].rule == 'not_coco'


def test_format_lists_ten_ids_and_the_count():
    problems = [AnnotationProblem('bbox_invalid', i, f'annotation id {i}')
                for i in range(12)]
    text = format_problems(problems)
    assert text.startswith('  - annotations whose bbox is not 4 finite '
                           'numbers [x, y, w, h] (12): annotation id 0; ')
    assert 'annotation id 9; ... and 2 more' in text
    assert 'annotation id 10' not in text


# ------------------------------------------------------ through the dataset
def test_nan_keypoint_names_file_and_id(tiny_hands, raw, tmp_path):
    ann = raw['annotations'][3]
    set_keypoint(ann['keypoints'], labelled(ann), math.nan, 10.0, 2)
    path = write(raw, tmp_path / 'nan.json')
    with pytest.raises(ValueError) as err:
        build(tiny_hands, path)
    msg = str(err.value)
    assert msg.startswith(f'SyntheticHandDataset: invalid annotations in '
                          f'{path}:\n  - annotations with a non-finite '
                          'keypoint value (NaN or inf) (1): annotation id '
                          f'{ann["id"]} (image id {ann["image_id"]}): '
                          f'keypoint {labelled(ann)} is [nan, 10, 2]\n')
    assert 'skip_invalid_annotations=True' in msg


def test_far_keypoint_fails_but_far_unlabelled_loads(tiny_hands, raw,
                                                     tmp_path):
    ann = raw['annotations'][5]
    k = labelled(ann)
    set_keypoint(ann['keypoints'], k, 1e30, 10.0, 2)
    with pytest.raises(ValueError) as err:
        build(tiny_hands, write(raw, tmp_path / 'far.json'))
    assert (f'annotation id {ann["id"]} (image id {ann["image_id"]}): '
            f'labelled keypoint {k} is [1e+30, 10, 2] in a 128x128 image'
            ) in str(err.value)
    set_keypoint(ann['keypoints'], k, 1e30, 10.0, 0)
    assert len(build(tiny_hands, write(raw, tmp_path / 'far_v0.json'))) == 16


def test_zero_keypoints_and_slightly_outside_load(tiny_hands, raw, tmp_path):
    ann = raw['annotations'][0]
    set_keypoint(ann['keypoints'], 0, 0, 0, 0)  # OneHand10K: unlabelled
    set_keypoint(ann['keypoints'], labelled(ann), -6.5, 131.0, 2)
    ds = build(tiny_hands, write(raw, tmp_path / 'ok.json'))
    assert len(ds) == 16


@pytest.mark.parametrize('bbox, rule', [
    ([10, 10, 0, 20], 'bbox has no area inside the image'),
    ([math.nan, 10, 20, 20], 'bbox is not 4 finite numbers'),
])
def test_bad_boxes(tiny_hands, raw, tmp_path, bbox, rule):
    ann = raw['annotations'][2]
    ann['bbox'] = bbox
    path = write(raw, tmp_path / 'box.json')
    with pytest.raises(ValueError) as err:
        build(tiny_hands, path)
    msg = str(err.value)
    assert path in msg and rule in msg
    assert f'annotation id {ann["id"]} (image id {ann["image_id"]}): ' \
           'has bbox' in msg


def test_duplicate_image_ids_stay_fatal(tiny_hands, raw, tmp_path):
    first, second = raw['images'][1], raw['images'][4]
    second['id'] = first['id']
    path = write(raw, tmp_path / 'dup_img.json')
    for skip in (False, True):
        with pytest.raises(ValueError) as err:
            build(tiny_hands, path, skip_invalid_annotations=skip)
        msg = str(err.value)
        assert path in msg
        assert (f'image id {first["id"]} is used by 2 image entries (file '
                f'names {first["file_name"]!r}, {second["file_name"]!r})'
                ) in msg
        assert 'cannot be skipped' in msg


def test_duplicate_annotation_ids(tiny_hands, raw, tmp_path, warnings):
    a, b = raw['annotations'][1], raw['annotations'][6]
    b['id'] = a['id']
    path = write(raw, tmp_path / 'dup_ann.json')
    with pytest.raises(ValueError) as err:
        build(tiny_hands, path)
    assert (f'annotation id {a["id"]} is used by 2 annotations (image ids '
            f'{a["image_id"]}, {b["image_id"]})') in str(err.value)
    assert path in str(err.value)
    ds = build(tiny_hands, path, skip_invalid_annotations=True)
    assert len(ds) == 14  # both annotations sharing the id are dropped
    assert a['id'] not in {ds.get_data_info(i)['id'] for i in range(14)}
    [(msg, kwargs)] = warnings
    assert msg.startswith('SyntheticHandDataset: skipping 2 of 16 '
                          f'annotations in {path}')
    assert kwargs == dict(logger='current', level=logging.WARNING)


def test_annotation_without_image(tiny_hands, raw, tmp_path, warnings):
    ann = raw['annotations'][7]
    ann['image_id'] = 999
    path = write(raw, tmp_path / 'orphan.json')
    with pytest.raises(ValueError) as err:
        build(tiny_hands, path)
    assert (f'annotation id {ann["id"]} refers to image id 999, which has '
            'no entry in "images"') in str(err.value)
    assert len(build(tiny_hands, path, skip_invalid_annotations=True)) == 15
    assert 'skipping 1 of 16 annotations' in warnings[0][0]


def test_skip_gives_count_and_ids(tiny_hands, raw, tmp_path, warnings):
    bad = raw['annotations'][:12]
    for ann in bad:
        set_keypoint(ann['keypoints'], labelled(ann), math.inf, 1.0, 2)
    raw['annotations'][13]['bbox'] = [0, 0, 0, 0]
    path = write(raw, tmp_path / 'many.json')
    with pytest.raises(ValueError) as err:
        build(tiny_hands, path)
    msg = str(err.value)
    assert 'non-finite keypoint value (NaN or inf) (12): ' in msg
    assert '; ... and 2 more' in msg
    ds = build(tiny_hands, path, skip_invalid_annotations=True)
    assert len(ds) == 3
    [(log, _)] = warnings
    assert log.startswith(f'SyntheticHandDataset: skipping 13 of 16 '
                          f'annotations in {path} '
                          '(skip_invalid_annotations=True):\n')
    assert '(NaN or inf) (12): ' in log and 'no area' in log


def test_empty_dataset_names_the_file(tiny_hands, raw, tmp_path):
    for ann in raw['annotations']:
        ann['keypoints'] = [0] * (3 * K)  # nothing labelled: MMPose drops
    path = write(raw, tmp_path / 'empty.json')
    with pytest.raises(ValueError) as err:
        build(tiny_hands, path)
    msg = str(err.value)
    assert msg.startswith(f'SyntheticHandDataset: no usable annotation in '
                          f"{path} (data_mode='topdown'). The file has 16 "
                          'images and 16 annotations. MMPose keeps')


def test_empty_after_skipping_says_so(tiny_hands, raw, tmp_path, warnings):
    for ann in raw['annotations']:
        ann['bbox'] = [math.nan] * 4
    path = write(raw, tmp_path / 'all_bad.json')
    with pytest.raises(ValueError, match='16 of them skipped as invalid'):
        build(tiny_hands, path, skip_invalid_annotations=True)


def test_missing_images_reported_at_load(tiny_hands, tmp_path):
    root = str(tmp_path / 'copy')
    shutil.copytree(tiny_hands, root)
    raw = read_train(root)
    gone = [osp.join(root, 'images', raw['images'][i]['file_name'])
            for i in (2, 9)]
    for path in gone:
        os.remove(path)
    with pytest.raises(FileNotFoundError) as err:
        build(root, TRAIN)
    msg = str(err.value)
    assert msg.startswith(
        f'SyntheticHandDataset: 2 of 16 image files that '
        f'{osp.join(root, TRAIN)} refers to are missing: '
        f'{gone[0]}, {gone[1]} (images are read from data_prefix ')
    assert 'tools/generate_synthetic_hands.py' in msg


def test_real_annotation_files_pass(realdata, warnings):
    for path in sorted(glob.glob(osp.join(realdata, '*', '*.json'))):
        with open(path) as f:
            coco = json.load(f)
        if isinstance(coco['annotations'][0]['keypoints'][0], list):
            continue  # RHD's nested keypoints: not this reader's format
        assert check_coco_annotations(coco, K) == [], path
    cfg = dict(type='NSRMOneHand10KDataset',
               data_root=osp.join(realdata, 'onehand10k'),
               ann_file='test_onehand10k.json', data_prefix=dict(img=''),
               pipeline=[], test_mode=True)
    assert len(DATASETS.build(cfg)) == 4
    assert warnings == []


# ------------------------------------------------------- through training
def nan_copy(tiny_hands, tmp_path):
    root = str(tmp_path / 'data')
    shutil.copytree(tiny_hands, root)
    raw = read_train(root)
    ann = raw['annotations'][3]
    set_keypoint(ann['keypoints'], labelled(ann), math.nan, 10.0, 2)
    write(raw, osp.join(root, TRAIN))
    return root, ann


@pytest.mark.slow
def test_training_on_a_nan_annotation_fails_fast(tiny_hands, tmp_path):
    root, ann = nan_copy(tiny_hands, tmp_path)
    work_dir = str(tmp_path / 'work')
    proc = run_tool(['tools/train.py', BASELINE, '--work-dir', work_dir,
                     '--cfg-options', *TINY_OPTIONS, *data_options(root),
                     'train_cfg.max_epochs=1'], check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert (f'ValueError: SyntheticHandDataset: invalid annotations in '
            f'{osp.join(root, TRAIN)}') in out
    assert f'annotation id {ann["id"]} (image id {ann["image_id"]})' in out
    assert 'loss: nan' not in out
    assert not glob.glob(osp.join(work_dir, '*.pth'))


@pytest.mark.slow
def test_training_skips_the_nan_annotation_when_asked(tiny_hands, tmp_path):
    root, _ = nan_copy(tiny_hands, tmp_path)
    work_dir = str(tmp_path / 'work')
    proc = run_tool(['tools/train.py', BASELINE, '--work-dir', work_dir,
                     '--cfg-options', *TINY_OPTIONS, *data_options(root),
                     'train_cfg.max_epochs=1',
                     'train_dataloader.dataset.skip_invalid_annotations=True'])
    out = proc.stdout + proc.stderr
    assert 'WARNING' in out
    assert 'skipping 1 of 16 annotations' in out
    assert 'loss: nan' not in out
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))
