"""Confidence intervals for one model's mean, and the rule that keeps intervals and tests in step.

Which interval a mean gets depends on what the values can be:

- binary (0/1) with n < 300 or a mean outside [0.1, 0.9]: Wilson (the CLT under-covers
  there; Bowyer et al. 2025); when clustered, on the Korn & Graubard effective sample
  size of the clustered SE;
- bounded scores (0-1 judge scores, 1-5 ratings): a Wilson interval on the score rescaled
  to [0, 1], with the effective sample size that gives it the width of the t interval
  (`bounded_effective_n`). It stays inside the bounds, where a t interval around 0.967 on
  a 0-1 scale reaches 1.035, and is never zero-width: values that do not vary get Wilson's
  limit for 0 departures in n toward each bound (`bounded_interval`);
- otherwise: CLT or clustered standard error with a t quantile.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint

from reports.stats.clusters import Labels, clustered_se, factorize

LEVEL = 0.95
POWER = 0.80
# Below this many items (or outside [0.1, 0.9]) a binary mean gets a Wilson interval.
WILSON_MAX_N = 300
WILSON_EXTREME = 0.1

Bounds = tuple[float, float]


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


def z_quantile(level: float = LEVEL) -> float:
    """The two-sided normal quantile of a `level` interval (1.96 at 95%)."""
    return float(sps.norm.ppf(0.5 + level / 2))


def wilson_interval(successes: float, n: float, level: float = LEVEL) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (statsmodels).

    `successes` and `n` may be fractional: the clustered and bounded intervals pass an
    effective sample size.
    """
    low, high = proportion_confint(successes, n, alpha=1 - level, method="wilson")
    return float(low), float(high)


def t_ratio_squared(df_small: int, df_large: float, level: float) -> float:
    """(t_{df_large} / t_{df_small})^2: how much fewer degrees of freedom widen an interval.

    `df_large` may be infinite (the normal quantile a Wilson interval uses).
    """
    quantile = 0.5 + level / 2
    large = (
        float(sps.norm.ppf(quantile))
        if math.isinf(df_large)
        else float(sps.t.ppf(quantile, df_large))
    )
    return (large / float(sps.t.ppf(quantile, df_small))) ** 2


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
    return n / design_effect * t_ratio_squared(clusters - 1, n - 1, level)


def bounded_effective_n(scaled_mean: float, scaled_se: float, units: int, level: float) -> float:
    """The sample size at which a Wilson interval around a [0, 1] mean has the t interval's width.

    m(1 - m) / se^2 * (z / t_{units-1})^2: Wilson's half-width is about
    z * sqrt(m(1 - m) / n), so this n makes it t * se, the usual interval, while the
    Wilson form keeps both ends inside [0, 1]. Defined where there is spread (se > 0,
    so 0 < m < 1 and at least two units); `bounded_interval` handles the rest.
    """
    return (
        scaled_mean * (1 - scaled_mean) / scaled_se**2 * t_ratio_squared(units - 1, math.inf, level)
    )


def no_spread_sample_size(n: int, units: int, level: float) -> float:
    """The sample size behind an interval around values that do not vary.

    n items, times Korn & Graubard's (t_{n-1} / t_{C-1})^2 when they fall in C < n
    clusters (the factor Tango's clustered interval applies, with a design effect of 1
    where nothing varies); one cluster is one unit.
    """
    if units < 2:
        return 1.0
    return n * t_ratio_squared(units - 1, n - 1, level) if units < n else float(n)


def bounded_interval(
    mean: float, se: float, n: int, units: int, bounds: Bounds, level: float = LEVEL
) -> tuple[float, float]:
    """A score-type interval for the mean of values on `bounds`, never zero-width, always inside.

    With spread: a Wilson interval on the mean rescaled to [0, 1], at the sample size that
    gives it the t interval's width (`bounded_effective_n`). Without (every value the
    same, or a single unit): no item departed from the mean, so each end moves from the
    mean toward its bound by the Wilson upper limit of 0 departures in n, z^2 / (n + z^2),
    of the distance. On a bound that is Wilson's interval for n successes of n; for a
    paired difference on [-w, w] with every difference 0 it is +-w z^2 / (n + z^2),
    exactly Tango's interval for 0 discordant pairs of n (`paired_binary`). It is close to
    the exact bound for any distribution on the scale, 1 - (alpha/2)^(1/n) of the
    distance (0.161 against 0.168 at n = 20).
    """
    lower, upper = bounds
    width = upper - lower
    scaled = (mean - lower) / width
    scaled_se = se / width if math.isfinite(se) else 0.0
    if scaled_se > 0 and 0 < scaled < 1 and units > 1:
        n_eff = bounded_effective_n(scaled, scaled_se, units, level)
        low, high = wilson_interval(scaled * n_eff, n_eff, level)
    else:
        reach = wilson_interval(0, no_spread_sample_size(n, units, level), level)[1]
        low, high = scaled - scaled * reach, scaled + (1 - scaled) * reach
    return lower + low * width, lower + high * width


def mean_interval(
    values: np.ndarray,
    *,
    binary: bool,
    clusters: Labels | None = None,
    level: float = LEVEL,
    bounds: Bounds | None = None,
) -> Interval:
    """Mean and confidence interval of per-item values (see the module docstring).

    `bounds` are the scale's ends for a graded score (binary values are bounded by
    [0, 1] already); with them the interval is a bounded Wilson interval.
    """
    values = np.asarray(values, dtype=float)
    n = int(values.size)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, math.nan, 0, 0, "none")
    mean = float(values.mean())
    n_clusters = n if clusters is None else factorize(clusters)[1]
    clustered = n_clusters < n
    if clustered:
        se = clustered_se(values, clusters)  # type: ignore[arg-type]
    else:
        se = float(values.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    prefix = "clustered-" if clustered else ""
    if binary:
        if clustered and n_clusters > 1:
            n_eff = effective_sample_size(mean, se, n, n_clusters, level)
            if _wilson_applies(mean, n_eff):
                low, high = wilson_interval(mean * n_eff, n_eff, level)
                return Interval(mean, low, high, se, n, n_clusters, "clustered-wilson")
        elif not clustered and _wilson_applies(mean, n):
            low, high = wilson_interval(int(round(values.sum())), n, level)
            return Interval(mean, low, high, se, n, n, "wilson")
        low, high = _t_interval(mean, se, n_clusters - 1, level)
        # np.clip keeps a NaN (one cluster) NaN
        low, high = float(np.clip(low, 0.0, 1.0)), float(np.clip(high, 0.0, 1.0))
        return Interval(mean, low, high, se, n, n_clusters, f"{prefix}t")
    if bounds is not None:
        low, high = bounded_interval(mean, se, n, n_clusters, bounds, level)
        return Interval(mean, low, high, se, n, n_clusters, f"{prefix}bounded-wilson")
    low, high = _t_interval(mean, se, n_clusters - 1, level)
    return Interval(mean, low, high, se, n, n_clusters, f"{prefix}t")


def _wilson_applies(mean: float, n: float) -> bool:
    """The CLT under-covers a proportion at small n or near 0 or 1 (Bowyer et al. 2025)."""
    return n < WILSON_MAX_N or not WILSON_EXTREME <= mean <= 1 - WILSON_EXTREME


def _t_interval(mean: float, se: float, df: int, level: float) -> tuple[float, float]:
    if df < 1 or not math.isfinite(se):
        return math.nan, math.nan
    half = float(sps.t.ppf(0.5 + level / 2, df)) * se
    return mean - half, mean + half


def reach_zero(
    low: float, high: float, p_value: float, level: float = LEVEL
) -> tuple[float, float, bool]:
    """A difference interval that contains 0 whenever its test does not reject at 1 - `level`.

    An interval and a test computed differently (a score or bootstrap interval next to an
    exact or permutation test) can disagree at small n: an interval that excludes 0 while
    p >= alpha. Then the end nearer 0 is moved to 0 (the interval only grows, so its
    coverage does not fall) and the third value says so.
    """
    values = (low, high, p_value)
    if not all(math.isfinite(v) for v in values) or p_value < 1 - level:
        return low, high, False
    if low > 0:
        return 0.0, high, True
    if high < 0:
        return low, 0.0, True
    return low, high, False
