"""Agreement statistics against reference implementations and hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import f1_score
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

from rubrics.agreement import fleiss_kappa, macro_f1, pairwise_rater_metrics
from rubrics.metrics import clipped_bootstrap, spearman


def test_fleiss_kappa_matches_statsmodels() -> None:
    rng = np.random.default_rng(3)
    items = rng.integers(0, 3, size=(40, 4)).tolist()
    items[:10] = [[1, 1, 1, 1]] * 10  # some agreement
    table, _ = aggregate_raters(np.asarray(items))
    assert math.isclose(fleiss_kappa(items), sm_fleiss(table, method="fleiss"))
    assert fleiss_kappa([["met", "met"], ["met", "met"]]) is None
    with pytest.raises(ValueError):
        fleiss_kappa([["a", "b"], ["a"]])


def test_pairwise_rater_metrics_by_hand() -> None:
    # item 1: own T vs others [T, F]; item 2: own F vs [F, F]; item 3: own T vs [F]
    # precision_pos: pairs with own T: (T,T) agree, (T,F) no, (T,F) no -> 1/3
    # precision_neg: pairs with own F: (F,F), (F,F) -> 2/2 = 1
    # recall_pos: pairs with other T: (T,T) -> 1/1 ; recall_neg: other F: (T,F) no, (F,F), (F,F), (T,F) no -> 2/4
    # f1_pos = 2 * (1/3 * 1) / (1/3 + 1) = 0.5 ; f1_neg = 2 * (1 * 0.5) / 1.5 = 2/3
    result = pairwise_rater_metrics([True, False, True], [[True, False], [False, False], [False]])
    assert result["precision_pos"] == pytest.approx(1 / 3)
    assert result["precision_neg"] == 1.0
    assert result["recall_pos"] == 1.0
    assert result["recall_neg"] == 0.5
    assert result["f1_balanced"] == pytest.approx((0.5 + 2 / 3) / 2)
    assert pairwise_rater_metrics([True], [[True]])["f1_neg"] is None


def test_macro_f1_matches_sklearn() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        predicted = rng.random(15) < 0.6
        reference = rng.random(15) < 0.4
        expected = f1_score(
            reference, predicted, average="macro", labels=[False, True], zero_division=0
        )
        assert macro_f1(list(predicted), list(reference)) == pytest.approx(expected)


def test_clipped_bootstrap_agrees_with_a_loop_reference() -> None:
    values = [0.2, -0.5, 0.9, 1.0, 0.4, -0.1, 0.7]
    # reference: simple-evals' loop (one resample at a time, clip each mean), same seeded stream
    rng = np.random.default_rng(7)
    reference = []
    for _ in range(200):
        resample = [values[i] for i in rng.integers(0, len(values), size=len(values))]
        reference.append(min(1.0, max(0.0, sum(resample) / len(resample))))
    np.testing.assert_allclose(clipped_bootstrap(values, 200, seed=7), reference)
    assert np.array_equal(clipped_bootstrap(values, 50, 1), clipped_bootstrap(values, 50, 1))


def test_spearman_guards() -> None:
    assert spearman([1, 2, 3, 4], [10, 20, 30, 45]) == pytest.approx(1.0)
    assert math.isnan(spearman([1, 2], [3, 4]))
    assert math.isnan(spearman([1, 1, 1], [1, 2, 3]))
