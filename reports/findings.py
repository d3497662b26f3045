"""The key findings: plain sentences from the comparisons, saying what each number covers.

Aggregates come first, then the significant differences, then how many were not
significant and with which correction. A result on part of a published set says so, and
a report with nothing to compare says why instead of showing an empty box.
"""

from __future__ import annotations

import math
from typing import Any

from reports import stats
from reports.families import EXPLORATORY_CORRECTION, PRIMARY_CORRECTION
from reports.logs import Coverage

HEADLINE_ORDER = {"AvgA": 0, "AvgS": 1, "AvgC": 2}


def findings(
    comparisons: list[dict[str, Any]],
    aggregate_comparisons: list[dict[str, Any]],
    labels: dict[str, str],
    *,
    declared: bool,
    coverage: dict[str, Coverage],
    empty_reason: str | None,
) -> list[str]:
    """Sentences for the key-findings box.

    `labels` name each measure key; `coverage` holds the partial tasks (`Frames.coverage`);
    `empty_reason` says why no comparison could be made, when none could. With `declared`
    primary measures, primary results come first and say so; each sentence names the
    correction of its own family.
    """
    if empty_reason is not None:
        return [empty_reason]
    lines = []

    def tail(row: dict[str, Any]) -> str:
        method = stats.CORRECTION_ABBREVIATIONS[row["correction"]]
        primary = " (primary)" if row["family"] == "primary" else ""
        return f"{method}-adjusted p {_p(row['p_adjusted'])}{primary}"

    for row in sorted(
        aggregate_comparisons,
        key=lambda r: (r["family"] != "primary", HEADLINE_ORDER.get(r["name"], 3)),
    ):
        lines.append(
            f"{row['model']} − {row['reference']} on {row['name']} ({row['coverage_note']}): "
            f"{_points(row['diff'])} [{_points(row['low'])}, {_points(row['high'])}], {tail(row)}"
        )
    significant = [row for row in comparisons if row["significant"]]
    for row in sorted(
        significant,
        key=lambda r: (r["family"] != "primary", r["p_adjusted"], r["measure"], r["model"]),
    ):
        design = (
            f" (independent samples, {row['n_model']} vs {row['n_reference']} items)"
            if row["design"] == "independent"
            else ""
        )
        lines.append(
            f"{row['model']} − {row['reference']} on {labels.get(row['measure'], row['measure'])}"
            f"{design}: "
            f"{_format(row['diff'], row['kind'])} {_interval(row)}, {tail(row)}"
        )
    rest = len(comparisons) - len(significant)
    if rest:
        short = stats.CORRECTION_ABBREVIATIONS
        after = (
            f"correction ({short[PRIMARY_CORRECTION]} over the primary family, "
            f"{short[EXPLORATORY_CORRECTION]} over the exploratory rest)"
            if declared
            else f"{short[comparisons[0]['correction']]} correction"
        )
        lines.append(
            f"{rest} of {len(comparisons)} comparisons with the reference are not significant after "
            f"{after}; the forest plot shows the smallest difference each could detect (MDE)."
        )
    compared = sorted({row["measure"].split("/")[0] for row in comparisons} & set(coverage))
    if compared:
        lines.append(
            "Partial sets, not the published ones: "
            + "; ".join(f"{task} uses {coverage[task].describe()}" for task in compared)
            + "."
        )
    return lines


def empty_reason(
    models: list[str], reference: str, tasks_of: dict[str, set[str]], compared: int
) -> str | None:
    """Why no model could be compared with the reference, or None when some comparison was made.

    `tasks_of` maps each model to the tasks it has logs of; `compared` counts comparisons
    with at least one item.
    """
    if compared:
        return None
    if len(models) < 2:
        return (
            f"No key findings: the logs hold one model ({models[0]}), and a comparison needs two."
        )
    others = [m for m in models if m != reference]
    shared = [m for m in others if tasks_of.get(m, set()) & tasks_of.get(reference, set())]
    if not shared:
        listing = "; ".join(
            f"{model}: {', '.join(sorted(tasks_of.get(model, set()))) or 'none'}"
            for model in models
        )
        return (
            f"No key findings: no task was evaluated for both the reference {reference} and "
            f"another model, so nothing could be compared (tasks per model: {listing})."
        )
    return (
        f"No key findings: the models share tasks with the reference {reference} but no "
        "scored items (no sample id has a value for both), so nothing could be compared."
    )


def _interval(row: dict[str, Any]) -> str:
    """`[low, high]`, or why there is none (every paired difference the same, no known scale)."""
    if row.get("no_spread") and not math.isfinite(row["low"]):
        return "(no interval: every paired difference is the same)"
    return f"[{_format(row['low'], row['kind'])}, {_format(row['high'], row['kind'])}]"


def _format(value: float, kind: str) -> str:
    if kind == "binary":
        return _points(value)
    return "n/a" if not math.isfinite(value) else f"{value:+.3f}"


def _points(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value * 100:+.1f} pp"


def _p(value: float) -> str:
    """`= 0.012` or `< 0.001`, to follow "p"."""
    if not math.isfinite(value):
        return "= n/a"
    return "< 0.001" if value < 0.001 else f"= {value:.3f}"
