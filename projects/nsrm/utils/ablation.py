"""Statistics and Markdown tables of an ablation study (several configs, each
trained with several seeds), as ``tools/analysis/run_ablation.py`` writes
them.

Pure functions, numbers in and numbers (or text) out. Symbols: ``n`` the
number of seeds, ``M`` the number of metrics.

- Spread over seeds: the mean and the sample standard deviation
  (``ddof=1``; undefined, NaN, for one seed).
- A config against the reference (the study's first config): the
  differences ``config - reference`` paired by seed, their mean and a
  two-sided Student's t confidence interval
  ``mean +- t(1 - (1 - level) / 2, n - 1) * sd / sqrt(n)`` (undefined for
  fewer than two seeds).
"""
import math
from typing import Dict, List, Mapping, Sequence

import numpy as np


def t_critical(df: int, level: float = 0.95) -> float:
    """The two-sided critical value of Student's t distribution.

    Args:
        df (int): Degrees of freedom, >= 1.
        level (float): Confidence level in (0, 1). Defaults to 0.95.

    Returns:
        float: ``t`` with ``P(|T| <= t) = level`` for ``T ~ t(df)``, e.g.
        4.303 for ``df=2, level=0.95``.
    """
    if isinstance(df, bool) or int(df) != df or df < 1:
        raise ValueError(f't_critical: df must be an integer >= 1, got {df!r}')
    if not 0 < level < 1:
        raise ValueError(
            f't_critical: level must be in (0, 1), e.g. 0.95, got {level!r}')
    from scipy.stats import t  # a dependency of mmpose; slow to import
    return float(t.ppf(0.5 + level / 2, int(df)))


def mean_std(values: Sequence[float]) -> Dict[str, float]:
    """Mean and sample standard deviation (``ddof=1``) of ``values``.

    Args:
        values (Sequence[float]): The n per-seed values, shape (n,), n >= 1.

    Returns:
        dict: ``mean``, ``std`` (NaN when n == 1) and ``n``.
    """
    arr = _checked_values(values, 'mean_std')
    std = float(arr.std(ddof=1)) if arr.size > 1 else math.nan
    return dict(mean=float(arr.mean()), std=std, n=int(arr.size))


def mean_ci(values: Sequence[float], level: float = 0.95) -> Dict[str, float]:
    """Mean, sample standard deviation and Student's t confidence interval
    of the mean.

    Args:
        values (Sequence[float]): n values, shape (n,), n >= 1, e.g. paired
            differences.
        level (float): Confidence level. Defaults to 0.95.

    Returns:
        dict: ``mean``, ``std``, ``n``, ``level`` and the interval ``low``,
        ``high`` (both NaN when n < 2: one value has no spread).
    """
    stats = mean_std(values)
    n = stats['n']
    if n < 2:
        low = high = math.nan
    else:
        half = t_critical(n - 1, level) * stats['std'] / math.sqrt(n)
        low, high = stats['mean'] - half, stats['mean'] + half
    return dict(stats, level=float(level), low=low, high=high)


def paired_differences(values: Mapping[int, float],
                       reference: Mapping[int, float]) -> Dict[int, float]:
    """``values[s] - reference[s]`` for every seed ``s`` both have.

    Args:
        values (Mapping[int, float]): Seed -> metric of one config.
        reference (Mapping[int, float]): Seed -> metric of the reference.

    Returns:
        dict[int, float]: Seed -> difference, sorted by seed.
    """
    common = sorted(set(values) & set(reference))
    if not common:
        raise ValueError(
            f'paired_differences: no seed in common (seeds {sorted(values)} '
            f'vs reference seeds {sorted(reference)}); differences are '
            'paired by seed, so run both configs with the same --seeds')
    return {s: float(values[s]) - float(reference[s]) for s in common}


def format_mean_std(stats: Mapping[str, float], digits: int = 4) -> str:
    """A table cell ``'0.7010 +- 0.0120 (n=3)'``; for n == 1
    ``'0.7010 (n=1, std n/a)'``."""
    mean = f'{stats["mean"]:.{digits}f}'
    if stats['n'] < 2:
        return f'{mean} (n={stats["n"]}, std n/a)'
    return f'{mean} +- {stats["std"]:.{digits}f} (n={stats["n"]})'


def format_difference(stats: Mapping[str, float], digits: int = 4) -> str:
    """A table cell ``'+0.0200 [-0.0048, +0.0448] (n=3)'`` (mean of the
    paired differences and its confidence interval); for n == 1
    ``'+0.0200 (n=1, CI n/a)'``."""
    mean = f'{stats["mean"]:+.{digits}f}'
    if stats['n'] < 2:
        return f'{mean} (n={stats["n"]}, CI n/a)'
    return (f'{mean} [{stats["low"]:+.{digits}f}, {stats["high"]:+.{digits}f}]'
            f' (n={stats["n"]})')


def markdown_table(header: Sequence[str],
                   rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table (no trailing newline).

    Args:
        header (Sequence[str]): The C column titles.
        rows (Sequence[Sequence[str]]): R rows of C cells each.

    Returns:
        str: ``| a | b |`` lines, the second one ``|---|---|``.
    """
    for i, row in enumerate(rows):
        if len(row) != len(header):
            raise ValueError(f'markdown_table: row {i} has {len(row)} cells '
                             f'for {len(header)} columns ({list(header)})')
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
    return '\n'.join(lines)


def summarise_ablation(
    results: Mapping[str, Mapping[str, Mapping[int, float]]],
    metrics: Sequence[str],
    level: float = 0.95
) -> Dict[str, Dict[str, Dict[str, Dict[str, float]]]]:
    """Per-config spread and paired differences to the first config.

    Args:
        results (Mapping): Config name -> metric -> seed -> value, configs
            in study order (the first one is the reference).
        metrics (Sequence[str]): The M metrics to summarise; every config
            must have them.
        level (float): Confidence level of the differences. Defaults to
            0.95.

    Returns:
        dict: ``aggregates``: config -> metric -> :func:`mean_std` plus
        ``values`` (seed -> value); ``differences``: every config but the
        first -> metric -> :func:`mean_ci` of the paired differences plus
        ``values`` (seed -> difference) and ``reference`` (its name).
    """
    names = list(results)
    if not names:
        raise ValueError('summarise_ablation: no configs in results')
    for name in names:
        missing = [m for m in metrics if m not in results[name]]
        if missing:
            raise ValueError(
                f'summarise_ablation: config {name} has no {missing} '
                f'(it has {sorted(results[name])})')
    reference = names[0]
    aggregates, differences = {}, {}
    for name in names:
        aggregates[name] = {}
        for metric in metrics:
            per_seed = {int(s): float(v)
                        for s, v in sorted(results[name][metric].items())}
            aggregates[name][metric] = dict(
                mean_std(list(per_seed.values())), values=per_seed)
        if name == reference:
            continue
        differences[name] = {}
        for metric in metrics:
            diffs = paired_differences(results[name][metric],
                                       results[reference][metric])
            differences[name][metric] = dict(
                mean_ci(list(diffs.values()), level), values=diffs,
                reference=reference)
    return dict(aggregates=aggregates, differences=differences)


def ablation_markdown(summary: Mapping, metrics: Sequence[str],
                      digits: int = 4) -> str:
    """The two Markdown tables of a :func:`summarise_ablation` result.

    Args:
        summary (Mapping): :func:`summarise_ablation`'s output.
        metrics (Sequence[str]): The M metrics, one column each.
        digits (int): Decimals of every number. Defaults to 4.

    Returns:
        str: Table 1, rows = configs, cells :func:`format_mean_std`; then,
        with two configs or more, table 2, rows = every config but the
        first, cells :func:`format_difference` (no trailing newline).
    """
    aggregates, differences = summary['aggregates'], summary['differences']
    names = list(aggregates)
    parts = [markdown_table(
        ['Config', *metrics],
        [[name, *[format_mean_std(aggregates[name][m], digits)
                  for m in metrics]] for name in names])]
    if differences:
        level = next(iter(differences[names[1]].values()), {}).get(
            'level', 0.95)
        parts.append(
            f'Difference to {names[0]}, paired by seed: mean '
            f'[{100 * level:g}% confidence interval, Student\'s t over '
            'seeds]')
        parts.append(markdown_table(
            [f'Config - {names[0]}', *metrics],
            [[name, *[format_difference(differences[name][m], digits)
                      for m in metrics]] for name in differences]))
    return '\n\n'.join(parts)


def curve_means(curves: Mapping[str, Mapping[int, Sequence[dict]]],
                key: str,
                step_key: str = 'step') -> Dict[str, Dict[int, float]]:
    """The mean over seeds of one learning-curve quantity, step by step.

    Args:
        curves (Mapping): Config name -> seed -> rows (dicts with
            ``step_key`` and, where logged, ``key``), e.g. the ``val`` rows of
            ``run_ablation.py``'s learning curves.
        key (str): The quantity (``'PCK-mean'``, ``'loss_pose'``, ...).
        step_key (str): The x axis (``'step'`` = epoch of the validation
            rows, ``'iter'`` of the training rows). Defaults to ``'step'``.

    Returns:
        dict: Config -> step -> mean of ``key`` over the seeds that logged
        it at that step (steps in increasing order; a config or step
        without any value is left out).
    """
    means: Dict[str, Dict[int, float]] = {}
    for name, per_seed in curves.items():
        by_step: Dict[int, List[float]] = {}
        for rows in per_seed.values():
            for row in rows:
                if key in row and step_key in row:
                    by_step.setdefault(int(row[step_key]), []).append(
                        float(row[key]))
        if by_step:
            means[name] = {step: float(np.mean(by_step[step]))
                           for step in sorted(by_step)}
    return means


def _checked_values(values: Sequence[float], where: str) -> np.ndarray:
    """``values`` as a float array of shape (n,), n >= 1, all finite."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ValueError(f'{where}: expected a non-empty 1-D sequence of '
                         f'finite numbers, got {values!r}')
    return arr


__all__: List[str] = [
    't_critical', 'mean_std', 'mean_ci', 'paired_differences',
    'format_mean_std', 'format_difference', 'markdown_table',
    'summarise_ablation', 'ablation_markdown', 'curve_means'
]
