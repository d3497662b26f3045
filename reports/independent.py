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

    The interval is a percentile bootstrap resampling each side (items or clusters) on
    its own, brought in step with the test (`reports.stats.reach_zero`).
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
    se = stats.independent_se(side_a.values, side_b.values, clusters_a, clusters_b)
    low, high = stats.independent_bootstrap_interval(
        side_a.values,
        side_b.values,
        clusters_a=clusters_a,
        clusters_b=clusters_b,
        resamples=resamples,
        seed=seed,
    )
    low, high, widened = stats.reach_zero(low, high, row["p_value"])
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
            "low": low,
            "high": high,
            "interval": "bootstrap, each side on its own" + (" (clusters)" if clustered else ""),
            "widened": widened,
        }
    )
