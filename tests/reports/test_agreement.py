"""Agreement statistics against `krippendorff`, scikit-learn, Shrout & Fleiss (1979), Gwet (2014)."""

from __future__ import annotations

import krippendorff
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from reports import agreement

# Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges.
SHROUT_FLEISS = np.array(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
)
# Their Table 4 values, and the 95% intervals of the same example as printed by psych::ICC.
PUBLISHED = {"ICC1": 0.17, "ICC2": 0.29, "ICC3": 0.71, "ICC1k": 0.44, "ICC2k": 0.62, "ICC3k": 0.91}
PSYCH_INTERVALS = {
    "ICC1": (-0.133, 0.72), "ICC2": (0.019, 0.76), "ICC3": (0.342, 0.95),
    "ICC1k": (-0.884, 0.91), "ICC2k": (0.071, 0.93), "ICC3k": (0.676, 0.99),
}  # fmt: skip


def _ratings(seed: int, raters: int = 4, units: int = 40, missing: float = 0.25) -> np.ndarray:
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, 6, units)
    data = np.clip(truth[None, :] + rng.integers(-1, 2, (raters, units)), 1, 5).astype(float)
    data[rng.random(data.shape) < missing] = np.nan
    return data


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_alpha_matches_krippendorff_package(level: str, seed: int) -> None:
    data = _ratings(seed)
    expected = krippendorff.alpha(
        reliability_data=data, level_of_measurement=level, value_domain=[1, 2, 3, 4, 5]
    )
    assert agreement.krippendorff_alpha(data, level, agreement.SCALE) == pytest.approx(expected)  # type: ignore[arg-type]


def test_alpha_interval_is_seeded_and_brackets_the_estimate() -> None:
    data = _ratings(3)
    estimate, low, high = agreement.alpha_interval(data, resamples=500, seed=11)
    assert low < estimate < high
    assert (estimate, low, high) == agreement.alpha_interval(data, resamples=500, seed=11)
    assert agreement.alpha_interval(data, resamples=500, seed=12)[1] != low


def test_alpha_perfect_agreement_is_one() -> None:
    row = np.array([1, 2, 3, 4, 5, 3, 2], dtype=float)
    assert agreement.krippendorff_alpha(np.vstack([row, row, row])) == pytest.approx(1.0)


# Gwet (2014), Handbook of Inter-Rater Reliability: 4 raters, 12 units, categories 1-5
# (irrCAC's `raw_4raters`); raters x units, NaN where a rater skipped the unit.
GWET_4RATERS = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, np.nan, np.nan, np.nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, np.nan, np.nan],
        [np.nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, 3],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, np.nan],
    ]
)


def test_gwet_ac1_and_ac2_on_gwets_example() -> None:
    """AC1 = 0.7754 (p_a 0.8182, p_e 0.1903) as published; AC2 (quadratic) as irrCAC 0.4.4
    computes it with the 1-5 categories given (its own example omits them)."""
    assert agreement.gwet_ac2(GWET_4RATERS, weights="identity") == pytest.approx(0.775444, abs=1e-6)
    assert agreement.gwet_ac2(GWET_4RATERS) == pytest.approx(0.914001, abs=1e-6)


def test_gwet_ac2_by_hand() -> None:
    """Two raters, units (1, 1), (2, 3), (5, 5) on 1-5, weights 1 - d^2/16.

    p_a = mean agreement weight = (1 + 15/16 + 1) / 3 = 47/48; pi = (1/3, 1/6, 1/6, 0, 1/3),
    sum pi (1 - pi) = 13/18; sum of weights = 5 + 8(15/16) + 6(12/16) + 4(7/16) = 18.75, so
    p_e = 18.75 / 20 * 13/18 = 65/96 and AC2 = (47/48 - 65/96) / (31/96) = 29/31.
    """
    data = np.array([[1, 2, 5], [1, 3, 5]], dtype=float)
    assert agreement.gwet_ac2(data) == pytest.approx(29 / 31)
    # a unit rated once is left out of p_a but counts toward the category shares
    extra = np.array([[1, 2, 5, np.nan], [1, 3, 5, 4]], dtype=float)
    assert agreement.gwet_ac2(extra) != pytest.approx(29 / 31)
    assert np.isnan(agreement.gwet_ac2(np.array([[1.0, np.nan], [np.nan, 2.0]])))


def test_gwet_ac2_resists_the_kappa_paradox() -> None:
    """Ratings crowded at 5 with a few one-point slips: alpha collapses, AC2 does not."""
    first = np.full(40, 5.0)
    second = first.copy()
    second[[3, 17, 29]] = 4.0
    data = np.vstack([first, second])
    assert agreement.krippendorff_alpha(data, "ordinal", agreement.SCALE) < 0.05
    assert agreement.gwet_ac2(data) > 0.95


@pytest.mark.parametrize("weights", ["quadratic", "linear", "none"])
def test_weighted_kappa_matches_sklearn(weights: str) -> None:
    rng = np.random.default_rng(5)
    a = rng.integers(1, 6, 60)
    b = np.clip(a + rng.integers(-1, 2, 60), 1, 5)
    expected = cohen_kappa_score(
        a, b, labels=[1, 2, 3, 4, 5], weights=None if weights == "none" else weights
    )
    assert agreement.weighted_kappa(a, b, weights=weights) == pytest.approx(expected)  # type: ignore[arg-type]


def test_icc_shrout_fleiss_worked_example() -> None:
    result = agreement.icc(SHROUT_FLEISS)
    for name, value in PUBLISHED.items():
        assert round(result[name]["icc"], 2) == value, name
    for name, (low, high) in PSYCH_INTERVALS.items():
        assert result[name]["low"] == pytest.approx(low, abs=0.006), name
        assert result[name]["high"] == pytest.approx(high, abs=0.006), name
    assert result["ICC1"]["f"] == pytest.approx(1.795, abs=1e-3)
    assert result["ICC3"]["f"] == pytest.approx(11.027, abs=1e-3)


def test_icc_needs_a_complete_matrix() -> None:
    with pytest.raises(ValueError, match="complete"):
        agreement.icc(np.array([[1.0, np.nan], [2.0, 3.0]]))


def _ledger(data: np.ndarray) -> pd.DataFrame:
    rows = []
    for r, rater in enumerate(["ann", "ben", "cas"]):
        for u in range(data.shape[1]):
            rows.append({"item": f"u{u}", "rater": rater, "axis": "ddx", "value": data[r, u]})
    return pd.DataFrame(rows)


def test_axis_agreement_and_judge_comparison() -> None:
    data = _ratings(6, raters=3, units=30, missing=0.0)
    ledger = _ledger(data)
    summary = agreement.axis_agreement(ledger, "ddx", seed=0, resamples=200)
    assert summary["raters"] == ["ann", "ben", "cas"]
    assert summary["alpha_ordinal"] == pytest.approx(
        agreement.krippendorff_alpha(data, "ordinal", agreement.SCALE)
    )
    assert summary["crossed_units"] == 30 and summary["icc"] is not None
    assert {(k["a"], k["b"]) for k in summary["kappa"]} == {
        ("ann", "ben"),
        ("ann", "cas"),
        ("ben", "cas"),
    }
    # A judge that copies the physicians' consensus agrees with them better than they do with each other.
    consensus = pd.DataFrame(
        {"item": [f"u{u}" for u in range(30)], "value": np.round(np.nanmedian(data, axis=0))}
    )
    good = agreement.judge_agreement(ledger, consensus, "ddx", seed=0, resamples=200)
    assert good is not None and good["judge_kappa"] > good["kappa_physicians"] and good["z"] > 0
    lenient = consensus.assign(value=5.0)
    bad = agreement.judge_agreement(ledger, lenient, "ddx", seed=0, resamples=200)
    assert bad is not None and bad["leniency"] > 0 and bad["judge_kappa"] < good["judge_kappa"]
