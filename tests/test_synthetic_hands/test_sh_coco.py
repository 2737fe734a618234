"""Tests of projects/synthetic_hands/coco.py."""
import json

import cv2
import numpy as np
import pytest

from projects.synthetic_hands import (KEYPOINT_NAMES, categories,
                                      make_annotation, mask_to_polygons,
                                      polygon_area, render_hand)
from projects.synthetic_hands.coco import write_json


@pytest.fixture(scope='module')
def samples():
    """20 rendered hands (128 px) with their annotations."""
    out = []
    for i in range(20):
        s = render_hand(np.random.default_rng([11, 0, i]), 128)
        out.append((s, make_annotation(s, i + 1, i + 1)))
    return out


def _sample(keypoints, visible, mask):
    """The fields of a render_hand() result that make_annotation reads."""
    return dict(keypoints=np.asarray(keypoints, np.float32),
                visible=np.asarray(visible, bool), hand_mask=mask)


def test_polygon_area_by_hand():
    assert polygon_area([0, 0, 1, 0, 1, 1, 0, 1]) == 1.0
    assert polygon_area([0, 0, 4, 0, 0, 3]) == 6.0
    assert polygon_area([0, 0, 0, 3, 4, 0]) == 6.0  # orientation free


def test_mask_to_polygons_pixel_edge_convention():
    mask = np.zeros((30, 40), bool)
    mask[5:17, 10:30] = True  # pixels cover x in [10, 30), y in [5, 17)
    mask[20:25, 2:6] = True
    polys = mask_to_polygons(mask)
    assert len(polys) == 2
    big = max(polys, key=polygon_area)
    pts = np.reshape(big, (-1, 2))
    np.testing.assert_allclose(pts.min(0), [10, 5], atol=0.5)
    np.testing.assert_allclose(pts.max(0), [30, 17], atol=0.5)
    assert abs(polygon_area(big) - 240) <= 0.1 * 240


def test_mask_with_hole_gives_matching_polygon_area():
    mask = np.zeros((80, 80), bool)
    cv2.circle(mask.view(np.uint8), (40, 40), 30, 1, -1)
    cv2.circle(mask.view(np.uint8), (40, 40), 15, 0, -1)
    polys = mask_to_polygons(mask)
    area = sum(polygon_area(p) for p in polys)
    assert abs(area - mask.sum()) < 0.03 * mask.sum()
    assert mask_to_polygons(np.zeros((8, 8), bool)) == []


def test_polygons_rasterise_to_mask(samples):
    for s, ann in samples:
        raster = np.zeros((128, 128), np.uint8)
        pts = [np.round((np.reshape(p, (-1, 1, 2)) - 0.5) * 16).astype(
            np.int32) for p in ann['segmentation']]
        cv2.fillPoly(raster, pts, 1, cv2.LINE_8, 4)
        mask, got = s['hand_mask'], raster.astype(bool)
        assert (mask & got).sum() / (mask | got).sum() > 0.9


def test_make_annotation_by_hand():
    kps = np.full((21, 2), [4.0, 3.0])
    kps[0] = [50.0, 50.0]  # hidden: must not widen the box
    kps[20] = [10.5, 1.25]
    visible = np.ones(21, bool)
    visible[[0, 1, 2]] = False
    mask = np.zeros((12, 12), bool)
    mask[2:6, 3:8] = True  # pixel edges: x in [3, 8), y in [2, 6)
    ann = make_annotation(_sample(kps, visible, mask), 7, 9)
    assert (ann['id'], ann['image_id'], ann['category_id'],
            ann['iscrowd']) == (9, 7, 1, 0)
    assert ann['keypoints'][:9] == [0] * 9
    assert ann['keypoints_full'][:9] == [50.0, 50.0, 1, 4.0, 3.0, 1,
                                         4.0, 3.0, 1]
    assert ann['keypoints'][9:12] == [4.0, 3.0, 2]
    assert ann['keypoints_full'][9:12] == [4.0, 3.0, 2]
    assert ann['keypoints'][-3:] == [10.5, 1.25, 2]
    assert ann['num_keypoints'] == 18
    assert ann['bbox'] == [3.0, 1.25, 7.5, 4.75]
    assert ann['area'] == 20
    # the traced outline runs up to 1/4 px inside the pixel edges
    seg_area = sum(polygon_area(p) for p in ann['segmentation'])
    assert 0.75 * 20 <= seg_area <= 20


def test_make_annotation_nothing_visible_boxes_true_keypoints():
    kps = np.zeros((21, 2))
    kps[:, 0] = np.arange(21) - 5.0
    kps[:, 1] = 2.0
    kps[3, 1] = -1.5
    ann = make_annotation(
        _sample(kps, np.zeros(21, bool), np.zeros((8, 8), bool)), 1, 1)
    assert ann['keypoints'] == [0] * 63 and ann['num_keypoints'] == 0
    assert ann['bbox'] == [-5.0, -1.5, 20.0, 3.5]
    assert ann['area'] == 0 and ann['segmentation'] == []


def test_categories():
    (cat, ) = categories()
    assert cat['id'] == 1 and cat['name'] == 'hand'
    assert cat['keypoints'] == KEYPOINT_NAMES
    assert cat['skeleton'][:5] == [[1, 2], [2, 3], [3, 4], [4, 5], [1, 6]]
    assert len(cat['skeleton']) == 20


def test_write_json_sorted_compact(tmp_path):
    path = tmp_path / 'a.json'
    write_json(str(path), {'b': [1, 2], 'a': {'d': 1, 'c': 0}})
    assert path.read_text() == '{"a":{"c":0,"d":1},"b":[1,2]}'
    assert json.loads(path.read_text())['b'] == [1, 2]
    assert [p.name for p in tmp_path.iterdir()] == ['a.json']
