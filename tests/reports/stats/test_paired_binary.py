"""Paired binary outcomes: exact McNemar and Tango's score interval, against published examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint

from reports import stats


def test_mcnemar_21_vs_9() -> None:
    a = np.array([1] * 21 + [0] * 9 + [1] * 50 + [0] * 20, dtype=float)
    b = np.array([0] * 21 + [1] * 9 + [1] * 50 + [0] * 20, dtype=float)
    result = stats.mcnemar_exact(a, b)
    assert (result.n10, result.n01) == (21, 9)
    assert round(result.p_value, 4) == 0.0428
    assert result.p_value == pytest.approx(mcnemar([[50, 21], [9, 20]], exact=True).pvalue)
    assert result.odds_ratio == pytest.approx(21 / 9)
    assert result.odds_ratio_low < result.odds_ratio < result.odds_ratio_high
    assert stats.mcnemar_exact(a, a).p_value == 1.0


def test_discordant_odds_ratio_interval_matches_clopper_pearson() -> None:
    """The odds-ratio CI is statsmodels' Clopper-Pearson ("beta") interval mapped by p/(1-p)."""
    a = np.array([1] * 17 + [0] * 6 + [1] * 40 + [0] * 12, dtype=float)
    b = np.array([0] * 17 + [1] * 6 + [1] * 40 + [0] * 12, dtype=float)
    result = stats.mcnemar_exact(a, b)
    low, high = proportion_confint(17, 23, alpha=0.05, method="beta")
    assert result.odds_ratio_low == pytest.approx(low / (1 - low))
    assert result.odds_ratio_high == pytest.approx(high / (1 - high))
    # no b-only wins: the upper end is unbounded, as the proportion's reaches 1
    one_sided = stats.mcnemar_exact(np.ones(5), np.zeros(5))
    assert one_sided.odds_ratio_high == math.inf and one_sided.odds_ratio == math.inf
    low, _ = proportion_confint(5, 5, alpha=0.05, method="beta")
    assert one_sided.odds_ratio_low == pytest.approx(low / (1 - low))


# Published worked examples of Tango's (1998) score interval. Tables are (n11, n12, n21, n22):
# n12 pairs where only the first measurement succeeds, n21 where only the second does.
TANGO_EXAMPLES = [
    # Tango (1998), his two examples; the second at 90%
    ((4, 9, 3, 16), 0.95, (-0.027, 0.390), 3),
    ((43, 0, 1, 0), 0.90, (-0.096, 0.037), 3),
    # Fagerland, Lydersen & Laake (2014), Bentur et al. (2009) airway data
    ((1, 1, 7, 12), 0.95, (-0.517, -0.026), 3),
    # Agresti & Min (2005)
    ((53, 16, 8, 9), 0.95, (-0.020, 0.207), 3),
    # Tang, Ling & Tian (2010)
    ((8, 3, 1, 2), 0.95, (-0.1670, 0.4327), 4),
]


@pytest.mark.parametrize(("table", "level", "published", "digits"), TANGO_EXAMPLES)
def test_tango_interval_matches_published_examples(
    table: tuple[int, int, int, int], level: float, published: tuple[float, float], digits: int
) -> None:
    low, high = stats.tango_interval(table[1], table[2], sum(table), level)
    assert (round(low, digits), round(high, digits)) == published


def test_tango_statistic_at_zero_is_mcnemars() -> None:
    from reports.stats.paired_binary import tango_statistic

    assert tango_statistic(0.0, 21, 9, 100) == pytest.approx((21 - 9) / math.sqrt(30))


def _pairs(n10: int, n01: int, n11: int, n00: int) -> tuple[np.ndarray, np.ndarray]:
    a = np.array([1] * n10 + [0] * n01 + [1] * n11 + [0] * n00, dtype=float)
    b = np.array([0] * n10 + [1] * n01 + [1] * n11 + [0] * n00, dtype=float)
    return a, b


def _interval(
    a: np.ndarray, b: np.ndarray, p_value: float | None = None, clusters: np.ndarray | None = None
) -> stats.DifferenceInterval:
    """Tango's interval, brought in step with `p_value` (by default the exact McNemar test's)."""
    interval = stats.paired_difference_interval(a, b, binary=True, clusters=clusters)
    assert interval is not None
    return interval.agree_with(stats.mcnemar_exact(a, b).p_value if p_value is None else p_value)


def test_no_discordant_pairs_give_a_non_degenerate_interval() -> None:
    """125 items on which both models agree: about +-3 points, not [0, 0]; the MDE is not 0."""
    a, b = _pairs(0, 0, 100, 25)
    interval = _interval(a, b)
    assert interval.low == pytest.approx(-0.0298, abs=5e-4)
    assert interval.high == pytest.approx(0.0298, abs=5e-4)
    # the closed form with no discordance: n delta / (1 - delta) = z^2
    z = stats.z_quantile()
    assert interval.high == pytest.approx(z**2 / (125 + z**2))
    assert not interval.widened and interval.method == "Tango score"
    assert stats.minimum_detectable_effect(interval.implied_se()) > 0.03


def test_one_item() -> None:
    a, b = _pairs(1, 0, 0, 0)
    interval = _interval(a, b)
    assert stats.mcnemar_exact(a, b).p_value == 1.0
    assert interval.low < 0 < interval.high == 1.0
    assert interval.high - interval.low > 1


def test_intervals_never_contradict_the_exact_mcnemar_test() -> None:
    """Every table of up to 30 pairs: an interval excludes 0 exactly when exact p < 0.05.

    Tango's interval alone disagrees with the exact test in small tables (it agrees with
    the asymptotic test); the widening makes the two agree in both directions.
    """
    from scipy import stats as sps

    disagreed = 0
    for n in range(1, 31):
        for n10 in range(n + 1):
            for n01 in range(n + 1 - n10):
                discordant = n10 + n01
                p = sps.binomtest(n10, discordant, 0.5).pvalue if discordant else 1.0
                low, high = stats.tango_interval(n10, n01, n)
                disagreed += (low > 0 or high < 0) != (p < 0.05)
                a, b = _pairs(n10, n01, n - discordant, 0)
                interval = _interval(a, b, p)
                assert (interval.low > 0 or interval.high < 0) == (p < 0.05), (n10, n01, n)
                assert interval.low <= (n10 - n01) / n <= interval.high
                assert interval.high > interval.low
    assert disagreed > 0  # the widening is doing work: 4 vs 0 discordant pairs, p = 0.125


def test_clustered_interval_is_wider_and_never_degenerate() -> None:
    """Correlated outcomes in cases of four: the design effect widens the interval."""
    rng = np.random.default_rng(5)
    cases = np.repeat(np.arange(40), 4)
    shift = np.repeat(rng.random(40) < 0.3, 4)
    a = ((rng.random(160) < 0.6) | shift).astype(float)
    b = ((rng.random(160) < 0.5) & ~shift).astype(float)
    plain = _interval(a, b, 0.0)
    clustered = _interval(a, b, 0.0, cases)
    assert clustered.method == "Tango score (clusters)"
    assert clustered.high - clustered.low > plain.high - plain.low
    same = _interval(a, a, 1.0, cases)
    assert same.low < 0 < same.high


def test_reach_zero() -> None:
    assert stats.reach_zero(0.01, 0.2, 0.06) == (0.0, 0.2, True)
    assert stats.reach_zero(-0.2, -0.01, 0.06) == (-0.2, 0.0, True)
    assert stats.reach_zero(0.01, 0.2, 0.04) == (0.01, 0.2, False)
    assert stats.reach_zero(-0.1, 0.2, 0.9) == (-0.1, 0.2, False)
    assert stats.reach_zero(0.01, 0.2, math.nan) == (0.01, 0.2, False)
