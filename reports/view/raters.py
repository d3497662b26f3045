"""The physicians' section: agreement tables, kappa matrices, mean ratings per model."""

from __future__ import annotations

import math
from typing import Any

from reports import svg
from reports.html import fmt_diff, fmt_num, fmt_p, stars
from reports.view.base import ViewData, finite

ICC_LABELS = {
    "ICC2": "ICC(A,1) absolute, one rater",
    "ICC2k": "ICC(A,k) absolute, mean of raters",
    "ICC3": "ICC(C,1) consistency",
    "ICC1": "ICC(1) one-way",
}


def agreement_view(agreement: dict[str, Any] | None, view: ViewData) -> dict[str, Any] | None:
    """Rater-agreement tables and charts from `reports.raters.agreement_section` output."""
    if agreement is None:
        return None
    colours = view.colours
    axes = []
    for entry in agreement["axes"]:
        raters = entry["raters"]
        kappa = {(k["a"], k["b"]): k for k in entry["kappa"]}
        matrix = []
        for a in raters:
            cells = []
            for b in raters:
                item = kappa.get((a, b)) or kappa.get((b, a))
                value = 1.0 if a == b else (item["kappa"] if item else math.nan)
                cells.append(
                    {
                        "text": "" if a == b else fmt_num(value, 2),
                        "value": value,
                        "self": a == b,
                        "title": "" if a == b or item is None else f"n = {item['n']}",
                    }
                )
            matrix.append({"rater": a, "cells": cells})
        icc_rows = []
        if entry["icc"]:
            for name, label in ICC_LABELS.items():
                value = entry["icc"][name]
                icc_rows.append(
                    {
                        "name": name,
                        "label": label,
                        "value": fmt_num(value["icc"]),
                        "ci": f"[{fmt_num(value['low'])}, {fmt_num(value['high'])}]",
                    }
                )
        axes.append({**entry, "matrix": matrix, "icc_rows": icc_rows})
    human_charts = []
    for axis, rows in agreement["human_means"].items():
        chart_rows = [
            svg.IntervalRow(
                label=r["model"],
                estimate=r["mean"],
                low=r["low"],
                high=r["high"],
                colour=colours.get(r["model"], svg.PALETTE[0]),
                note=f"{fmt_num(r['mean'], 2)} [{fmt_num(r['low'], 2)}, {fmt_num(r['high'], 2)}] n={r['n']}",
            )
            for r in rows
            if finite(r["mean"])
        ]
        if chart_rows:
            human_charts.append(
                svg.interval_chart(
                    chart_rows,
                    domain=(1.0, 5.0),
                    formatter=lambda v: f"{v:.0f}",
                    bars=True,
                    zero_line=False,
                    title=f"Physician rating: {axis}",
                    widths=svg.COMPACT,
                )
            )
    return {
        **agreement,
        "axes": axes,
        "human_charts": human_charts,
        "comparison_rows": rating_rows(agreement["comparisons"], view),
    }


def rating_rows(comparisons: list[dict[str, Any]], view: ViewData) -> list[dict[str, Any]]:
    """Physicians' model-vs-reference differences, each beside the judge's on the same axis.

    The judge's difference is its `<axis>_rating` comparison with the reference over all
    the task's items (physicians rate a sample of them).
    """
    judged: dict[tuple[str, str], list[str]] = {}
    for row in view.analysis["comparisons"]:
        metric = view.measures[row["measure"]]["metric"]
        if metric.endswith("_rating") and finite(row.get("diff")):
            judged.setdefault((metric.removesuffix("_rating"), row["model"]), []).append(
                f"{view.measures[row['measure']]['task']}: {fmt_diff(row['diff'], 'graded')} "
                f"[{fmt_diff(row.get('low'), 'graded')}, {fmt_diff(row.get('high'), 'graded')}], "
                f"adj. p {fmt_p(row.get('p_adjusted'))}"
            )
    return [
        {
            "axis": row["axis"],
            "model": row["model"],
            "colour": view.colours.get(row["model"], svg.PALETTE[0]),
            "n": f"{row['items']} prompts, {row['rater_pairs']} rater pairs",
            "diff": fmt_diff(row["diff"], "graded"),
            "ci": f"[{fmt_diff(row.get('low'), 'graded')}, {fmt_diff(row.get('high'), 'graded')}]",
            "p": fmt_p(row.get("p_value")),
            "wilcoxon": fmt_p((row.get("wilcoxon") or {}).get("p_value")),
            "p_adj": fmt_p(row.get("p_adjusted")) + stars(row.get("p_adjusted")),
            "judge": "; ".join(judged.get((row["axis"], row["model"]), [])) or "–",
        }
        for row in comparisons
    ]
