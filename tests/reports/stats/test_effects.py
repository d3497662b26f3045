"""Effect sizes, standard errors and the minimum detectable effect against scipy and statsmodels."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from reports import stats


def test_effect_sizes_and_mde() -> None:
    assert stats.cohens_h(0.7, 0.5) == pytest.approx(
        2 * math.asin(math.sqrt(0.7)) - 2 * math.asin(math.sqrt(0.5))
    )
    d = np.array([1.0, 2.0, 3.0, 4.0])
    assert stats.paired_d(d) == pytest.approx(2.5 / np.std(d, ddof=1))
    # Miller (2024): 20% discordant binary pairs at n = 1000 -> MDE of about 4 points
    mde = stats.minimum_detectable_effect(math.sqrt(0.2) / math.sqrt(1000))
    assert mde == pytest.approx(0.0396, abs=0.0005)
    assert math.isnan(stats.minimum_detectable_effect(math.nan))


def test_independent_se_cohens_d_and_mde_against_scipy_and_statsmodels() -> None:
    from statsmodels.stats.power import NormalIndPower

    rng = np.random.default_rng(10)
    a, b = rng.normal(3.4, 0.9, 60), rng.normal(3.0, 1.2, 45)
    difference = a.mean() - b.mean()
    welch = sps.ttest_ind(a, b, equal_var=False)
    assert stats.independent_se(a, b) == pytest.approx(difference / welch.statistic)
    student = sps.ttest_ind(a, b, equal_var=True)
    d = stats.cohens_d(a, b)
    assert d / math.sqrt(1 / 60 + 1 / 45) == pytest.approx(student.statistic)
    assert stats.cohens_d(a, a) == 0.0 and math.isnan(stats.cohens_d(np.ones(3), np.ones(4)))
    # equal SDs: the MDE in SD units is statsmodels' detectable standardized effect
    sd, n_a, n_b = 1.0, 200, 120
    se = sd * math.sqrt(1 / n_a + 1 / n_b)
    effect = NormalIndPower().solve_power(nobs1=n_a, ratio=n_b / n_a, alpha=0.05, power=0.8)
    assert stats.minimum_detectable_effect(se) / sd == pytest.approx(effect, rel=1e-3)
    # clustered sides: each side's clustered SE, combined
    clusters = np.repeat(np.arange(20), 3)
    assert stats.independent_se(a, b, clusters, None) == pytest.approx(
        math.sqrt(stats.clustered_se(a, clusters) ** 2 + (b.std(ddof=1) / math.sqrt(45)) ** 2)
    )
