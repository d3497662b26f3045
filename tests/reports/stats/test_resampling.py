"""Bootstraps and permutation tests: fast paths against scipy and full enumerations."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from reports import stats


def _scipy_paired_permutation(a: np.ndarray, b: np.ndarray, resamples: int, seed: int) -> float:
    return float(
        sps.permutation_test(
            (a, b),
            lambda x, y, axis: (x - y).mean(axis=axis),
            permutation_type="samples",
            vectorized=True,
            n_resamples=resamples,
            rng=seed,
        ).pvalue
    )


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 5), st.integers(1, 5)), min_size=2, max_size=12))
def test_permutation_exact_matches_scipy(pairs: list[tuple[int, int]]) -> None:
    a = np.array([p[0] for p in pairs], dtype=float)
    b = np.array([p[1] for p in pairs], dtype=float)
    ours = stats.paired_permutation_pvalue(a, b, resamples=9999, seed=0)
    assert ours == pytest.approx(_scipy_paired_permutation(a, b, 9999, 0))


def test_permutation_randomized_agrees_with_scipy() -> None:
    rng = np.random.default_rng(2)
    a = rng.integers(1, 6, 400).astype(float)
    b = np.clip(a + rng.integers(-1, 2, 400) - (rng.random(400) < 0.12), 1, 5)
    ours = stats.paired_permutation_pvalue(a, b, resamples=20000, seed=3)
    reference = _scipy_paired_permutation(a, b, 20000, 3)
    # two Monte Carlo estimates of the same p-value: within a few standard errors
    assert abs(ours - reference) < 4 * math.sqrt(reference * (1 - reference) / 20000) + 1e-3
    assert ours == stats.paired_permutation_pvalue(a, b, resamples=20000, seed=3)


def test_permutation_continuous_agrees_with_scipy() -> None:
    """Continuous differences take the per-unit sign-flip branch (no shared values)."""
    rng = np.random.default_rng(12)
    a = rng.normal(0.1, 1, 300)
    b = rng.normal(0.0, 1, 300)
    ours = stats.paired_permutation_pvalue(a, b, resamples=20000, seed=3)
    reference = _scipy_paired_permutation(a, b, 20000, 3)
    assert abs(ours - reference) < 4 * math.sqrt(reference * (1 - reference) / 20000) + 1e-3


@pytest.mark.parametrize("data", ["binary", "continuous"])
def test_paired_bootstrap_agrees_with_scipy(data: str) -> None:
    """Binary data takes the multinomial branch, continuous data the index-gather branch."""
    rng = np.random.default_rng(4)
    if data == "binary":
        a = (rng.random(500) < 0.7).astype(float)
        b = np.where(rng.random(500) < 0.85, a, 1 - a)
    else:
        a = rng.normal(0.3, 1, 500)
        b = a + rng.normal(-0.1, 0.5, 500)
    low, high = stats.paired_bootstrap_interval(a, b, resamples=20000, seed=5)
    reference = sps.bootstrap(
        (a, b), lambda x, y, axis: x.mean(axis=axis) - y.mean(axis=axis), paired=True,
        vectorized=True, n_resamples=20000, method="percentile", rng=5,
    ).confidence_interval  # fmt: skip
    assert low == pytest.approx(reference.low, abs=0.006)
    assert high == pytest.approx(reference.high, abs=0.006)
    assert (low, high) == stats.paired_bootstrap_interval(a, b, resamples=20000, seed=5)


def test_cluster_bootstrap_is_wider_for_correlated_clusters() -> None:
    rng = np.random.default_rng(6)
    clusters = np.repeat(np.arange(50), 6)
    shift = np.repeat(rng.normal(0, 1, 50), 6)
    d = shift + rng.normal(0, 0.2, 300)
    plain = stats.paired_bootstrap_interval(d, np.zeros(300), resamples=4000, seed=0)
    clustered = stats.paired_bootstrap_interval(
        d, np.zeros(300), clusters=clusters, resamples=4000, seed=0
    )
    assert clustered[1] - clustered[0] > 1.8 * (plain[1] - plain[0])


def test_stratified_macro_mean_bootstrap() -> None:
    rng = np.random.default_rng(7)
    first = (rng.random(200) < 0.6).astype(float)
    second = (rng.random(50) < 0.3).astype(float)
    strata = [stats.cluster_totals(first, None), stats.cluster_totals(second, None)]
    draws = stats.bootstrap_macro_means(strata, 4000, seed=1)
    assert draws.mean() == pytest.approx((first.mean() + second.mean()) / 2, abs=0.01)
    # variance of a mean of two independent means: (v1/n1 + v2/n2) / 4
    expected = (first.var() / 200 + second.var() / 50) / 4
    assert draws.var() == pytest.approx(expected, rel=0.1)
    # the analytic SE of the macro mean (for the aggregates' MDE) agrees with the bootstrap
    se = stats.macro_se([stats.mean_se(first), stats.mean_se(second)])
    assert se == pytest.approx(math.sqrt(expected), rel=0.02)
    assert draws.std() == pytest.approx(se, rel=0.05)
    assert math.isnan(stats.macro_se([]))


def test_stratified_sign_flip_single_stratum_equals_paired_test() -> None:
    rng = np.random.default_rng(8)
    a = rng.normal(0.2, 1, 80)
    b = rng.normal(0.0, 1, 80)
    single = stats.sign_flip_pvalue([stats.cluster_totals(a - b, None)], 5000, 9)
    assert single == stats.paired_permutation_pvalue(a, b, resamples=5000, seed=9)


def _scipy_two_sample_permutation(a: np.ndarray, b: np.ndarray, resamples: int, seed: int) -> float:
    return float(
        sps.permutation_test(
            (a, b),
            lambda x, y, axis: x.mean(axis=axis) - y.mean(axis=axis),
            permutation_type="independent",
            vectorized=True,
            n_resamples=resamples,
            rng=seed,
        ).pvalue
    )


def _close_monte_carlo(ours: float, reference: float, resamples: int) -> bool:
    """Two Monte Carlo estimates of one p-value: within a few standard errors."""
    return abs(ours - reference) < 4 * math.sqrt(reference * (1 - reference) / resamples) + 1e-3


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(1, 5), min_size=2, max_size=7),
    st.lists(st.integers(1, 5), min_size=2, max_size=7),
)
def test_two_sample_permutation_exact_matches_scipy(a: list[int], b: list[int]) -> None:
    """At most C(14, 7) = 3,432 splits: both enumerate them all; identical p-values."""
    x, y = np.array(a, dtype=float), np.array(b, dtype=float)
    ours = stats.two_sample_permutation_pvalue(x, y, resamples=9999, seed=0)
    assert ours == pytest.approx(_scipy_two_sample_permutation(x, y, 9999, 0))


@pytest.mark.parametrize("data", ["ratings", "binary", "continuous"])
def test_two_sample_permutation_randomized_agrees_with_scipy(data: str) -> None:
    """Ratings and binary outcomes take the hypergeometric path, continuous data the shuffles."""
    rng = np.random.default_rng(21)
    if data == "ratings":
        a = rng.integers(1, 6, 300).astype(float)
        b = np.clip(rng.integers(1, 6, 220) + (rng.random(220) < 0.25), 1, 5).astype(float)
    elif data == "binary":
        a = (rng.random(400) < 0.62).astype(float)
        b = (rng.random(350) < 0.55).astype(float)
    else:
        a = rng.normal(0.15, 1, 300)
        b = rng.normal(0.0, 1.3, 260)
    ours = stats.two_sample_permutation_pvalue(a, b, resamples=20000, seed=3)
    reference = _scipy_two_sample_permutation(a, b, 20000, 3)
    assert 0.0005 < reference < 0.9  # a p-value where the comparison means something
    assert _close_monte_carlo(ours, reference, 20000)
    assert ours == stats.two_sample_permutation_pvalue(a, b, resamples=20000, seed=3)


def test_two_sample_permutation_is_not_the_paired_test() -> None:
    """Equal means but shifted pairs: the paired test rejects, the two-sample test does not."""
    a = np.arange(1.0, 41.0)
    b = np.roll(a, 1)  # the same values, each paired with its neighbour
    assert stats.paired_permutation_pvalue(a, b, resamples=4999, seed=0) > 0.5  # sanity
    shifted = a + 0.5
    assert stats.paired_permutation_pvalue(shifted, a, resamples=4999, seed=0) < 0.001
    assert stats.two_sample_permutation_pvalue(shifted, a, resamples=4999, seed=0) > 0.5


@pytest.mark.parametrize("data", ["discrete", "continuous"])
def test_clustered_two_sample_permutation_matches_full_enumeration(data: str) -> None:
    """Whole clusters are re-split: the random paths against all C(20, 10) = 184,756 splits."""
    rng = np.random.default_rng(32 if data == "discrete" else 30)
    clusters_a, clusters_b = np.repeat(np.arange(10), 2), np.repeat(np.arange(10), 2)
    if data == "discrete":  # binary pairs: 3 distinct (sum, count) units
        a = (rng.random(20) < 0.75).astype(float)
        b = (rng.random(20) < 0.45).astype(float)
    else:
        a = rng.normal(0.5, 1, 20)
        b = rng.normal(0.0, 1, 20)
    sums_a, counts_a = stats.cluster_totals(a, clusters_a)
    sums_b, counts_b = stats.cluster_totals(b, clusters_b)
    sums, counts = np.concatenate([sums_a, sums_b]), np.concatenate([counts_a, counts_b])
    index = np.array(list(itertools.combinations(range(20), 10)))
    group_sum, group_count = sums[index].sum(axis=1), counts[index].sum(axis=1)
    null = group_sum / group_count - (sums.sum() - group_sum) / (counts.sum() - group_count)
    observed = a.mean() - b.mean()
    exact = min(1.0, 2 * min((null >= observed - 1e-12).mean(), (null <= observed + 1e-12).mean()))
    ours = stats.two_sample_permutation_pvalue(
        a, b, clusters_a=clusters_a, clusters_b=clusters_b, resamples=20000, seed=4
    )
    assert 0.0005 < exact < 0.9
    assert _close_monte_carlo(ours, exact, 20000)


@pytest.mark.parametrize("data", ["binary", "continuous"])
def test_independent_bootstrap_agrees_with_scipy(data: str) -> None:
    rng = np.random.default_rng(9)
    if data == "binary":
        a = (rng.random(400) < 0.7).astype(float)
        b = (rng.random(300) < 0.6).astype(float)
    else:
        a = rng.normal(0.3, 1, 400)
        b = rng.normal(0.0, 2, 300)
    low, high = stats.independent_bootstrap_interval(a, b, resamples=20000, seed=5)
    reference = sps.bootstrap(
        (a, b), lambda x, y, axis: x.mean(axis=axis) - y.mean(axis=axis), paired=False,
        vectorized=True, n_resamples=20000, method="percentile", rng=5,
    ).confidence_interval  # fmt: skip
    tolerance = 0.006 if data == "binary" else 0.015
    assert low == pytest.approx(reference.low, abs=tolerance)
    assert high == pytest.approx(reference.high, abs=tolerance)
    assert (low, high) == stats.independent_bootstrap_interval(a, b, resamples=20000, seed=5)


def _enumerated_sign_flip(strata: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Every sign pattern of every unit: the macro-average of per-stratum mean differences."""
    scaled = np.concatenate([s / (c.sum() * len(strata)) for s, c in strata])
    observed = scaled.sum()
    null = np.array(list(itertools.product((1.0, -1.0), repeat=len(scaled)))) @ scaled
    greater = (null >= observed - 1e-12).mean()
    less = (null <= observed + 1e-12).mean()
    return float(min(1.0, 2 * min(greater, less)))


@pytest.mark.parametrize("data", ["discrete", "continuous"])
def test_clustered_paired_permutation_matches_full_enumeration(data: str) -> None:
    """18 cases of unequal size: the random paths against all 2^18 sign patterns."""
    rng = np.random.default_rng(40 if data == "discrete" else 41)
    sizes = rng.integers(1, 4, 18)
    clusters = np.repeat(np.arange(18), sizes)
    if data == "discrete":  # binary pairs: few distinct |cluster sums|, the binomial path
        a = (rng.random(len(clusters)) < 0.7).astype(float)
        b = (rng.random(len(clusters)) < 0.5).astype(float)
    else:
        a = rng.normal(0.4, 1, len(clusters))
        b = rng.normal(0.0, 1, len(clusters))
    exact = _enumerated_sign_flip([stats.cluster_totals(a - b, clusters)])
    ours = stats.paired_permutation_pvalue(a, b, clusters=clusters, resamples=20000, seed=4)
    assert 0.0005 < exact < 0.9
    assert _close_monte_carlo(ours, exact, 20000)


def test_multi_stratum_sign_flip_matches_full_enumeration() -> None:
    """Two strata of different sizes, weighted equally (AvgS of two benchmarks)."""
    rng = np.random.default_rng(42)
    first = rng.integers(-1, 2, 7).astype(float)
    second = rng.normal(0.3, 1, 5)
    strata = [stats.cluster_totals(first, None), stats.cluster_totals(second, None)]
    # 12 units, 4,096 patterns: the exact branch, identical to the enumeration
    assert stats.sign_flip_pvalue(strata, 9999, 0) == pytest.approx(_enumerated_sign_flip(strata))
    # 18 units (clustered second stratum) with fewer resamples than patterns: random flips
    third = rng.normal(0.25, 1, 22)
    clusters = np.repeat(np.arange(11), 2)
    strata = [stats.cluster_totals(first, None), stats.cluster_totals(third, clusters)]
    exact = _enumerated_sign_flip(strata)
    assert 0.0005 < exact < 0.9
    assert _close_monte_carlo(stats.sign_flip_pvalue(strata, 20000, 1), exact, 20000)


def _naive_cluster_bootstrap(
    sums: np.ndarray, counts: np.ndarray, resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """One resample at a time: draw clusters with replacement, take the ratio mean."""
    draws = np.empty(resamples)
    for i in range(resamples):
        index = rng.integers(0, len(sums), len(sums))
        draws[i] = sums[index].sum() / counts[index].sum()
    return draws


def test_cluster_bootstrap_gather_path_equals_naive_loop() -> None:
    """Continuous values: the vectorized gather consumes the seed exactly as the loop does."""
    rng = np.random.default_rng(43)
    clusters = np.repeat(np.arange(60), rng.integers(1, 4, 60))
    sums, counts = stats.cluster_totals(rng.normal(0.2, 1, len(clusters)), clusters)
    fast = stats.bootstrap_macro_means([(sums, counts)], 3000, seed=5)
    naive = _naive_cluster_bootstrap(sums, counts, 3000, np.random.default_rng(5))
    np.testing.assert_array_equal(fast, naive)


def test_cluster_bootstrap_multinomial_path_matches_naive_loop() -> None:
    """Binary items in cases of 1-3: few distinct (sum, count) pairs take the multinomial
    path, which draws differently but must have the naive loop's distribution."""
    rng = np.random.default_rng(44)
    clusters = np.repeat(np.arange(200), rng.integers(1, 4, 200))
    values = (rng.random(len(clusters)) < 0.6).astype(float)
    sums, counts = stats.cluster_totals(values, clusters)
    assert len(np.unique(np.column_stack([sums, counts]), axis=0)) * 4 <= len(sums)
    fast = stats.bootstrap_macro_means([(sums, counts)], 20000, seed=6)
    naive = _naive_cluster_bootstrap(sums, counts, 20000, np.random.default_rng(7))
    assert fast.mean() == pytest.approx(naive.mean(), abs=5e-4)
    assert fast.std() == pytest.approx(naive.std(), rel=0.03)
    quantiles = [2.5, 50, 97.5]
    assert np.percentile(fast, quantiles) == pytest.approx(
        np.percentile(naive, quantiles), abs=0.004
    )
    assert sps.ks_2samp(fast, naive).pvalue > 0.001
