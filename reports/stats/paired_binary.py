"""Paired binary outcomes: the exact McNemar test and Tango's score interval for the difference.

Two models answered the same n items; n10 items only model a got right, n01 only model b.
The difference of accuracies is (n10 - n01) / n.

The interval is Tango's (1998) asymptotic score interval: the set of differences delta
that the score test of H0: p10 - p01 = delta does not reject, with p01 at its restricted
maximum-likelihood estimate. It is the interval Fagerland, Lydersen & Laake (2014,
"Recommended tests and confidence intervals for paired binomial proportions") recommend,
and unlike the paired bootstrap it is never degenerate: with no discordant pairs among
125 items it is about [-3.0, +3.0] points, not [0, 0]. At delta = 0 its statistic is
McNemar's (n10 - n01) / sqrt(n10 + n01), so it excludes 0 exactly when the asymptotic
McNemar test rejects. The report tests with the *exact* McNemar test, which is more
conservative at small counts (5 vs 0 discordant pairs: asymptotic p = 0.025, exact
p = 0.0625); `reach_zero` then moves the interval's nearer end to 0, so an interval never
excludes 0 while the exact test does not reject.

Items that share a case (clusters) scale the counts down by the design effect of the
paired differences (a Rao-Scott adjustment) with Korn & Graubard's degrees-of-freedom
factor, as the clustered Wilson interval of a mean does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from reports.stats.clusters import Labels, clustered_se, factorize
from reports.stats.intervals import LEVEL, t_ratio_squared, z_quantile

# Bisection steps for an interval end: 2^-80 of the [-1, 1] range, far below rounding.
BISECTION_STEPS = 80


@dataclass(frozen=True)
class McNemar:
    """Exact McNemar test on paired binary outcomes."""

    n10: int  # a correct, b wrong
    n01: int  # a wrong, b correct
    p_value: float
    odds_ratio: float  # n10 / n01, the conditional (discordant) odds ratio
    odds_ratio_low: float
    odds_ratio_high: float


def discordant_counts(a: np.ndarray, b: np.ndarray) -> tuple[int, int]:
    """(n10, n01): items only `a` got right, items only `b` got right."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return int(((a == 1) & (b == 0)).sum()), int(((a == 0) & (b == 1)).sum())


def mcnemar_exact(
    a: np.ndarray, b: np.ndarray, level: float = LEVEL, *, interval: bool = True
) -> McNemar:
    """Exact McNemar: a two-sided binomial test of n10 against n10 + n01 at 1/2.

    The odds-ratio interval (NaN unless `interval`) is the Clopper-Pearson interval of
    n10 / (n10 + n01) mapped through p / (1 - p).
    """
    n10, n01 = discordant_counts(a, b)
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


def tango_statistic(delta: float, n10: float, n01: float, n: float) -> float:
    """Tango's score statistic for H0: p10 - p01 = delta (decreasing in delta).

    (n10 - n01 - n delta) / sqrt(n (2 p01~ + delta (1 - delta))), with p01~ the maximum-
    likelihood estimate of p01 under H0: the root of 2n p^2 + B p + C, B = -n10 - n01 +
    (2n - n10 + n01) delta, C = -n01 delta (1 - delta). Counts may be fractional (the
    clustered interval scales them).
    """
    numerator = n10 - n01 - n * delta
    if abs(numerator) <= 1e-12 * max(1.0, n):
        return 0.0  # the estimate itself, also where the variance vanishes (no discordance)
    a = 2 * n
    b = -n10 - n01 + (2 * n - n10 + n01) * delta
    c = -n01 * delta * (1 - delta)
    p01 = (math.sqrt(max(b * b - 4 * a * c, 0.0)) - b) / (2 * a)
    variance = n * (2 * p01 + delta * (1 - delta))
    if variance <= 0:
        return math.copysign(math.inf, numerator)
    return numerator / math.sqrt(variance)


def tango_interval(n10: float, n01: float, n: float, level: float = LEVEL) -> tuple[float, float]:
    """Tango's score interval for (n10 - n01) / n: every delta with |statistic| <= z."""
    if n <= 0:
        return math.nan, math.nan
    z = z_quantile(level)
    estimate = (n10 - n01) / n
    low = (
        -1.0
        if estimate <= -1
        else _solve(lambda d: tango_statistic(d, n10, n01, n) - z, -1.0, estimate)
    )
    high = (
        1.0
        if estimate >= 1
        else _solve(lambda d: tango_statistic(d, n10, n01, n) + z, estimate, 1.0)
    )
    return low, high


def _solve(function: Callable[[float], float], left: float, right: float) -> float:
    """The root of a decreasing function on [left, right] (positive at left), by bisection.

    Bisection, not Brent: the statistic is infinite at the ends of [-1, 1].
    """
    if function(right) > 0:
        return right
    if function(left) <= 0:
        return left
    for _ in range(BISECTION_STEPS):
        middle = (left + right) / 2
        if function(middle) > 0:
            left = middle
        else:
            right = middle
    return (left + right) / 2


def tango_paired_interval(
    a: np.ndarray, b: np.ndarray, clusters: Labels | None = None, level: float = LEVEL
) -> tuple[float, float, str]:
    """Tango's interval for mean(a) - mean(b) of paired 0/1 outcomes, and its name.

    With clusters, n10, n01 and n are divided by the design effect of the paired
    differences (clustered over independent variance, at least 1) and scaled by
    (t_{n-1} / t_{C-1})^2.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    n10, n01 = discordant_counts(a, b)
    n = len(a)
    if clusters is None or (count := factorize(clusters)[1]) >= n:
        return (*tango_interval(n10, n01, n, level), "Tango score")
    difference = a - b
    simple = float(difference.var(ddof=1)) / n if n > 1 else 0.0
    clustered = clustered_se(difference, clusters) ** 2
    design_effect = max(1.0, clustered / simple) if simple > 0 and clustered > 0 else 1.0
    scale = t_ratio_squared(count - 1, n - 1, level) / design_effect if count > 1 else 1.0
    return (*tango_interval(n10 * scale, n01 * scale, n * scale, level), "Tango score (clusters)")
