"""Holm and Benjamini-Hochberg against statsmodels and scipy."""

from __future__ import annotations

import math

import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from reports import stats

P_VALUES = [0.01, 0.04, 0.03, 0.005, 0.2]


def test_holm_and_bh_vectors() -> None:
    assert stats.adjust_pvalues(P_VALUES, "holm") == pytest.approx([0.04, 0.09, 0.09, 0.025, 0.2])
    assert stats.adjust_pvalues(P_VALUES, "bh") == pytest.approx([0.025, 0.05, 0.05, 0.025, 0.2])
    assert stats.adjust_pvalues(P_VALUES, "holm") == pytest.approx(
        list(multipletests(P_VALUES, method="holm")[1])
    )
    assert stats.adjust_pvalues(P_VALUES, "bh") == pytest.approx(
        list(multipletests(P_VALUES, method="fdr_bh")[1])
    )
    assert stats.adjust_pvalues(P_VALUES, "bh") == pytest.approx(
        list(sps.false_discovery_control(P_VALUES, method="bh"))
    )


def test_adjust_skips_nan_and_rejects_unknown_method() -> None:
    adjusted = stats.adjust_pvalues([0.01, math.nan, 0.04], "holm")
    assert math.isnan(adjusted[1])
    assert adjusted[0] == pytest.approx(0.02) and adjusted[2] == pytest.approx(0.04)
    with pytest.raises(ValueError, match="unknown correction"):
        stats.adjust_pvalues([0.1], "hs")  # type: ignore[arg-type]
