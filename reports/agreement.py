"""Agreement between raters, and between the judge and physicians, on 1-5 rubric ratings.

- Krippendorff's alpha (any number of raters, missing ratings; ordinal by default),
  with a seeded bootstrap CI over units;
- quadratic-weighted Cohen's kappa between every pair of raters;
- Gwet's AC2 with quadratic weights (any number of raters, missing ratings), which
  stays interpretable when ratings crowd into a few categories;
- intraclass correlations (Shrout & Fleiss 1979; McGraw & Wong 1996) on the fully
  crossed subset (units rated by every rater), with F-based CIs;
- judge-vs-physician agreement per axis: the judge's mean kappa with each physician next
  to the physicians' kappa with each other (leave-one-out), alpha with and without the
  judge, and the judge's leniency (mean judge - physician rating).

Our own implementations keep `krippendorff`, `scikit-learn` and `irrCAC` out of the
runtime dependencies; the tests check them against those packages and against published
worked examples (Shrout & Fleiss 1979; Gwet 2014).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats as sps

from reports.stats import LEVEL, percentile_interval, spearman

Level = Literal["nominal", "ordinal", "interval"]
SCALE = (1, 2, 3, 4, 5)
BOOTSTRAP_RESAMPLES = 2000


def _unit_counts(data: np.ndarray, categories: np.ndarray) -> np.ndarray:
    """Units x categories counts of the ratings each unit received (NaN ignored)."""
    data = np.asarray(data, dtype=float)
    counts = np.zeros((data.shape[1], len(categories)))
    for index, category in enumerate(categories):
        counts[:, index] = (data == category).sum(axis=0)
    return counts


def _distance(categories: np.ndarray, totals: np.ndarray, level: Level) -> np.ndarray:
    """Squared difference function delta^2(c, k) of Krippendorff's alpha."""
    if level == "nominal":
        return 1.0 - np.eye(len(categories))
    if level == "interval":
        return (categories[:, None] - categories[None, :]) ** 2
    # ordinal: (sum of the marginal counts from c to k, minus half of the two ends)^2
    cumulative = np.concatenate([[0.0], np.cumsum(totals)])
    low = np.minimum.outer(np.arange(len(categories)), np.arange(len(categories)))
    high = np.maximum.outer(np.arange(len(categories)), np.arange(len(categories)))
    between = cumulative[high + 1] - cumulative[low]
    return (between - (totals[:, None] + totals[None, :]) / 2) ** 2


def _unit_coincidences(counts: np.ndarray) -> np.ndarray:
    """Per-unit coincidence matrices (units x K x K) for units with two or more ratings."""
    pairable = counts.sum(axis=1)
    keep = pairable >= 2
    counts = counts[keep]
    outer = counts[:, :, None] * counts[:, None, :]
    outer[:, np.arange(counts.shape[1]), np.arange(counts.shape[1])] -= counts
    return outer / (pairable[keep] - 1)[:, None, None]


def _alpha_from_coincidences(
    coincidences: np.ndarray, categories: np.ndarray, level: Level
) -> float:
    totals = coincidences.sum(axis=1)
    n = totals.sum()
    if n <= 1:
        return math.nan
    delta = _distance(categories, totals, level)
    expected = (np.outer(totals, totals) * delta).sum()
    if expected == 0:
        return math.nan
    return float(1.0 - (n - 1) * (coincidences * delta).sum() / expected)


def krippendorff_alpha(
    data: np.ndarray, level: Level = "ordinal", categories: Sequence[float] | None = None
) -> float:
    """Krippendorff's alpha of a raters x units matrix with NaN for missing ratings.

    `categories` is the value domain (default: the values that occur); for the ordinal
    level only their order and observed frequencies matter.
    """
    data = np.asarray(data, dtype=float)
    domain = np.asarray(
        sorted(categories) if categories is not None else np.unique(data[~np.isnan(data)]),
        dtype=float,
    )
    units = _unit_coincidences(_unit_counts(data, domain))
    if units.size == 0:
        return math.nan
    return _alpha_from_coincidences(units.sum(axis=0), domain, level)


def alpha_interval(
    data: np.ndarray,
    level: Level = "ordinal",
    categories: Sequence[float] | None = None,
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
    confidence: float = LEVEL,
) -> tuple[float, float, float]:
    """Alpha with a percentile bootstrap CI, resampling units (items) with replacement."""
    data = np.asarray(data, dtype=float)
    domain = np.asarray(
        sorted(categories) if categories is not None else np.unique(data[~np.isnan(data)]),
        dtype=float,
    )
    units = _unit_coincidences(_unit_counts(data, domain))
    if len(units) < 2:
        return krippendorff_alpha(data, level, categories), math.nan, math.nan
    estimate = _alpha_from_coincidences(units.sum(axis=0), domain, level)
    rng = np.random.default_rng(seed)
    flat = units.reshape(len(units), -1)
    draws = np.empty(resamples)
    for index in range(resamples):
        weights = np.bincount(rng.integers(0, len(units), len(units)), minlength=len(units))
        draws[index] = _alpha_from_coincidences(
            (weights @ flat).reshape(units.shape[1:]), domain, level
        )
    draws = draws[np.isfinite(draws)]
    if not len(draws):
        return estimate, math.nan, math.nan
    low, high = percentile_interval(draws, confidence)
    return estimate, low, high


def gwet_ac2(
    data: np.ndarray,
    categories: Sequence[float] = SCALE,
    weights: Literal["quadratic", "identity"] = "quadratic",
) -> float:
    """Gwet's AC2 of a raters x units matrix with NaN for missing ratings (AC1 unweighted).

    Why beside alpha and kappa: when most responses get 4s and 5s, their chance
    agreement grows with the skewed marginals and they fall toward 0 although raters
    agree (the kappa paradox); AC2's chance agreement does not, so the two together
    tell high agreement on a crowded scale from real disagreement (Gwet 2008).

    Gwet (2014, Handbook of Inter-Rater Reliability, ch. 3-4), with r_ik raters putting
    unit i in category k, r_i = sum_k r_ik, and agreement weights
    w_kl = 1 - (c_k - c_l)^2 / (c_max - c_min)^2 over the whole scale `categories`:
    p_a = mean over units with r_i >= 2 of sum_k r_ik (r*_ik - 1) / (r_i (r_i - 1)),
    r*_ik = sum_l w_kl r_il; pi_k = mean over rated units of r_ik / r_i;
    p_e = sum(w) / (q (q - 1)) * sum_k pi_k (1 - pi_k); AC2 = (p_a - p_e) / (1 - p_e).
    """
    domain = np.asarray(sorted(categories), dtype=float)
    q = len(domain)
    if weights == "quadratic":
        weight = 1 - np.subtract.outer(domain, domain) ** 2 / (domain[-1] - domain[0]) ** 2
    else:
        weight = np.eye(q)
    counts = _unit_counts(data, domain)
    counts = counts[counts.sum(axis=1) > 0]
    raters = counts.sum(axis=1)
    pairable = raters >= 2
    if q < 2 or not pairable.any():
        return math.nan
    weighted = counts @ weight.T
    agreement = (counts * (weighted - 1)).sum(axis=1)[pairable]
    p_a = float((agreement / (raters * (raters - 1))[pairable]).mean())
    pi = (counts / raters[:, None]).mean(axis=0)
    p_e = float(weight.sum() / (q * (q - 1)) * (pi * (1 - pi)).sum())
    return math.nan if p_e >= 1 else (p_a - p_e) / (1 - p_e)


def weighted_kappa(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    categories: Sequence[float] = SCALE,
    weights: Literal["quadratic", "linear", "none"] = "quadratic",
) -> float:
    """Cohen's kappa between two raters on the same items, with disagreement weights."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    index = {float(c): i for i, c in enumerate(categories)}
    k = len(categories)
    observed = np.zeros((k, k))
    for x, y in zip(a, b, strict=True):
        observed[index[float(x)], index[float(y)]] += 1
    if observed.sum() == 0:
        return math.nan
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    grid = np.subtract.outer(np.arange(k), np.arange(k))
    weight = {"quadratic": grid**2, "linear": np.abs(grid), "none": (grid != 0).astype(float)}[
        weights
    ]
    denominator = (weight * expected).sum()
    if denominator == 0:
        return math.nan
    return float(1 - (weight * observed).sum() / denominator)


def icc(ratings: np.ndarray, confidence: float = LEVEL) -> dict[str, dict[str, float]]:
    """The six Shrout-Fleiss ICCs of a complete targets x raters matrix, with F-based CIs.

    ICC1: one-way random, single rater; ICC2 = ICC(A,1): two-way random, absolute
    agreement; ICC3 = ICC(C,1): two-way mixed, consistency; the `k` forms are the
    reliabilities of the mean of k raters. Degenerate matrices (raters who always
    agree, or targets that never differ) give NaN where a ratio is undefined.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return _icc(ratings, confidence)


def _icc(ratings: np.ndarray, confidence: float) -> dict[str, dict[str, float]]:
    x = np.asarray(ratings, dtype=float)
    n, k = x.shape
    if n < 2 or k < 2 or np.isnan(x).any():
        raise ValueError("ICC needs a complete matrix of at least 2 targets x 2 raters")
    grand = x.mean()
    ss_rows = k * ((x.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((x.mean(axis=0) - grand) ** 2).sum()
    ss_total = ((x - grand) ** 2).sum()
    ss_error = ss_total - ss_rows - ss_cols
    msr = ss_rows / (n - 1)
    msc = ss_cols / (k - 1)
    mse = ss_error / ((n - 1) * (k - 1))
    msw = (ss_cols + ss_error) / (n * (k - 1))
    q = 0.5 + confidence / 2

    def f_bounds(f: float, df1: float, df2: float) -> tuple[float, float]:
        return f / sps.f.ppf(q, df1, df2), f * sps.f.ppf(q, df2, df1)

    result: dict[str, dict[str, float]] = {}
    f1 = msr / msw
    low1, high1 = f_bounds(f1, n - 1, n * (k - 1))
    result["ICC1"] = _icc_row(
        (msr - msw) / (msr + (k - 1) * msw),
        f1,
        (low1 - 1) / (low1 + k - 1),
        (high1 - 1) / (high1 + k - 1),
    )
    result["ICC1k"] = _icc_row((msr - msw) / msr, f1, 1 - 1 / low1, 1 - 1 / high1)
    f3 = msr / mse
    low3, high3 = f_bounds(f3, n - 1, (n - 1) * (k - 1))
    result["ICC3"] = _icc_row(
        (msr - mse) / (msr + (k - 1) * mse),
        f3,
        (low3 - 1) / (low3 + k - 1),
        (high3 - 1) / (high3 + k - 1),
    )
    result["ICC3k"] = _icc_row((msr - mse) / msr, f3, 1 - 1 / low3, 1 - 1 / high3)
    icc2 = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
    # Satterthwaite degrees of freedom for the two-way random model (McGraw & Wong 1996).
    a = k * icc2 / (n * (1 - icc2))
    b = 1 + k * icc2 * (n - 1) / (n * (1 - icc2))
    v = (a * msc + b * mse) ** 2 / ((a * msc) ** 2 / (k - 1) + (b * mse) ** 2 / ((n - 1) * (k - 1)))
    f_star = sps.f.ppf(q, n - 1, v)
    f_star2 = sps.f.ppf(q, v, n - 1)
    low2 = n * (msr - f_star * mse) / (f_star * (k * msc + (k * n - k - n) * mse) + n * msr)
    high2 = n * (f_star2 * msr - mse) / (k * msc + (k * n - k - n) * mse + n * f_star2 * msr)
    result["ICC2"] = _icc_row(icc2, f3, low2, high2)
    result["ICC2k"] = _icc_row(
        (msr - mse) / (msr + (msc - mse) / n),
        f3,
        n * (msr - f_star * mse) / (f_star * (msc - mse) + n * msr),
        n * (f_star2 * msr - mse) / (msc - mse + n * f_star2 * msr),
    )
    return {name: result[name] for name in ("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k")}


def _icc_row(value: float, f: float, low: float, high: float) -> dict[str, float]:
    """One ICC; an interval the F approximation cannot give (bounds out of order) is NaN."""
    if not low <= high:
        low = high = math.nan
    return {"icc": float(value), "f": float(f), "low": float(low), "high": float(high)}


def rating_matrix(ledger: pd.DataFrame, axis: str) -> tuple[pd.DataFrame, list[str]]:
    """Units x raters values of one axis (NaN where missing or unsure), and the raters."""
    rows = ledger[ledger["axis"] == axis]
    wide = rows.pivot_table(index="item", columns="rater", values="value", aggfunc="first")
    return wide.sort_index(), sorted(wide.columns.astype(str))


def axis_agreement(
    ledger: pd.DataFrame, axis: str, *, seed: int, resamples: int = BOOTSTRAP_RESAMPLES
) -> dict[str, Any]:
    """Every agreement statistic of one axis among the physicians."""
    wide, raters = rating_matrix(ledger, axis)
    rows = ledger[ledger["axis"] == axis]
    data = wide[raters].to_numpy(dtype=float).T
    alpha, low, high = alpha_interval(data, "ordinal", SCALE, resamples=resamples, seed=seed)
    pairs = []
    exact = within = compared = 0
    for a, b in itertools.combinations(raters, 2):
        shared = wide[[a, b]].dropna()
        if len(shared):
            diffs = (shared[a] - shared[b]).abs()
            exact += int((diffs == 0).sum())
            within += int((diffs <= 1).sum())
            compared += len(shared)
        pairs.append(
            {
                "a": a,
                "b": b,
                "n": len(shared),
                "kappa": weighted_kappa(shared[a], shared[b]) if len(shared) >= 2 else math.nan,
            }
        )
    crossed = wide[raters].dropna()
    icc_result = icc(crossed.to_numpy()) if len(crossed) >= 2 and len(raters) >= 2 else None
    return {
        "axis": axis,
        "raters": raters,
        "units": int((wide[raters].notna().sum(axis=1) >= 2).sum()),
        "ratings": int(rows["value"].notna().sum()),
        "missing_rate": float(rows["value"].isna().mean()) if len(rows) else math.nan,
        "alpha_ordinal": alpha,
        "alpha_low": low,
        "alpha_high": high,
        "alpha_interval": krippendorff_alpha(data, "interval", SCALE),
        "alpha_nominal": krippendorff_alpha(data, "nominal", SCALE),
        "ac2_quadratic": gwet_ac2(data),
        "exact_agreement": exact / compared if compared else math.nan,
        "within_one": within / compared if compared else math.nan,
        "kappa": pairs,
        "crossed_units": len(crossed),
        "icc": icc_result,
    }


def judge_agreement(
    ledger: pd.DataFrame,
    judge: pd.DataFrame,
    axis: str,
    *,
    seed: int,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> dict[str, Any] | None:
    """How the judge's 1-5 ratings of one axis compare with the physicians'.

    `judge` has columns item, value (the judge's `<axis>_rating` for the same response).
    The judge passes as "about as good as a physician" when its mean kappa with the
    physicians lies within the spread of the physicians' leave-one-out kappas (z near 0
    or above).
    """
    wide, raters = rating_matrix(ledger, axis)
    scores = judge.dropna().drop_duplicates("item").set_index("item")["value"]
    scores = scores[scores.isin(SCALE)]
    shared_items = wide.index.intersection(scores.index)
    if not len(shared_items) or not raters:
        return None
    wide = wide.loc[shared_items]
    judge_values = scores.loc[shared_items]

    def mean_kappa(target: pd.Series, others: list[str]) -> float:
        values = []
        for rater in others:
            both = pd.concat([target, wide[rater]], axis=1).dropna()
            if len(both) >= 2:
                values.append(weighted_kappa(both.iloc[:, 0], both.iloc[:, 1]))
        finite = [v for v in values if math.isfinite(v)]
        return float(np.mean(finite)) if finite else math.nan

    judge_kappa = mean_kappa(judge_values, raters)
    physician_kappas = [mean_kappa(wide[r], [o for o in raters if o != r]) for r in raters]
    physician_kappas = [k for k in physician_kappas if math.isfinite(k)]
    spread = float(np.std(physician_kappas, ddof=1)) if len(physician_kappas) >= 2 else math.nan
    centre = float(np.mean(physician_kappas)) if physician_kappas else math.nan
    human_mean = wide[raters].mean(axis=1)
    humans = wide[raters].to_numpy(dtype=float).T
    with_judge = np.vstack([humans, judge_values.to_numpy(dtype=float)[None, :]])
    both = pd.concat([judge_values, human_mean], axis=1).dropna()
    rho, _ = spearman(both.iloc[:, 0].to_numpy(), both.iloc[:, 1].to_numpy())
    alpha_all, low, high = alpha_interval(
        with_judge, "ordinal", SCALE, resamples=resamples, seed=seed
    )
    return {
        "axis": axis,
        "n_items": len(shared_items),
        "judge_kappa": judge_kappa,
        "kappa_physicians": centre,
        "kappa_physicians_sd": spread,
        "z": (judge_kappa - centre) / spread
        if spread and math.isfinite(spread) and spread > 0
        else math.nan,
        "alpha_physicians": krippendorff_alpha(humans, "ordinal", SCALE),
        "alpha_with_judge": alpha_all,
        "alpha_with_judge_low": low,
        "alpha_with_judge_high": high,
        "leniency": float((judge_values - human_mean).mean()),
        "spearman": rho,
    }
