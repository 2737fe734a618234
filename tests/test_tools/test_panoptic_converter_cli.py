"""tools/dataset_converters/panoptic_hand143_to_coco.py, run like a user."""
import json
import os.path as osp

from projects.nsrm.testing import run_tool, write_raw_panoptic_hand143

TOOL = 'tools/dataset_converters/panoptic_hand143_to_coco.py'


def test_cli_converts_then_refuses_to_overwrite(tmp_path):
    root = write_raw_panoptic_hand143(str(tmp_path / 'panoptic_hand143'))
    ann_dir = osp.join(root, 'annotations')
    proc = run_tool([TOOL, '--root', root, '--out', root, '--seed', '2'])
    assert ('converted 20 of 20 entries (0 skipped); split (seed 2): '
            'train 16, val 2, test 2') in proc.stdout
    assert 'converted 20/20 entries' in proc.stderr  # the progress counter
    for split in ('train', 'val', 'test'):
        path = osp.join(ann_dir, f'panoptic_hand143_{split}.json')
        assert f'wrote {path}' in proc.stdout
    split_file = osp.join(ann_dir, 'panoptic_hand143_split.json')
    with open(split_file) as f:
        before = f.read()
    assert json.loads(before)['seed'] == 2

    again = run_tool([TOOL, '--root', root, '--out', root], check=False)
    assert again.returncode == 2
    train = osp.join(ann_dir, 'panoptic_hand143_train.json')
    assert again.stderr.strip() == (
        f'error: {train} already exists (and 3 more output files); pass '
        '--force (force=True) to overwrite')
    with open(split_file) as f:
        assert f.read() == before

    missing = run_tool([TOOL, '--root', str(tmp_path / 'nowhere')],
                       check=False)
    assert missing.returncode == 2
    assert missing.stderr.startswith(
        'error: raw release folder not found: '
        f'{tmp_path / "nowhere"}. Get hand143_panopticdb.tar')
