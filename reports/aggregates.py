"""The paper's averages (AvgS, AvgC, AvgA) per model, and their paired differences.

Each average is a macro-average of the accuracy of its member benchmarks
(`tasks.suites.AGGREGATES`) that every model was evaluated on. The paper averages 3
standard sets (AvgS), 6 challenging ones (AvgC) and all 9 (AvgA); only some of the
challenging ones are public, and a member benchmark can itself be part of its published
set (MedXpertQA's subset-1449). Every aggregate row says how many of the paper's sets it
averages and which members are partial, so that "AvgC" here is never read as the paper's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reports import stats
from reports.frames import Frames, Measure
from reports.pairing import Pairing, derive_seed

# Sets behind each average in the DIQ paper (arXiv 2508.01450; AvgA = (3 AvgS + 6 AvgC) / 9).
PAPER_SETS = {"AvgS": 3, "AvgC": 6, "AvgA": 9}


def member_measures(
    frames: Frames, pairing: Pairing, members: tuple[str, ...]
) -> tuple[list[Measure], list[str]]:
    """The accuracy measure of each member benchmark that every model has, and the rest."""
    chosen, missing = [], []
    for task in members:
        candidates = [
            m
            for m in frames.measures
            if m.task == task
            and m.kind == "binary"
            and not m.judged
            and m.metric == m.scorer
            and m.design == "paired"
        ]
        complete = [m for m in candidates if all(pairing.has(m, label) for label in pairing.models)]
        if complete:
            chosen.append(complete[0])
        else:
            missing.append(task)
    return chosen, missing


def coverage_fields(name: str, tasks: list[str], frames: Frames) -> dict[str, Any]:
    """How much of the paper's average this one is: sets averaged, partial members, a note."""
    in_paper = PAPER_SETS.get(name)
    partial = [task for task in tasks if task in frames.coverage]
    pieces = []
    if in_paper is not None:
        pieces.append(f"{len(tasks)} of the paper's {in_paper} sets")
    else:
        pieces.append(f"{len(tasks)} sets")
    pieces += [f"{task}: {frames.coverage[task].describe()}" for task in partial]
    return {
        "sets": len(tasks),
        "sets_in_paper": in_paper,
        "incomplete_members": partial,
        "complete": not partial and (in_paper is None or len(tasks) == in_paper),
        "coverage_note": "; ".join(pieces),
    }


def aggregates(
    frames: Frames,
    pairing: Pairing,
    reference: str,
    se_of: dict[tuple[str, str], float],
    *,
    seed: int,
    resamples: int,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """AvgS / AvgC / AvgA per model, and their paired differences with the reference.

    Means are macro-averages over the member benchmarks every model has; CIs come from
    a stratified (cluster) bootstrap, p-values from a stratified paired permutation, and
    the interval is brought in step with the test (`stats.reach_zero`). The MDE uses the
    SE of the macro-averaged paired difference (`stats.macro_se` of each benchmark's
    comparison SE, `se_of[(measure key, model)]`), as a single benchmark's row does; the
    effect size is Cohen's h of the two models' macro-averaged accuracies.
    """
    from tasks.suites import AGGREGATES

    rows, comparisons = [], []
    for name, members in AGGREGATES.items():
        chosen, missing = member_measures(frames, pairing, members)
        if not chosen:
            continue
        tasks = [m.task for m in chosen]
        base = {"name": name, "benchmarks": tasks, "missing": missing}
        base |= coverage_fields(name, tasks, frames)
        means: dict[str, float] = {}
        for model in pairing.models:
            strata = []
            for measure in chosen:
                wide = pairing.wide[measure]
                values = wide[model].dropna()
                strata.append(
                    stats.cluster_totals(
                        values.to_numpy(), wide.loc[values.index, "__cluster"].to_numpy()
                    )
                )
            model_seed = derive_seed(seed, name, model)
            mean = means[model] = float(np.mean([s.sum() / c.sum() for s, c in strata]))
            draws = stats.bootstrap_macro_means(strata, resamples, model_seed)
            low, high = stats.percentile_interval(draws)
            rows.append(
                base | {"model": model, "mean": mean, "low": low, "high": high, "seed": model_seed}
            )
            if model != reference:
                comparisons.append(
                    base
                    | _difference(chosen, pairing, model, reference, se_of, model_seed, resamples)
                    | {"cohens_h": stats.cohens_h(means[model], means[reference])}
                )
    return rows, comparisons


def _difference(
    chosen: list[Measure],
    pairing: Pairing,
    model: str,
    reference: str,
    se_of: dict[tuple[str, str], float],
    seed: int,
    resamples: int,
) -> dict[str, Any]:
    """The macro-averaged paired difference of `model` and `reference`: CI, test, SE, MDE."""
    strata, ses, n = [], [], 0
    for measure in chosen:
        pair = pairing.paired(measure, model, reference)
        assert pair is not None  # every model has every chosen measure
        strata.append(stats.cluster_totals(pair.a - pair.b, pair.clusters))
        ses.append(se_of.get((measure.key, model), stats.mean_se(pair.a - pair.b, pair.clusters)))
        n += len(pair.a)
    p_value = stats.sign_flip_pvalue(strata, resamples, seed)
    draws = stats.bootstrap_macro_means(strata, resamples, seed)
    low, high, widened = stats.reach_zero(*stats.percentile_interval(draws), p_value)
    se = stats.macro_se(ses)
    return {
        "model": model,
        "reference": reference,
        "n": n,
        "diff": float(np.mean([s.sum() / c.sum() for s, c in strata])),
        "low": low,
        "high": high,
        "interval": "stratified bootstrap",
        "widened": widened,
        "se": se,
        "mde": stats.minimum_detectable_effect(se),
        "test": "stratified paired permutation",
        "p_value": p_value,
        "seed": seed,
    }
