"""Physician ratings compared between models: paired by prompt within rater, against scipy."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from reports import stats
from reports.raters import compare_ratings, rating_comparisons, rating_pairs


def _ledger(rows: list[tuple[str, str, str, float | None]]) -> pd.DataFrame:
    """Ledger rows (rater, prompt, model, rating) of one axis, as `read_ledger` gives them."""
    return pd.DataFrame(
        [
            {
                "rater": rater,
                "task": "cases",
                "sample_id": prompt,
                "model_label": model,
                "axis": "ddx",
                "value": math.nan if value is None else value,
            }
            for rater, prompt, model, value in rows
        ]
    )


def test_pairs_are_within_rater_and_drop_unsure() -> None:
    ledger = _ledger(
        [
            ("ann", "p1", "A", 4), ("ann", "p1", "B", 2),
            ("ben", "p1", "A", 5), ("ben", "p1", "B", 5),
            ("ann", "p2", "A", 3), ("ben", "p2", "B", 1),  # different raters: no pair
            ("ann", "p3", "A", None), ("ann", "p3", "B", 2),  # unsure: no pair
        ]
    )  # fmt: skip
    pairs = rating_pairs(ledger, "ddx", "A", "B")
    assert pairs.to_dict("records") == [
        {"rater": "ann", "item": "cases/p1", "model": 4.0, "reference": 2.0},
        {"rater": "ben", "item": "cases/p1", "model": 5.0, "reference": 5.0},
    ]


def test_rating_test_matches_scipy_on_known_ratings() -> None:
    """Eight prompts, two raters each: the permutation p-value is scipy's exact paired test on
    the per-prompt sums of within-rater differences (a prompt's differences flip together)."""
    rng = np.random.default_rng(3)
    rows = []
    for prompt in range(8):
        for rater in ("ann", "ben"):
            base = int(rng.integers(1, 5))
            rows += [
                (rater, f"p{prompt}", "A", min(5, base + int(rng.integers(0, 2)))),
                (rater, f"p{prompt}", "B", base),
            ]
    pairs = rating_pairs(_ledger(rows), "ddx", "A", "B")
    result = compare_ratings(pairs, seed=1, resamples=9999)
    sums = pairs.assign(d=pairs["model"] - pairs["reference"]).groupby("item")["d"].sum()
    reference = sps.permutation_test(
        (sums.to_numpy(), np.zeros(len(sums))),
        lambda x, y, axis: (x - y).mean(axis=axis),
        permutation_type="samples",
        vectorized=True,
        n_resamples=9999,
    )
    assert result["p_value"] == pytest.approx(reference.pvalue)
    assert (result["items"], result["rater_pairs"]) == (8, 16)
    assert result["diff"] == pytest.approx((pairs["model"] - pairs["reference"]).mean())
    means = pairs.assign(d=pairs["model"] - pairs["reference"]).groupby("item")["d"].mean()
    wilcoxon = sps.wilcoxon(means.to_numpy(), zero_method="pratt")
    assert result["wilcoxon"]["p_value"] == pytest.approx(wilcoxon.pvalue)
    assert result["wilcoxon"]["statistic"] == pytest.approx(wilcoxon.statistic)
    assert result["low"] <= result["diff"] <= result["high"]
    # the interval agrees with the test
    assert (result["low"] > 0) == (result["p_value"] < 0.05) or result["widened"]


def test_no_pairs_and_no_differences() -> None:
    ledger = _ledger([("ann", "p1", "A", 3), ("ben", "p1", "B", 3)])
    [row] = rating_comparisons(ledger, ["B", "A"], "B", seed=0, resamples=99)
    assert row["model"] == "A" and row["items"] == 0 and math.isnan(row["diff"])
    same = _ledger(
        [(r, p, m, 3) for r in ("ann", "ben") for p in ("p1", "p2", "p3") for m in ("A", "B")]
    )
    [row] = rating_comparisons(same, ["B", "A"], "B", seed=0, resamples=99)
    assert row["diff"] == 0 and row["p_value"] == 1.0
    assert math.isnan(row["wilcoxon"]["p_value"])
    # every rater rated both answers alike: not [0, 0] but Wilson's limit for 0 departures
    # on the [-4, 4] scale of a difference, over 6 rater pairs in 3 prompts (clustered)
    n = 6 * (sps.t.ppf(0.975, 5) / sps.t.ppf(0.975, 2)) ** 2
    reach = 4 * stats.z_quantile() ** 2 / (n + stats.z_quantile() ** 2)
    assert (row["low"], row["high"]) == pytest.approx((-reach, reach))
    assert row["interval"] == "bounded Wilson (clusters)" and not row["widened"]
