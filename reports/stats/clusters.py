"""Standard errors over items, clustered when items share a case.

One value per item (epochs already reduced); a *cluster* is the unit of randomization
(a case with several questions), and a clustered standard error treats the cluster, not
the item, as the independent draw (Miller 2024, "Adding Error Bars to Evals", App. A).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

Labels = Sequence[Any] | np.ndarray


def factorize(labels: Labels) -> tuple[np.ndarray, int]:
    """Integer codes for labels (first-seen order) and the number of distinct labels."""
    index: dict[Any, int] = {}
    codes = np.fromiter((index.setdefault(label, len(index)) for label in labels), dtype=np.int64)
    return codes, len(index)


def cluster_totals(values: np.ndarray, clusters: Labels | None) -> tuple[np.ndarray, np.ndarray]:
    """Per-cluster sums and counts (each item is its own cluster when `clusters` is None)."""
    values = np.asarray(values, dtype=float)
    if clusters is None:
        return values, np.ones_like(values)
    codes, _ = factorize(clusters)
    sums = np.bincount(codes, weights=values)
    counts = np.bincount(codes).astype(float)
    return sums, counts


def clustered_se(values: np.ndarray, clusters: Labels) -> float:
    """Clustered standard error of the mean (Miller 2024, App. A, with a C/(C-1) correction).

    The same estimator as Inspect's `stderr(cluster=...)`, so report intervals match the
    headline metrics in the logs.
    """
    values = np.asarray(values, dtype=float)
    codes, count = factorize(clusters)
    if count < 2:
        return 0.0
    deviations = np.bincount(codes, weights=values - values.mean())
    return float(math.sqrt((deviations**2).sum() * count / (count - 1)) / len(values))


def mean_se(values: np.ndarray, clusters: Labels | None = None) -> float:
    """Standard error of a mean, e.g. of paired differences (clustered when items share one)."""
    values = np.asarray(values, dtype=float)
    if clusters is not None and factorize(clusters)[1] < values.size:
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
    clusters_a: Labels | None = None,
    clusters_b: Labels | None = None,
) -> float:
    """Standard error of mean(a) - mean(b) for independent samples (Welch's, clustered per side)."""
    return math.sqrt(mean_se(a, clusters_a) ** 2 + mean_se(b, clusters_b) ** 2)
