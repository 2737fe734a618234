"""Plots PCK against the threshold for several models (the NSRM paper's
Figure 6) and prints their Table 2/3-style Markdown table.

Each RESULT holds the metrics of one test run with ``MultiThresholdPCK``
(``PCK@<thr>`` keys, fractions in [0, 1], and ``PCK-mean``):

- the json that ``tools/test.py`` makes MMEngine write,
  ``WORK_DIR/<timestamp>/<timestamp>.json``;
- that WORK_DIR itself (its newest such json with ``PCK@`` keys is used);
- the ``--out`` json of ``tools/test.py`` or any json dict of metrics;
- a json-lines file such as a training's ``vis_data/scalars.json`` (its last
  line with ``PCK@`` keys: the last validation).

Example::

    python tools/analysis/plot_pck_curve.py \
        work_dirs/cpm_vgg19_onehand10k_test work_dirs/lpm_g1_test \
        --labels CPM LPM-G1 --out pck.png --title OneHand10K

The differences in the last column are those of the mean PCK to the first
model's, in points and relative to the first model's mean.
"""
import argparse
import glob
import json
import os.path as osp
import re
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

PCK_KEY = re.compile(r'^PCK@(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)$')


class ResultError(ValueError):
    """A result or an option that cannot be plotted (the message says why)."""


def find_test_json(work_dir: str) -> str:
    """The newest ``WORK_DIR/<timestamp>/<timestamp>.json`` with PCK keys.

    Args:
        work_dir (str): A ``--work-dir`` of ``tools/test.py``.

    Returns:
        str: The json's path.
    """
    candidates = [
        path for path in glob.glob(osp.join(work_dir, '*', '*.json'))
        if osp.splitext(osp.basename(path))[0] == osp.basename(
            osp.dirname(path))
    ]
    for path in sorted(candidates, reverse=True):  # timestamps sort by time
        try:
            read_pck(path)
        except ResultError:
            continue
        return path
    raise ResultError(
        f'{work_dir}: no test-run metrics json (<timestamp>/<timestamp>.json '
        f'with PCK@ keys) in this directory ({len(candidates)} test jsons '
        'found). Run tools/test.py with a MultiThresholdPCK test_evaluator '
        'and --work-dir there, or pass a metrics json file')


def _load_metric_dicts(path: str) -> List[dict]:
    """The json dict of ``path``, or each dict line of a json-lines file."""
    with open(path) as f:
        text = f.read()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        try:
            data = [json.loads(line) for line in text.splitlines()
                    if line.strip()]
        except json.JSONDecodeError as err:
            raise ResultError(f'{path}: neither a json file nor json lines '
                              f'({err})') from err
        return [d for d in data if isinstance(d, dict)]
    if not isinstance(data, dict):
        raise ResultError(f'{path}: expected a json dict of metrics, got a '
                          f'{type(data).__name__}')
    return [data]


def read_pck(path: str) -> Tuple[Dict[float, float], float]:
    """Reads one result.

    Args:
        path (str): A metrics json / json-lines file, or a test work dir.

    Returns:
        tuple:
        - pck (dict): threshold -> PCK in %, sorted by threshold.
        - mean (float): ``PCK-mean`` in % (the mean of ``pck`` when the file
          has no ``PCK-mean``).
    """
    if osp.isdir(path):
        path = find_test_json(path)
    if not osp.isfile(path):
        raise ResultError(f'{path}: no such file or directory')
    dicts = [d for d in _load_metric_dicts(path)
             if any(PCK_KEY.match(str(k)) for k in d)]
    if not dicts:
        raise ResultError(
            f'{path}: no PCK@<threshold> key (a MultiThresholdPCK result has '
            'PCK@0.1, ..., PCK-mean)')
    metrics = dicts[-1]
    pck = {
        float(PCK_KEY.match(k).group(1)): v
        for k, v in metrics.items() if PCK_KEY.match(str(k))
    }
    values = list(pck.values()) + [metrics.get('PCK-mean', 0.0)]
    if not all(isinstance(v, (int, float)) and 0 <= v <= 1 for v in values):
        raise ResultError(
            f'{path}: PCK values must be fractions in [0, 1] as the metrics '
            f'write them, got {metrics}')
    pck = {t: 100.0 * pck[t] for t in sorted(pck)}
    mean = metrics.get('PCK-mean')
    mean = 100.0 * mean if mean is not None else float(np.mean(
        list(pck.values())))
    return pck, mean


def markdown_table(labels: Sequence[str], thresholds: Sequence[float],
                   pcks: Sequence[Sequence[float]],
                   means: Sequence[float]) -> str:
    """A Markdown table, one row per model: PCK (%) at each threshold, the
    mean, and the mean's difference to the first model's.

    Args:
        labels (Sequence[str]): M model names.
        thresholds (Sequence[float]): T thresholds.
        pcks (Sequence[Sequence[float]]): PCK in %, shape (M, T).
        means (Sequence[float]): Mean PCK in %, shape (M,).

    Returns:
        str: The table (no trailing newline).
    """
    header = ['Model', *[f'PCK@{t:g}' for t in thresholds], 'Mean',
              f'vs {labels[0]}']
    lines = ['| ' + ' | '.join(header) + ' |',
             '|' + '---|' * len(header)]
    for i, (label, row, mean) in enumerate(zip(labels, pcks, means)):
        if i == 0:
            diff = '-'
        else:
            delta = mean - means[0]
            rel = 100.0 * delta / means[0] if means[0] else float('nan')
            diff = f'{delta:+.2f} ({rel:+.2f}%)'
        cells = [label, *[f'{v:.2f}' for v in row], f'{mean:.2f}', diff]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def plot_curves(labels: Sequence[str], thresholds: Sequence[float],
                pcks: Sequence[Sequence[float]], out: str,
                title: Optional[str] = None) -> None:
    """Draws PCK (%) against the threshold, one line per model, to a PNG."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    markers = 'osd^vP*Xh<>'
    for i, (label, row) in enumerate(zip(labels, pcks)):
        ax.plot(thresholds, row, marker=markers[i % len(markers)],
                label=label)
    ax.set_xlabel('Normalised distance threshold')
    ax.set_ylabel('PCK (%)')
    ax.set_xticks(list(thresholds))
    ax.set_xticklabels([f'{t:g}' for t in thresholds])
    ax.grid(True, alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Plot PCK against the threshold for several test runs '
        '(MultiThresholdPCK results) and print a Markdown table.')
    parser.add_argument(
        'results', nargs='+', metavar='RESULT',
        help='metrics json of a test run (WORK_DIR/<ts>/<ts>.json, the --out '
        'json of tools/test.py, json lines) or a test WORK_DIR')
    parser.add_argument(
        '--labels', nargs='+',
        help='one name per RESULT (default: the RESULT paths)')
    parser.add_argument('--out', help='PNG to write (default: no figure, '
                        'only the table)')
    parser.add_argument('--title', help='title of the figure')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        labels = args.labels or [osp.normpath(r) for r in args.results]
        if len(labels) != len(args.results):
            raise ResultError(
                f'--labels: {len(labels)} labels {labels} for '
                f'{len(args.results)} RESULTs; give one label per RESULT')
        if args.out and not args.out.lower().endswith('.png'):
            raise ResultError(f'--out: {args.out} must be a .png file')
        if args.out and not osp.isdir(osp.dirname(osp.abspath(args.out))):
            raise ResultError(f'--out: the folder of {args.out} does not '
                              'exist')
        read = [read_pck(path) for path in args.results]
        thresholds = list(read[0][0])
        for path, (pck, _) in zip(args.results[1:], read[1:]):
            if list(pck) != thresholds:
                raise ResultError(
                    f'{path}: thresholds {[f"{t:g}" for t in pck]} differ '
                    f'from those of {args.results[0]} '
                    f'{[f"{t:g}" for t in thresholds]}; the models must be '
                    'evaluated at the same thresholds')
    except (ResultError, OSError) as err:
        print(f'plot_pck_curve.py: error: {err}', file=sys.stderr)
        return 1

    pcks = [list(pck.values()) for pck, _ in read]
    means = [mean for _, mean in read]
    print(markdown_table(labels, thresholds, pcks, means))
    if args.out:
        plot_curves(labels, thresholds, pcks, args.out, args.title)
        print(f'Saved the PCK curves to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
