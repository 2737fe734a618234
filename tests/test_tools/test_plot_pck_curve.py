"""tools/analysis/plot_pck_curve.py: Figure 6 and the Table 2/3 Markdown of
several MultiThresholdPCK results."""
import json
import os.path as osp

import numpy as np
import pytest

from projects.nsrm.testing import REPO, TINY_OPTIONS, data_options, run_tool

TOOL = 'tools/analysis/plot_pck_curve.py'
CONFIG = 'configs/nsrm/lpm_g1g6_synthetic_cpu.py'
# the paper's OneHand10K rows (Table 2), as fractions, keys in file order
CPM = {'PCK@0.3': 0.9264, 'PCK@0.25': 0.9089, 'PCK@0.2': 0.8854,
       'PCK@0.15': 0.8473, 'PCK@0.1': 0.7848, 'PCK-mean': 0.8706,
       'PCK': 0.5, 'AUC': 0.4, 'EPE': 12.0}
LPM = {'PCK@0.1': 0.7932, 'PCK@0.15': 0.8610, 'PCK@0.2': 0.8960,
       'PCK@0.25': 0.9191, 'PCK@0.3': 0.9343, 'PCK-mean': 0.8807}
WORSE = {'PCK@0.1': 0.75, 'PCK@0.15': 0.82, 'PCK@0.2': 0.87,
         'PCK@0.25': 0.9, 'PCK@0.3': 0.96, 'PCK-mean': 0.86}


def write(path, data, lines=False):
    with open(path, 'w') as f:
        if lines:  # a training's vis_data/scalars.json
            for item in data:
                f.write(json.dumps(item) + '\n')
        else:
            json.dump(data, f)
    return str(path)


@pytest.fixture
def results(tmp_path):
    """CPM as tools/test.py --out writes it; LPM-G1 as the newest test json
    of a work dir (an older run beside it); WORSE as json lines whose last
    PCK line counts."""
    cpm = write(tmp_path / 'cpm.json', CPM)
    work_dir = tmp_path / 'lpm_work'
    for stamp, data in (('20250101_000000', WORSE), ('20250102_000000', LPM),
                        ('20250103_000000', {'EPE': 3.0})):
        (work_dir / stamp).mkdir(parents=True)
        write(work_dir / stamp / f'{stamp}.json', data)
    worse = write(tmp_path / 'scalars.json', [
        {'loss': 1.0, 'step': 1}, dict(CPM, step=4), dict(WORSE, step=8),
        {'loss': 0.5, 'step': 9}], lines=True)
    return cpm, str(work_dir), worse


def table_rows(stdout):
    return [line for line in stdout.splitlines() if line.startswith('|')]


def test_table_and_png(results, tmp_path):
    out = str(tmp_path / 'pck.png')
    proc = run_tool([TOOL, *results, '--labels', 'CPM', 'LPM-G1', 'Worse',
                     '--out', out, '--title', 'OneHand10K'])
    assert table_rows(proc.stdout) == [
        '| Model | PCK@0.1 | PCK@0.15 | PCK@0.2 | PCK@0.25 | PCK@0.3 | Mean '
        '| vs CPM |',
        '|---|---|---|---|---|---|---|---|',
        '| CPM | 78.48 | 84.73 | 88.54 | 90.89 | 92.64 | 87.06 | - |',
        # 88.07 - 87.06 = 1.01 points, 1.01 / 87.06 = 1.16 %
        '| LPM-G1 | 79.32 | 86.10 | 89.60 | 91.91 | 93.43 | 88.07 '
        '| +1.01 (+1.16%) |',
        # 86.00 - 87.06 = -1.06 points, -1.06 / 87.06 = -1.22 %
        '| Worse | 75.00 | 82.00 | 87.00 | 90.00 | 96.00 | 86.00 '
        '| -1.06 (-1.22%) |',
    ]
    assert f'Saved the PCK curves to {out}' in proc.stdout
    with open(out, 'rb') as f:
        png = f.read()
    assert png.startswith(b'\x89PNG\r\n\x1a\n') and len(png) > 10_000
    import matplotlib.image as mpimg
    image = mpimg.imread(out)
    assert image.ndim == 3 and min(image.shape[:2]) > 300
    assert image.std() > 0.05  # lines and text, not a blank canvas


def test_mean_computed_when_absent_and_default_labels(tmp_path):
    a = write(tmp_path / 'a.json', {'PCK@0.04': 0.5, 'PCK@0.12': 0.9})
    proc = run_tool([TOOL, a])
    assert table_rows(proc.stdout)[2] == f'| {a} | 50.00 | 90.00 | 70.00 | - |'


@pytest.mark.parametrize('case', ['missing', 'no_pck', 'thresholds',
                                  'labels', 'percent', 'empty_dir',
                                  'out_dir'])
def test_errors_name_the_file_or_option(case, results, tmp_path):
    cpm, work_dir, _ = results
    other = write(tmp_path / 'other.json', {'PCK@0.1': 0.5, 'PCK@0.2': 0.7})
    bad, nopck = tmp_path / 'bad.json', tmp_path / 'nopck.json'
    args, message = {
        'missing': ([cpm, str(tmp_path / 'nope.json')],
                    f'{tmp_path}/nope.json: no such file or directory'),
        'no_pck': ([write(nopck, {'PCK': 0.8, 'AUC': 0.5})],
                   f'{nopck}: no PCK@<threshold> key'),
        'thresholds': ([cpm, other], f"{other}: thresholds ['0.1', '0.2'] "
                       f"differ from those of {cpm} ['0.1', '0.15', '0.2', "
                       "'0.25', '0.3']"),
        'labels': ([cpm, work_dir, '--labels', 'CPM'],
                   "--labels: 1 labels ['CPM'] for 2 RESULTs"),
        'percent': ([write(bad, {'PCK@0.1': 78.48})],
                    f'{bad}: PCK values must be fractions in [0, 1]'),
        'empty_dir': ([str(tmp_path)], f'{tmp_path}: no test-run metrics '
                      'json'),
        'out_dir': ([cpm, '--out', str(tmp_path / 'no' / 'x.png')],
                    f'--out: the folder of {tmp_path}/no/x.png does not '
                    'exist'),
    }[case]
    proc = run_tool([TOOL, *args], check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f'plot_pck_curve.py: error: {message}')
    assert proc.stdout == ''


@pytest.fixture(scope='module')
def test_run(tiny_hands, tmp_path_factory):
    """tools/test.py of a freshly initialised LPM-G1&6 (CPU config) with
    MultiThresholdPCK beside MMPose's metrics."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from mmpose.registry import MODELS
    tmp = tmp_path_factory.mktemp('pck_test_run')
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpose'):
        model = MODELS.build(Config.fromfile(osp.join(REPO, CONFIG)).model)
    ckpt = str(tmp / 'model.pth')
    torch.save({'meta': {}, 'state_dict': model.state_dict()}, ckpt)
    cfg = tmp / 'cfg.py'
    cfg.write_text(
        f"_base_ = ['{osp.join(REPO, CONFIG)}']\n"
        "test_evaluator = [dict(type='MultiThresholdPCK'), "
        "dict(type='PCKAccuracy', thr=0.2), dict(type='AUC'), "
        "dict(type='EPE')]\n")
    work_dir, out = str(tmp / 'work'), str(tmp / 'metrics.json')
    run_tool(['tools/test.py', str(cfg), ckpt, '--work-dir', work_dir,
              '--out', out, '--cfg-options', *TINY_OPTIONS,
              *data_options(tiny_hands)])
    with open(out) as f:
        metrics = json.load(f)
    return work_dir, out, metrics


@pytest.mark.slow
def test_real_test_run_output(test_run, tmp_path):
    work_dir, out, metrics = test_run
    assert list(metrics)[:6] == ['PCK@0.1', 'PCK@0.15', 'PCK@0.2',
                                 'PCK@0.25', 'PCK@0.3', 'PCK-mean']
    png = str(tmp_path / 'real.png')
    proc = run_tool([TOOL, work_dir, out, '--labels', 'work-dir', 'out',
                     '--out', png])
    rows = table_rows(proc.stdout)
    values = [100 * metrics[k] for k in list(metrics)[:6]]
    expected = ' | '.join(f'{v:.2f}' for v in values)
    assert rows[2] == f'| work-dir | {expected} | - |'
    assert rows[3] == f'| out | {expected} | +0.00 (+0.00%) |'
    assert osp.getsize(png) > 10_000
    assert np.mean(values[:5]) == pytest.approx(values[5])
