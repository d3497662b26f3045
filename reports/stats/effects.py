"""Effect sizes, the minimum detectable effect, and a rank correlation."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as sps

from reports.stats.intervals import LEVEL, POWER


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
    differences; for paired 0/1 outcomes the SE Tango's interval implies, which stays
    positive with no discordant pairs) or of a difference of two independent means
    (`independent_se`).
    """
    if not math.isfinite(se):
        return math.nan
    return float((sps.norm.ppf(0.5 + level / 2) + sps.norm.ppf(power)) * se)


def spearman(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Spearman rank correlation and its p-value; NaN when either side is constant."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.size < 3 or np.all(x == x[0]) or np.all(y == y[0]):
        return math.nan, math.nan
    result = sps.spearmanr(x, y)
    return float(result.statistic), float(result.pvalue)
