"""tools/analysis/run_ablation.py: the plan and its errors, the checkpoint
rule, the learning curves, the summary of finished pairs (hand-computed),
a failing pair, and the whole study end to end on the tiny hands."""
import json
import math
import os
import os.path as osp
import re
import sys
import time

import pytest

from projects.nsrm.testing import (REPO, TINY_OPTIONS, data_options,
                                   load_script, run_tool)

TOOL = 'tools/analysis/run_ablation.py'
CPM = osp.join(REPO, 'configs/nsrm/cpm_synthetic_cpu.py')
LPM = osp.join(REPO, 'configs/nsrm/lpm_g1g6_synthetic_cpu.py')
#: t(0.975, df) from a printed t table
T_975 = {1: 12.706, 2: 4.303}


@pytest.fixture(scope='module')
def tool():
    """The tool as a module (its functions, and main() in this process)."""
    return load_script(TOOL)


def write_json(path, data):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(data, f)


def fake_finished_pair(work_dir, config, seed, metrics, options=()):
    """What a finished pair leaves: run.json, then metrics.json."""
    name = osp.splitext(osp.basename(config))[0]
    run_dir = osp.join(work_dir, name, f'seed{seed}')
    write_json(osp.join(run_dir, 'run.json'), dict(
        config=name, config_path=osp.realpath(config), seed=seed,
        cfg_options=list(options), deterministic=False,
        attempts=[dict(mode='scratch', resumed_from=None, train_s=60.0)],
        checkpoint=f'{name}/seed{seed}/best_PCK_epoch_3.pth',
        checkpoint_rule='best (PCK)', test_s=12.0, wall_time_s=72.0))
    write_json(osp.join(run_dir, 'metrics.json'), metrics)
    return run_dir


def run_main(tool, capsys, *argv):
    code = tool.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------ plan, errors


@pytest.mark.parametrize('argv, message', [
    (['--configs', 'configs/nsrm/nope.py'],
     "--configs: config file not found: 'configs/nsrm/nope.py'"),
    (['--configs', CPM, LPM, CPM],
     f'--configs: {CPM!r} is given twice; give each config once'),
    (['--configs', CPM, '--seeds', '0', '1', '0'],
     '--seeds: [0] given more than once; give each seed once, e.g. '
     '--seeds 0 1 2'),
    (['--configs', CPM, '--seeds', '-1'],
     '--seeds: [-1] out of range; seeds are integers in [0, 2**32)'),
    (['--configs', CPM, '--cfg-options', 'randomness.seed=3'],
     "--cfg-options: drop 'randomness.seed=3': each run gets its seed from "
     '--seeds'),
    (['--configs', CPM, '--cfg-options', 'train_cfg.max_epochs'],
     "--cfg-options: 'train_cfg.max_epochs' is not KEY=VALUE, e.g. "
     'train_cfg.max_epochs=12'),
])
def test_bad_arguments_are_clear_errors(tool, capsys, tmp_path, argv,
                                        message):
    code, out, err = run_main(tool, capsys, *argv, '--work-dir',
                              str(tmp_path / 'study'))
    assert code == 1
    assert f'run_ablation.py: error: {message}' in err
    assert not osp.exists(tmp_path / 'study')


def test_configs_with_the_same_name_are_an_error(tool, capsys, tmp_path):
    other = tmp_path / 'cpm_synthetic_cpu.py'
    other.write_text(f"_base_ = ['{CPM}']\n")
    code, _, err = run_main(tool, capsys, '--configs', CPM, str(other),
                            '--work-dir', str(tmp_path / 'study'))
    assert code == 1
    assert (f"--configs: {CPM!r} and {str(other)!r} have the same name "
            "'cpm_synthetic_cpu', and each config's runs go to "
            'DIR/cpm_synthetic_cpu/; copy one to a file with another name'
            ) in err


def test_dry_run_prints_the_plan_and_runs_nothing(tool, capsys, tmp_path):
    work = str(tmp_path / 'study')
    fake_finished_pair(work, CPM, 0, {'PCK': 0.5})
    killed = osp.join(work, 'cpm_synthetic_cpu', 'seed1')
    os.makedirs(killed)
    open(osp.join(killed, 'epoch_2.pth'), 'w').close()
    with open(osp.join(killed, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(killed, 'epoch_2.pth'))
    before = sorted(os.walk(work))
    code, out, _ = run_main(tool, capsys, '--configs', CPM, LPM, '--seeds',
                            '0', '1', '--work-dir', work, '--dry-run')
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f'Ablation: 2 configs x 2 seeds = 4 runs in {work}'
    assert lines[1] == '[1/4] cpm_synthetic_cpu seed 0: skip (finished)'
    assert lines[2] == ('[2/4] cpm_synthetic_cpu seed 1: resume from '
                        'epoch_2.pth, then test its best (PCK) checkpoint, '
                        'else the last')
    assert f'--work-dir {killed} --resume {killed}/epoch_2.pth ' in lines[3]
    assert lines[3].endswith('--cfg-options randomness.seed=1')
    assert lines[4].startswith('[3/4] lpm_g1g6_synthetic_cpu seed 0: train '
                               'from scratch, then test')
    assert len(lines) == 8
    assert sorted(os.walk(work)) == before


# -------------------------------------------------- checkpoints and curves


def touch(folder, *names):
    os.makedirs(folder, exist_ok=True)
    for name in names:
        open(osp.join(folder, name), 'w').close()


def test_select_checkpoint_rule(tool, tmp_path):
    run = str(tmp_path / 'run')
    touch(run, 'best_PCK_epoch_3.pth', 'best_PCK_epoch_5.pth',
          'best_AUC_epoch_7.pth', 'best_PCK_visible_epoch_6.pth',
          'epoch_6.pth', 'epoch_7.pth', 'best_PCK_epoch_9.pth.tmp-123')
    with open(osp.join(run, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(run, 'epoch_6.pth'))
    # the best of the config's save_best key (the largest epoch if several)
    assert tool.select_checkpoint(run, 'PCK') == (
        osp.join(run, 'best_PCK_epoch_5.pth'), 'best (PCK)')
    assert tool.select_checkpoint(run, 'PCK/visible') == (
        osp.join(run, 'best_PCK_visible_epoch_6.pth'), 'best (PCK/visible)')
    assert tool.select_checkpoint(run, 'auto')[0] == osp.join(
        run, 'best_AUC_epoch_7.pth')
    # no best checkpoint: last_checkpoint, else the newest epoch_N.pth
    assert tool.select_checkpoint(run, None) == (
        osp.join(run, 'epoch_6.pth'), 'last')
    assert tool.select_checkpoint(run, 'EPE') == (
        osp.join(run, 'epoch_6.pth'), 'last')
    os.remove(osp.join(run, 'last_checkpoint'))
    assert tool.select_checkpoint(run, None)[0] == osp.join(run,
                                                            'epoch_7.pth')
    empty = str(tmp_path / 'empty')
    os.makedirs(empty)
    with pytest.raises(tool.AblationError, match='left no checkpoint'):
        tool.select_checkpoint(empty, 'PCK')


def test_best_checkpoint_key_follows_config_and_options(tool):
    assert tool.best_checkpoint_key(CPM, []) == 'PCK'
    assert tool.best_checkpoint_key(
        CPM, ['default_hooks.checkpoint.save_best=None']) is None
    assert tool.best_checkpoint_key(
        CPM, ['default_hooks.checkpoint.save_best=[AUC,PCK]']) == 'AUC'


def write_lines(path, rows, cut_tail=False):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        for row in rows:
            f.write(json.dumps(row) + '\n')
        if cut_tail:
            f.write('{"loss": 0.1, "ite')


def test_learning_curve_merges_attempts_later_wins(tool, tmp_path):
    run = str(tmp_path / 'run')

    def train(it, epoch, loss):
        return dict(lr=0.001, loss=loss, loss_pose=loss, time=1.5,
                    data_time=0.1, memory=100, epoch=epoch, iter=it, step=it)

    # the first attempt was killed during epoch 2 (iteration 3), cut line
    write_lines(osp.join(run, '20250101_000000', 'vis_data', 'scalars.json'),
                [train(1, 1, 0.9), train(2, 1, 0.8),
                 dict(PCK=0.2, EPE=9.0, time=2.0, data_time=0.1, step=1),
                 train(3, 2, 0.75)], cut_tail=True)
    # the resumed attempt repeats iteration 3
    write_lines(osp.join(run, '20250101_010000', 'vis_data', 'scalars.json'),
                [train(3, 2, 0.7), train(4, 2, 0.6),
                 dict(PCK=0.4, EPE=7.0, time=2.0, data_time=0.1, step=2)])
    os.makedirs(osp.join(run, 'test', '20250101_020000', 'vis_data'))
    curve = tool.read_learning_curve(run)
    assert curve['train'] == [
        dict(lr=0.001, loss=loss, loss_pose=loss, iter=it, epoch=ep)
        for it, ep, loss in ((1, 1, 0.9), (2, 1, 0.8), (3, 2, 0.7),
                             (4, 2, 0.6))]
    assert curve['val'] == [dict(PCK=0.2, EPE=9.0, step=1),
                            dict(PCK=0.4, EPE=7.0, step=2)]


# ---------------------------------------------------- summary, no training

# PCK of 2 configs x 3 seeds: differences LPM - CPM = [0.01, 0.03, 0.02]
PCK = {'cpm': {0: 0.70, 1: 0.72, 2: 0.71}, 'lpm': {0: 0.71, 1: 0.75, 2: 0.73}}


def fake_study(work):
    for config, key in ((CPM, 'cpm'), (LPM, 'lpm')):
        for seed in (0, 1, 2):
            pck = PCK[key][seed]
            fake_finished_pair(work, config, seed, {
                'PCK': pck, 'AUC': pck / 2, 'EPE': 10 * (1 - pck),
                'note': 'not a number', 'PCK/visible': pck + 0.01})
            run_dir = osp.join(work, osp.splitext(osp.basename(config))[0],
                               f'seed{seed}')
            write_lines(
                osp.join(run_dir, '20250101_000000', 'vis_data',
                         'scalars.json'),
                [dict(loss_pose=1.0 - seed / 10, lr=0.001, epoch=1, iter=5,
                      step=5),
                 dict(PCK=0.3 + seed / 100, step=1),
                 dict(PCK=pck, step=2)])
    # this one has an extra metric: not common, so not in the default table
    with open(osp.join(work, 'cpm_synthetic_cpu', 'seed2', 'metrics.json'),
              'w') as f:
        json.dump({'PCK': 0.71, 'AUC': 0.355, 'EPE': 2.9,
                   'PCK/visible': 0.72, 'extra': 1.0}, f)


def test_summary_of_finished_pairs_by_hand(tool, capsys, tmp_path):
    work = str(tmp_path / 'study')
    fake_study(work)
    code, out, err = run_main(tool, capsys, '--configs', CPM, LPM, '--seeds',
                              '0', '1', '2', '--work-dir', work)
    assert code == 0, err
    for i, pair in enumerate([(n, s) for n in ('cpm', 'lpm')
                              for s in (0, 1, 2)]):
        name = f'{pair[0]}_synthetic_cpu' if pair[0] == 'cpm' else \
            'lpm_g1g6_synthetic_cpu'
        assert f'[{i + 1}/6] {name} seed {pair[1]}: skipped (finished)' in out
    with open(osp.join(work, 'summary.json')) as f:
        summary = json.load(f)
    assert summary['metrics'] == ['PCK', 'AUC', 'EPE', 'PCK/visible']
    assert summary['plot_metric'] == 'PCK'
    assert summary['reference'] == 'cpm_synthetic_cpu'
    assert [(r['config'], r['seed']) for r in summary['runs']] == [
        (n, s) for n in ('cpm_synthetic_cpu', 'lpm_g1g6_synthetic_cpu')
        for s in (0, 1, 2)]
    cpm = summary['aggregates']['cpm_synthetic_cpu']['PCK']
    assert (cpm['mean'], cpm['std'], cpm['n']) == pytest.approx(
        (0.71, 0.01, 3))
    diff = summary['differences']['lpm_g1g6_synthetic_cpu']['PCK']
    half = T_975[2] * 0.01 / math.sqrt(3)
    assert (diff['mean'], diff['low'], diff['high']) == pytest.approx(
        (0.02, 0.02 - half, 0.02 + half), abs=1e-5)
    with open(osp.join(work, 'summary.md')) as f:
        md = f.read()
    # EPE: cpm [3.0, 2.8, 2.9] (mean 2.9, sd 0.1); lpm [2.9, 2.5, 2.7]
    # (mean 2.7, sd 0.2); differences [-0.1, -0.3, -0.2] (sd 0.1)
    assert ('| cpm_synthetic_cpu | 0.7100 +- 0.0100 (n=3) | 0.3550 +- 0.0050 '
            '(n=3) | 2.9000 +- 0.1000 (n=3) | 0.7200 +- 0.0100 (n=3) |') in md
    assert ('| lpm_g1g6_synthetic_cpu | 0.7300 +- 0.0200 (n=3) | 0.3650 +- '
            '0.0100 (n=3) | 2.7000 +- 0.2000 (n=3) | 0.7400 +- 0.0200 (n=3) |'
            ) in md
    assert ('| lpm_g1g6_synthetic_cpu | +0.0200 [-0.0048, +0.0448] (n=3) | '
            '+0.0100 [-0.0024, +0.0224] (n=3) | -0.2000 [-0.4484, +0.0484] '
            '(n=3) | +0.0200 [-0.0048, +0.0448] (n=3) |') in md
    assert ('| cpm_synthetic_cpu | 2 | 0.7100 | 0.3550 | 2.9000 | 0.7200 | '
            'best_PCK_epoch_3.pth (best (PCK)) | 1m12s |') in md
    assert_png(osp.join(work, 'summary.png'))
    # learning curves: validation PCK per epoch, mean over seeds
    # (cpm: 0.3 + 0.01 * seed at epoch 1, the test PCK at epoch 2)
    assert ('| cpm_synthetic_cpu | 0.3100 | 0.7100 |') in md
    assert ('| lpm_g1g6_synthetic_cpu | 0.3100 | 0.7300 |') in md
    assert_png(osp.join(work, 'summary_curves.png'))
    # the same table is printed
    assert '| Config - cpm_synthetic_cpu | PCK | AUC | EPE | PCK/visible |' \
        in out

    # chosen metrics, and their errors
    code, _, err = run_main(tool, capsys, '--configs', CPM, LPM, '--seeds',
                            '0', '1', '2', '--work-dir', work, '--metrics',
                            'EPE', 'PCK/visible', '--plot-metric', 'EPE')
    assert code == 0, err
    with open(osp.join(work, 'summary.json')) as f:
        summary = json.load(f)
    assert summary['metrics'] == ['EPE', 'PCK/visible']
    assert summary['plot_metric'] == 'EPE'
    code, _, err = run_main(tool, capsys, '--configs', CPM, LPM, '--seeds',
                            '0', '1', '2', '--work-dir', work, '--metrics',
                            'extra')
    assert code == 1
    assert ("--metrics: cpm_synthetic_cpu/seed0 has no numeric metric "
            "'extra'; the metrics of every run: ['PCK', 'AUC', 'EPE', "
            "'PCK/visible']. Run again with other --metrics: finished pairs "
            'are skipped') in err
    code, _, err = run_main(tool, capsys, '--configs', CPM, LPM, '--seeds',
                            '0', '1', '2', '--work-dir', work,
                            '--plot-metric', 'AP')
    assert code == 1
    assert ("--plot-metric: 'AP' is not one of the table's metrics ['PCK', "
            "'AUC', 'EPE', 'PCK/visible']") in err


def test_one_seed_says_n_a(tool, capsys, tmp_path):
    work = str(tmp_path / 'study')
    fake_finished_pair(work, CPM, 4, {'PCK': 0.7})
    fake_finished_pair(work, LPM, 4, {'PCK': 0.75})
    code, _, err = run_main(tool, capsys, '--configs', CPM, LPM, '--seeds',
                            '4', '--work-dir', work)
    assert code == 0, err
    with open(osp.join(work, 'summary.md')) as f:
        md = f.read()
    assert '| cpm_synthetic_cpu | 0.7000 (n=1, std n/a) |' in md
    assert '| lpm_g1g6_synthetic_cpu | +0.0500 (n=1, CI n/a) |' in md
    with open(osp.join(work, 'summary.json')) as f:
        summary = json.load(f)  # strict json: the undefined std is null
    assert summary['aggregates']['cpm_synthetic_cpu']['PCK']['std'] is None


def test_other_options_than_the_finished_pairs_are_an_error(
        tool, capsys, tmp_path):
    work = str(tmp_path / 'study')
    run_dir = fake_finished_pair(work, CPM, 0, {'PCK': 0.7},
                                 options=['train_cfg.max_epochs=3'])
    code, _, err = run_main(tool, capsys, '--configs', CPM, '--seeds', '0',
                            '--work-dir', work, '--cfg-options',
                            'train_cfg.max_epochs=5')
    assert code == 1
    assert (f"{run_dir} was run with other options (cfg_options: "
            "['train_cfg.max_epochs=3'] there, ['train_cfg.max_epochs=5'] "
            'now). Give this study another --work-dir, or delete that folder '
            'to run the pair again') in err


def test_a_failing_pair_stops_with_its_log_tail(tool, capsys, tmp_path,
                                                monkeypatch):
    work = str(tmp_path / 'study')
    finished = fake_finished_pair(work, CPM, 0, {'PCK': 0.7})

    def failing_train(pair, options, deterministic, resume_from):
        return [sys.executable, '-c',
                'import sys\nfor i in range(50): print("line", i)\n'
                'sys.exit(3)']

    monkeypatch.setattr(tool, 'train_command', failing_train)
    code, out, err = run_main(tool, capsys, '--configs', CPM, LPM, '--seeds',
                              '0', '--work-dir', work)
    assert code == 1
    failed = osp.join(work, 'lpm_g1g6_synthetic_cpu', 'seed0')
    log = osp.join(failed, 'train.log')
    assert '[1/2] cpm_synthetic_cpu seed 0: skipped (finished)' in out
    assert '[2/2] lpm_g1g6_synthetic_cpu seed 0: training ...' in out
    assert (f'[2/2] lpm_g1g6_synthetic_cpu seed 0: training FAILED (exit '
            f'code 3); the last 40 lines of {log}:') in out
    assert '    line 49' in out and '    line 10' in out
    assert '    line 9\n' not in out
    assert ('run_ablation.py: stopped at lpm_g1g6_synthetic_cpu seed 0; the '
            'finished pairs are kept, run the same command again to resume'
            ) in err
    assert not osp.exists(osp.join(failed, 'metrics.json'))
    assert osp.isfile(osp.join(finished, 'metrics.json'))
    assert not osp.exists(osp.join(work, 'summary.json'))
    with open(osp.join(failed, 'run.json')) as f:
        assert json.load(f)['attempts'] == [
            dict(mode='scratch', resumed_from=None, train_s=None)]


def test_format_duration(tool):
    assert tool.format_duration(252.4) == '4m12s'
    assert tool.format_duration(7.0) == '0m07s'
    assert tool.format_duration(3723) == '1h02m03s'


def assert_png(path):
    from matplotlib.image import imread
    with open(path, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    image = imread(path)
    assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 300
    assert image[..., :3].std() > 0.05  # not a blank canvas


# ------------------------------------------------------------- end to end


def timestamp_dirs(work):
    return sorted(d for d, _, _ in os.walk(work)
                  if re.fullmatch(r'\d{8}_\d{6}', osp.basename(d)))


@pytest.mark.slow
@pytest.mark.long
def test_study_end_to_end(tiny_hands, tmp_path):
    """2 tiny configs x 2 seeds, 1 epoch of 4 images each; then a call that
    skips everything; then one pair's metrics.json deleted: only that pair
    runs again, resuming from its checkpoint."""
    work = str(tmp_path / 'study')
    options = [o for o in TINY_OPTIONS if not o.startswith('randomness.')]
    options += [*data_options(tiny_hands), 'train_cfg.max_epochs=1',
                'train_dataloader.dataset.indices=4',
                'val_dataloader.dataset.indices=4',
                'test_dataloader.dataset.indices=4']
    argv = [TOOL, '--configs', 'configs/nsrm/cpm_synthetic_cpu.py',
            'configs/nsrm/lpm_g1g6_synthetic_cpu.py', '--seeds', '0', '1',
            '--work-dir', work, '--cfg-options', *options]
    names = ['cpm_synthetic_cpu', 'lpm_g1g6_synthetic_cpu']
    pairs = [(n, s) for n in names for s in (0, 1)]
    start = time.monotonic()
    first = run_tool(argv).stdout
    first_s = time.monotonic() - start
    for i, (name, seed) in enumerate(pairs, 1):
        prefix = rf'\[{i}/4\] {name} seed {seed}: '
        assert re.search(prefix + r'training \.\.\.\n' + prefix +
                         r'testing best_PCK_epoch_1\.pth \(best \(PCK\)\) '
                         r'\.\.\.\n' + prefix +
                         r'done in \d+m\d\ds: PCK\S* \d+\.\d{4}\n',
                         first), first

    with open(osp.join(work, 'summary.json')) as f:
        summary = json.load(f)
    runs = summary['runs']
    assert [(r['config'], r['seed']) for r in runs] == pairs
    # every numeric test metric the runs share (more as evaluators are added)
    metrics = summary['metrics']
    assert {'PCK', 'AUC', 'EPE'} <= set(metrics)
    assert all(set(metrics) <= set(r['metrics']) for r in runs)
    assert summary['plot_metric'] == ('PCK-mean' if 'PCK-mean' in metrics
                                      else 'PCK')
    for run in runs:
        assert run['checkpoint'] == (f'{run["config"]}/seed{run["seed"]}/'
                                     'best_PCK_epoch_1.pth')
        assert run['checkpoint_rule'] == 'best (PCK)'
        assert run['cfg_options'] == options
        assert run['wall_time_s'] > 0
        # the learning curve: one training iteration, one validation; the
        # best checkpoint is epoch 1's, tested on the validation images
        (train,), (val,) = run['learning_curve']['train'], \
            run['learning_curve']['val']
        assert train['iter'] == 1 and train['epoch'] == 1
        assert train['loss'] > 0 and 'time' not in train
        assert val['step'] == 1
        for metric in metrics:
            assert val[metric] == pytest.approx(run['metrics'][metric],
                                                rel=1e-5)
        with open(osp.join(work, run['run_dir'], 'metrics.json')) as f:
            assert json.load(f) == run['metrics']
    # the seeds reach the runs: seed 0 and 1 train differently
    for name in names:
        losses = [r['learning_curve']['train'][0]['loss'] for r in runs
                  if r['config'] == name]
        assert losses[0] != losses[1]

    # the tables, by hand from the per-seed numbers
    with open(osp.join(work, 'summary.md')) as f:
        md = f.read()
    for name in names:
        cells = []
        for metric in metrics:
            a, b = (r['metrics'][metric] for r in runs if r['config'] == name)
            mean, sd = (a + b) / 2, abs(a - b) / math.sqrt(2)
            cells.append(f'{mean:.4f} +- {sd:.4f} (n=2)')
        assert f'| {name} | ' + ' | '.join(cells) + ' |' in md
    diff = summary['differences']['lpm_g1g6_synthetic_cpu']['EPE']
    d0, d1 = (runs[2 + s]['metrics']['EPE'] - runs[s]['metrics']['EPE']
              for s in (0, 1))
    half = T_975[1] * abs(d0 - d1) / math.sqrt(2) / math.sqrt(2)
    mean = (d0 + d1) / 2
    assert (diff['mean'], diff['low'], diff['high']) == pytest.approx(
        (mean, mean - half, mean + half), abs=1e-3 * (1 + abs(half)))
    row = next(line for line in md.splitlines()
               if line.startswith('| lpm_g1g6_synthetic_cpu | +')
               or line.startswith('| lpm_g1g6_synthetic_cpu | -'))
    cells = [cell.strip() for cell in row.strip('|').split('|')]
    assert cells[1 + metrics.index('EPE')] == (
        f'{diff["mean"]:+.4f} [{diff["low"]:+.4f}, {diff["high"]:+.4f}] (n=2)')
    assert_png(osp.join(work, 'summary.png'))

    # a second call skips every pair and trains nothing
    stamps = timestamp_dirs(work)
    os.remove(osp.join(work, 'summary.png'))
    start = time.monotonic()
    second = run_tool(argv).stdout
    assert time.monotonic() - start < first_s / 2
    for i, (name, seed) in enumerate(pairs, 1):
        assert f'[{i}/4] {name} seed {seed}: skipped (finished)\n' in second
    assert 'training' not in second and 'testing' not in second
    assert timestamp_dirs(work) == stamps
    assert_png(osp.join(work, 'summary.png'))

    # a pair without metrics.json (as if killed while testing) runs again,
    # resuming from its checkpoint; the others are skipped
    lpm1 = osp.join(work, 'lpm_g1g6_synthetic_cpu', 'seed1')
    with open(osp.join(lpm1, 'metrics.json')) as f:
        before = json.load(f)
    os.remove(osp.join(lpm1, 'metrics.json'))
    third = run_tool(argv).stdout
    assert third.count('skipped (finished)') == 3
    assert ('[4/4] lpm_g1g6_synthetic_cpu seed 1: resuming training from '
            'epoch_1.pth ...') in third
    assert re.search(r'\[4/4\] lpm_g1g6_synthetic_cpu seed 1: done in', third)
    with open(osp.join(lpm1, 'metrics.json')) as f:
        assert json.load(f) == pytest.approx(before, rel=1e-5)
    with open(osp.join(lpm1, 'run.json')) as f:
        attempts = json.load(f)['attempts']
    assert [a['mode'] for a in attempts] == ['scratch', 'resume']
    assert attempts[1]['resumed_from'] == \
        'lpm_g1g6_synthetic_cpu/seed1/epoch_1.pth'
    others = [d for d in timestamp_dirs(work) if d not in stamps]
    assert others and all(d.startswith(lpm1) for d in others)
