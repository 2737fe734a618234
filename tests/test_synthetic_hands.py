"""Tests of the synthetic hand generator (projects/nsrm/synthetic_hands.py)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from projects.nsrm.synthetic_hands import (KEYPOINT_NAMES, LIMBS,
                                           ensure_synthetic_hands,
                                           generate_synthetic_hands,
                                           keypoint_pixels, make_annotation,
                                           mask_to_polygons, polygon_area,
                                           render_hand)

REPO_ROOT = Path(__file__).resolve().parents[1]
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


@pytest.fixture(scope='module')
def samples():
    """50 rendered hands (128 px) with their annotations."""
    out = []
    for i in range(50):
        s = render_hand(np.random.default_rng([11, 0, i]), 128)
        out.append((s, make_annotation(s, i + 1, i + 1)))
    return out


# ----------------------------------------------------------- determinism --
def test_same_seed_identical_whatever_workers(dataset, tmp_path):
    generate_synthetic_hands(tmp_path, seed=3, workers=2, **SMALL)
    for split in ('train', 'val'):
        assert _ann_bytes(dataset, split) == _ann_bytes(tmp_path, split)
    names = [im['file_name'] for im in _load(dataset)['images']]
    names += [im['file_name'] for im in _load(dataset, 'val')['images']]
    assert len(names) == 16
    assert _image_bytes(dataset, names) == _image_bytes(tmp_path, names)


def test_different_seed_differs(dataset, tmp_path):
    generate_synthetic_hands(tmp_path, seed=4, workers=1, **SMALL)
    assert _ann_bytes(dataset) != _ann_bytes(tmp_path)
    names = ['train/000000.jpg', 'train/000001.jpg', 'val/000000.jpg']
    for a, b in zip(_image_bytes(dataset, names),
                    _image_bytes(tmp_path, names)):
        assert a != b


def test_render_hand_is_deterministic():
    a = render_hand(np.random.default_rng([7, 1, 5]), 96)
    b = render_hand(np.random.default_rng([7, 1, 5]), 96)
    c = render_hand(np.random.default_rng([7, 1, 6]), 96)
    assert np.array_equal(a['image'], b['image'])
    assert np.array_equal(a['keypoints'], b['keypoints'])
    assert not np.array_equal(a['image'], c['image'])


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
    assert [list(limb) for limb in LIMBS] == expected
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
    coco = COCO(str(dataset / 'annotations' /
                             'synthetic_hands_train.json'))
    anns = coco.loadAnns(coco.getAnnIds())
    assert len(anns) == 12
    for ann in anns:
        pixels = coco.annToMask(ann).sum()
        assert abs(pixels - ann['area']) <= 0.15 * ann['area']


# --------------------------------------------------------------- render --
def test_render_outputs(samples):
    s, _ = samples[0]
    assert s['image'].shape == (128, 128, 3) and s['image'].dtype == np.uint8
    assert s['keypoints'].shape == (21, 2)
    assert s['keypoints'].dtype == np.float32
    assert s['visible'].shape == (21, ) and s['visible'].dtype == bool
    assert s['hand_mask'].shape == (128, 128) and s['hand_mask'].dtype == bool


def test_occlusion_happens_but_most_points_visible(samples):
    n_vis = np.array([s['visible'].sum() for s, _ in samples])
    n_occluded = sum(int((s['visible'] == 0).sum()) for s, _ in samples)
    assert n_occluded > 0
    assert (n_vis < 21).sum() >= 3  # several images have hidden points
    assert (n_vis >= 15).mean() >= 0.7
    assert any(s['occluder_mask'].any() for s, _ in samples)
    assert any(not s['occluder_mask'].any() for s, _ in samples)


def test_visibility_matches_masks(samples):
    for s, ann in samples:
        pix = keypoint_pixels(s['keypoints'])
        inside = np.all((pix >= 0) & (pix < 128), axis=1)
        on_hand = np.zeros(21, bool)
        on_hand[inside] = s['hand_mask'][pix[inside, 1], pix[inside, 0]]
        assert np.array_equal(s['visible'], on_hand)
        under = np.zeros(21, bool)
        under[inside] = s['occluder_mask'][pix[inside, 1], pix[inside, 0]]
        assert not np.any(s['visible'] & under)
        assert not np.any(s['hand_mask'] & s['occluder_mask'])
        # every hidden in-frame point is hidden by an occluder
        assert np.array_equal(~s['visible'] & inside, under)
        kps = np.reshape(ann['keypoints'], (-1, 3))
        assert np.array_equal(kps[:, 2] == 2, s['visible'])


def test_visible_keypoints_show_skin(samples):
    near, far = [], []
    for s, _ in samples:
        pix = keypoint_pixels(s['keypoints'])
        inside = np.all((pix >= 0) & (pix < 128), axis=1)
        dist = np.linalg.norm(
            s['image'][pix[inside, 1], pix[inside, 0]].astype(float) -
            s['skin_bgr'], axis=1)
        near += dist[s['visible'][inside]].tolist()
        far += dist[~s['visible'][inside]].tolist()
    assert np.mean(np.array(near) < 60) >= 0.85
    assert len(far) > 0 and np.median(far) > 2 * np.median(near)


def test_limbs_lie_on_the_drawn_hand(samples):
    """Limb midpoints are on palm/finger pixels (before occlusion)."""
    for s, _ in samples:
        kps = s['keypoints']
        for a, b in LIMBS:
            mid = keypoint_pixels((kps[a] + kps[b]) / 2)
            if np.all((mid >= 0) & (mid < 128)):
                assert s['part_map'][mid[1], mid[0]] >= 2, (a, b)


def test_hand_geometry_is_plausible(samples):
    for s, _ in samples:
        kps = s['keypoints']
        palm = np.linalg.norm(kps[9] - kps[0])
        assert palm > 5  # at least ~5 px at 128 px images
        for a, b in LIMBS:
            assert np.linalg.norm(kps[b] - kps[a]) < 1.2 * palm
        assert np.linalg.norm(kps[5] - kps[17]) < 1.2 * palm


def test_polygons_rasterise_to_mask(samples):
    for s, ann in samples[:20]:
        raster = np.zeros((128, 128), np.uint8)
        pts = [np.round((np.reshape(p, (-1, 1, 2)) - 0.5) * 16).astype(
            np.int32) for p in ann['segmentation']]
        cv2.fillPoly(raster, pts, 1, cv2.LINE_8, 4)
        mask, got = s['hand_mask'], raster.astype(bool)
        assert (mask & got).sum() / (mask | got).sum() > 0.9


def test_mask_with_hole_gives_matching_polygon_area():
    mask = np.zeros((80, 80), bool)
    cv2.circle(mask.view(np.uint8), (40, 40), 30, 1, -1)
    cv2.circle(mask.view(np.uint8), (40, 40), 15, 0, -1)
    polys = mask_to_polygons(mask)
    area = sum(polygon_area(p) for p in polys)
    assert abs(area - mask.sum()) < 0.03 * mask.sum()
    assert mask_to_polygons(np.zeros((8, 8), bool)) == []


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


def test_render_hand_argument_errors():
    with pytest.raises(ValueError, match='img_size'):
        render_hand(np.random.default_rng(0), 63)
    with pytest.raises(ValueError, match='rng'):
        render_hand(0, 128)


# -------------------------------------------------------------------- cli --
def test_cli(tmp_path):
    cmd = [sys.executable, 'tools/generate_synthetic_hands.py', '--out-dir',
           str(tmp_path), '--num-train', '2', '--num-val', '1',
           '--img-size', '64', '--workers', '1']
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    run = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert 'wrote 2 train + 1 val' in run.stdout and ' s' in run.stdout
    assert len(_load(tmp_path, 'val')['annotations']) == 1
    bad = subprocess.run(cmd[:-1] + ['0'], cwd=REPO_ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and 'workers' in bad.stderr
