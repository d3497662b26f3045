"""A paired comparison: two models on the items both answered, one JSON-ready row.

Binary outcomes are tested with the exact McNemar test (a cluster permutation test when
items share a case) and get Tango's score interval for the difference; graded scores on a
known scale (0-1 judge scores, 1-5 ratings) get a paired permutation test and the
bounded Wilson interval of the mean difference (`reports.stats.differences`). Both are
never degenerate, and are brought in step with the test (`DifferenceInterval.agree_with`):
they never exclude 0 while the test does not reject. Graded scores without known bounds
get a paired percentile bootstrap interval (items or whole clusters resampled), or, when
every paired difference is the same, no interval and the flag `no_spread`. Intervals are
per-comparison 95% intervals: they are not adjusted for multiplicity; the adjusted
p-values are.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from reports import stats
from reports.frames import Measure
from reports.pairing import Paired


def compare_paired(
    pair: Paired,
    measure: Measure,
    a: str,
    b: str,
    *,
    seed: int,
    resamples: int,
    detail: bool,
) -> dict[str, Any]:
    """Difference a - b on the paired items: estimate and test; with `detail`, CI and effects.

    Without `detail` (the all-pairs matrix) only the estimate, test and p-value are made.
    """
    n = len(pair.a)
    row: dict[str, Any] = {
        "measure": measure.key,
        "kind": measure.kind,
        "design": "paired",
        "model": a,
        "reference": b,
        "n": n,
        "dropped": pair.dropped,
        "seed": seed,
    }
    if n == 0:
        return row | {"diff": math.nan, "p_value": math.nan, "test": "none"}
    clusters = pair.clusters if pair.clustered else None
    row["diff"] = float((pair.a - pair.b).mean())
    if measure.kind == "binary" and clusters is None:
        mcnemar = stats.mcnemar_exact(pair.a, pair.b, interval=detail)
        row |= {"test": "McNemar exact", "p_value": mcnemar.p_value}
        if detail:
            row |= {
                "n10": mcnemar.n10,
                "n01": mcnemar.n01,
                "odds_ratio": mcnemar.odds_ratio,
                "odds_ratio_low": mcnemar.odds_ratio_low,
                "odds_ratio_high": mcnemar.odds_ratio_high,
            }
    else:
        row |= {
            "test": "paired permutation" + (" (clusters)" if clusters is not None else ""),
            "p_value": stats.paired_permutation_pvalue(
                pair.a, pair.b, clusters=clusters, resamples=resamples, seed=seed
            ),
        }
    if detail:
        row |= _detail(pair, measure, clusters, row["p_value"], seed=seed, resamples=resamples)
    return row


def _detail(
    pair: Paired,
    measure: Measure,
    clusters: np.ndarray | None,
    p_value: float,
    *,
    seed: int,
    resamples: int,
) -> dict[str, Any]:
    """Interval, standard error, MDE and effect sizes of one paired comparison.

    A score-type interval (binary, or graded on a known scale) gives the row its SE: the
    one the interval implies, half its width over z, so that with no discordant pairs or
    no spread the MDE is not 0. A graded measure without known bounds gets a bootstrap
    interval and the SE of the differences; when the differences do not vary at all, it
    has neither (`no_spread`), rather than a zero-width interval and an MDE of 0.
    """
    difference = pair.a - pair.b
    detail: dict[str, Any] = {
        "correlation": _correlation(pair.a, pair.b),
        "no_spread": bool(np.ptp(difference) == 0),
    }
    if measure.kind == "binary":
        detail["cohens_h"] = stats.cohens_h(float(pair.a.mean()), float(pair.b.mean()))
    else:
        detail["cohens_dz"] = stats.paired_d(difference)
    score = stats.paired_difference_interval(
        pair.a,
        pair.b,
        binary=measure.kind == "binary",
        bounds=measure.bounds,
        clusters=clusters,
    )
    if score is not None:
        interval, se = score, score.implied_se()
    elif detail["no_spread"]:
        interval, se = stats.DifferenceInterval.none(float(difference.mean())), math.nan
    else:
        low, high = stats.paired_bootstrap_interval(
            pair.a, pair.b, clusters=clusters, resamples=resamples, seed=seed
        )
        method = "paired bootstrap" + (" (clusters)" if clusters is not None else "")
        interval = stats.DifferenceInterval(float(difference.mean()), low, high, method)
        se = stats.mean_se(difference, clusters)
    interval = interval.agree_with(p_value)
    return detail | {
        "low": interval.low,
        "high": interval.high,
        "interval": interval.method,
        "widened": interval.widened,
        "se": se,
        "mde": stats.minimum_detectable_effect(se),
    }


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of the two models' item values (NaN when either is constant)."""
    if len(a) < 3 or np.all(a == a[0]) or np.all(b == b[0]):
        return math.nan
    return float(np.corrcoef(a, b)[0, 1])
