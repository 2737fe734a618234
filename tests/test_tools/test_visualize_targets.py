"""tools/analysis/visualize_targets.py: the heatmap grid placed on the crop
as the codecs place it, the tiles of a hand-made hand, the figure's layout,
the mask settings read from the configs, the errors, and the tool end to end
on the tiny hands (LPM-G1&6 and CPM configs) and the real OneHand10K
samples."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest

from projects.nsrm.structures import CHANNEL_NAMES
from projects.nsrm.testing import (HAND, REPO, data_options, load_script,
                                   run_tool)

TOOL = 'tools/analysis/visualize_targets.py'
LPM = osp.join(REPO, 'configs/nsrm/lpm_g1g6_synthetic_cpu.py')
CPM = osp.join(REPO, 'configs/nsrm/cpm_synthetic_cpu.py')
PAPER = osp.join(REPO, 'configs/nsrm/lpm_g1g6_onehand10k.py')
#: 128x128 crops, pad 4, 3 rows of 6 tiles
FIGURE_128 = (3 * (128 + 4) + 4, 6 * (128 + 4) + 4, 3)
#: rows of a 128 px tile its label may cover
LABEL_ROWS = 24
GREY = 128


@pytest.fixture(scope='module')
def tool():
    """The tool as a module (its functions, and main() in this process)."""
    return load_script(TOOL)


@pytest.fixture(scope='module')
def skeleton(tool):
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    meta = parse_pose_metainfo(
        dict(from_file='configs/_base_/datasets/onehand10k.py'))
    return tool.skeleton_style(meta)


def expected_labels():
    g6 = CHANNEL_NAMES[1:]
    return (['input', f'LDM {CHANNEL_NAMES[0]}', f'LPM {CHANNEL_NAMES[0]}'] +
            [f'LDM {n}' for n in g6] + [f'LPM {n}' for n in g6])


def options_dict(options):
    return dict(option.split('=', 1) for option in options)


# ---------------------------------------------------------------- pure part


def hand_sample(size=128):
    """HAND (46x46 grid) scaled to a grey size x size crop; the little
    fingertip (20) unlabelled."""
    keypoints = HAND * size / 46
    visible = np.ones((1, 21), np.float32)
    visible[0, 20] = 0
    return dict(img=np.full((size, size, 3), GREY, np.uint8),
                transformed_keypoints=keypoints[None],
                keypoints_visible=visible), keypoints


def change(tile, keypoints, radius=1):
    """Mean |tile - grey| (summed over BGR) in the (2r+1)^2 squares at the
    keypoints."""
    diff = np.abs(tile.astype(int) - GREY).sum(axis=2)
    values = [
        diff[y - radius:y + radius + 1, x - radius:x + radius + 1].mean()
        for x, y in np.round(keypoints).astype(int)
    ]
    return float(np.mean(values))


def test_target_tiles_of_a_hand(tool, skeleton):
    sample, keypoints = hand_sample()
    args = dict(input_size=(128, 128), heatmap_size=(32, 32), sigma=1.0,
                limbs=None, limb_groups=None)
    tiles, labels = tool.target_tiles(sample, args, skeleton)
    assert labels == expected_labels()
    assert len(tiles) == 15
    assert all(t.shape == (128, 128, 3) and t.dtype == np.uint8
               for t in tiles)
    np.testing.assert_array_equal(sample['img'], GREY)  # not drawn on

    # the input: labelled keypoints in the dataset's colours (BGR), the
    # unlabelled fingertip 20 not drawn (nor its link: 8 px from 19)
    x, y = np.round(keypoints[19]).astype(int)
    np.testing.assert_array_equal(tiles[0][y, x],
                                  skeleton['keypoint_colors'][19])
    np.testing.assert_array_equal(
        skeleton['keypoint_colors'][1], [0, 128, 255])  # thumb: orange
    x, y = np.round(keypoints[20]).astype(int)
    np.testing.assert_array_equal(tiles[0][y - 1:y + 2, x - 1:x + 2], GREY)

    # LPM G1: the masks lie on the hand, nothing at a far corner
    lpm_g1 = tiles[2]
    labelled = keypoints[:20]
    assert change(lpm_g1, labelled) > 60
    np.testing.assert_array_equal(lpm_g1[-10:, -10:], GREY)
    # LDM G1 too (the rectangles cover the keypoints)
    assert change(tiles[1], labelled) > 60

    # each G6 tile shows its own group: the middle joint of finger f
    # (keypoint 4 f + 2) changed in tile f, untouched in the other fingers'
    first = {'LDM': 3, 'LPM': 9}
    for mask_type, start in first.items():
        for finger in range(5):
            joint = keypoints[4 * finger + 2][None]
            for other in range(5):
                value = change(tiles[start + other], joint)
                if other == finger:
                    assert value > 60, (mask_type, finger)
                else:
                    assert value < 5, (mask_type, finger, other)
        # palm: the wrist and the knuckles (ends of its limbs: LDM's
        # rectangles end there), not the fingertips
        palm = tiles[start + 5]
        assert change(palm, keypoints[[0, 5, 9, 13, 17]]) > 30
        assert change(palm, keypoints[[4, 8, 12, 16]]) < 5


def test_target_tiles_check_the_sample(tool, skeleton):
    sample, _ = hand_sample()
    args = dict(input_size=(96, 96), heatmap_size=(24, 24), sigma=1.0,
                limbs=None, limb_groups=None)
    with pytest.raises(ValueError, match='crop is 128x128 but the limb '
                       "masks' input_size is 96x96"):
        tool.target_tiles(sample, args, skeleton)
    args['input_size'] = (128, 128)
    sample['img'] = sample['img'].astype(np.float32)
    with pytest.raises(ValueError, match='uint8 BGR crop'):
        tool.target_tiles(sample, args, skeleton)


def test_figure_layout(tool):
    tiles = [np.full((128, 128, 3), 10 * i, np.uint8) for i in range(15)]
    grid = tool.figure(tiles, expected_labels(), pad=4)
    assert grid.shape == FIGURE_128
    # first row: tiles 0-2 then three empty cells of background
    assert (grid[4:132, 3 * 132 + 4:] == 255).all()
    for index, (row, col) in enumerate(
            [(0, c) for c in range(3)] +
            [(r, c) for r in (1, 2) for c in range(6)]):
        y, x = 4 + row * 132, 4 + col * 132
        np.testing.assert_array_equal(grid[y + LABEL_ROWS:y + 128, x:x + 128],
                                      10 * index)


@pytest.mark.parametrize('config, split, expected', [
    (LPM, 'train', ((128, 128), (32, 32), 1.0, "train_dataloader's")),
    (CPM, 'train', ((128, 128), (32, 32), 1.0, 'model.head.decoder')),
    (PAPER, 'train', ((368, 368), (46, 46), 1.0, "train_dataloader's")),
    (osp.join(REPO, 'configs/nsrm/cpm_onehand10k.py'), 'train',
     ((368, 368), (46, 46), 1.0, 'model.head.decoder')),
])
def test_target_settings(tool, config, split, expected):
    from mmengine.config import Config
    settings = tool.target_settings(Config.fromfile(config), split)
    got = (settings['input_size'], settings['heatmap_size'],
           settings['sigma'])
    assert got == expected[:3]
    assert settings['source'].startswith(expected[3])


def test_target_settings_follow_the_config(tool):
    from mmengine.config import Config
    cfg = Config.fromfile(LPM)
    cfg.merge_from_dict({'train_dataloader.dataset.pipeline.6.sigma': 2.5})
    assert tool.target_settings(cfg)['sigma'] == 2.5


@pytest.mark.parametrize('case', ['missing', 'num', 'no_train', 'no_val',
                                  'no_pipeline'])
def test_errors(tool, case, capsys, tmp_path):
    args, message = {
        'missing': (['configs/nsrm/nope.py'],
                    "Config file not found: 'configs/nsrm/nope.py'"),
        'num': ([LPM, '--num', '0'], '--num must be >= 1, got 0'),
        'no_train': ([LPM, '--cfg-options', 'train_dataloader=None'],
                     'the config has no train_dataloader'),
        'no_val': ([PAPER, '--split', 'val'],
                   'the config has no val_dataloader'),
        'no_pipeline': ([CPM, '--cfg-options',
                         'train_dataloader.dataset.pipeline=None'],
                        'train_dataloader.dataset has no pipeline'),
    }[case]
    out_dir = tmp_path / 'out'
    assert tool.main([*args, '--out-dir', str(out_dir)]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith(f'visualize_targets.py: error: {message}')
    assert not out_dir.exists()


def test_crop_size_must_match_the_masks(tool, tiny_hands, capsys, tmp_path):
    options = [*data_options(tiny_hands),
               'train_dataloader.dataset.pipeline.6.input_size=(96,96)']
    assert tool.main([LPM, '--num', '1', '--out-dir', str(tmp_path),
                      '--cfg-options', *options]) == 1
    assert "crop is 128x128 but the limb masks' input_size is 96x96" in (
        capsys.readouterr().err)


# ------------------------------------------------------------ end to end


@pytest.mark.slow
def test_lpm_config_two_samples(tool, tiny_hands, tmp_path):
    from mmengine.config import Config
    out_dir = tmp_path / 'figs'
    proc = run_tool([TOOL, LPM, '--num', '2', '--seed', '3', '--out-dir',
                     str(out_dir), '--cfg-options',
                     *data_options(tiny_hands)])
    with open(osp.join(tiny_hands, 'annotations',
                       'synthetic_hands_train.json')) as f:
        images = json.load(f)['images']
    stems = [osp.splitext(osp.basename(im['file_name']))[0]
             for im in images[:2]]
    paths = [str(out_dir / f'{i}_{stem}.png') for i, stem in enumerate(stems)]
    assert proc.stdout.splitlines()[-2:] == paths
    assert ('Masks: input (128, 128), heatmap (32, 32), sigma 1.0 (from '
            "train_dataloader's LimbMaskTarget)") in proc.stdout
    assert sorted(p.name for p in out_dir.iterdir()) == [
        osp.basename(p) for p in paths]

    # the same samples in this process: same seed, same augmentation
    cfg = Config.fromfile(LPM)
    cfg.merge_from_dict(options_dict(data_options(tiny_hands)))
    args = tool.target_settings(cfg)
    args.pop('source')
    dataset = tool.build_dataset(cfg, 'train')
    samples = tool.load_samples(dataset, 2, seed=3)
    skeleton = tool.skeleton_style(dataset.metainfo)
    for path, sample in zip(paths, samples):
        assert osp.getsize(path) > 0
        png = cv2.imread(path)
        assert png.shape == FIGURE_128
        np.testing.assert_array_equal(
            png, tool.figure(*tool.target_tiles(sample, args, skeleton)))

        # the LPM G1 tile (row 0, col 2) is changed from the crop at the
        # labelled keypoints, not at the crop corner farthest from them
        tile = png[4:132, 4 + 2 * 132:4 + 2 * 132 + 128].astype(int)
        diff = np.abs(tile - sample['img']).sum(axis=2)
        kpts = sample['transformed_keypoints'][0]
        shown = (sample['keypoints_visible'][0] > 0) & (
            (kpts >= 1) & (kpts < 127)).all(axis=1)
        assert shown.sum() >= 3
        near = np.mean([diff[y - 1:y + 2, x - 1:x + 2].mean()
                        for x, y in np.round(kpts[shown]).astype(int)])
        corners = np.array([[0, 0], [127, 0], [0, 127], [127, 127]])
        far = corners[np.argmax(np.linalg.norm(
            corners[:, None] - kpts[None], axis=2).min(axis=1))]
        patch = (slice(120, 128) if far[1] else slice(LABEL_ROWS, 32),
                 slice(120, 128) if far[0] else slice(0, 8))
        assert near > 60
        assert diff[patch].max() == 0


@pytest.mark.slow
def test_cpm_config_val_split_fewer_samples(tiny_hands, tmp_path):
    """CPM has no LimbMaskTarget: its codec's sizes and sigma 1; the tiny
    val split has 8 samples, --num 10 draws those 8 with a note."""
    out_dir = tmp_path / 'cpm'
    proc = run_tool([TOOL, CPM, '--split', 'val', '--num', '10',
                     '--out-dir', str(out_dir), '--cfg-options',
                     *data_options(tiny_hands)])
    assert ('Masks: input (128, 128), heatmap (32, 32), sigma 1.0 (from '
            'model.head.decoder (sigma 1.0))') in proc.stdout
    assert ('Note: the val dataset has only 8 samples; drawing 8 (--num 10)'
            in proc.stdout)
    written = [line for line in proc.stdout.splitlines()
               if line.endswith('.png')]
    assert len(written) == 8
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(
        osp.basename(p) for p in written)
    for path in written:
        assert cv2.imread(path).shape == FIGURE_128


@pytest.mark.slow
def test_paper_config_on_real_onehand10k(realdata, tmp_path):
    root = osp.join(realdata, 'onehand10k')
    with open(osp.join(root, 'test_onehand10k.json')) as f:
        images = json.load(f)['images']
    out_dir = tmp_path / 'oh'
    proc = run_tool([TOOL, PAPER, '--num', '2', '--out-dir', str(out_dir),
                     '--cfg-options',
                     f'train_dataloader.dataset.data_root={root}/',
                     'train_dataloader.dataset.ann_file=test_onehand10k.json'])
    stems = [osp.splitext(im['file_name'])[0] for im in images[:2]]
    assert proc.stdout.splitlines()[-2:] == [
        str(out_dir / f'{i}_{stem}.png') for i, stem in enumerate(stems)]
    for line in proc.stdout.splitlines()[-2:]:
        # 368x368 crops, pad 4, 3 rows of 6
        assert cv2.imread(line).shape == (3 * 372 + 4, 6 * 372 + 4, 3)
