"""demo/image_demo.py: one image or a folder through a tiny checkpoint to
PNGs of the expected size; boxes from --bboxes; clear errors."""
import json
import os.path as osp
import shutil

import cv2
import pytest

from projects.nsrm.testing import load_script, run_tool

DEMO = 'demo/image_demo.py'
LPM = 'configs/nsrm/lpm_g1g6_synthetic_cpu.py'
CPM = 'configs/nsrm/cpm_synthetic_cpu.py'


def load_demo():
    return load_script(DEMO)


@pytest.fixture(scope='module')
def demo():
    return load_demo()


@pytest.fixture
def folder(tiny_hands, tmp_path):
    """Two 128 x 128 hand images."""
    root = tmp_path / 'images'
    root.mkdir()
    for name in ('000000.jpg', '000001.jpg'):
        shutil.copy(osp.join(tiny_hands, 'images', 'val', name), root / name)
    return root


@pytest.mark.slow
def test_folder_with_bboxes(tiny_checkpoints, folder, tmp_path):
    boxes = tmp_path / 'boxes.json'
    boxes.write_text(json.dumps({'000001.jpg': [[0, 30, 90, 110]]}))
    out_dir = tmp_path / 'out'
    proc = run_tool([DEMO, LPM, tiny_checkpoints['lpm'], str(folder),
                     '--out-dir', str(out_dir), '--bboxes', str(boxes)])
    written = [str(out_dir / '000000.png'), str(out_dir / '000001.png')]
    lines = proc.stdout.splitlines()
    assert lines[-2:] == written
    assert (f'note: 000000.jpg is not in {boxes}; the whole image is its '
            'hand box') in lines
    assert not any('000001.jpg is not in' in line for line in lines)
    for path in written:
        # skeleton | G1 | G6 grid: 128 + 4 + 128 + 4 + 190
        assert cv2.imread(path).shape == (128, 454, 3)


def test_single_image_cpm(demo, tiny_checkpoints, folder, tmp_path, capsys):
    out_dir = tmp_path / 'cpm'
    image = str(folder / '000001.jpg')
    assert demo.main([CPM, tiny_checkpoints['cpm'], image, '--out-dir',
                      str(out_dir), '--kpt-thr', '0']) == 0
    # the last line (MMEngine prints 'Loads checkpoint ...' before)
    assert capsys.readouterr().out.splitlines()[-1] == str(
        out_dir / '000001.png')
    assert cv2.imread(str(out_dir / '000001.png')).shape == (128, 128, 3)


def test_clear_errors(demo, tiny_checkpoints, folder, tmp_path, capsys):
    out = ['--out-dir', str(tmp_path / 'out')]
    missing = str(tmp_path / 'missing.pth')
    broken = tmp_path / 'broken'
    broken.mkdir()
    (broken / 'bad.jpg').write_text('not an image')
    empty = tmp_path / 'empty'
    empty.mkdir()
    bad_json = tmp_path / 'bad.json'
    bad_json.write_text('{"000000.jpg": [[5, 5, 1, 1]]}')
    cases = [
        ([LPM, missing, str(folder)], f'Checkpoint file not found: '
         f'{missing!r}'),
        (['configs/nsrm/nope.py', tiny_checkpoints['lpm'], str(folder)],
         "Config file not found: 'configs/nsrm/nope.py'"),
        ([LPM, tiny_checkpoints['lpm'], str(broken)],
         f'{broken / "bad.jpg"}: cannot read this file as an image'),
        ([LPM, tiny_checkpoints['lpm'], str(empty)],
         f'{empty}: no images in this folder'),
        ([LPM, tiny_checkpoints['lpm'], str(folder / 'x.jpg')],
         'Input image file not found'),
        ([LPM, tiny_checkpoints['lpm'], str(folder), '--bboxes',
          str(bad_json)],
         f"{bad_json}: '000000.jpg' has boxes with x2 <= x1"),
        ([LPM, tiny_checkpoints['lpm'], str(folder), '--mask-alpha', '1.5'],
         '--mask-alpha must be in [0, 1], got 1.5'),
    ]
    for args, message in cases:
        assert demo.main(args + out) == 1, args
        err = capsys.readouterr().err
        assert err.startswith('image_demo.py: error: '), err
        assert message in err, (message, err)


def test_output_names_keep_shared_stems_apart(demo):
    assert demo.output_names(['x/a.jpg', 'y/b.png', 'x/a.PNG']) == [
        'a_jpg.png', 'b.png', 'a_png.png'
    ]
