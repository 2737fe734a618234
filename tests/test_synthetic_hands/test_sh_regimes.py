"""Labelling regimes and occlusion levels of the synthetic hands.

Covers ``labelling`` ('onehand10k' / 'panoptic') and ``occlusion``
('default' / 'hard') in projects/synthetic_hands, the CLI, the dataset
configs and ``SyntheticHandDataset``'s check of ``meta.json``.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from projects.nsrm.testing import load_script
from projects.synthetic_hands import (DEFAULT_REGIME, OCCLUSION_LEVELS,
                                      default_out_dir, ensure_synthetic_hands,
                                      generate_synthetic_hands, inside_image,
                                      keypoint_flags, make_annotation,
                                      render_hand)

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOL = REPO_ROOT / 'tools' / 'generate_synthetic_hands.py'
BASES = REPO_ROOT / 'configs' / '_base_' / 'datasets'
# 40 train images: enough for occluded and outside keypoints in every set
SET = dict(num_train=40, num_val=2, img_size=128, seed=5, workers=1)
TRAIN = Path('annotations') / 'synthetic_hands_train.json'


def _coco(root):
    return json.loads((Path(root) / TRAIN).read_text())


def _meta(root):
    return json.loads((Path(root) / 'meta.json').read_text())


def _arrays(root):
    """keypoints and keypoints_full of every annotation, (N, 21, 3) each."""
    anns = _coco(root)['annotations']
    kps = np.array([a['keypoints'] for a in anns]).reshape(-1, 21, 3)
    full = np.array([a['keypoints_full'] for a in anns]).reshape(-1, 21, 3)
    return kps, full


@pytest.fixture(scope='module')
def sets(tmp_path_factory):
    """The same seed in the three settings that differ from each other."""
    out = {}
    for labelling, occlusion in (('onehand10k', 'default'),
                                 ('panoptic', 'default'),
                                 ('onehand10k', 'hard')):
        root = tmp_path_factory.mktemp(f'{labelling}_{occlusion}')
        generate_synthetic_hands(root, labelling=labelling,
                                 occlusion=occlusion, **SET)
        out[labelling, occlusion] = root
    return out


def _sample(keypoints, visible, mask):
    """The fields of a render_hand() result that make_annotation reads."""
    return dict(keypoints=np.asarray(keypoints, np.float32),
                visible=np.asarray(visible, bool), hand_mask=mask)


# ------------------------------------------------------------- by hand --
def test_inside_image_by_hand():
    # pixel (col, row) is centred at (col, row): inside when
    # -0.5 <= x < size - 0.5
    pts = np.array([[-0.5, 0.0], [-0.51, 0.0], [11.49, 11.49], [11.5, 0.0],
                    [3.0, 12.2]])
    assert inside_image(pts, 12).tolist() == [True, False, True, False,
                                              False]


def test_keypoint_flags_by_hand():
    visible = [True, False, False, True]
    inside = [True, True, False, True]
    assert keypoint_flags(visible, inside).tolist() == [2, 0, 0, 2]
    assert keypoint_flags(visible, inside, 'onehand10k').tolist() == [
        2, 0, 0, 2]
    assert keypoint_flags(visible, inside, 'panoptic').tolist() == [
        2, 1, 0, 2]
    with pytest.raises(ValueError) as info:
        keypoint_flags(visible, inside, 'coco')
    assert str(info.value) == ("labelling must be one of 'onehand10k', "
                               "'panoptic', got 'coco'")


def test_make_annotation_panoptic_by_hand():
    kps = np.full((21, 2), [4.0, 3.0])
    kps[0] = [50.0, 50.0]  # outside the 12x12 image: unlabelled in both
    kps[1] = [9.0, 10.0]  # occluded inside: v = 1, widens the box
    kps[20] = [10.5, 1.25]
    visible = np.ones(21, bool)
    visible[[0, 1, 2]] = False
    mask = np.zeros((12, 12), bool)
    mask[2:6, 3:8] = True  # pixel edges: x in [3, 8), y in [2, 6)
    sample = _sample(kps, visible, mask)
    pan = make_annotation(sample, 7, 9, labelling='panoptic')
    assert pan['keypoints'][:9] == [0, 0, 0, 9.0, 10.0, 1, 4.0, 3.0, 1]
    assert pan['keypoints'][-3:] == [10.5, 1.25, 2]
    assert pan['keypoints_full'][:9] == [50.0, 50.0, 1, 9.0, 10.0, 1,
                                         4.0, 3.0, 1]
    assert pan['num_keypoints'] == 20
    # mask x [3, 8] y [2, 6]; labelled points x [4, 10.5] y [1.25, 10]
    assert pan['bbox'] == [3.0, 1.25, 7.5, 8.75]
    one = make_annotation(sample, 7, 9)
    assert one['keypoints'][:9] == [0] * 9 and one['num_keypoints'] == 18
    assert one['bbox'] == [3.0, 1.25, 7.5, 4.75]
    assert one['keypoints_full'] == pan['keypoints_full']
    assert (one['area'], one['segmentation']) == (pan['area'],
                                                  pan['segmentation'])


def test_occlusion_levels():
    default, hard = OCCLUSION_LEVELS['default'], OCCLUSION_LEVELS['hard']
    # the generator's original occluders: 0-3 on 40%, >= 10 kept visible
    assert default == (0.4, (1, 3), (0.15, 0.45), 0.15, 10)
    assert hard.probability > default.probability
    assert hard.count[1] > default.count[1]
    assert hard.size[0] > default.size[0] and hard.size[1] > default.size[1]
    assert hard.min_visible == 6
    assert DEFAULT_REGIME == {'labelling': 'onehand10k',
                              'occlusion': 'default'}


def test_default_out_dir():
    assert default_out_dir() == 'data/synthetic_hands'
    assert default_out_dir('panoptic') == 'data/synthetic_hands_panoptic'
    assert default_out_dir(occlusion='hard') == 'data/synthetic_hands_hard'
    assert default_out_dir('panoptic', 'hard') == (
        'data/synthetic_hands_panoptic_hard')


def test_render_hand_same_hand_under_either_level():
    a = render_hand(np.random.default_rng([2, 0, 0]), 96)
    b = render_hand(np.random.default_rng([2, 0, 0]), 96, 'hard')
    np.testing.assert_array_equal(a['keypoints'], b['keypoints'])
    np.testing.assert_array_equal(a['part_map'], b['part_map'])
    with pytest.raises(ValueError) as info:
        render_hand(np.random.default_rng(0), 96, occlusion='medium')
    assert str(info.value) == ("occlusion must be one of 'default', 'hard', "
                               "got 'medium'")


# ----------------------------------------------------- on generated sets --
def test_onehand10k_regime_writes_no_v1(sets):
    root = sets['onehand10k', 'default']
    kps, full = _arrays(root)
    assert set(np.unique(kps[..., 2])) == {0, 2}
    hidden = kps[..., 2] == 0
    assert np.all(kps[hidden] == 0)
    np.testing.assert_array_equal(kps[~hidden], full[~hidden])
    counts = [a['num_keypoints'] for a in _coco(root)['annotations']]
    assert counts == (kps[..., 2] > 0).sum(1).tolist()
    meta = _meta(root)
    assert (meta['labelling'], meta['occlusion']) == ('onehand10k',
                                                      'default')
    # default files keep generator 1.0's bytes: no new keys in "info"
    assert 'labelling' not in _coco(root)['info']
    assert sum(meta['keypoint_counts']['train'].values()) == 40 * 21


def test_panoptic_v1_exactly_where_onehand10k_hides_inside(sets):
    one_root = sets['onehand10k', 'default']
    pan_root = sets['panoptic', 'default']
    one, full = _arrays(one_root)
    pan, pan_full = _arrays(pan_root)
    np.testing.assert_array_equal(full, pan_full)
    inside = inside_image(full[..., :2].reshape(-1, 2),
                          128).reshape(full.shape[:2])
    hidden_inside = (one[..., 2] == 0) & inside
    outside = ~inside
    # the checks below must not be vacuous
    assert hidden_inside.sum() >= 10 and outside.sum() >= 1
    np.testing.assert_array_equal(pan[..., 2] == 1, hidden_inside)
    # v = 1 at the true positions, outside unlabelled in both regimes
    np.testing.assert_array_equal(pan[hidden_inside, :2],
                                  full[hidden_inside, :2])
    assert np.all(pan[outside] == 0) and np.all(one[outside] == 0)
    visible = one[..., 2] == 2
    np.testing.assert_array_equal(pan[..., 2] == 2, visible)
    np.testing.assert_array_equal(pan[visible], one[visible])
    anns = _coco(pan_root)['annotations']
    assert [a['num_keypoints'] for a in anns] == (pan[..., 2] > 0).sum(
        1).tolist()
    # the box covers every labelled keypoint, occluded ones included
    for ann, k in zip(anns, pan):
        x, y, w, h = ann['bbox']
        pts = k[k[:, 2] > 0, :2]
        assert np.all((pts >= [x, y]) & (pts <= [x + w, y + h]))
    # images do not depend on the labelling
    for name in [im['file_name'] for im in _coco(pan_root)['images']][:5]:
        assert (one_root / 'images' / name).read_bytes() == (
            pan_root / 'images' / name).read_bytes()
    counts = _meta(pan_root)['keypoint_counts']['train']
    assert counts == _meta(one_root)['keypoint_counts']['train']
    assert counts == {'visible': int(visible.sum()),
                      'occluded': int(hidden_inside.sum()),
                      'outside': int(outside.sum())}
    info = _coco(pan_root)['info']
    assert info['labelling'] == 'panoptic' and 'occlusion' not in info
    assert _meta(pan_root)['labelling'] == 'panoptic'


def test_hard_hides_more_than_default(sets):
    default, hard = sets['onehand10k', 'default'], sets['onehand10k', 'hard']
    d_kps, d_full = _arrays(default)
    h_kps, h_full = _arrays(hard)
    # same hands (drawn before the occluders), different occlusion
    np.testing.assert_array_equal(d_full[..., :2], h_full[..., :2])
    d_hidden = (d_kps[..., 2] == 0).mean()
    h_hidden = (h_kps[..., 2] == 0).mean()
    assert h_hidden > 1.5 * d_hidden > 0
    assert (d_kps[..., 2] > 0).sum(1).min() >= 10
    assert (h_kps[..., 2] > 0).sum(1).min() >= 6
    counts = _meta(hard)['keypoint_counts']['train']
    assert counts['occluded'] + counts['outside'] == int(
        (h_kps[..., 2] == 0).sum())
    assert counts['outside'] == _meta(default)['keypoint_counts']['train'][
        'outside']
    assert _coco(hard)['info']['occlusion'] == 'hard'
    assert 'labelling' not in _coco(hard)['info']


def test_workers_give_the_same_bytes_in_panoptic_hard(tmp_path):
    kw = dict(num_train=4, num_val=1, img_size=64, seed=1,
              labelling='panoptic', occlusion='hard')
    generate_synthetic_hands(tmp_path / 'one', workers=1, **kw)
    generate_synthetic_hands(tmp_path / 'two', workers=2, **kw)
    files = sorted(p.relative_to(tmp_path / 'one')
                   for p in (tmp_path / 'one').rglob('*')
                   if p.is_file() and p.name != 'meta.json')
    assert len(files) == 7  # 5 images + 2 annotation files
    for rel in files:
        assert (tmp_path / 'one' / rel).read_bytes() == (
            tmp_path / 'two' / rel).read_bytes(), rel


# ----------------------------------------------------------------- ensure --
def test_ensure_regenerates_when_the_regime_differs(tmp_path, capsys):
    kw = dict(num_train=2, num_val=1, img_size=64, seed=0, workers=1)
    assert ensure_synthetic_hands(tmp_path, **kw)['generated']
    res = ensure_synthetic_hands(tmp_path, **kw, labelling='onehand10k',
                                 occlusion='default')
    assert not res['generated'] and res['labelling'] == 'onehand10k'
    capsys.readouterr()
    res = ensure_synthetic_hands(tmp_path, **kw, labelling='panoptic')
    assert res['generated'] and res['labelling'] == 'panoptic'
    assert "labelling 'onehand10k' -> 'panoptic'" in capsys.readouterr().out
    assert _meta(tmp_path)['labelling'] == 'panoptic'
    res = ensure_synthetic_hands(tmp_path, **kw, labelling='panoptic',
                                 occlusion='hard')
    assert res['generated'] and _meta(tmp_path)['occlusion'] == 'hard'


def test_ensure_reuses_a_set_from_before_the_settings(tmp_path, capsys):
    """A meta.json without labelling / occlusion holds the defaults."""
    kw = dict(num_train=2, num_val=1, img_size=64, seed=0, workers=1)
    ensure_synthetic_hands(tmp_path, **kw)
    meta = _meta(tmp_path)
    for key in ('labelling', 'occlusion', 'keypoint_counts'):
        del meta[key]
    (tmp_path / 'meta.json').write_text(json.dumps(meta))
    assert not ensure_synthetic_hands(tmp_path, **kw)['generated']
    assert ensure_synthetic_hands(tmp_path, **kw,
                                  occlusion='hard')['generated']


@pytest.mark.parametrize('kwargs, message', [
    (dict(labelling='coco'),
     "labelling must be one of 'onehand10k', 'panoptic', got 'coco'"),
    (dict(occlusion=None),
     "occlusion must be one of 'default', 'hard', got None"),
])
def test_regime_argument_errors(tmp_path, kwargs, message):
    args = dict(num_train=1, num_val=1, img_size=64, workers=1, **kwargs)
    for fn in (generate_synthetic_hands, ensure_synthetic_hands):
        with pytest.raises(ValueError) as info:
            fn(tmp_path, **args)
        assert str(info.value) == message
    assert not any(tmp_path.iterdir())


# -------------------------------------------------------------------- CLI --
def _env():
    return {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}


def test_cli_regime_flags_and_default_out_dir(tmp_path):
    run = subprocess.run(
        [sys.executable, str(TOOL), '--num-train', '2', '--num-val', '1',
         '--img-size', '64', '--workers', '1', '--labelling', 'panoptic',
         '--occlusion', 'hard'], cwd=tmp_path, env=_env(),
        capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    root = tmp_path / 'data' / 'synthetic_hands_panoptic_hard'
    assert ('wrote 2 train + 1 val images (64x64, labelling panoptic, '
            'occlusion hard) in data/synthetic_hands_panoptic_hard'
            ) in run.stdout
    meta = _meta(root)
    assert (meta['labelling'], meta['occlusion']) == ('panoptic', 'hard')
    bad = subprocess.run(
        [sys.executable, str(TOOL), '--labelling', 'coco'], cwd=tmp_path,
        env=_env(), capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0
    assert "--labelling: invalid choice: 'coco'" in bad.stderr


def _tool_module():
    return load_script(TOOL)


def test_settings_from_config():
    tool = _tool_module()
    cpu = str(BASES / 'synthetic_hands_cpu.py')
    assert tool.settings_from_config(cpu) == dict(
        out_dir='data/synthetic_hands/', labelling='onehand10k',
        occlusion='default')
    pan = str(BASES / 'synthetic_hands_panoptic_cpu.py')
    assert tool.settings_from_config(pan) == dict(
        out_dir='data/synthetic_hands_panoptic/', labelling='panoptic',
        occlusion='default')
    hard = [f'{s}_dataloader.dataset.{k}={v}' for s in ('train', 'val',
                                                        'test')
            for k, v in (('occlusion', 'hard'),
                         ('data_root', 'data/synthetic_hands_panoptic_hard/'))]
    assert tool.settings_from_config(pan, hard) == dict(
        out_dir='data/synthetic_hands_panoptic_hard/', labelling='panoptic',
        occlusion='hard')
    with pytest.raises(ValueError) as info:
        tool.settings_from_config(cpu, ['val_dataloader.dataset.labelling='
                                        'panoptic'])
    msg = str(info.value)
    assert msg.startswith(f'{cpu}: the SyntheticHandDataset dataloaders '
                          'must share one data_root')
    assert ("val_dataloader.dataset: data_root='data/synthetic_hands/', "
            "labelling='panoptic', occlusion='default'") in msg
    onehand = str(BASES / 'onehand10k_paper.py')
    assert tool.settings_from_config(onehand) is None


def test_cli_from_config_generates_what_the_config_reads(tmp_path):
    pan = str(BASES / 'synthetic_hands_panoptic_cpu.py')
    run = subprocess.run(
        [sys.executable, str(TOOL), '--from-config', pan, '--num-train', '2',
         '--num-val', '1', '--img-size', '64', '--workers', '1'],
        cwd=tmp_path, env=_env(), capture_output=True, text=True,
        timeout=120)
    assert run.returncode == 0, run.stderr
    assert (f'{pan}: data_root data/synthetic_hands_panoptic/, labelling '
            'panoptic, occlusion default') in run.stdout
    meta = _meta(tmp_path / 'data' / 'synthetic_hands_panoptic')
    assert meta['labelling'] == 'panoptic' and meta['num_train'] == 2
    both = subprocess.run(
        [sys.executable, str(TOOL), '--from-config', pan, '--labelling',
         'panoptic'], cwd=tmp_path, env=_env(), capture_output=True,
        text=True, timeout=60)
    assert both.returncode != 0
    assert ('--from-config takes --labelling from the config; give one or '
            'the other') in both.stderr


# ---------------------------------------------------------------- configs --
def test_dataset_bases_pass_the_regime_to_every_dataloader():
    from mmengine.config import Config
    expected = {
        'synthetic_hands_cpu.py': ('data/synthetic_hands/', 'onehand10k',
                                   'default'),
        'synthetic_hands_panoptic_cpu.py': ('data/synthetic_hands_panoptic/',
                                            'panoptic', 'default'),
    }
    for name, (root, labelling, occlusion) in expected.items():
        cfg = Config.fromfile(str(BASES / name))
        assert (cfg.data_root, cfg.labelling, cfg.occlusion) == (
            root, labelling, occlusion)
        for split in ('train', 'val', 'test'):
            ds = cfg[f'{split}_dataloader'].dataset
            assert (ds.data_root, ds.labelling, ds.occlusion) == (
                root, labelling, occlusion), (name, split)
            assert ds.type == 'SyntheticHandDataset'
            assert ds.ann_file == ('annotations/synthetic_hands_train.json'
                                   if split == 'train' else
                                   'annotations/synthetic_hands_val.json')
        assert len(cfg.train_dataloader.dataset.pipeline) == 7


# ---------------------------------------------------------------- dataset --
def _build(root, **kwargs):
    from mmpose.registry import DATASETS
    from mmpose.utils import register_all_modules

    import projects.nsrm  # noqa: F401
    register_all_modules()
    return DATASETS.build(
        dict(type='SyntheticHandDataset', data_root=str(root),
             ann_file=str(TRAIN), data_prefix=dict(img='images/'),
             pipeline=[], **kwargs))


def test_dataset_reads_the_panoptic_regime(sets):
    root = sets['panoptic', 'default']
    ds = _build(root, labelling='panoptic', occlusion='default')
    pan, _ = _arrays(root)
    assert len(ds) == 40
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        # MMPose: keypoints_visible = min(1, v): occluded v = 1 points are
        # labelled (weight 1), unlabelled ones weight 0
        np.testing.assert_array_equal(info['keypoints_visible'][0],
                                      np.minimum(pan[i, :, 2], 1))
        np.testing.assert_allclose(info['keypoints'][0], pan[i, :, :2])


def test_dataset_rejects_the_other_regime(sets):
    root = sets['panoptic', 'default']
    with pytest.raises(ValueError) as info:
        _build(root, labelling='onehand10k')
    meta = root / 'meta.json'
    assert str(info.value) == (
        f"SyntheticHandDataset: {meta} records labelling='panoptic', but "
        "the dataset config expects labelling='onehand10k'. Generate the "
        'matching set with `python tools/generate_synthetic_hands.py '
        f'--out-dir {root} --num-train 40 --num-val 2 --seed 5 --img-size '
        '128 --labelling onehand10k --occlusion default`, or point data_root '
        'at a set generated with those settings (their usual folder: '
        'data/synthetic_hands/).')
    with pytest.raises(ValueError, match="records labelling='panoptic', "
                       "occlusion='default', but the dataset config expects "
                       "labelling='panoptic', occlusion='hard'"):
        _build(root, labelling='panoptic', occlusion='hard')
    assert len(_build(root)) == 40  # None: not checked


def test_dataset_regime_argument_and_missing_meta(sets, tmp_path):
    with pytest.raises(ValueError) as info:
        _build(sets['panoptic', 'default'], labelling='Panoptic')
    assert str(info.value) == (
        "SyntheticHandDataset: labelling must be None (not checked) or one "
        "of 'onehand10k', 'panoptic', got 'Panoptic'")
    root = tmp_path / 'copy'
    (root / 'annotations').mkdir(parents=True)
    src = sets['onehand10k', 'default']
    (root / TRAIN).write_bytes((src / TRAIN).read_bytes())
    with pytest.raises(FileNotFoundError) as info:
        _build(root, occlusion='default')
    assert str(info.value).startswith(
        f'SyntheticHandDataset: {root / "meta.json"} not found, so the data '
        "set cannot be checked for occlusion='default'.")
