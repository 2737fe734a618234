"""The CMU Panoptic hand143 converter: split rule, entry rules, files."""
import json
import math
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

from projects.nsrm.datasets.converters import panoptic_hand143 as conv
from projects.nsrm.structures import HAND_LIMBS
from projects.nsrm.testing import REPO, write_raw_panoptic_hand143

SPLIT_NAMES = ('train', 'val', 'test')


def load(path):
    with open(path) as f:
        return json.load(f)


def convert(root, out, **kwargs):
    lines = []
    summary = conv.convert_panoptic_hand143(
        str(root), str(out), log=lines.append, progress=False, **kwargs)
    return summary, lines


@pytest.fixture(scope='module')
def raw(tmp_path_factory):
    """20 raw entries (every third with two unlabelled fingertips)."""
    return write_raw_panoptic_hand143(str(tmp_path_factory.mktemp('raw')))


@pytest.fixture(scope='module')
def converted(raw, tmp_path_factory):
    out = tmp_path_factory.mktemp('out')
    summary, lines = convert(raw, out)
    return dict(out=str(out), summary=summary, lines=lines,
                files={k: load(p) for k, p in summary['paths'].items()},
                raw=load(osp.join(raw, conv.RAW_JSON))['root'])


def test_split_counts_give_the_paper_numbers_for_the_full_release():
    assert conv.split_counts(14817) == dict(train=11853, val=1482, test=1482)
    # n / 10 rounded, halves up
    assert conv.split_counts(5) == dict(train=3, val=1, test=1)
    assert conv.split_counts(14) == dict(train=12, val=1, test=1)
    assert conv.split_counts(15) == dict(train=11, val=2, test=2)
    assert conv.split_counts(0) == dict(train=0, val=0, test=0)
    with pytest.raises(ValueError, match='n must be >= 0, got -1'):
        conv.split_counts(-1)


def test_split_indices_follow_the_documented_permutation():
    parts = conv.split_indices(14817, seed=0)
    assert [len(parts[s]) for s in SPLIT_NAMES] == [11853, 1482, 1482]
    perm = np.random.default_rng(0).permutation(14817)
    np.testing.assert_array_equal(parts['val'], np.sort(perm[:1482]))
    np.testing.assert_array_equal(parts['test'], np.sort(perm[1482:2964]))
    everything = np.concatenate([parts[s] for s in SPLIT_NAMES])
    np.testing.assert_array_equal(np.sort(everything), np.arange(14817))
    again = conv.split_indices(14817, seed=0)
    other = conv.split_indices(14817, seed=1)
    for split in SPLIT_NAMES:
        np.testing.assert_array_equal(parts[split], again[split])
    assert not np.array_equal(parts['val'], other['val'])


def test_tight_bbox_uses_only_the_valid_keypoints():
    joints = np.zeros((21, 3))
    joints[:, :2] = [[10 + k, 50 - 2 * k] for k in range(21)]
    joints[:, 2] = 1
    joints[[0, 20], 2] = 0  # the extreme points are unlabelled
    # valid: x 11..29, y 48..12
    np.testing.assert_allclose(conv.tight_bbox(joints), [11, 12, 18, 36])
    joints[2:, 2] = 0
    with pytest.raises(conv.MalformedEntry, match='^1 valid keypoint; at '):
        conv.tight_bbox(joints)
    joints[:, 2] = 1
    joints[:, 0] = 7.5
    with pytest.raises(conv.MalformedEntry,
                       match=r'zero area \(w=0, h=40\)'):
        conv.tight_bbox(joints)


@pytest.mark.parametrize('value, message', [
    ('/data/imgs/1.jpg', "'img_paths' '/data/imgs/1.jpg' is an absolute "
     "path; expected a path relative to the release folder "
     "(e.g. 'imgs/00000001.jpg')"),
    ('imgs/../../x.jpg', "'img_paths' 'imgs/../../x.jpg' has a '..' "
     'component; expected a path inside the release folder'),
    ('', "'img_paths' must be a non-empty path relative to the release "
     "folder, got ''"),
    (7, "'img_paths' must be a non-empty path relative to the release "
     'folder, got 7'),
])
def test_bad_img_paths_are_malformed(value, message):
    with pytest.raises(conv.MalformedEntry) as err:
        conv.check_img_path(value)
    assert str(err.value).startswith(message)


def test_joint_self_rules_name_the_keypoint():
    good = np.ones((21, 3))
    assert conv.parse_joints(good.tolist()).shape == (21, 3)
    with pytest.raises(conv.MalformedEntry,
                       match=r'must be 21 x \[x, y, valid\] numbers, got '
                       r'shape \(20, 3\)'):
        conv.parse_joints(good[:20].tolist())
    bad = good.copy()
    bad[4, 1] = math.inf
    with pytest.raises(conv.MalformedEntry,
                       match=r'keypoint 4 is \[1, inf, 1\]: not finite'):
        conv.parse_joints(bad.tolist())
    bad = good.copy()
    bad[7, 2] = 0.5
    with pytest.raises(conv.MalformedEntry,
                       match='keypoint 7 has valid flag 0.5; expected 0'):
        conv.parse_joints(bad.tolist())
    with pytest.raises(conv.MalformedEntry, match='not a numeric array'):
        conv.parse_joints([['a', 'b', 'c']] * 21)


def test_converted_files_hold_the_entries(converted):
    files, raw = converted['files'], converted['raw']
    assert converted['summary']['counts'] == dict(train=16, val=2, test=2)
    assert converted['summary']['skipped'] == []
    ids = {s: [img['id'] for img in files[s]['images']] for s in SPLIT_NAMES}
    assert sorted(sum(ids.values(), [])) == list(range(1, 21))
    for split in SPLIT_NAMES:
        coco = files[split]
        assert ids[split] == sorted(ids[split])  # root order
        assert [a['id'] for a in coco['annotations']] == ids[split]
        assert [a['image_id'] for a in coco['annotations']] == ids[split]
        for img in coco['images']:
            assert img['file_name'] == raw[img['id'] - 1]['img_paths']
            assert (img['width'], img['height']) == (160, 120)
        assert coco['categories'][0]['name'] == 'hand'
        assert coco['categories'][0]['skeleton'] == [
            [start + 1, end + 1] for start, end in HAND_LIMBS]
    record = files['split']
    assert record['seed'] == 0 and record['num_valid'] == 20
    assert record['counts'] == dict(train=16, val=2, test=2)
    for split in SPLIT_NAMES:
        assert record['splits'][split]['image_ids'] == ids[split]
        assert record['splits'][split]['file_names'] == [
            img['file_name'] for img in files[split]['images']]
    assert converted['lines'][0] == ('converted 20 of 20 entries (0 '
                                     'skipped); split (seed 0): train 16, '
                                     'val 2, test 2')


def test_unlabelled_keypoints_and_the_tight_box_of_entry_0(converted):
    joints = np.array(converted['raw'][0]['joint_self'])
    hidden = np.flatnonzero(joints[:, 2] == 0)
    assert len(hidden) == 2  # the helper hides two fingertips here
    ann = next(a for s in SPLIT_NAMES for a in converted['files'][s][
        'annotations'] if a['id'] == 1)
    kpts = np.array(ann['keypoints']).reshape(21, 3)
    np.testing.assert_array_equal(kpts[hidden], 0)
    shown = np.setdiff1d(np.arange(21), hidden)
    np.testing.assert_array_equal(kpts[shown, 2], 2)
    np.testing.assert_array_equal(kpts[shown, :2], joints[shown, :2])
    assert ann['num_keypoints'] == 19
    xs, ys = joints[shown, 0], joints[shown, 1]
    box = [xs.min(), ys.min(), xs.max() - xs.min(), ys.max() - ys.min()]
    np.testing.assert_allclose(ann['bbox'], box)
    assert ann['area'] == pytest.approx(box[2] * box[3])
    # the hidden tips lie outside that box: they were left out
    all_xy = joints[:, :2]
    assert (all_xy.min(0) < box[:2]).any() or (
        all_xy.max(0) > np.add(box[:2], box[2:])).any()


def test_same_seed_same_files_other_seed_other_split(raw, converted,
                                                     tmp_path):
    same, _ = convert(raw, tmp_path / 'same')
    other, _ = convert(raw, tmp_path / 'other', seed=1)
    for split in SPLIT_NAMES:
        assert load(same['paths'][split]) == converted['files'][split]
    assert load(same['paths']['split']) == converted['files']['split']
    assert other['counts'] == dict(train=16, val=2, test=2)
    assert load(other['paths']['split'])['splits'] != converted['files'][
        'split']['splits']


def broken_release(root):
    """8 good entries, then 12 broken ones (indices 8 to 19)."""
    write_raw_panoptic_hand143(root, num_images=8)
    path = osp.join(root, conv.RAW_JSON)
    entries = load(path)['root']
    good = entries[1]  # all 21 keypoints valid
    with open(osp.join(root, 'imgs', 'broken.jpg'), 'wb') as f:
        f.write(b'this is not a jpeg')

    def variant(**changes):
        entry = json.loads(json.dumps(good))
        entry.update(changes)
        return entry

    joints = good['joint_self']
    nan = [row[:] for row in joints]
    nan[3][0] = float('nan')
    one = [[x, y, 1 if k == 0 else 0] for k, (x, y, _) in enumerate(joints)]
    flag2 = [row[:] for row in joints]
    flag2[5][2] = 2
    far = [row[:] for row in joints]
    far[9][0] = 3 * 160
    entries += [
        variant(joint_self=joints[:20]),  # 8
        variant(joint_self=nan),  # 9
        variant(img_paths='imgs/missing.jpg'),  # 10
        variant(joint_self=one),  # 11
        variant(img_paths=osp.join(osp.abspath(root), 'imgs',
                                   '00000001.jpg')),  # 12
        variant(img_paths='../raw/imgs/00000001.jpg'),  # 13
        variant(img_paths='imgs/broken.jpg'),  # 14
        variant(),  # 15: repeats entry 1's image
        variant(joint_self=flag2),  # 16
        variant(joint_self=far),  # 17
        'imgs/00000001.jpg',  # 18
        {'img_paths': 'imgs/00000003.jpg'},  # 19
    ]
    with open(path, 'w') as f:
        json.dump(dict(root=entries), f)
    return root


def test_malformed_entries_are_skipped_and_reported(tmp_path):
    root = broken_release(str(tmp_path / 'raw'))
    summary, lines = convert(root, tmp_path / 'out')
    skipped = dict(summary['skipped'])
    assert sorted(skipped) == list(range(8, 20))
    img_dir = osp.join(root, 'imgs')
    assert skipped[8] == ("'joint_self' must be 21 x [x, y, valid] "
                          'numbers, got shape (20, 3)')
    y3 = load(osp.join(root, conv.RAW_JSON))['root'][1]['joint_self'][3][1]
    assert skipped[9] == f"'joint_self' keypoint 3 is [nan, {y3:g}, 1]: " \
        'not finite'
    assert skipped[10] == ('image file not found: '
                           f'{osp.join(root, "imgs/missing.jpg")}')
    assert skipped[11] == '1 valid keypoint; at least 2 are needed for a ' \
                          'tight box'
    assert 'is an absolute path' in skipped[12]
    assert "has a '..' component" in skipped[13]
    assert skipped[14].startswith('image file unreadable: '
                                  f'{osp.join(img_dir, "broken.jpg")} (')
    assert skipped[15] == "'img_paths' 'imgs/00000002.jpg' repeats entry 1"
    assert skipped[16].startswith("'joint_self' keypoint 5 has valid flag 2")
    assert skipped[17].startswith('valid keypoint 9 at (480, ')
    assert skipped[17].endswith('lies farther outside the 160x120 image '
                                'than the image size')
    assert skipped[18] == 'the entry is a str, not a dict'
    assert skipped[19] == "'joint_self' is missing"
    assert lines[:12] == [f'skipped entry {i}: {skipped[i]}'
                          for i in range(8, 20)]
    assert lines[12].startswith('converted 8 of 20 entries (12 skipped); '
                                'split (seed 0): train 6, val 1, test 1')
    record = load(summary['paths']['split'])
    assert record['num_entries'] == 20 and record['num_valid'] == 8
    assert [s['index'] for s in record['skipped']] == list(range(8, 20))


def test_existing_outputs_need_force(raw, tmp_path):
    first, _ = convert(raw, tmp_path)
    before = {p: open(p).read() for p in first['paths'].values()}
    with pytest.raises(FileExistsError) as err:
        convert(raw, tmp_path, seed=3)
    assert str(err.value) == (
        f'{first["paths"]["train"]} already exists (and 3 more output '
        'files); pass --force (force=True) to overwrite')
    assert {p: open(p).read() for p in before} == before
    convert(raw, tmp_path, seed=3, force=True)
    assert load(first['paths']['split'])['seed'] == 3


def test_a_failed_write_leaves_no_partial_file(raw, tmp_path, monkeypatch):
    real_dump, calls = conv._dump_to_temp, []

    def dump_then_fail(path, content):
        calls.append(path)
        if len(calls) == 2:
            raise OSError('disk full (simulated)')
        return real_dump(path, content)

    monkeypatch.setattr(conv, '_dump_to_temp', dump_then_fail)
    with pytest.raises(OSError, match='simulated'):
        convert(raw, tmp_path / 'new')
    assert os.listdir(tmp_path / 'new' / 'annotations') == []
    # with --force over an old conversion: the old files stay as they were
    monkeypatch.setattr(conv, '_dump_to_temp', real_dump)
    old, _ = convert(raw, tmp_path / 'old')
    before = {p: open(p).read() for p in old['paths'].values()}
    monkeypatch.setattr(conv, '_dump_to_temp', dump_then_fail)
    calls.clear()
    with pytest.raises(OSError, match='simulated'):
        convert(raw, tmp_path / 'old', seed=5, force=True)
    assert {p: open(p).read() for p in before} == before
    assert sorted(os.listdir(tmp_path / 'old' / 'annotations')) == sorted(
        osp.basename(p) for p in before)


def test_missing_or_bad_release_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        convert(tmp_path / 'nowhere', tmp_path / 'out')
    assert str(err.value).startswith(
        f'raw release folder not found: {tmp_path / "nowhere"}. Get '
        'hand143_panopticdb.tar')
    with pytest.raises(FileNotFoundError) as err:
        convert(tmp_path, tmp_path / 'out')
    msg = str(err.value)
    assert msg.startswith('raw annotation file not found: '
                          f'{tmp_path / conv.RAW_JSON}')
    assert 'http://domedb.perception.cs.cmu.edu/handdb.html' in msg
    with open(tmp_path / conv.RAW_JSON, 'w') as f:
        json.dump(dict(annotations=[]), f)
    with pytest.raises(ValueError,
                       match=r'has no "root" list \(found keys '
                       r"\['annotations'\]\)"):
        convert(tmp_path, tmp_path / 'out')
    with open(tmp_path / conv.RAW_JSON, 'w') as f:
        json.dump(dict(root=[{'img_paths': 'a.jpg'}]), f)
    with pytest.raises(ValueError, match=r'no valid entry in .*\(1 entries, '
                       r'all skipped\)'):
        convert(tmp_path, tmp_path / 'out')
    assert not osp.exists(tmp_path / 'out')


def test_converter_module_imports_neither_torch_nor_mmpose():
    path = osp.join(REPO, 'projects', 'nsrm', 'datasets', 'converters',
                    'panoptic_hand143.py')
    code = ('import importlib.util, sys\n'
            f'spec = importlib.util.spec_from_file_location("c", {path!r})\n'
            'm = importlib.util.module_from_spec(spec)\n'
            'spec.loader.exec_module(m)\n'
            'heavy = [n for n in ("torch", "mmpose", "mmengine", "cv2") '
            'if n in sys.modules]\n'
            'assert not heavy, heavy\n'
            'print(m.split_counts(14817))\n')
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "{'train': 11853, 'val': 1482, 'test': 1482}" in proc.stdout
