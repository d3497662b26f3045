"""Resampling: cluster bootstraps and permutation tests, vectorized, with library references.

The library versions are too slow for 10 models x 5,000 items (scipy's `permutation_test`
takes ~8 s per comparison at n = 5,000), so the cluster bootstrap, the sign-flip (paired)
permutation test and the two-sample (independent) permutation test have a fast path of
our own. They vectorize resamples in blocks and, for discrete data (binary outcomes, 1-5
ratings), draw counts per distinct value instead of per item, which has the same
distribution. The tests check each against scipy or a full enumeration.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from reports.stats.clusters import Labels, cluster_totals
from reports.stats.intervals import LEVEL

# Random draws per vectorized block: bounds memory at ~16 MB per block.
BLOCK_ELEMENTS = 2_000_000
# The exact permutation distribution is enumerated when it has at most this many points.
EXACT_MAX_UNITS = 16
# Resampling works on distinct values instead of units when there are this many times
# fewer of them (binary outcomes, 1-5 ratings): same distribution, far fewer draws.
DISCRETE_FACTOR = 4


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
    clusters: Labels | None = None,
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
    clusters_a: Labels | None = None,
    clusters_b: Labels | None = None,
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
    clusters: Labels | None = None,
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
    clusters_a: Labels | None = None,
    clusters_b: Labels | None = None,
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
