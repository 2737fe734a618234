"""Tests of projects/synthetic_hands/generate.py (data set on disk)."""
import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from projects.synthetic_hands import (KEYPOINT_NAMES, ensure_synthetic_hands,
                                      generate_synthetic_hands, polygon_area)
from projects.synthetic_hands.generate import _run_workers, _worker_env

REPO_ROOT = Path(__file__).resolve().parents[2]
SMALL = dict(num_train=12, num_val=4, img_size=128)


def _ann_bytes(root, split='train'):
    return (Path(root) / 'annotations' /
            f'synthetic_hands_{split}.json').read_bytes()


def _load(root, split='train'):
    return json.loads(_ann_bytes(root, split))


def _image_bytes(root, names):
    return [(Path(root) / 'images' / n).read_bytes() for n in names]


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    """Seed-3 data set generated in-process (workers=1)."""
    root = tmp_path_factory.mktemp('synth_a')
    generate_synthetic_hands(root, seed=3, workers=1, **SMALL)
    return root


# ----------------------------------------------------------- determinism --
@pytest.mark.slow
def test_same_seed_identical_whatever_workers(dataset, tmp_path):
    generate_synthetic_hands(tmp_path, seed=3, workers=2, **SMALL)
    for split in ('train', 'val'):
        assert _ann_bytes(dataset, split) == _ann_bytes(tmp_path, split)
    names = [im['file_name'] for im in _load(dataset)['images']]
    names += [im['file_name'] for im in _load(dataset, 'val')['images']]
    assert len(names) == 16
    assert _image_bytes(dataset, names) == _image_bytes(tmp_path, names)
    assert json.loads((tmp_path / 'meta.json').read_text())['workers'] == 2


def test_different_seed_differs(dataset, tmp_path):
    generate_synthetic_hands(tmp_path, seed=4, workers=1, **SMALL)
    assert _ann_bytes(dataset) != _ann_bytes(tmp_path)
    names = ['train/000000.jpg', 'train/000001.jpg', 'val/000000.jpg']
    for a, b in zip(_image_bytes(dataset, names),
                    _image_bytes(tmp_path, names)):
        assert a != b


# -------------------------------------------------------------- json file --
def test_categories(dataset):
    (cat, ) = _load(dataset)['categories']
    assert cat['id'] == 1 and cat['name'] == 'hand'
    assert cat['keypoints'] == KEYPOINT_NAMES and len(set(
        cat['keypoints'])) == 21
    expected = [[0, 1], [1, 2], [2, 3], [3, 4], [0, 5], [5, 6], [6, 7],
                [7, 8], [0, 9], [9, 10], [10, 11], [11, 12], [0, 13],
                [13, 14], [14, 15], [15, 16], [0, 17], [17, 18], [18, 19],
                [19, 20]]
    assert cat['skeleton'] == [[a + 1, b + 1] for a, b in expected]


def test_annotation_keypoints(dataset):
    coco = _load(dataset)
    assert len(coco['images']) == 12 and len(coco['annotations']) == 12
    image_ids = {im['id'] for im in coco['images']}
    # the checks on hidden points below must not be vacuous
    assert any(a['num_keypoints'] < 21 for a in coco['annotations'])
    for ann in coco['annotations']:
        assert ann['image_id'] in image_ids
        assert ann['category_id'] == 1 and ann['iscrowd'] == 0
        kps = np.array(ann['keypoints'], dtype=float).reshape(-1, 3)
        full = np.array(ann['keypoints_full'], dtype=float).reshape(-1, 3)
        assert len(ann['keypoints']) == 63 and kps.shape == full.shape
        assert set(kps[:, 2]) <= {0, 2} and set(full[:, 2]) <= {1, 2}
        vis = kps[:, 2] > 0
        assert ann['num_keypoints'] == int(vis.sum())
        assert np.array_equal(vis, full[:, 2] == 2)
        assert np.all(kps[~vis] == 0)
        assert np.array_equal(kps[vis], full[vis])
        x, y, w, h = ann['bbox']
        assert w > 0 and h > 0
        assert np.all(kps[vis, 0] >= x - 1e-3)
        assert np.all(kps[vis, 0] <= x + w + 1e-3)
        assert np.all(kps[vis, 1] >= y - 1e-3)
        assert np.all(kps[vis, 1] <= y + h + 1e-3)
        seg = np.concatenate([np.reshape(p, (-1, 2))
                              for p in ann['segmentation']])
        assert seg[:, 0].min() >= x - 0.5 and seg[:, 0].max() <= x + w + .5
        assert seg[:, 1].min() >= y - 0.5 and seg[:, 1].max() <= y + h + .5


def test_images_exist_with_stated_size(dataset):
    for split in ('train', 'val'):
        coco = _load(dataset, split)
        for im in coco['images']:
            assert im['file_name'].startswith(split + '/')
            img = cv2.imread(str(dataset / 'images' / im['file_name']))
            assert img is not None
            assert img.shape == (im['height'], im['width'], 3)
            assert im['width'] == im['height'] == 128
    meta = json.loads((dataset / 'meta.json').read_text())
    assert (meta['seed'], meta['num_train'], meta['num_val'],
            meta['img_size']) == (3, 12, 4, 128)


def test_segmentation_area_matches(dataset):
    for ann in _load(dataset)['annotations']:
        assert ann['area'] > 0
        assert all(len(p) >= 6 and len(p) % 2 == 0
                   for p in ann['segmentation'])
        poly_area = sum(polygon_area(p) for p in ann['segmentation'])
        assert abs(poly_area - ann['area']) <= 0.15 * ann['area']


def test_xtcocotools_reads_annotations(dataset):
    from xtcocotools.coco import COCO
    coco = COCO(str(dataset / 'annotations' / 'synthetic_hands_train.json'))
    anns = coco.loadAnns(coco.getAnnIds())
    assert len(anns) == 12
    for ann in anns:
        pixels = coco.annToMask(ann).sum()
        assert abs(pixels - ann['area']) <= 0.15 * ann['area']


# ----------------------------------------------------------------- ensure --
def _mtimes(root):
    files = [root / 'meta.json', root / 'annotations' /
             'synthetic_hands_train.json', root / 'images' / 'train' /
             '000000.jpg']
    return [os.stat(f).st_mtime_ns for f in files]


def test_ensure_reuses_and_regenerates(tmp_path, capsys):
    kw = dict(num_train=3, num_val=2, img_size=64, seed=1, workers=1)
    res = ensure_synthetic_hands(tmp_path, **kw)
    assert res['generated'] and 'generating' in capsys.readouterr().out
    old = 1_000_000_000
    for f in tmp_path.rglob('*'):
        if f.is_file():
            os.utime(f, (old, old))
    before = _mtimes(tmp_path)
    res = ensure_synthetic_hands(tmp_path, **kw)
    assert not res['generated'] and 'reusing' in capsys.readouterr().out
    assert _mtimes(tmp_path) == before
    assert res['ann_files']['train'].endswith('synthetic_hands_train.json')

    (tmp_path / 'meta.json').unlink()  # incomplete data set
    assert ensure_synthetic_hands(tmp_path, **kw)['generated']
    assert all(a != b for a, b in zip(_mtimes(tmp_path), before))

    kw['num_train'] = 2  # different settings: regenerate, drop stale files
    assert ensure_synthetic_hands(tmp_path, **kw)['generated']
    assert len(_load(tmp_path)['images']) == 2
    assert sorted(p.name for p in (tmp_path / 'images' / 'train').iterdir()
                  ) == ['000000.jpg', '000001.jpg']


def test_ensure_rejects_unknown_argument(tmp_path):
    with pytest.raises(ValueError, match='unknown argument.*num_images'):
        ensure_synthetic_hands(tmp_path, num_images=3)


# ----------------------------------------------------------------- errors --
@pytest.mark.parametrize('kwargs, name', [
    (dict(num_train=-1), 'num_train'),
    (dict(num_val=-5), 'num_val'),
    (dict(num_train=1.5), 'num_train'),
    (dict(img_size=32), 'img_size'),
    (dict(seed=-1), 'seed'),
    (dict(workers=0), 'workers'),
])
def test_argument_errors(tmp_path, kwargs, name):
    args = dict(num_train=1, num_val=1, img_size=64, workers=1)
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        generate_synthetic_hands(tmp_path, **args)
    with pytest.raises(ValueError, match=name):
        ensure_synthetic_hands(tmp_path, **args)
    assert not (tmp_path / 'meta.json').exists()


# ---------------------------------------------------------------- workers --
def test_worker_env_makes_the_package_importable(monkeypatch):
    monkeypatch.setenv('PYTHONPATH', 'elsewhere')
    env = _worker_env()
    assert env['PYTHONPATH'].split(os.pathsep) == [str(REPO_ROOT),
                                                   'elsewhere']
    assert env['OMP_NUM_THREADS'] == env['OPENBLAS_NUM_THREADS'] == '1'
    assert env['MKL_NUM_THREADS'] == '1'
    monkeypatch.delenv('PYTHONPATH')
    assert _worker_env()['PYTHONPATH'] == str(REPO_ROOT)


def test_failing_worker_raises_with_its_message(tmp_path):
    jobs = [dict(out_dir=str(tmp_path / 'missing'), split='train',
                 split_id=0, seed=0, img_size=64, labelling='onehand10k',
                 occlusion='default', start=w, stop=2, step=2,
                 result=str(tmp_path / f'{w}.pkl')) for w in range(2)]
    with pytest.raises(RuntimeError) as info:
        _run_workers(jobs)
    msg = str(info.value)
    assert '2 of 2 synthetic hand workers failed' in msg
    assert 'workers=1' in msg
    assert 'could not write' in msg and '000001.jpg' in msg
