"""The physicians' ratings in a report: agreement, the judge beside them, models compared.

From the ratings ledger (`reports.review.importer`): agreement among physicians per axis,
judge-vs-physician agreement, each model's mean physician rating, and a paired test of
each model against the reference on physicians' ratings.

The paired test pairs by item and holds the rater fixed: for every rater and prompt where
that rater rated both models' answers, the difference of the two ratings (so a lenient
rater's leniency cancels). The statistic is the mean of these within-rater differences;
its null distribution swaps the two models' answers to a prompt for every rater at once
(a sign-flip permutation test with the prompt as the unit), and its interval is the
bounded Wilson interval of a mean difference of 1-5 ratings, clustered by prompt
(`reports.stats.differences`; never zero-width, even when every rater gave both answers
the same rating). A Wilcoxon signed-rank test (Pratt's treatment of zeros) on the
per-prompt mean differences is reported beside it as a check. The tests form a family
of their own ("physician ratings"), corrected with the report's correction.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from harness.core.io import sha256_file
from reports import agreement as agree
from reports import stats
from reports.families import adjust, describe
from reports.frames import Frames
from reports.pairing import derive_seed
from reports.review.ledger import read_ledger
from reports.scores import RATING_SCALE

RATINGS_FAMILY = "physician ratings"


def stats_seed(seed: int, *parts: str) -> int:
    """A 32-bit seed derived from the report seed (numpy accepts any non-negative int)."""
    return derive_seed(seed, *parts) % (2**32)


def rating_pairs(ledger: pd.DataFrame, axis: str, model: str, reference: str) -> pd.DataFrame:
    """Within-rater pairs of one axis: rater, item (task/sample id), model's and reference's rating.

    Only pairs where the rater rated both answers (neither "Unsure") are kept.
    """
    rows = ledger[(ledger["axis"] == axis) & ledger["model_label"].isin([model, reference])]
    rows = rows.assign(item=rows["task"].astype(str) + "/" + rows["sample_id"].astype(str))
    wide = rows.pivot_table(
        index=["rater", "item"], columns="model_label", values="value", aggfunc="mean"
    )
    if model not in wide.columns or reference not in wide.columns:
        return pd.DataFrame(columns=["rater", "item", "model", "reference"])
    both = wide[[model, reference]].dropna().reset_index()
    return both.rename(columns={model: "model", reference: "reference"})[
        ["rater", "item", "model", "reference"]
    ]


def compare_ratings(pairs: pd.DataFrame, *, seed: int, resamples: int) -> dict[str, Any]:
    """Mean within-rater difference (model - reference), its CI, the permutation and Wilcoxon tests."""
    n_items = int(pairs["item"].nunique())
    row: dict[str, Any] = {"items": n_items, "rater_pairs": len(pairs), "seed": seed}
    if n_items == 0:
        return row | {"diff": math.nan, "p_value": math.nan, "test": "none"}
    a = pairs["model"].to_numpy(dtype=float)
    b = pairs["reference"].to_numpy(dtype=float)
    items = pairs["item"].to_numpy()
    p_value = stats.paired_permutation_pvalue(a, b, clusters=items, resamples=resamples, seed=seed)
    interval = stats.paired_difference_interval(
        a, b, binary=False, bounds=RATING_SCALE, clusters=items
    )
    assert interval is not None  # ratings have known bounds
    interval = interval.agree_with(p_value)
    per_item = pairs.assign(d=a - b).groupby("item")["d"].mean().to_numpy()
    return row | {
        "diff": float((a - b).mean()),
        "low": interval.low,
        "high": interval.high,
        "interval": interval.method,
        "widened": interval.widened,
        "test": "paired permutation by prompt, within rater",
        "p_value": p_value,
        "wilcoxon": wilcoxon_by_item(per_item),
    }


def wilcoxon_by_item(differences: np.ndarray) -> dict[str, Any]:
    """Wilcoxon signed-rank test of per-prompt mean differences (Pratt: zeros ranked, then dropped).

    NaN when every difference is 0 (nothing to rank).
    """
    if len(differences) == 0 or not np.any(differences != 0):
        return {"statistic": math.nan, "p_value": math.nan}
    result = sps.wilcoxon(differences, zero_method="pratt")
    return {"statistic": float(result.statistic), "p_value": float(result.pvalue)}


def rating_comparisons(
    ledger: pd.DataFrame,
    models: list[str],
    reference: str,
    *,
    seed: int,
    resamples: int,
) -> list[dict[str, Any]]:
    """Every model against the reference on every rated axis (adjusted by the caller)."""
    rows = []
    for axis in sorted(ledger["axis"].unique()):
        for model in models:
            if model == reference:
                continue
            pairs = rating_pairs(ledger, axis, model, reference)
            if pairs.empty and not (ledger["model_label"] == model).any():
                continue
            rows.append(
                {
                    "measure": f"physicians/{axis}",
                    "axis": axis,
                    "model": model,
                    "reference": reference,
                }
                | compare_ratings(
                    pairs, seed=stats_seed(seed, "ratings", axis, model), resamples=resamples
                )
            )
    return rows


def agreement_section(
    ledger_path: Path,
    frames: Frames,
    analysis: dict[str, Any],
    *,
    seed: int,
    resamples: int,
    correction: stats.Correction,
) -> dict[str, Any]:
    """Physician agreement per axis, judge-vs-physician agreement, means and model comparisons."""
    ledger = read_ledger(ledger_path)
    label_of = {info.record.eval_id: info.label for info in frames.logs}
    ledger["model_label"] = [
        label_of.get(e, lab) for e, lab in zip(ledger["eval_id"], ledger["label"], strict=True)
    ]
    axes = sorted(ledger["axis"].unique())
    physicians = [
        agree.axis_agreement(ledger, axis, seed=stats_seed(seed, "alpha", axis)) for axis in axes
    ]
    comparisons = rating_comparisons(
        ledger,
        analysis["models"],
        analysis["settings"]["reference"],
        seed=seed,
        resamples=resamples,
    )
    adjust(comparisons, correction)
    for row in comparisons:
        row |= {"family": RATINGS_FAMILY, "correction": correction}
    return {
        "ledger": {
            "path": str(ledger_path),
            "sha256": sha256_file(ledger_path),
            "rows": len(ledger),
            "raters": sorted(ledger["rater"].unique()),
            "exports": sorted(ledger["export_id"].unique()),
            "rubrics": sorted(
                {
                    f"{r} v{v}"
                    for r, v in zip(ledger["rubric"], ledger["rubric_version"], strict=True)
                }
            ),
            "responses": int(ledger["code"].nunique()),
        },
        "axes": physicians,
        "judge": _judge_agreement(ledger, frames, axes, seed),
        "human_means": _human_means(ledger, axes, analysis["models"]),
        "comparisons": comparisons,
        "family": describe(RATINGS_FAMILY, correction, comparisons),
    }


def _judge_agreement(
    ledger: pd.DataFrame, frames: Frames, axes: list[str], seed: int
) -> list[dict[str, Any]]:
    """The judge's `<axis>_rating` on the rated answers against the physicians, per axis."""
    judge = []
    ratings = frames.items[frames.items["metric"].str.endswith("_rating")]
    for axis in axes:
        rows = ratings[ratings["metric"] == f"{axis}_rating"]
        if rows.empty:
            continue
        lookup = {(r.label, r.task, r.sample_id): r.value for r in rows.itertuples(index=False)}
        codes = ledger[ledger["axis"] == axis].drop_duplicates("code")
        judged = pd.DataFrame(
            {
                "item": codes["code"],
                "value": [
                    lookup.get((m, t, s), math.nan)
                    for m, t, s in zip(
                        codes["model_label"], codes["task"], codes["sample_id"], strict=True
                    )
                ],
            }
        )
        result = agree.judge_agreement(ledger, judged, axis, seed=stats_seed(seed, "judge", axis))
        if result is not None:
            judge.append(result)
    return judge


def _human_means(
    ledger: pd.DataFrame, axes: list[str], models: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """Each model's mean physician rating per axis (raters averaged per answer), in 1-5 bounds."""
    means: dict[str, list[dict[str, Any]]] = {}
    for axis in axes:
        per_item = (
            ledger[ledger["axis"] == axis].groupby(["model_label", "code"])["value"].mean().dropna()
        )
        rows = []
        for model in models:
            if model not in per_item.index.get_level_values(0):
                continue
            interval = stats.mean_interval(
                per_item.loc[model].to_numpy(), binary=False, bounds=RATING_SCALE
            )
            rows.append({"model": model, **interval.to_dict()})
        means[axis] = rows
    return means
