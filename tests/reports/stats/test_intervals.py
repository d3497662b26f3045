"""One model's mean: Wilson, clustered, bounded and t intervals, against scipy, statsmodels and Inspect."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint

from reports import stats


def test_wilson_70_of_100() -> None:
    low, high = stats.wilson_interval(70, 100)
    assert (round(low, 3), round(high, 3)) == (0.604, 0.781)
    scipy_ci = sps.binomtest(70, 100).proportion_ci(method="wilson")
    assert (low, high) == pytest.approx((scipy_ci.low, scipy_ci.high))
    interval = stats.mean_interval(np.array([1.0] * 70 + [0.0] * 30), binary=True)
    assert interval.method == "wilson"
    assert (interval.low, interval.high) == pytest.approx((low, high))


def test_interval_method_choice() -> None:
    rng = np.random.default_rng(0)
    large = (rng.random(1000) < 0.5).astype(float)
    assert stats.mean_interval(large, binary=True).method == "t"
    extreme = (rng.random(1000) < 0.03).astype(float)
    assert stats.mean_interval(extreme, binary=True).method == "wilson"
    graded = rng.normal(3, 1, 50)
    interval = stats.mean_interval(graded, binary=False)
    expected = sps.t.interval(0.95, 49, loc=graded.mean(), scale=sps.sem(graded))
    assert interval.method == "t"
    assert (interval.low, interval.high) == pytest.approx(expected)


def test_clustered_se_matches_inspect_stderr() -> None:
    from inspect_ai.scorer import SampleScore, Score, stderr

    rng = np.random.default_rng(1)
    clusters = np.repeat(np.arange(40), 3)
    values = (rng.random(120) < 0.6).astype(float)
    scores = [
        SampleScore(score=Score(value=v), sample_id=i, sample_metadata={"case": int(c)})
        for i, (v, c) in enumerate(zip(values, clusters, strict=True))
    ]
    inspect_value = stderr(cluster="case")(scores)
    assert stats.clustered_se(values, clusters) == pytest.approx(inspect_value)
    interval = stats.mean_interval(values, binary=False, clusters=clusters)
    assert interval.method == "clustered-t" and interval.clusters == 40
    assert interval.se == pytest.approx(inspect_value)
    expected = sps.t.interval(0.95, 39, loc=values.mean(), scale=inspect_value)
    assert (interval.low, interval.high) == pytest.approx(expected)


def test_clustered_binary_interval_stays_in_unit_range() -> None:
    """28/30 correct, both misses in one of 10 cases: clustered t gave [0.78, 1.084]."""
    values = np.array([1.0] * 28 + [0.0] * 2)
    clusters = np.repeat(np.arange(10), 3)
    interval = stats.mean_interval(values, binary=True, clusters=clusters)
    assert interval.method == "clustered-wilson" and interval.se == pytest.approx(1 / 15)
    # Korn & Graubard (1998): n* = p(1-p) / se^2, times (t_{n-1} / t_{C-1})^2
    p = 28 / 30
    n_eff = p * (1 - p) / (1 / 15) ** 2 * (sps.t.ppf(0.975, 29) / sps.t.ppf(0.975, 9)) ** 2
    assert n_eff == pytest.approx(11.44, abs=0.01)
    low, high = proportion_confint(p * n_eff, n_eff, method="wilson")
    assert (interval.low, interval.high) == pytest.approx((low, high))
    assert 0 <= interval.low < p < interval.high <= 1
    # wider than the Wilson interval that ignores the cases
    naive = stats.mean_interval(values, binary=True)
    assert interval.low < naive.low and interval.high - interval.low > naive.high - naive.low
    # all correct: no variance, design effect 1, the upper end is exactly 1
    perfect = stats.mean_interval(np.ones(30), binary=True, clusters=clusters)
    assert perfect.method == "clustered-wilson" and perfect.high == 1.0 and perfect.low < 1.0


def test_large_clustered_binary_interval_is_clipped_t() -> None:
    """Enough effective items and a mean inside [0.1, 0.9]: clustered t, within [0, 1]."""
    rng = np.random.default_rng(3)
    clusters = np.repeat(np.arange(600), 2)
    values = (rng.random(1200) < 0.5).astype(float)
    interval = stats.mean_interval(values, binary=True, clusters=clusters)
    assert interval.method == "clustered-t"
    se = stats.clustered_se(values, clusters)
    assert (interval.low, interval.high) == pytest.approx(
        sps.t.interval(0.95, 599, loc=values.mean(), scale=se)
    )
    single = stats.mean_interval(np.array([1.0, 0.0]), binary=True, clusters=[0, 0])
    assert math.isnan(single.low) and math.isnan(single.high)


def test_bounded_scores_stay_inside_their_scale() -> None:
    """29 of 30 at 1.0 and one at 0.0 on a 0-1 score: the t interval reaches past 1."""
    values = np.array([1.0] * 29 + [0.0])
    t_low, t_high = sps.t.interval(0.95, 29, loc=values.mean(), scale=sps.sem(values))
    assert t_high > 1
    interval = stats.mean_interval(values, binary=False, bounds=(0.0, 1.0))
    assert interval.method == "bounded-wilson"
    assert 0 <= interval.low < values.mean() < interval.high <= 1
    # all at the top of a 1-5 scale: no spread, still an interval below 5
    top = stats.mean_interval(np.full(20, 5.0), binary=False, bounds=(1.0, 5.0))
    assert top.high == 5.0 and 1.0 < top.low < 5.0
    # as 20 successes of 20 would be, and inside the scale each end moves by z^2 / (n + z^2)
    assert top.low == pytest.approx(1 + 4 * proportion_confint(20, 20, method="wilson")[0])
    reach = stats.z_quantile() ** 2 / (20 + stats.z_quantile() ** 2)
    middle = stats.mean_interval(np.full(20, 3.0), binary=False, bounds=(1.0, 5.0))
    assert (middle.low, middle.high) == pytest.approx((3 - 2 * reach, 3 + 2 * reach))
    one = stats.mean_interval(np.array([0.5]), binary=False, bounds=(0.0, 1.0))
    assert 0 < one.low < 0.5 < one.high < 1


def test_bounded_interval_is_the_t_interval_away_from_the_bounds() -> None:
    """Away from the ends the bounded interval has the t interval's width (to a few percent)."""
    rng = np.random.default_rng(11)
    ratings = rng.integers(2, 5, 200).astype(float)
    t_low, t_high = sps.t.interval(0.95, 199, loc=ratings.mean(), scale=sps.sem(ratings))
    interval = stats.mean_interval(ratings, binary=False, bounds=(1.0, 5.0))
    assert interval.high - interval.low == pytest.approx(t_high - t_low, rel=0.02)
    assert interval.low == pytest.approx(t_low, abs=0.02)
    # by hand: Wilson on the score rescaled to [0, 1] at n = m(1-m)/se^2 (z/t)^2
    m, se = (ratings.mean() - 1) / 4, sps.sem(ratings) / 4
    n = m * (1 - m) / se**2 * (sps.norm.ppf(0.975) / sps.t.ppf(0.975, 199)) ** 2
    low, high = proportion_confint(m * n, n, method="wilson")
    assert (interval.low, interval.high) == pytest.approx((1 + 4 * low, 1 + 4 * high))
    # clustered: the clustered SE and the clusters' degrees of freedom
    cases = np.repeat(np.arange(50), 4)
    clustered = stats.mean_interval(ratings, binary=False, bounds=(1.0, 5.0), clusters=cases)
    assert clustered.method == "clustered-bounded-wilson" and clustered.clusters == 50
