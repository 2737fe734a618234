"""Runs an ablation study: trains and tests every (config, seed) pair and
summarises each metric over the seeds.

Example::

    python tools/analysis/run_ablation.py \
        --configs configs/nsrm/cpm_synthetic_cpu.py \
                  configs/nsrm/lpm_g1g6_synthetic_cpu.py \
        --seeds 0 1 2 --work-dir work_dirs/ablation_lpm

Each pair runs in its own processes, in ``DIR/<config name>/seed<k>/``:
``tools/train.py CONFIG --work-dir DIR/<name>/seed<k> --cfg-options
<--cfg-options> randomness.seed=<k>`` (MMEngine seeds Python, NumPy and
torch with it), then ``tools/test.py`` on the checkpoint the config selects
(its best checkpoint, ``best_<save_best>_*.pth``, when the config's
``default_hooks.checkpoint.save_best`` made one; else the last complete
checkpoint, ``last_checkpoint``) with ``--work-dir DIR/<name>/seed<k>/test``.
``randomness.deterministic`` stays off unless ``--deterministic`` is given:
the spread over seeds is what the study measures, and deterministic
algorithms (``torch.use_deterministic_algorithms``) only make one seed
repeat bit for bit on a GPU, at a cost in speed.

Resume: a pair is finished when ``DIR/<name>/seed<k>/metrics.json`` (the
test metrics) exists; it is written atomically, last, after ``run.json``
(the pair's options, the checkpoint tested, the times). A call skips the
finished pairs. An unfinished pair (killed, or failed) is run again: its
training resumes (``--resume``) from its last complete checkpoint when it
has one (CrashSafeRunner writes checkpoints and ``last_checkpoint``
atomically), else starts from scratch. A pair whose ``run.json`` records
other options than this call's is an error (use another ``--work-dir``).

Outputs in DIR: ``summary.json`` (every run: options, wall time,
checkpoint, metrics, learning curve from ``vis_data/scalars.json``; per
config mean and std; paired differences), ``summary.md`` (mean +- std per
config and metric; each config's difference to the first config paired by
seed, with a 95% Student's t confidence interval over the seeds) and
``summary.png`` (a bar chart of one metric: config means, std error bars,
the per-seed values as dots).
"""
import argparse
import json
import math
import os
import os.path as osp
import re
import shlex
import subprocess
import sys
import time
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)

from projects.nsrm.engine.runner import checkpoint_files  # noqa: E402
from projects.nsrm.utils import ablation, runner_setup  # noqa: E402

#: cfg-options the tool sets itself, per run.
MANAGED_OPTIONS = {
    'randomness.seed': 'each run gets its seed from --seeds',
    'work_dir': 'each run works in DIR/<config name>/seed<k>',
    'resume': 'the tool resumes unfinished runs itself',
    'load_from': 'tools/test.py would test these weights instead of the '
    "run's checkpoint; set init_cfg in the config instead",
}
#: Metrics shown in the progress lines and plotted by default, in order.
MAIN_METRICS = ('PCK-mean', 'PCK')
#: scalars.json keys that are timings, not part of a learning curve.
TIMING_KEYS = ('time', 'data_time', 'memory')
#: How many log lines a failed run prints.
LOG_TAIL = 40

_TIMESTAMP = re.compile(r'^\d{8}_\d{6}$')
_BEST = re.compile(r'^best_(.+)_(?:epoch|iter)_(\d+)\.pth$')


class AblationError(ValueError):
    """An option, a config or a run directory the study cannot use."""


class Pair(NamedTuple):
    """One (config, seed) run of the study."""
    index: int  # 1-based position in the study
    name: str  # the config's file name without .py
    config: str  # the config path as given
    seed: int
    run_dir: str  # DIR/<name>/seed<seed>

    @property
    def tag(self) -> str:
        return f'{self.name} seed {self.seed}'


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train and test every (config, seed) pair, skip the '
        'finished ones, and summarise the metrics over the seeds '
        '(summary.json, summary.md, summary.png in --work-dir).')
    parser.add_argument('--configs', nargs='+', required=True,
                        metavar='CFG', help='config files; the first one is '
                        'the reference of the paired differences')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2],
                        help='seeds (randomness.seed) of every config '
                        '(default: 0 1 2)')
    parser.add_argument('--work-dir', required=True,
                        help='the study folder: DIR/<config name>/seed<k>/ '
                        'per run and the summary files')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        metavar='KEY=VALUE', help='options for every run '
                        '(training and test), as for tools/train.py')
    parser.add_argument('--metrics', nargs='+',
                        help='metrics of the tables (default: every numeric '
                        'test metric that all runs have)')
    parser.add_argument('--plot-metric',
                        help='the metric of summary.png (default: the first '
                        'of PCK-mean, PCK among the table\'s metrics, else '
                        'its first metric)')
    parser.add_argument('--deterministic', action='store_true',
                        help='also set randomness.deterministic=True '
                        '(bit-exact repeats on GPU, slower)')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the plan (what runs, resumes or is '
                        'skipped, and the commands) and run nothing')
    return parser.parse_args(argv)


# ----------------------------------------------------------------- checks


def check_options(options: Sequence[str]) -> None:
    """Each ``--cfg-options`` item is ``KEY=VALUE`` and leaves the keys the
    tool manages alone."""
    for option in options:
        key = option.split('=', 1)[0]
        if '=' not in option or not key:
            raise AblationError(
                f'--cfg-options: {option!r} is not KEY=VALUE, e.g. '
                'train_cfg.max_epochs=12')
        if key in MANAGED_OPTIONS:
            raise AblationError(
                f'--cfg-options: drop {option!r}: {MANAGED_OPTIONS[key]}')


def make_plan(configs: Sequence[str], seeds: Sequence[int],
              work_dir: str) -> List[Pair]:
    """The study's pairs, configs outer and seeds inner, after checking the
    configs and seeds."""
    for config in configs:
        if not osp.isfile(config):
            raise AblationError(
                f'--configs: config file not found: {config!r} (looked in '
                f'{osp.abspath(config)}); configs live under configs/, e.g. '
                'configs/nsrm/cpm_synthetic_cpu.py')
        if not config.endswith('.py'):
            raise AblationError(f'--configs: {config!r} is not a .py config')
    names: Dict[str, str] = {}
    for config in configs:
        name = osp.splitext(osp.basename(config))[0]
        if name in names:
            same = osp.realpath(names[name]) == osp.realpath(config)
            raise AblationError(
                f'--configs: {config!r} is given twice; give each config once'
                if same else
                f'--configs: {names[name]!r} and {config!r} have the same '
                f'name {name!r}, and each config\'s runs go to DIR/{name}/; '
                'copy one to a file with another name')
        names[name] = config
    repeated = sorted({s for s in seeds if list(seeds).count(s) > 1})
    if repeated:
        raise AblationError(f'--seeds: {repeated} given more than once; give '
                            f'each seed once, e.g. --seeds 0 1 2')
    bad = [s for s in seeds if not 0 <= s < 2**32]
    if bad:
        raise AblationError(f'--seeds: {bad} out of range; seeds are '
                            'integers in [0, 2**32)')
    pairs = []
    for name, config in names.items():
        for seed in seeds:
            pairs.append(Pair(len(pairs) + 1, name, config, seed,
                              osp.join(work_dir, name, f'seed{seed}')))
    return pairs


def best_checkpoint_key(config: str, options: Sequence[str]) -> Optional[str]:
    """The metric the config's checkpoint hook keeps the best checkpoint
    of (the first of ``default_hooks.checkpoint.save_best``), after the
    ``--cfg-options``; None when it keeps none. Loading the config also
    checks it and the options before anything runs."""
    from mmengine.config import DictAction
    cfg = runner_setup.load_config(config)
    if options:
        parser = argparse.ArgumentParser()
        parser.add_argument('--options', nargs='+', action=DictAction)
        cfg.merge_from_dict(parser.parse_args(['--options', *options]).options)
    save_best = cfg.get('default_hooks', {}).get('checkpoint', {}).get(
        'save_best')
    if isinstance(save_best, (list, tuple)):
        save_best = save_best[0] if save_best else None
    return save_best or None


def select_checkpoint(run_dir: str, best_key: Optional[str]
                      ) -> Tuple[str, str]:
    """The checkpoint of a trained run that the study tests.

    Args:
        run_dir (str): The run's work dir.
        best_key (str, optional): :func:`best_checkpoint_key` of its config.

    Returns:
        tuple[str, str]: The path and the rule that chose it: ``'best
        (<key>)'`` (the ``best_<key>_*.pth`` with the largest epoch or
        iteration) or ``'last'`` (``last_checkpoint``, else the newest
        ``epoch_N.pth``).
    """
    if best_key is not None:
        wanted = best_key.replace('/', '_')
        found = []
        for name in os.listdir(run_dir):
            match = _BEST.match(name)
            if match and (best_key == 'auto' or match.group(1) == wanted):
                found.append((int(match.group(2)), name))
        if found:
            return osp.join(run_dir, max(found)[1]), f'best ({best_key})'
    last = checkpoint_files.find_latest_checkpoint(run_dir)
    if last is None:
        raise AblationError(f'{run_dir}: training finished but left no '
                            'checkpoint (no best_*.pth, last_checkpoint or '
                            'epoch_*.pth); check default_hooks.checkpoint')
    return last, 'last'


# ------------------------------------------------------------ run folders


def read_json(path: str):
    with open(path) as f:
        return json.load(f)


def write_json(path: str, data) -> None:
    """Writes ``data`` as json through a temporary file and a rename."""
    text = json.dumps(_json_safe(data), indent=2) + '\n'
    checkpoint_files.write_text_atomically(path, text)


def _json_safe(data):
    """``data`` with NaN/inf floats as None (strict json has no NaN)."""
    if isinstance(data, dict):
        return {str(k): _json_safe(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_json_safe(v) for v in data]
    if isinstance(data, float) and not math.isfinite(data):
        return None
    return data


def pair_spec(pair: Pair, options: Sequence[str],
              deterministic: bool) -> dict:
    """What defines a run: a rerun with other values is another study."""
    return dict(config=pair.name, config_path=osp.realpath(pair.config),
                seed=pair.seed, cfg_options=list(options),
                deterministic=deterministic)


def load_state(pair: Pair, spec: dict) -> Optional[dict]:
    """The pair's ``run.json``, checked against this call's spec; None for
    a new pair."""
    path = osp.join(pair.run_dir, 'run.json')
    if not osp.isfile(path):
        return None
    state = read_json(path)
    changed = [f'{key}: {state.get(key)!r} there, {value!r} now'
               for key, value in spec.items() if state.get(key) != value]
    if changed:
        raise AblationError(
            f'{pair.run_dir} was run with other options ({"; ".join(changed)}'
            '). Give this study another --work-dir, or delete that folder to '
            'run the pair again')
    return state


def is_finished(pair: Pair) -> bool:
    return osp.isfile(osp.join(pair.run_dir, 'metrics.json'))


def numeric_metrics(metrics: dict) -> Dict[str, float]:
    """The finite numeric entries of a metrics dict, in its order."""
    return {k: float(v) for k, v in metrics.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)
            and math.isfinite(v)}


def read_learning_curve(run_dir: str) -> Dict[str, List[dict]]:
    """The training losses and validation metrics of a run, from the
    ``<timestamp>/vis_data/scalars.json`` of each of its attempts.

    Attempts are read in time order and a later attempt's row replaces an
    earlier one of the same step (a resumed or restarted run repeats the
    steps its killed attempt had begun), so the curve is that of the
    finished training. Timings (``time``, ``data_time``, ``memory``) are
    left out; a cut last line of a killed attempt is ignored.

    Returns:
        dict: ``train``: rows with ``iter`` (and ``epoch``), the losses and
        ``lr``, one per logged iteration; ``val``: rows with ``step`` (the
        epoch of an epoch-based training) and the validation metrics.
    """
    train: Dict[int, dict] = {}
    val: Dict[int, dict] = {}
    stamps = sorted(d for d in os.listdir(run_dir) if _TIMESTAMP.match(d))
    for stamp in stamps:
        path = osp.join(run_dir, stamp, 'vis_data', 'scalars.json')
        if not osp.isfile(path):
            continue
        with open(path) as f:
            lines = f.read().splitlines()
        for line in lines:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(row, dict) or 'step' not in row:
                continue
            values = {k: v for k, v in numeric_metrics(row).items()
                      if k not in TIMING_KEYS}
            if 'iter' in row:
                values.pop('step')
                values['iter'] = int(row['iter'])
                if 'epoch' in row:
                    values['epoch'] = int(row['epoch'])
                train[values['iter']] = values
            else:
                values['step'] = int(row['step'])
                val[values['step']] = values
    return dict(train=[train[k] for k in sorted(train)],
                val=[val[k] for k in sorted(val)])


# ---------------------------------------------------------------- running


def format_duration(seconds: float) -> str:
    """``'4m12s'``, or ``'1h02m03s'`` from an hour on."""
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f'{hours}h{minutes:02d}m{secs:02d}s'
    return f'{minutes}m{secs:02d}s'


def run_options(pair: Pair, options: Sequence[str],
                deterministic: bool) -> List[str]:
    extra = ['randomness.deterministic=True'] if deterministic else []
    return [*options, f'randomness.seed={pair.seed}', *extra]


def train_command(pair: Pair, options: Sequence[str], deterministic: bool,
                  resume_from: Optional[str]) -> List[str]:
    resume = ['--resume', resume_from] if resume_from else []
    return [sys.executable, osp.join(REPO, 'tools', 'train.py'), pair.config,
            '--work-dir', pair.run_dir, *resume, '--cfg-options',
            *run_options(pair, options, deterministic)]


def test_command(pair: Pair, checkpoint: str, options: Sequence[str],
                 deterministic: bool) -> List[str]:
    test_dir = osp.join(pair.run_dir, 'test')
    return [sys.executable, osp.join(REPO, 'tools', 'test.py'), pair.config,
            checkpoint, '--work-dir', test_dir, '--out',
            osp.join(test_dir, 'metrics.json'), '--cfg-options',
            *run_options(pair, options, deterministic)]


def run_logged(command: Sequence[str], log_path: str, env: dict) -> int:
    """Runs ``command`` with its output appended to ``log_path``."""
    with open(log_path, 'a') as log:
        log.write(f'\n$ {shlex.join(command)}\n')
        log.flush()
        return subprocess.run(command, stdout=log, stderr=subprocess.STDOUT,
                              env=env).returncode


def print_failure(prefix: str, what: str, code: int, log_path: str) -> None:
    with open(log_path) as f:
        tail = f.read().splitlines()[-LOG_TAIL:]
    print(f'{prefix}: {what} FAILED (exit code {code}); the last '
          f'{len(tail)} lines of {log_path}:', flush=True)
    print('\n'.join('    ' + line for line in tail), flush=True)


def run_pair(pair: Pair, total: int, args: argparse.Namespace,
             best_key: Optional[str], env: dict) -> bool:
    """Trains (or resumes) and tests one pair; False when a step failed."""
    prefix = f'[{pair.index}/{total}] {pair.tag}'
    spec = pair_spec(pair, args.cfg_options, args.deterministic)
    state = load_state(pair, spec)
    if is_finished(pair):
        print(f'{prefix}: skipped (finished)', flush=True)
        return True
    started = time.monotonic()
    os.makedirs(pair.run_dir, exist_ok=True)
    state = state or dict(spec, attempts=[])
    run_json = osp.join(pair.run_dir, 'run.json')
    resume_from = checkpoint_files.find_latest_checkpoint(pair.run_dir)
    rel = (osp.relpath(resume_from, args.work_dir)
           if resume_from else None)
    state['attempts'].append(
        dict(mode='resume' if resume_from else 'scratch',
             resumed_from=rel, train_s=None))
    write_json(run_json, state)
    if resume_from:
        print(f'{prefix}: resuming training from '
              f'{osp.basename(resume_from)} ...', flush=True)
    else:
        print(f'{prefix}: training ...', flush=True)
    log_path = osp.join(pair.run_dir, 'train.log')
    code = run_logged(
        train_command(pair, args.cfg_options, args.deterministic,
                      resume_from), log_path, env)
    if code != 0:
        print_failure(prefix, 'training', code, log_path)
        return False
    state['attempts'][-1]['train_s'] = round(time.monotonic() - started, 2)
    write_json(run_json, state)

    checkpoint, rule = select_checkpoint(pair.run_dir, best_key)
    print(f'{prefix}: testing {osp.basename(checkpoint)} ({rule}) ...',
          flush=True)
    test_started = time.monotonic()
    out = osp.join(pair.run_dir, 'test', 'metrics.json')
    if osp.isfile(out):
        os.remove(out)  # never read a previous attempt's numbers
    log_path = osp.join(pair.run_dir, 'test.log')
    code = run_logged(
        test_command(pair, checkpoint, args.cfg_options, args.deterministic),
        log_path, env)
    if code != 0 or not osp.isfile(out):
        print_failure(prefix, 'testing', code, log_path)
        return False
    metrics = read_json(out)
    if not isinstance(metrics, dict) or not numeric_metrics(metrics):
        print(f'{prefix}: testing FAILED: {out} holds no numeric metric '
              f'({metrics!r}); check test_evaluator', flush=True)
        return False
    state.update(
        checkpoint=osp.relpath(checkpoint, args.work_dir),
        checkpoint_rule=rule,
        test_s=round(time.monotonic() - test_started, 2))
    state['wall_time_s'] = round(
        sum(a['train_s'] or 0 for a in state['attempts']) + state['test_s'],
        2)
    write_json(run_json, state)
    write_json(osp.join(pair.run_dir, 'metrics.json'), metrics)  # last
    shown = numeric_metrics(metrics)
    main = next((m for m in (args.plot_metric, *MAIN_METRICS) if m in shown),
                next(iter(shown)))
    print(f'{prefix}: done in {format_duration(time.monotonic() - started)}'
          f': {main} {shown[main]:.4f}', flush=True)
    return True


def print_plan(pairs: Sequence[Pair], args: argparse.Namespace,
               best_keys: Dict[str, Optional[str]]) -> None:
    for pair in pairs:
        prefix = f'[{pair.index}/{len(pairs)}] {pair.tag}'
        load_state(pair, pair_spec(pair, args.cfg_options,
                                   args.deterministic))
        if is_finished(pair):
            print(f'{prefix}: skip (finished)')
            continue
        resume_from = checkpoint_files.find_latest_checkpoint(pair.run_dir)
        key = best_keys[pair.name]
        rule = (f'its best ({key}) checkpoint, else the last' if key else
                'its last checkpoint')
        what = (f'resume from {osp.basename(resume_from)}' if resume_from
                else 'train from scratch')
        print(f'{prefix}: {what}, then test {rule}')
        print('    ' + shlex.join(train_command(
            pair, args.cfg_options, args.deterministic, resume_from)))


# ---------------------------------------------------------------- summary


def collect_runs(pairs: Sequence[Pair], work_dir: str) -> List[dict]:
    """Every finished pair's record: run.json, the metrics and the
    learning curve."""
    runs = []
    for pair in pairs:
        state = read_json(osp.join(pair.run_dir, 'run.json'))
        runs.append(dict(
            state,
            run_dir=osp.relpath(pair.run_dir, work_dir),
            metrics=read_json(osp.join(pair.run_dir, 'metrics.json')),
            learning_curve=read_learning_curve(pair.run_dir)))
    return runs


def choose_metrics(runs: Sequence[dict],
                   requested: Optional[Sequence[str]]) -> List[str]:
    """``requested``, checked, or the numeric metrics that every run has
    (in the first run's order)."""
    numeric = [numeric_metrics(run['metrics']) for run in runs]
    common = [m for m in numeric[0] if all(m in n for n in numeric)]
    if not requested:
        if not common:
            raise AblationError('the runs share no numeric test metric; '
                                'check the configs\' test_evaluator')
        return common
    for metric in requested:
        for run, values in zip(runs, numeric):
            if metric not in values:
                raise AblationError(
                    f'--metrics: {run["run_dir"]} has no numeric metric '
                    f'{metric!r}; the metrics of every run: {common}. Run '
                    'again with other --metrics: finished pairs are skipped')
    if len(set(requested)) != len(requested):
        raise AblationError(f'--metrics: {list(requested)} repeats a metric')
    return list(requested)


def choose_plot_metric(metrics: Sequence[str],
                       requested: Optional[str]) -> str:
    if requested is None:
        return next((m for m in MAIN_METRICS if m in metrics), metrics[0])
    if requested not in metrics:
        raise AblationError(f'--plot-metric: {requested!r} is not one of the '
                            f'table\'s metrics {list(metrics)}')
    return requested


def plot_summary(stats: dict, metric: str, out: str) -> None:
    """A bar per config: the mean of ``metric``, the std as error bar and
    each seed's value as a dot; written atomically to ``out`` (PNG)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np

    names = list(stats['aggregates'])
    cells = [stats['aggregates'][name][metric] for name in names]
    x = np.arange(len(names))
    stds = [0.0 if math.isnan(c['std']) else c['std'] for c in cells]
    fig, ax = plt.subplots(figsize=(max(4.0, 1.3 * len(names) + 2), 4.0))
    ax.bar(x, [c['mean'] for c in cells], yerr=stds, capsize=5, width=0.6,
           color='tab:blue', alpha=0.55, label='mean \u00b1 std')
    for i, cell in enumerate(cells):
        values = list(cell['values'].values())
        offsets = np.linspace(-0.15, 0.15, len(values)) if len(
            values) > 1 else np.zeros(1)
        ax.scatter(x[i] + offsets, values, color='black', s=16, zorder=3,
                   label='per seed' if i == 0 else None)
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=20, ha='right')
    ax.set_ylabel(metric)
    seeds = sorted({s for c in cells for s in c['values']})
    ax.set_title(f'{metric}: mean \u00b1 std over seeds {seeds}')
    ax.grid(True, axis='y', alpha=0.3)
    ax.legend()
    fig.tight_layout()
    temporary = checkpoint_files.temporary_name(out)
    fig.savefig(temporary, dpi=120, format='png')
    plt.close(fig)
    checkpoint_files.commit_file(temporary, out)


def run_curves(runs: Sequence[dict], part: str) -> Dict[str, Dict[int, list]]:
    """Config -> seed -> the ``part`` (``'train'`` or ``'val'``) rows of
    each run's learning curve, configs in study order."""
    curves: Dict[str, Dict[int, list]] = {}
    for run in runs:
        curves.setdefault(run['config'], {})[run['seed']] = run[
            'learning_curve'][part]
    return curves


def plot_learning_curves(runs: Sequence[dict], metric: str,
                         out: str) -> None:
    """Validation ``metric`` per epoch (left) and the training pose loss
    per iteration (right), a colour per config: thin lines per seed, thick
    the mean over seeds; written atomically to ``out`` (PNG)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    panels = [('val', metric, 'step', 'epoch'),
              ('train', 'loss_pose', 'iter', 'iteration')]
    fig, axes = plt.subplots(1, 2, figsize=(11.0, 4.0))
    for ax, (part, key, step_key, label) in zip(axes, panels):
        curves = run_curves(runs, part)
        means = ablation.curve_means(curves, key, step_key)
        for i, name in enumerate(curves):
            colour = f'C{i}'
            for rows in curves[name].values():
                xy = [(r[step_key], r[key]) for r in rows if key in r]
                if xy:
                    ax.plot(*zip(*xy), color=colour, lw=0.7, alpha=0.4)
            if name in means:
                ax.plot(list(means[name]), list(means[name].values()),
                        color=colour, lw=2.0, label=name,
                        marker='o' if part == 'val' else None, ms=4)
        ax.set_xlabel(label)
        ax.set_ylabel(key)
        ax.set_title(f'{part}: {key} (thin: per seed, thick: mean)')
        ax.grid(True, alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.tight_layout()
    temporary = checkpoint_files.temporary_name(out)
    fig.savefig(temporary, dpi=110, format='png')
    plt.close(fig)
    checkpoint_files.commit_file(temporary, out)


def curves_markdown(runs: Sequence[dict], metrics: Sequence[str]) -> str:
    """One table per metric: its validation value per epoch, mean over
    seeds, a row per config (empty when no run validated)."""
    curves = run_curves(runs, 'val')
    parts = []
    for metric in metrics:
        means = ablation.curve_means(curves, metric)
        if not means:
            continue
        steps = sorted({s for m in means.values() for s in m})
        parts.append(f'Validation {metric} per epoch (mean over seeds):')
        parts.append(ablation.markdown_table(
            ['Config', *[str(s) for s in steps]],
            [[name, *[f'{means[name][s]:.4f}' if s in means[name] else ''
                      for s in steps]] for name in means]))
    return '\n\n'.join(parts)


def summary_markdown(summary: dict, runs: Sequence[dict]) -> str:
    metrics = summary['metrics']
    lines = [
        f'# Ablation: {len(summary["configs"])} configs x '
        f'{len(summary["seeds"])} seeds',
        '',
        f'Seeds {summary["seeds"]}; --cfg-options '
        f'`{" ".join(summary["cfg_options"]) or "(none)"}`; '
        f'randomness.deterministic={summary["deterministic"]}. Test metrics '
        'of each run\'s tested checkpoint (per run below). Cells: mean +- '
        'sample standard deviation (ddof=1) over the seeds.',
        '',
        ablation.ablation_markdown(summary, metrics),
        '',
        'Per run:',
        '',
        ablation.markdown_table(
            ['Config', 'Seed', *metrics, 'Checkpoint', 'Wall time'],
            [[run['config'], str(run['seed']),
              *[f'{run["metrics"][m]:.4f}' for m in metrics],
              f'{osp.basename(run["checkpoint"])} ({run["checkpoint_rule"]})',
              format_duration(run['wall_time_s'])] for run in runs]),
        '',
        curves_markdown(runs, [summary['plot_metric']]),
        '',
        'Learning curves and all numbers: summary.json; chart of '
        f'{summary["plot_metric"]}: summary.png; validation '
        f'{summary["plot_metric"]} per epoch and the training pose loss: '
        'summary_curves.png.',
    ]
    return '\n'.join(lines) + '\n'


def write_summary(pairs: Sequence[Pair], args: argparse.Namespace) -> dict:
    runs = collect_runs(pairs, args.work_dir)
    metrics = choose_metrics(runs, args.metrics)
    plot_metric = choose_plot_metric(metrics, args.plot_metric)
    results: Dict[str, Dict[str, Dict[int, float]]] = {}
    for run in runs:
        per_metric = results.setdefault(run['config'], {})
        for metric in metrics:
            per_metric.setdefault(metric, {})[run['seed']] = float(
                run['metrics'][metric])
    stats = ablation.summarise_ablation(results, metrics, level=0.95)
    names = list(results)
    summary = dict(
        work_dir=osp.abspath(args.work_dir),
        configs=[dict(name=name, path=next(p.config for p in pairs
                                           if p.name == name))
                 for name in names],
        seeds=list(args.seeds), cfg_options=list(args.cfg_options),
        deterministic=args.deterministic, reference=names[0],
        metrics=metrics, plot_metric=plot_metric, confidence_level=0.95,
        aggregates=stats['aggregates'], differences=stats['differences'],
        runs=runs)
    write_json(osp.join(args.work_dir, 'summary.json'), summary)
    checkpoint_files.write_text_atomically(
        osp.join(args.work_dir, 'summary.md'), summary_markdown(summary, runs))
    plot_summary(stats, plot_metric, osp.join(args.work_dir, 'summary.png'))
    plot_learning_curves(runs, plot_metric,
                         osp.join(args.work_dir, 'summary_curves.png'))
    return summary


def main(argv=None) -> int:
    runner_setup.silence_known_warnings()
    args = parse_args(argv)
    try:
        check_options(args.cfg_options)
        pairs = make_plan(args.configs, args.seeds, args.work_dir)
        if osp.exists(args.work_dir) and not osp.isdir(args.work_dir):
            raise AblationError(f'--work-dir: {args.work_dir} is a file')
        best_keys = {p.name: best_checkpoint_key(p.config, args.cfg_options)
                     for p in pairs if p.seed == args.seeds[0]}
        print(f'Ablation: {len(best_keys)} configs x {len(args.seeds)} seeds'
              f' = {len(pairs)} runs in {args.work_dir}', flush=True)
        if args.dry_run:
            print_plan(pairs, args, best_keys)
            return 0
        env = dict(os.environ)
        if args.deterministic:
            env.setdefault('CUBLAS_WORKSPACE_CONFIG', ':4096:8')
        for pair in pairs:
            if not run_pair(pair, len(pairs), args, best_keys[pair.name],
                            env):
                print(f'run_ablation.py: stopped at {pair.tag}; the '
                      'finished pairs are kept, run the same command again '
                      'to resume', file=sys.stderr)
                return 1
        summary = write_summary(pairs, args)
    except (AblationError, OSError) as err:
        print(f'run_ablation.py: error: {err}', file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print('run_ablation.py: interrupted; the finished pairs are kept, '
              'run the same command again to resume', file=sys.stderr)
        return 130
    print()
    print(ablation.ablation_markdown(summary, summary['metrics']))
    print(f'\nWrote summary.json, summary.md, summary.png '
          f'({summary["plot_metric"]}) and summary_curves.png in '
          f'{args.work_dir}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
