"""A paired comparison: two models on the items both answered, one JSON-ready row.

Binary outcomes are tested with the exact McNemar test (a cluster permutation test when
items share a case) and get Tango's score interval for the difference, which is never
degenerate and never excludes 0 while the test does not reject
(`reports.stats.paired_binary`). Graded scores get a paired permutation test and a
paired percentile bootstrap interval, resampling items or whole clusters, brought in step
with the test the same way (`reports.stats.reach_zero`). Intervals are per-comparison
95% intervals: they are not adjusted for multiplicity; the adjusted p-values are.
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

    The SE of a binary difference is the one Tango's interval implies (half its width
    over z), so that with no discordant pairs the MDE is not 0.
    """
    difference = pair.a - pair.b
    detail: dict[str, Any] = {"correlation": _correlation(pair.a, pair.b)}
    if measure.kind == "binary":
        interval = stats.paired_difference_interval(
            pair.a, pair.b, p_value=p_value, clusters=clusters
        )
        low, high, widened = interval.low, interval.high, interval.widened
        se = interval.implied_se()
        method = interval.method
        detail["cohens_h"] = stats.cohens_h(float(pair.a.mean()), float(pair.b.mean()))
    else:
        low, high = stats.paired_bootstrap_interval(
            pair.a, pair.b, clusters=clusters, resamples=resamples, seed=seed
        )
        low, high, widened = stats.reach_zero(low, high, p_value)
        se = stats.mean_se(difference, clusters)
        method = "paired bootstrap" + (" (clusters)" if clusters is not None else "")
        detail["cohens_dz"] = stats.paired_d(difference)
    return detail | {
        "low": low,
        "high": high,
        "interval": method,
        "widened": widened,
        "se": se,
        "mde": stats.minimum_detectable_effect(se),
    }


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of the two models' item values (NaN when either is constant)."""
    if len(a) < 3 or np.all(a == a[0]) or np.all(b == b[0]):
        return math.nan
    return float(np.corrcoef(a, b)[0, 1])
