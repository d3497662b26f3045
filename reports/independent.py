"""An independent-samples comparison: each model's mean over its own items, one JSON-ready row.

For tasks whose logs each hold their own items (`data_quality` judges one subset's
records per log). Items sharing a sample id are not paired (they need not be the same
item); how many ids the two sides share is reported. When they are the same items, their
scores correlate positively and the independent test is conservative.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from reports import stats
from reports.frames import Measure
from reports.pairing import Side


def compare_independent(
    side_a: Side,
    side_b: Side,
    measure: Measure,
    a: str,
    b: str,
    *,
    seed: int,
    resamples: int,
    detail: bool,
) -> dict[str, Any]:
    """mean(a) - mean(b): a two-sample permutation test; with `detail`, CI, SE, MDE, effect.

    On a known scale (binary, bounded scores) the interval combines the two means' own
    intervals by MOVER (`_score_interval`) and the SE is the one it implies (half its
    width over z), so neither is degenerate when nothing varies; otherwise a percentile
    bootstrap resampling each side (items or clusters) on its own and Welch's SE, or
    neither (`no_spread`) when neither side varies. The interval is brought in step with
    the test (`DifferenceInterval.agree_with`).
    """
    n_a, n_b = len(side_a.values), len(side_b.values)
    row: dict[str, Any] = {
        "measure": measure.key,
        "kind": measure.kind,
        "design": "independent",
        "model": a,
        "reference": b,
        "n": n_a + n_b,
        "n_model": n_a,
        "n_reference": n_b,
        "shared": int(np.intersect1d(side_a.ids, side_b.ids).size),
        "seed": seed,
    }
    if n_a == 0 or n_b == 0:
        return row | {"diff": math.nan, "p_value": math.nan, "test": "none"}
    clusters_a = side_a.clusters if side_a.clustered else None
    clusters_b = side_b.clusters if side_b.clustered else None
    clustered = clusters_a is not None or clusters_b is not None
    mean_a, mean_b = float(side_a.values.mean()), float(side_b.values.mean())
    row |= {
        "diff": mean_a - mean_b,
        "mean_model": mean_a,
        "mean_reference": mean_b,
        "test": "two-sample permutation" + (" (clusters)" if clustered else ""),
        "p_value": stats.two_sample_permutation_pvalue(
            side_a.values,
            side_b.values,
            clusters_a=clusters_a,
            clusters_b=clusters_b,
            resamples=resamples,
            seed=seed,
        ),
    }
    if not detail:
        return row
    no_spread = bool(np.ptp(side_a.values) == 0 and np.ptp(side_b.values) == 0)
    score = _score_interval(side_a, side_b, clusters_a, clusters_b, measure)
    if score is not None:
        interval, se = score, score.implied_se()
    elif no_spread:
        interval, se = stats.DifferenceInterval.none(row["diff"]), math.nan
    else:
        low, high = stats.independent_bootstrap_interval(
            side_a.values,
            side_b.values,
            clusters_a=clusters_a,
            clusters_b=clusters_b,
            resamples=resamples,
            seed=seed,
        )
        method = "bootstrap, each side on its own" + (" (clusters)" if clustered else "")
        interval = stats.DifferenceInterval(row["diff"], low, high, method)
        se = stats.independent_se(side_a.values, side_b.values, clusters_a, clusters_b)
    interval = interval.agree_with(row["p_value"])
    effect = (
        {"cohens_h": stats.cohens_h(mean_a, mean_b)}
        if measure.kind == "binary"
        else {"cohens_d": stats.cohens_d(side_a.values, side_b.values)}
    )
    return (
        row
        | effect
        | {
            "se": se,
            "mde": stats.minimum_detectable_effect(se),
            "low": interval.low,
            "high": interval.high,
            "interval": interval.method,
            "widened": interval.widened,
            "no_spread": no_spread,
        }
    )


def _score_interval(
    side_a: Side,
    side_b: Side,
    clusters_a: np.ndarray | None,
    clusters_b: np.ndarray | None,
    measure: Measure,
) -> stats.DifferenceInterval | None:
    """MOVER of the two means' own intervals, for a measure on a known scale (else None).

    Binary outcomes and bounded scores: the means' Wilson or bounded Wilson intervals
    (`stats.mean_interval`) combined by MOVER, which for two Wilson intervals is
    Newcombe's (1998) hybrid score interval; never zero-width.
    """
    binary = measure.kind == "binary"
    if not binary and measure.bounds is None:
        return None
    means = [
        stats.mean_interval(side.values, binary=binary, clusters=clusters, bounds=measure.bounds)
        for side, clusters in ((side_a, clusters_a), (side_b, clusters_b))
    ]
    diff, low, high = stats.mover([(m.mean, m.low, m.high) for m in means], [1.0, -1.0])
    methods = " and ".join(sorted({m.method for m in means}))
    return stats.DifferenceInterval(
        diff, low, high, f"MOVER of the two means' intervals ({methods})"
    )
