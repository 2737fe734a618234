"""projects.nsrm.utils.ablation: spread over seeds, paired differences with
Student's t intervals, and the Markdown tables, against hand-computed
values."""
import math

import pytest

from projects.nsrm.utils import ablation
from projects.nsrm.utils.ablation import (ablation_markdown, format_difference,
                                          format_mean_std, markdown_table,
                                          mean_ci, mean_std,
                                          paired_differences,
                                          summarise_ablation, t_critical)

# two configs x 3 seeds; PCK differences B - A = [0.01, 0.03, 0.02]
A = {'PCK': {0: 0.70, 1: 0.72, 2: 0.71}, 'EPE': {0: 5.0, 1: 4.0, 2: 6.0}}
B = {'PCK': {0: 0.71, 1: 0.75, 2: 0.73}, 'EPE': {0: 4.5, 1: 4.0, 2: 5.0}}
#: t(0.975, 2), from a printed t table
T_975_2 = 4.303


@pytest.mark.parametrize('df, level, expected', [
    (1, 0.95, 12.706), (2, 0.95, 4.303), (4, 0.95, 2.776),
    (10, 0.95, 2.228), (30, 0.95, 2.042), (2, 0.90, 2.920),
    (5, 0.99, 4.032)])
def test_t_critical_matches_the_printed_table(df, level, expected):
    assert t_critical(df, level) == pytest.approx(expected, abs=5e-4)


@pytest.mark.parametrize('df, level, message', [
    (0, 0.95, 'df must be an integer >= 1, got 0'),
    (1.5, 0.95, 'df must be an integer >= 1, got 1.5'),
    (2, 1.0, 'level must be in (0, 1), e.g. 0.95, got 1.0')])
def test_t_critical_rejects_bad_arguments(df, level, message):
    with pytest.raises(ValueError) as err:
        t_critical(df, level)
    assert str(err.value) == f't_critical: {message}'


def test_mean_std_uses_the_sample_std():
    stats = mean_std([0.01, 0.03, 0.02])
    assert stats['mean'] == pytest.approx(0.02)
    # squared deviations 1e-4 + 1e-4 + 0, divided by n - 1 = 2
    assert stats['std'] == pytest.approx(0.01)
    assert stats['n'] == 3
    one = mean_std([0.7])
    assert one['mean'] == 0.7 and one['n'] == 1 and math.isnan(one['std'])


@pytest.mark.parametrize('values', [[], [0.1, math.nan], [[0.1, 0.2]]])
def test_mean_std_rejects_empty_or_non_finite(values):
    with pytest.raises(ValueError, match='mean_std: expected a non-empty 1-D '
                       'sequence of finite numbers'):
        mean_std(values)


def test_mean_ci_of_the_briefs_example():
    stats = mean_ci([0.01, 0.03, 0.02])
    half = T_975_2 * 0.01 / math.sqrt(3)  # 0.02484
    assert stats['mean'] == pytest.approx(0.02)
    assert stats['std'] == pytest.approx(0.01)
    assert stats['low'] == pytest.approx(0.02 - half, abs=1e-5)
    assert stats['high'] == pytest.approx(0.02 + half, abs=1e-5)
    assert stats['level'] == 0.95 and stats['n'] == 3
    # a wider interval at 99%: t(0.995, 2) = 9.925
    wide = mean_ci([0.01, 0.03, 0.02], level=0.99)
    assert wide['high'] - 0.02 == pytest.approx(
        9.925 * 0.01 / math.sqrt(3), abs=1e-5)


def test_mean_ci_of_one_value_has_no_interval():
    stats = mean_ci([0.02])
    assert stats['mean'] == 0.02 and stats['n'] == 1
    assert math.isnan(stats['low']) and math.isnan(stats['high'])


def test_paired_differences_pair_by_seed():
    diffs = paired_differences({2: 0.73, 0: 0.71, 1: 0.75, 5: 0.9},
                               {0: 0.70, 1: 0.72, 2: 0.71, 3: 0.5})
    assert list(diffs) == [0, 1, 2]
    assert [diffs[s] for s in (0, 1, 2)] == pytest.approx([0.01, 0.03, 0.02])
    with pytest.raises(ValueError) as err:
        paired_differences({0: 1.0}, {1: 1.0})
    assert str(err.value) == (
        'paired_differences: no seed in common (seeds [0] vs reference seeds '
        '[1]); differences are paired by seed, so run both configs with the '
        'same --seeds')


def test_cells():
    assert format_mean_std(dict(mean=0.70104, std=0.01204, n=3)) == \
        '0.7010 +- 0.0120 (n=3)'
    assert format_mean_std(dict(mean=0.7, std=math.nan, n=1), digits=2) == \
        '0.70 (n=1, std n/a)'
    assert format_difference(dict(mean=0.02, low=-0.004841, high=0.044841,
                                  n=3)) == '+0.0200 [-0.0048, +0.0448] (n=3)'
    assert format_difference(dict(mean=-0.02, low=math.nan, high=math.nan,
                                  n=1)) == '-0.0200 (n=1, CI n/a)'


def test_markdown_table():
    assert markdown_table(['Config', 'PCK'], [['a', '1'], ['b', '2']]) == (
        '| Config | PCK |\n|---|---|\n| a | 1 |\n| b | 2 |')
    with pytest.raises(ValueError) as err:
        markdown_table(['Config', 'PCK'], [['a']])
    assert str(err.value) == ("markdown_table: row 0 has 1 cells for 2 "
                              "columns (['Config', 'PCK'])")


def test_summarise_ablation_by_hand():
    summary = summarise_ablation({'A': A, 'B': B}, ['PCK', 'EPE'])
    agg = summary['aggregates']
    assert list(agg) == ['A', 'B']
    assert agg['A']['PCK']['mean'] == pytest.approx(0.71)
    assert agg['A']['PCK']['std'] == pytest.approx(0.01)
    assert agg['B']['PCK']['mean'] == pytest.approx(0.73)
    assert agg['B']['PCK']['std'] == pytest.approx(0.02)
    assert agg['A']['EPE']['std'] == pytest.approx(1.0)
    assert agg['B']['PCK']['values'] == {0: 0.71, 1: 0.75, 2: 0.73}
    assert list(summary['differences']) == ['B']
    pck = summary['differences']['B']['PCK']
    half = T_975_2 * 0.01 / math.sqrt(3)
    assert pck['mean'] == pytest.approx(0.02)
    assert (pck['low'], pck['high']) == pytest.approx(
        (0.02 - half, 0.02 + half), abs=1e-5)
    assert pck['reference'] == 'A'
    # EPE differences [-0.5, 0, -1]: mean -0.5, sd 0.5
    epe = summary['differences']['B']['EPE']
    assert epe['mean'] == pytest.approx(-0.5)
    assert epe['std'] == pytest.approx(0.5)
    assert epe['high'] == pytest.approx(-0.5 + T_975_2 * 0.5 / math.sqrt(3),
                                        abs=5e-4)
    with pytest.raises(ValueError) as err:
        summarise_ablation({'A': A, 'C': {'PCK': {0: 1.0}}}, ['PCK', 'EPE'])
    assert str(err.value) == ("summarise_ablation: config C has no ['EPE'] "
                              "(it has ['PCK'])")


def test_ablation_markdown_tables():
    summary = summarise_ablation({'A': A, 'B': B}, ['PCK', 'EPE'])
    text = ablation_markdown(summary, ['PCK', 'EPE'])
    assert text == (
        '| Config | PCK | EPE |\n'
        '|---|---|---|\n'
        '| A | 0.7100 +- 0.0100 (n=3) | 5.0000 +- 1.0000 (n=3) |\n'
        '| B | 0.7300 +- 0.0200 (n=3) | 4.5000 +- 0.5000 (n=3) |\n\n'
        'Difference to A, paired by seed: mean [95% confidence interval, '
        "Student's t over seeds]\n\n"
        '| Config - A | PCK | EPE |\n'
        '|---|---|---|\n'
        '| B | +0.0200 [-0.0048, +0.0448] (n=3) '
        '| -0.5000 [-1.7421, +0.7421] (n=3) |')
    # one config: no difference table
    alone = ablation_markdown(summarise_ablation({'A': A}, ['PCK']), ['PCK'])
    assert alone == ('| Config | PCK |\n|---|---|\n'
                     '| A | 0.7100 +- 0.0100 (n=3) |')


def test_curve_means_by_hand():
    curves = {
        'cpm': {0: [dict(step=1, PCK=0.2), dict(step=2, PCK=0.5)],
                1: [dict(step=1, PCK=0.4), dict(step=2, PCK=0.7)]},
        # seed 1 did not log epoch 2: the mean there is over seed 0 alone
        'lpm': {0: [dict(step=1, PCK=0.1), dict(step=2, PCK=0.6)],
                1: [dict(step=1, PCK=0.3), dict(step=2, EPE=3.0)]},
        'none': {0: [dict(step=1, EPE=3.0)]},
    }
    means = ablation.curve_means(curves, 'PCK')
    assert list(means) == ['cpm', 'lpm']
    assert means['cpm'] == pytest.approx({1: 0.3, 2: 0.6})
    assert means['lpm'] == pytest.approx({1: 0.2, 2: 0.6})
    train = {'a': {0: [dict(iter=10, loss_pose=1.0)],
                   1: [dict(iter=10, loss_pose=3.0)]}}
    assert ablation.curve_means(train, 'loss_pose', 'iter') == {
        'a': {10: 2.0}}
