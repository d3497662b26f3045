"""Intervals for differences: one paired comparison, and combinations of several (MOVER).

A paired difference mean(a) - mean(b) gets a score-type interval whenever its scale is
known, so that it is never zero-width:

- binary outcomes: Tango's (1998) score interval (`paired_binary`);
- graded scores with known bounds [lo, hi] (0-1 judge scores, 1-5 ratings): the per-item
  differences lie on [-(hi - lo), hi - lo], and their mean gets the bounded Wilson
  interval of a mean on that scale (`intervals.bounded_interval`): the t interval's width
  where the differences vary, inside the scale; where every difference is the same,
  each end moves toward its bound by Wilson's limit for 0 departures in n. With every
  difference 0 that is +-(hi - lo) z^2 / (n + z^2), which is what Tango's interval gives
  0/1 outcomes without discordant pairs;
- graded scores without known bounds: no score interval (None); the caller bootstraps,
  or, when nothing varies, reports `DifferenceInterval.none`.

A difference interval is brought in step with its test by `DifferenceInterval.agree_with`
(`intervals.reach_zero`).

`mover` combines intervals of independent estimates into one for a weighted sum of them
by the method of variance estimates recovery (Zou & Donner 2008, "Construction of
confidence limits about effect measures: a general approach", Stat Med 27:1693;
Newcombe 2011, "Propagating imprecision: combining confidence intervals from independent
sources", Commun Stat Theory Methods 40:3154): each limit recovers its estimate's
variance from the distance to its own interval's end. A sum of one term gives that term's
interval back, and the difference of two Wilson intervals is Newcombe's (1998) hybrid
score interval for two independent proportions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from reports.stats.clusters import Labels
from reports.stats.intervals import LEVEL, Bounds, mean_interval, reach_zero, z_quantile
from reports.stats.paired_binary import tango_paired_interval

# The `interval` of a difference that has none (`DifferenceInterval.none`).
NO_INTERVAL = "none: no spread, on a scale without known bounds"


@dataclass(frozen=True)
class DifferenceInterval:
    """A difference with its interval, how the interval was made, and whether it was widened."""

    estimate: float
    low: float
    high: float
    method: str
    widened: bool = False  # an end was moved to 0 to agree with the test (`reach_zero`)

    @classmethod
    def none(cls, estimate: float) -> DifferenceInterval:
        """No interval: the differences do not vary and the scale has no known bounds.

        A zero-width interval would claim certainty that nothing here supports.
        """
        return cls(estimate, math.nan, math.nan, NO_INTERVAL)

    def implied_se(self, level: float = LEVEL) -> float:
        """The standard error the interval implies: half its width over z."""
        return (self.high - self.low) / (2 * z_quantile(level))

    def agree_with(self, p_value: float, level: float = LEVEL) -> DifferenceInterval:
        """This interval with its nearer end moved to 0 if it excludes 0 while p >= 1 - level."""
        low, high, widened = reach_zero(self.low, self.high, p_value, level)
        return replace(self, low=low, high=high, widened=widened)


def difference_bounds(bounds: Bounds) -> Bounds:
    """The scale of a difference of two values on `bounds`: [-(hi - lo), hi - lo]."""
    width = bounds[1] - bounds[0]
    return -width, width


def paired_difference_interval(
    a: np.ndarray,
    b: np.ndarray,
    *,
    binary: bool,
    bounds: Bounds | None = None,
    clusters: Labels | None = None,
    level: float = LEVEL,
) -> DifferenceInterval | None:
    """The score-type interval of mean(a) - mean(b) (see the module docstring), not yet widened.

    None for a graded measure without `bounds`: no score interval exists for it.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    estimate = float((a - b).mean())
    if binary:
        low, high, method = tango_paired_interval(a, b, clusters, level)
        return DifferenceInterval(estimate, low, high, method)
    if bounds is None:
        return None
    interval = mean_interval(
        a - b, binary=False, clusters=clusters, bounds=difference_bounds(bounds), level=level
    )
    clustered = interval.clusters < interval.n
    method = "bounded Wilson" + (" (clusters)" if clustered else "")
    return DifferenceInterval(estimate, interval.low, interval.high, method)


def mover(
    parts: Sequence[tuple[float, float, float]], weights: Sequence[float]
) -> tuple[float, float, float]:
    """Estimate and interval of sum(w_k theta_k) from independent (estimate, low, high) triples.

    L = sum w_k theta_k - sqrt(sum (w_k theta_k - min(w_k l_k, w_k u_k))^2), and U likewise
    with the other ends (a negative weight swaps a term's ends). NaN ends when any part's is.
    """
    estimate = sum(weight * theta for (theta, _, _), weight in zip(parts, weights, strict=True))
    if not all(math.isfinite(end) for _, low, high in parts for end in (low, high)):
        return estimate, math.nan, math.nan
    low_squares = high_squares = 0.0
    for (theta, low, high), weight in zip(parts, weights, strict=True):
        ends = sorted((weight * low, weight * high))
        low_squares += (weight * theta - ends[0]) ** 2
        high_squares += (ends[1] - weight * theta) ** 2
    return estimate, estimate - math.sqrt(low_squares), estimate + math.sqrt(high_squares)
