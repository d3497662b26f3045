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


Rows = dict[tuple[str, str], dict[str, Any]]


def aggregates(
    frames: Frames,
    pairing: Pairing,
    reference: str,
    summary_of: Rows,
    comparison_of: Rows,
    *,
    seed: int,
    resamples: int,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """AvgS / AvgC / AvgA per model, and their paired differences with the reference.

    Means are macro-averages over the member benchmarks every model has. Their intervals
    combine the members' own intervals by MOVER (`stats.mover`, Zou & Donner 2008;
    Newcombe 2011): a model's, from its summary rows (`summary_of[(measure key, model)]`);
    a difference's, from the members' score intervals (Tango's). So an average of one
    member has that member's interval, and an average is never zero-width when its
    members' intervals are not. The test is a stratified paired permutation test (for one
    member, that member's own test, `comparison_of[(measure key, model)]`), and the
    interval is brought in step with it (`DifferenceInterval.agree_with`). The MDE uses
    the SE of the macro-averaged difference (`stats.macro_se` of the members' comparison
    SEs), as a single benchmark's row does; the effect size is Cohen's h of the two
    models' macro-averaged accuracies.
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
        weights = [1 / len(chosen)] * len(chosen)
        means: dict[str, float] = {}
        for model in pairing.models:
            summaries = [summary_of[(m.key, model)] for m in chosen]
            parts = [(row["mean"], row["low"], row["high"]) for row in summaries]
            mean, low, high = stats.mover(parts, weights)
            means[model] = mean
            rows.append(
                base
                | {
                    "model": model,
                    "mean": mean,
                    "low": low,
                    "high": high,
                    "interval": mover_name([row["method"] for row in summaries]),
                }
            )
            if model != reference:
                comparisons.append(
                    base
                    | _difference(
                        chosen,
                        pairing,
                        model,
                        reference,
                        comparison_of,
                        derive_seed(seed, name, model),
                        resamples,
                    )
                    | {"cohens_h": stats.cohens_h(means[model], means[reference])}
                )
    return rows, comparisons


def mover_name(methods: list[str]) -> str:
    """How an average's interval was made from its members' intervals (`methods`)."""
    kinds = ", ".join(sorted(set(methods)))
    if len(methods) == 1:
        return f"the member's interval ({kinds})"
    return f"MOVER of the {len(methods)} members' intervals ({kinds})"


def _difference(
    chosen: list[Measure],
    pairing: Pairing,
    model: str,
    reference: str,
    comparison_of: Rows,
    seed: int,
    resamples: int,
) -> dict[str, Any]:
    """The macro-averaged paired difference of `model` and `reference`: CI, test, SE, MDE."""
    strata, parts, methods, ses, n = [], [], [], [], 0
    for measure in chosen:
        pair = pairing.paired(measure, model, reference)
        assert pair is not None  # every model has every chosen measure
        clusters = pair.clusters if pair.clustered else None
        strata.append(stats.cluster_totals(pair.a - pair.b, pair.clusters))
        member = stats.paired_difference_interval(pair.a, pair.b, binary=True, clusters=clusters)
        assert member is not None  # a binary difference always has Tango's interval
        parts.append((member.estimate, member.low, member.high))
        methods.append(member.method)
        ses.append(comparison_of[(measure.key, model)]["se"])
        n += len(pair.a)
    if len(chosen) == 1:  # the average of one set is that set: its own test
        own = comparison_of[(chosen[0].key, model)]
        test, p_value = own["test"], own["p_value"]
    else:
        test, p_value = (
            "stratified paired permutation",
            stats.sign_flip_pvalue(strata, resamples, seed),
        )
    diff, low, high = stats.mover(parts, [1 / len(chosen)] * len(chosen))
    interval = stats.DifferenceInterval(diff, low, high, mover_name(methods)).agree_with(p_value)
    se = stats.macro_se(ses)
    return {
        "model": model,
        "reference": reference,
        "n": n,
        "diff": diff,
        "low": interval.low,
        "high": interval.high,
        "interval": interval.method,
        "widened": interval.widened,
        "se": se,
        "mde": stats.minimum_detectable_effect(se),
        "test": test,
        "p_value": p_value,
        "seed": seed,
    }
