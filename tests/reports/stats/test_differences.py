"""Intervals of differences: bounded scores' paired differences and MOVER, against references."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from reports import stats


def _graded(
    a: np.ndarray,
    b: np.ndarray,
    bounds: tuple[float, float],
    clusters: np.ndarray | None = None,
) -> stats.DifferenceInterval:
    interval = stats.paired_difference_interval(
        a, b, binary=False, bounds=bounds, clusters=clusters
    )
    assert interval is not None
    return interval


@pytest.mark.parametrize("n", [1, 2, 20, 125])
def test_graded_differences_without_spread_get_tangos_zero_discordance_interval(n: int) -> None:
    """Every paired difference 0: +-w z^2 / (n + z^2), what Tango gives 0 of n discordant pairs."""
    z = stats.z_quantile()
    reach = z**2 / (n + z**2)
    unit = _graded(np.full(n, 0.4), np.full(n, 0.4), (0.0, 1.0))
    assert (unit.low, unit.high) == pytest.approx((-reach, reach))
    assert unit.method == "bounded Wilson" and unit.estimate == 0
    tango = stats.paired_difference_interval(np.ones(n), np.ones(n), binary=True)
    assert tango is not None and (unit.low, unit.high) == pytest.approx((tango.low, tango.high))
    rating = _graded(np.full(n, 3.0), np.full(n, 3.0), (1.0, 5.0))
    assert (rating.low, rating.high) == pytest.approx((-4 * reach, 4 * reach))
    # the same differences, not 0: each end moves toward its bound by the same fraction
    shifted = _graded(np.full(n, 4.0), np.full(n, 3.0), (1.0, 5.0))
    assert (shifted.low, shifted.high) == pytest.approx((1 - 5 * reach, 1 + 3 * reach))
    # the exact bound for any distribution on the scale is about as wide: 1 - 0.025^(1/n)
    assert reach == pytest.approx(1 - 0.025 ** (1 / n), abs=0.19 if n < 3 else 0.01)


def test_figures_for_two_and_twenty_items() -> None:
    """The intervals the report gives a 0-1 judge score whose models never differ."""
    two = _graded(np.array([0.5, 0.75]), np.array([0.5, 0.75]), (0.0, 1.0))
    twenty = _graded(np.full(20, 0.5), np.full(20, 0.5), (0.0, 1.0))
    assert (round(two.low, 3), round(two.high, 3)) == (-0.658, 0.658)
    assert (round(twenty.low, 3), round(twenty.high, 3)) == (-0.161, 0.161)
    assert stats.minimum_detectable_effect(twenty.implied_se()) == pytest.approx(0.230, abs=1e-3)


def test_graded_differences_with_spread_get_the_t_width_inside_the_scale() -> None:
    rng = np.random.default_rng(3)
    a = rng.integers(1, 6, 200).astype(float)
    b = np.clip(a + rng.choice([-1, 0, 1, 1], 200), 1, 5)
    d = a - b
    interval = _graded(a, b, (1.0, 5.0))
    t_low, t_high = sps.t.interval(0.95, 199, loc=d.mean(), scale=sps.sem(d))
    assert interval.high - interval.low == pytest.approx(t_high - t_low, rel=0.01)
    assert interval.estimate == pytest.approx(d.mean())
    # by hand: Wilson on (d + 4) / 8 at n = m(1-m)/se^2 (z/t)^2
    m, se = (d.mean() + 4) / 8, sps.sem(d) / 8
    n = m * (1 - m) / se**2 * (stats.z_quantile() / sps.t.ppf(0.975, 199)) ** 2
    low, high = proportion_confint(m * n, n, method="wilson")
    assert (interval.low, interval.high) == pytest.approx((8 * low - 4, 8 * high - 4))
    # four of five items at the largest difference: a t interval leaves the scale, this does not
    few = _graded(np.array([5.0, 5, 5, 5, 3]), np.array([1.0, 1, 1, 1, 3]), (1.0, 5.0))
    assert sps.t.interval(0.95, 4, loc=3.2, scale=0.8)[1] > 4
    assert -4 < few.low < 3.2 < few.high < 4


def test_clustered_graded_differences() -> None:
    """Cases of four: clustered SE and C - 1 df; without spread, n (t_{n-1} / t_{C-1})^2 items."""
    rng = np.random.default_rng(4)
    cases = np.repeat(np.arange(30), 4)
    a = rng.random(120)
    b = np.clip(a + np.repeat(rng.normal(0, 0.2, 30), 4), 0, 1)
    clustered = _graded(a, b, (0.0, 1.0), clusters=cases)
    plain = _graded(a, b, (0.0, 1.0))
    assert clustered.method == "bounded Wilson (clusters)"
    assert clustered.high - clustered.low > 1.5 * (plain.high - plain.low)
    same = _graded(a, a, (0.0, 1.0), clusters=cases)
    tango = stats.paired_difference_interval(
        np.ones(120), np.ones(120), binary=True, clusters=cases
    )
    assert tango is not None and tango.method == "Tango score (clusters)"
    assert (same.low, same.high) == pytest.approx((tango.low, tango.high))
    n = 120 * (sps.t.ppf(0.975, 119) / sps.t.ppf(0.975, 29)) ** 2
    assert same.high == pytest.approx(stats.z_quantile() ** 2 / (n + stats.z_quantile() ** 2))


def test_unbounded_graded_differences_have_no_score_interval() -> None:
    assert stats.paired_difference_interval(np.ones(5), np.ones(5), binary=False) is None


def test_graded_intervals_agree_with_the_permutation_test() -> None:
    """Random 1-5 ratings: never degenerate; excludes 0 exactly when the test rejects.

    Widening makes exclusion imply p < 0.05; the other way round holds here because the
    t-width interval is no wider than the test needs at these sizes.
    """
    rng = np.random.default_rng(1)
    widened = 0
    for _ in range(300):
        n = int(rng.integers(1, 30))
        a = rng.integers(1, 6, n).astype(float)
        b = np.clip(a + rng.choice([-2, -1, 0, 0, 1, 1, 2], n) * (rng.random(n) < 0.5), 1, 5)
        p = stats.paired_permutation_pvalue(a, b, resamples=1999, seed=1)
        interval = _graded(a, b, (1.0, 5.0)).agree_with(p)
        assert -4 <= interval.low < interval.high <= 4
        assert interval.low <= (a - b).mean() <= interval.high
        assert (interval.low > 0 or interval.high < 0) == (p < 0.05), (a, b, p)
        widened += interval.widened
    assert widened > 0  # the widening is doing work


def test_graded_interval_coverage_on_simulated_ratings() -> None:
    """1-5 ratings, 30 items: about 95% coverage of the true mean difference."""
    rng = np.random.default_rng(5)
    shifts, weights = np.array([-1, 0, 1]), np.array([0.2, 0.3, 0.5])
    # truth: E[clip(a + s) - a] over a uniform on 1..5
    truth = -np.mean(
        [
            sum(w * (min(5, max(1, a + s)) - a) for s, w in zip(shifts, weights, strict=True))
            for a in range(1, 6)
        ]
    )
    covered = 0
    for _ in range(1000):
        a = rng.integers(1, 6, 30).astype(float)
        b = np.clip(a + rng.choice(shifts, 30, p=weights), 1, 5)
        interval = _graded(a, b, (1.0, 5.0))
        covered += interval.low <= truth <= interval.high
    assert 0.93 <= covered / 1000 <= 0.97


def test_mover_of_one_interval_is_that_interval() -> None:
    assert stats.mover([(0.1, 0.03, 0.2)], [1.0]) == pytest.approx((0.1, 0.03, 0.2), abs=1e-15)
    low, high = stats.mover([(0.1, 0.03, 0.2)], [-1.0])[1:]
    assert (low, high) == pytest.approx((-0.2, -0.03))
    assert math.isnan(stats.mover([(0.1, math.nan, 0.2), (0, -1, 1)], [0.5, 0.5])[1])


def test_mover_of_two_wilson_intervals_is_newcombes_hybrid_score_interval() -> None:
    """Newcombe (1998), method 10, as statsmodels computes it ("newcomb")."""
    for (x1, n1), (x2, n2) in [((56, 70), (48, 80)), ((9, 10), (3, 10)), ((0, 12), (0, 30))]:
        first, second = (
            stats.mean_interval(np.array([1.0] * x + [0.0] * (n - x)), binary=True)
            for x, n in ((x1, n1), (x2, n2))
        )
        assert first.method == second.method == "wilson"
        _, low, high = stats.mover(
            [(first.mean, first.low, first.high), (second.mean, second.low, second.high)],
            [1.0, -1.0],
        )
        expected = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb")
        assert (low, high) == pytest.approx(expected)


def _paired(
    n: int, p10: float, p01: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    u = rng.random(n)
    a = np.where(u < p10, 1.0, np.where(u < p10 + p01, 0.0, (rng.random(n) < 0.6) * 1.0))
    b = np.where(u < p10, 0.0, np.where(u < p10 + p01, 1.0, a))
    return a, b


@pytest.mark.parametrize(
    ("design", "expected"),
    [
        (((40, 0.1, 0.05), (100, 0.02, 0.02), (250, 0.15, 0.1)), (0.94, 0.99)),
        (((30, 0.01, 0.01), (50, 0.01, 0.0)), (0.94, 1.0)),  # rare discordance: conservative
    ],
)
def test_mover_of_tango_intervals_covers_the_macro_difference(
    design: tuple[tuple[int, float, float], ...], expected: tuple[float, float]
) -> None:
    """Simulated benchmarks: the average's interval covers the true macro-averaged difference."""
    rng = np.random.default_rng(7)
    truth = float(np.mean([p10 - p01 for _, p10, p01 in design]))
    covered = degenerate = 0
    for _ in range(600):
        parts = []
        for n, p10, p01 in design:
            interval = stats.paired_difference_interval(*_paired(n, p10, p01, rng), binary=True)
            assert interval is not None
            parts.append((interval.estimate, interval.low, interval.high))
        _, low, high = stats.mover(parts, [1 / len(design)] * len(design))
        covered += low <= truth <= high
        degenerate += high <= low
    assert expected[0] <= covered / 600 <= expected[1]
    assert degenerate == 0
