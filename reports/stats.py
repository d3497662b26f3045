"""Statistics for comparing models on benchmark items: intervals, paired tests, corrections.

Thin, explicit wrappers around scipy and statsmodels, following Miller (2024), "Adding
Error Bars to Evals": one value per item (epochs already reduced), intervals over items,
clustered when items share a case, and comparisons on *paired* per-item differences, or,
for tasks whose logs each hold their own items, on two *independent* samples.

Three computations have a fast path of our own because the library versions are too
slow for 10 models x 5,000 items (scipy's `permutation_test` takes ~8 s per comparison
at n = 5,000): the cluster bootstrap, the sign-flip (paired) permutation test and the
two-sample (independent) permutation test. They vectorize resamples in blocks and, for
discrete data (binary outcomes, 1-5 ratings), draw counts per distinct value instead of
per item, which has the same distribution. Each keeps the library as the reference
implementation, and the tests check that they agree.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

Correction = Literal["holm", "bh"]
# How pages and sentences name each correction, in full and in tight spaces.
CORRECTION_NAMES: dict[str, str] = {"holm": "Holm", "bh": "Benjamini-Hochberg"}
CORRECTION_ABBREVIATIONS: dict[str, str] = {"holm": "Holm", "bh": "BH"}

LEVEL = 0.95
POWER = 0.80
# Below this many items (or outside [0.1, 0.9]) a binary mean gets a Wilson interval.
WILSON_MAX_N = 300
WILSON_EXTREME = 0.1
# Random draws per vectorized block: bounds memory at ~16 MB per block.
BLOCK_ELEMENTS = 2_000_000
# The exact permutation distribution is enumerated when it has at most this many points.
EXACT_MAX_UNITS = 16
# Resampling works on distinct values instead of units when there are this many times
# fewer of them (binary outcomes, 1-5 ratings): same distribution, far fewer draws.
DISCRETE_FACTOR = 4

_STATSMODELS_METHODS = {"holm": "holm", "bh": "fdr_bh"}


@dataclass(frozen=True)
class Interval:
    """A mean with its standard error and confidence interval over n items."""

    mean: float
    low: float
    high: float
    se: float
    n: int
    clusters: int
    method: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def wilson_interval(successes: float, n: float, level: float = LEVEL) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (statsmodels).

    `successes` and `n` may be fractional: the clustered interval passes an effective
    sample size.
    """
    low, high = proportion_confint(successes, n, alpha=1 - level, method="wilson")
    return float(low), float(high)


def effective_sample_size(mean: float, se: float, n: int, clusters: int, level: float) -> float:
    """Korn & Graubard's (1998) degrees-of-freedom-adjusted effective sample size.

    n / deff with the design effect deff = se^2 / (p(1 - p) / n), floored at 1 (a
    clustered estimate is never credited with more information than n independent items)
    and taken as 1 where it is undefined (p = 0 or 1: no variance to compare), then
    scaled by (t_{n-1} / t_{C-1})^2 so that a Wilson interval on it is as wide as the few
    clusters warrant. A binary mean with its clustered SE then gets a Wilson interval,
    which stays inside [0, 1] where the clustered t interval does not.
    """
    variance = mean * (1 - mean)
    design_effect = max(1.0, se**2 * n / variance) if variance > 0 and se > 0 else 1.0
    quantile = 0.5 + level / 2
    df_factor = (float(sps.t.ppf(quantile, n - 1)) / float(sps.t.ppf(quantile, clusters - 1))) ** 2
    return n / design_effect * df_factor


def cluster_totals(
    values: np.ndarray, clusters: Sequence[Any] | np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-cluster sums and counts (each item is its own cluster when `clusters` is None)."""
    values = np.asarray(values, dtype=float)
    if clusters is None:
        return values, np.ones_like(values)
    codes, _ = _factorize(clusters)
    sums = np.bincount(codes, weights=values)
    counts = np.bincount(codes).astype(float)
    return sums, counts


def clustered_se(values: np.ndarray, clusters: Sequence[Any] | np.ndarray) -> float:
    """Clustered standard error of the mean (Miller 2024, App. A, with a C/(C-1) correction).

    The same estimator as Inspect's `stderr(cluster=...)`, so report intervals match the
    headline metrics in the logs.
    """
    values = np.asarray(values, dtype=float)
    codes, count = _factorize(clusters)
    if count < 2:
        return 0.0
    deviations = np.bincount(codes, weights=values - values.mean())
    return float(math.sqrt((deviations**2).sum() * count / (count - 1)) / len(values))


def mean_interval(
    values: np.ndarray,
    *,
    binary: bool,
    clusters: Sequence[Any] | np.ndarray | None = None,
    level: float = LEVEL,
) -> Interval:
    """Mean and confidence interval of per-item values.

    - binary with n < 300 or a mean outside [0.1, 0.9]: Wilson (the CLT under-covers
      there; Bowyer et al. 2025); when clustered, on the effective sample size of the
      clustered SE (`effective_sample_size`), so the rule and the interval see the
      information the clusters hold, not the item count;
    - clustered (some cluster holds more than one item): clustered SE, t with C-1 df,
      clipped to [0, 1] for a binary measure;
    - otherwise: CLT standard error, t with n-1 df.
    """
    values = np.asarray(values, dtype=float)
    n = int(values.size)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, math.nan, 0, 0, "none")
    mean = float(values.mean())
    n_clusters = n if clusters is None else _factorize(clusters)[1]
    if n_clusters < n:
        se = clustered_se(values, clusters)  # type: ignore[arg-type]
        if binary and n_clusters > 1:
            n_eff = effective_sample_size(mean, se, n, n_clusters, level)
            if _wilson_applies(mean, n_eff):
                low, high = wilson_interval(mean * n_eff, n_eff, level)
                return Interval(mean, low, high, se, n, n_clusters, "clustered-wilson")
        low, high = _t_interval(mean, se, n_clusters - 1, level)
        if binary:  # np.clip keeps a NaN (one cluster) NaN
            low, high = float(np.clip(low, 0.0, 1.0)), float(np.clip(high, 0.0, 1.0))
        return Interval(mean, low, high, se, n, n_clusters, "clustered-t")
    se = float(values.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    if binary and _wilson_applies(mean, n):
        low, high = wilson_interval(int(round(values.sum())), n, level)
        return Interval(mean, low, high, se, n, n, "wilson")
    low, high = _t_interval(mean, se, n - 1, level)
    return Interval(mean, low, high, se, n, n, "t")


def _wilson_applies(mean: float, n: float) -> bool:
    """The CLT under-covers a proportion at small n or near 0 or 1 (Bowyer et al. 2025)."""
    return n < WILSON_MAX_N or not WILSON_EXTREME <= mean <= 1 - WILSON_EXTREME


def _t_interval(mean: float, se: float, df: int, level: float) -> tuple[float, float]:
    if df < 1 or not math.isfinite(se):
        return math.nan, math.nan
    half = float(sps.t.ppf(0.5 + level / 2, df)) * se
    return mean - half, mean + half


def bootstrap_macro_means(
    strata: Sequence[tuple[np.ndarray, np.ndarray]], resamples: int, seed: int
) -> np.ndarray:
    """Bootstrap distribution of a macro-average of cluster-resampled means.

    Each stratum is `(cluster_sums, cluster_counts)`; clusters are resampled with
    replacement within each stratum independently (a stratified cluster bootstrap), and
    each draw averages the strata's ratio means. With one stratum of singleton clusters
    this is the ordinary item bootstrap of a mean.
    """
    rng = np.random.default_rng(seed)
    total = np.zeros(resamples)
    for sums, counts in strata:
        total += _stratum_draws(np.asarray(sums, float), np.asarray(counts, float), resamples, rng)
    return total / len(strata)


def _stratum_draws(
    sums: np.ndarray, counts: np.ndarray, resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """Ratio means of `resamples` bootstrap resamples of one stratum's clusters.

    Few distinct (sum, count) pairs (binary outcomes, 1-5 ratings): draw how many
    times each distinct pair is picked, Multinomial(n, frequencies), which is the same
    distribution as drawing n clusters; O(distinct) per resample instead of O(n).
    """
    size = len(sums)
    pairs, multiplicity = np.unique(np.column_stack([sums, counts]), axis=0, return_counts=True)
    draws = np.empty(resamples)
    if len(pairs) * DISCRETE_FACTOR <= size:
        block = max(1, BLOCK_ELEMENTS // len(pairs))
        for start in range(0, resamples, block):
            rows = min(block, resamples - start)
            picked = rng.multinomial(size, multiplicity / size, size=rows).astype(float)
            draws[start : start + rows] = (picked @ pairs[:, 0]) / (picked @ pairs[:, 1])
        return draws
    block = max(1, BLOCK_ELEMENTS // max(size, 1))
    for start in range(0, resamples, block):
        rows = min(block, resamples - start)
        index = rng.integers(0, size, size=(rows, size))
        draws[start : start + rows] = sums[index].sum(axis=1) / counts[index].sum(axis=1)
    return draws


def percentile_interval(draws: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """Percentile interval of bootstrap draws."""
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return float(low), float(high)


def paired_bootstrap_interval(
    a: np.ndarray,
    b: np.ndarray,
    *,
    clusters: Sequence[Any] | np.ndarray | None = None,
    resamples: int,
    seed: int,
    level: float = LEVEL,
) -> tuple[float, float]:
    """Seeded percentile bootstrap CI of mean(a - b), resampling items (or clusters) as pairs."""
    difference = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    draws = bootstrap_macro_means([cluster_totals(difference, clusters)], resamples, seed)
    return percentile_interval(draws, level)


def independent_bootstrap_interval(
    a: np.ndarray,
    b: np.ndarray,
    *,
    clusters_a: Sequence[Any] | np.ndarray | None = None,
    clusters_b: Sequence[Any] | np.ndarray | None = None,
    resamples: int,
    seed: int,
    level: float = LEVEL,
) -> tuple[float, float]:
    """Seeded percentile bootstrap CI of mean(a) - mean(b) for two independent samples.

    Each side's items (or clusters) are resampled with replacement on their own, as
    `scipy.stats.bootstrap(..., paired=False)` does.
    """
    rng = np.random.default_rng(seed)
    draws = _stratum_draws(*cluster_totals(a, clusters_a), resamples, rng)
    draws -= _stratum_draws(*cluster_totals(b, clusters_b), resamples, rng)
    return percentile_interval(draws, level)


def sign_flip_pvalue(
    strata: Sequence[tuple[np.ndarray, np.ndarray]], resamples: int, seed: int
) -> float:
    """Two-sided p-value of a paired permutation test (swap the pair within units).

    Each stratum is `(unit_sums_of_differences, unit_counts)`; a unit is an item or a
    cluster of items, and swapping the two models' values in a unit flips the sign of
    its difference sum. The statistic is the macro-average over strata of the mean
    difference, so one stratum gives the usual paired test of a mean difference.

    Matches `scipy.stats.permutation_test(..., permutation_type="samples")`: the exact
    distribution when there are at most 2**16 sign patterns and no more than
    `resamples`, otherwise random flips with the +1 correction, and
    p = min(1, 2 min(P(T >= t), P(T <= t))).
    """
    sums = [np.asarray(s, dtype=float) for s, _ in strata]
    weights = [1.0 / (np.asarray(c, dtype=float).sum() * len(strata)) for _, c in strata]
    observed = sum(float(s.sum()) * w for s, w in zip(sums, weights, strict=True))
    units = sum(len(s) for s in sums)
    if units == 0:
        return math.nan
    tolerance = 1e-12 * max(1.0, abs(observed))
    scaled = np.concatenate([s * w for s, w in zip(sums, weights, strict=True)])
    if units <= EXACT_MAX_UNITS and 2**units <= resamples:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=units)))
        null = signs @ scaled
        greater = float((null >= observed - tolerance).mean())
        less = float((null <= observed + tolerance).mean())
    else:
        rng = np.random.default_rng(seed)
        magnitudes, multiplicity = np.unique(np.abs(scaled[scaled != 0]), return_counts=True)
        discrete = len(magnitudes) * DISCRETE_FACTOR <= units
        width = len(magnitudes) if discrete else units
        block = max(1, BLOCK_ELEMENTS // max(width, 1))
        greater_count = less_count = 0
        for start in range(0, resamples, block):
            rows = min(block, resamples - start)
            if discrete:
                # Units sharing |d| only matter through how many keep their sign:
                # Binomial(count, 1/2) per distinct |d| has the same distribution.
                kept = rng.binomial(multiplicity, 0.5, size=(rows, len(magnitudes)))
                null = (2 * kept - multiplicity) @ magnitudes
            else:
                signs = rng.integers(0, 2, size=(rows, units), dtype=np.int8) * 2 - 1
                null = signs @ scaled
            greater_count += int((null >= observed - tolerance).sum())
            less_count += int((null <= observed + tolerance).sum())
        greater = (greater_count + 1) / (resamples + 1)
        less = (less_count + 1) / (resamples + 1)
    return float(min(1.0, 2 * min(greater, less)))


def paired_permutation_pvalue(
    a: np.ndarray,
    b: np.ndarray,
    *,
    clusters: Sequence[Any] | np.ndarray | None = None,
    resamples: int,
    seed: int,
) -> float:
    """Paired permutation test of mean(a) = mean(b) (whole clusters swap when clustered)."""
    difference = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    return sign_flip_pvalue([cluster_totals(difference, clusters)], resamples, seed)


def two_sample_permutation_pvalue(
    a: np.ndarray,
    b: np.ndarray,
    *,
    clusters_a: Sequence[Any] | np.ndarray | None = None,
    clusters_b: Sequence[Any] | np.ndarray | None = None,
    resamples: int,
    seed: int,
) -> float:
    """Two-sided p-value of a permutation test of mean(a) = mean(b), independent samples.

    The units of both samples (items, or whole clusters) are pooled and dealt again into
    groups of the observed sizes; the statistic is the difference of the two groups'
    means (over items, so a cluster weighs by its size). With singleton units this is
    `scipy.stats.permutation_test(..., permutation_type="independent")`: the exact
    distribution when there are at most 2**16 splits and no more than `resamples`,
    otherwise random splits with the +1 correction, and
    p = min(1, 2 min(P(T >= t), P(T <= t))).

    Fast path: with few distinct units (binary outcomes, 1-5 ratings), a random split
    only matters through how many units of each distinct value land in the first group,
    a multivariate hypergeometric draw: the same distribution in O(distinct) per split.
    """
    sums_a, counts_a = cluster_totals(a, clusters_a)
    sums_b, counts_b = cluster_totals(b, clusters_b)
    size_a, size_b = len(sums_a), len(sums_b)
    if size_a == 0 or size_b == 0:
        return math.nan
    sums = np.concatenate([sums_a, sums_b])
    counts = np.concatenate([counts_a, counts_b])
    total_sum, total_count = float(sums.sum()), float(counts.sum())

    def statistic(group_sums: np.ndarray, group_counts: np.ndarray) -> np.ndarray:
        return group_sums / group_counts - (total_sum - group_sums) / (total_count - group_counts)

    observed = float(sums_a.sum() / counts_a.sum() - sums_b.sum() / counts_b.sum())
    tolerance = 1e-12 * max(1.0, abs(observed))
    units = size_a + size_b
    splits = math.comb(units, size_a)
    if splits <= min(resamples, 2**EXACT_MAX_UNITS):
        index = np.array(list(itertools.combinations(range(units), size_a)), dtype=np.int64)
        null = statistic(sums[index].sum(axis=1), counts[index].sum(axis=1))
        greater = float((null >= observed - tolerance).mean())
        less = float((null <= observed + tolerance).mean())
        return float(min(1.0, 2 * min(greater, less)))
    rng = np.random.default_rng(seed)
    pairs, multiplicity = np.unique(np.column_stack([sums, counts]), axis=0, return_counts=True)
    discrete = len(pairs) * DISCRETE_FACTOR <= units
    block = max(1, BLOCK_ELEMENTS // (len(pairs) if discrete else units))
    greater_count = less_count = 0
    for start in range(0, resamples, block):
        rows = min(block, resamples - start)
        if discrete:
            picked = rng.multivariate_hypergeometric(multiplicity, size_a, size=rows).astype(float)
            null = statistic(picked @ pairs[:, 0], picked @ pairs[:, 1])
        else:
            order = rng.permuted(np.tile(np.arange(units), (rows, 1)), axis=1)[:, :size_a]
            null = statistic(sums[order].sum(axis=1), counts[order].sum(axis=1))
        greater_count += int((null >= observed - tolerance).sum())
        less_count += int((null <= observed + tolerance).sum())
    greater = (greater_count + 1) / (resamples + 1)
    less = (less_count + 1) / (resamples + 1)
    return float(min(1.0, 2 * min(greater, less)))


@dataclass(frozen=True)
class McNemar:
    """Exact McNemar test on paired binary outcomes."""

    n10: int  # a correct, b wrong
    n01: int  # a wrong, b correct
    p_value: float
    odds_ratio: float  # n10 / n01, the conditional (discordant) odds ratio
    odds_ratio_low: float
    odds_ratio_high: float


def mcnemar_exact(
    a: np.ndarray, b: np.ndarray, level: float = LEVEL, *, interval: bool = True
) -> McNemar:
    """Exact McNemar: a two-sided binomial test of n10 against n10 + n01 at 1/2.

    The odds-ratio interval (NaN unless `interval`) is the Clopper-Pearson interval of
    n10 / (n10 + n01) mapped through p / (1 - p).
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    n10 = int(((a == 1) & (b == 0)).sum())
    n01 = int(((a == 0) & (b == 1)).sum())
    discordant = n10 + n01
    if discordant == 0:
        return McNemar(n10, n01, 1.0, math.nan, math.nan, math.nan)
    test = sps.binomtest(n10, discordant, 0.5)
    low = high = math.nan
    if interval:
        ci = test.proportion_ci(confidence_level=level, method="exact")
        low, high = _odds(ci.low), _odds(ci.high)
    return McNemar(n10, n01, float(test.pvalue), _odds(n10 / discordant), low, high)


def _odds(p: float) -> float:
    return math.inf if p >= 1 else p / (1 - p)


def adjust_pvalues(p_values: Sequence[float], method: Correction) -> list[float]:
    """Family-wise (Holm) or false-discovery-rate (Benjamini-Hochberg) adjusted p-values.

    NaN p-values (comparisons that could not be made) stay NaN and do not count toward
    the family size. The statsmodels method is always passed explicitly: its default
    is Holm-Sidak, not Holm.
    """
    if method not in _STATSMODELS_METHODS:
        raise ValueError(
            f"unknown correction {method!r}; use one of {sorted(_STATSMODELS_METHODS)}"
        )
    values = np.asarray(p_values, dtype=float)
    adjusted = np.full(values.shape, math.nan)
    finite = ~np.isnan(values)
    if finite.any():
        adjusted[finite] = multipletests(values[finite], method=_STATSMODELS_METHODS[method])[1]
    return [float(v) for v in adjusted]


def cohens_h(p1: float, p2: float) -> float:
    """Cohen's h: the difference of arcsine-transformed proportions."""
    return 2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p2))


def paired_d(difference: np.ndarray) -> float:
    """Standardized mean difference of paired data (d_z = mean(d) / sd(d))."""
    difference = np.asarray(difference, dtype=float)
    if difference.size < 2:
        return math.nan
    sd = float(difference.std(ddof=1))
    return math.nan if sd == 0 else float(difference.mean()) / sd


def cohens_d(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's d of two independent samples: the difference of means over the pooled SD."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    df = a.size + b.size - 2
    if a.size == 0 or b.size == 0 or df < 1:
        return math.nan
    squares = float(((a - a.mean()) ** 2).sum() + ((b - b.mean()) ** 2).sum())
    pooled = math.sqrt(squares / df)
    return math.nan if pooled == 0 else (float(a.mean()) - float(b.mean())) / pooled


def minimum_detectable_effect(se: float, level: float = LEVEL, power: float = POWER) -> float:
    """Smallest true difference detected with `power` by a two-sided test at 1 - `level`.

    Normal approximation on the estimated difference: (z_{1-alpha/2} + z_{power}) * SE,
    with SE the standard error of the mean paired difference (`mean_se` of the
    differences) or of a difference of two independent means (`independent_se`).
    """
    if not math.isfinite(se):
        return math.nan
    return float((sps.norm.ppf(0.5 + level / 2) + sps.norm.ppf(power)) * se)


def mean_se(values: np.ndarray, clusters: Sequence[Any] | np.ndarray | None = None) -> float:
    """Standard error of a mean, e.g. of paired differences (clustered when items share one)."""
    values = np.asarray(values, dtype=float)
    if clusters is not None and _factorize(clusters)[1] < values.size:
        return clustered_se(values, clusters)
    if values.size < 2:
        return math.nan
    return float(values.std(ddof=1) / math.sqrt(values.size))


def macro_se(ses: Sequence[float]) -> float:
    """Standard error of an unweighted mean of independent estimates (AvgS over benchmarks).

    sqrt(sum SE_k^2) / K: the strata are resampled independently, as in
    `bootstrap_macro_means`, so their variances add.
    """
    if not ses:
        return math.nan
    return math.sqrt(sum(se**2 for se in ses)) / len(ses)


def independent_se(
    a: np.ndarray,
    b: np.ndarray,
    clusters_a: Sequence[Any] | np.ndarray | None = None,
    clusters_b: Sequence[Any] | np.ndarray | None = None,
) -> float:
    """Standard error of mean(a) - mean(b) for independent samples (Welch's, clustered per side)."""
    return math.sqrt(mean_se(a, clusters_a) ** 2 + mean_se(b, clusters_b) ** 2)


def spearman(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Spearman rank correlation and its p-value; NaN when either side is constant."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.size < 3 or np.all(x == x[0]) or np.all(y == y[0]):
        return math.nan, math.nan
    result = sps.spearmanr(x, y)
    return float(result.statistic), float(result.pvalue)


def _factorize(labels: Sequence[Any] | np.ndarray) -> tuple[np.ndarray, int]:
    """Integer codes for labels (first-seen order) and the number of distinct labels."""
    index: dict[Any, int] = {}
    codes = np.fromiter((index.setdefault(label, len(index)) for label in labels), dtype=np.int64)
    return codes, len(index)
