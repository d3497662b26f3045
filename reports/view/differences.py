"""Differences against the reference: forest plots and the table of every comparison number."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from reports import svg
from reports.html import fmt_diff, fmt_num, fmt_p, fmt_p_eq, stars
from reports.view.base import ViewData, aggregate_label, family_label, finite


def forest_panels(view: ViewData) -> list[dict[str, Any]]:
    """Differences against the reference, one panel per unit of measurement.

    Paired: accuracy (with the aggregates) in one panel, one panel per judge metric.
    Independent samples never share a panel with paired comparisons (their intervals
    answer another question: each side's own items, not the same items); each such
    task gets one panel per scale, its 0-1 scores and its 1-5 ratings, all axes in it.
    Paired panels come first.
    """
    panels: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for row in view.analysis["aggregate_comparisons"]:
        panels[("paired", "binary")].append((aggregate_label(row), row | {"kind": "binary"}))
    for row in view.analysis["comparisons"]:
        info = view.measures[row["measure"]]
        if info["kind"] == "binary" and not info["judged"]:
            unit = "binary"
            label = info["task"] if info["metric"] == info["scorer"] else info["label"]
            label += "" if info["complete"] else " (partial)"
        elif row["design"] == "independent":
            scale = "1–5 rating" if info["metric"].endswith("_rating") else "score"
            unit, label = f"{info['task']} · {scale}", info["metric"]
        else:
            unit, label = info["metric"], info["task"]
        panels[(row["design"], unit)].append((label, row))
    result = []
    for design, unit in sorted(panels, key=lambda k: (k[0] != "paired", k[1] != "binary", k)):
        entries = [(label, row) for label, row in panels[(design, unit)] if finite(row["diff"])]
        if not entries:
            continue
        entries.sort(key=lambda entry: entry[0] == "overall")  # the summary axis last
        labels = {label for label, _ in entries}
        one_label = len(labels) == 1 and unit != "binary"
        one_model = len({row["model"] for _, row in entries}) == 1
        kind = "binary" if unit == "binary" else "graded"
        rows = [
            svg.IntervalRow(
                label=row["model"]
                if one_label
                else label
                if one_model
                else f"{label} · {row['model']}",
                estimate=row["diff"],
                low=row.get("low", math.nan),
                high=row.get("high", math.nan),
                colour=view.colours[row["model"]],
                note=f"{fmt_diff(row['diff'], kind)} {interval_text(row, kind)}  {fmt_p_eq(row.get('p_adjusted'))}{stars(row.get('p_adjusted'))}",
                band=row.get("mde", math.nan),
                filled=bool(row.get("significant")),
            )
            for label, row in entries
        ]

        def formatter(v: float, kind: str = kind) -> str:
            return f"{v * 100:+.0f}" if kind == "binary" else f"{v:+.2g}"

        if unit == "binary":
            title = "Accuracy difference (percentage points)"
        elif design == "independent":
            title = f"{unit} differences"
        else:
            title = (
                f"{next(iter(labels))} · {unit} difference" if one_label else f"{unit} difference"
            )
        if design == "independent":
            title += " · independent samples"
        result.append(
            {
                "title": title,
                "chart": svg.interval_chart(rows, formatter=formatter, title=title),
            }
        )
    return result


def interval_text(row: dict[str, Any], kind: str) -> str:
    """A difference's interval, or why it has none (every difference the same, no known scale)."""
    if not finite(row.get("low")) and row.get("no_spread"):
        return "no interval: no spread"
    return f"[{fmt_diff(row.get('low'), kind)}, {fmt_diff(row.get('high'), kind)}]"


def interval_note(row: dict[str, Any]) -> str:
    """How a difference interval was made, and whether it was widened to agree with its test."""
    method = str(row.get("interval", ""))
    if row.get("widened"):
        method += "; an end moved to 0 to agree with the test (p ≥ 0.05)"
    return method


def comparison_rows(view: ViewData) -> list[dict[str, Any]]:
    """Every number of every comparison with the reference, for the detail table."""
    rows = []
    for row in view.analysis["aggregate_comparisons"]:
        rows.append(
            {
                "measure": aggregate_label(row),
                "model": row["model"],
                "design": "paired",
                "n": f"{row['n']} over {len(row['benchmarks'])} benchmarks",
                "diff": fmt_diff(row["diff"], "binary"),
                "ci": f"[{fmt_diff(row['low'], 'binary')}, {fmt_diff(row['high'], 'binary')}]",
                "ci_method": interval_note(row),
                "test": row["test"],
                "p": fmt_p(row["p_value"]),
                "p_adj": fmt_p(row["p_adjusted"]) + stars(row["p_adjusted"]),
                "family": family_label(row),
                "effect": f"h = {row['cohens_h']:+.3f}" if finite(row["cohens_h"]) else "",
                "mde": fmt_diff(row["mde"], "binary").lstrip("+"),
                "r": "",
            }
        )
    for row in view.analysis["comparisons"]:
        kind = row["kind"]
        effects = []
        if finite(row.get("odds_ratio")) or row.get("n10") is not None:
            effects.append(
                f"{row.get('n10', 0)}:{row.get('n01', 0)} discordant, OR {fmt_num(row.get('odds_ratio'), 2)} [{fmt_num(row.get('odds_ratio_low'), 2)}, {fmt_num(row.get('odds_ratio_high'), 2)}]"
            )
        if finite(row.get("cohens_h")):
            effects.append(f"h = {row['cohens_h']:+.3f}")
        if finite(row.get("cohens_dz")):
            effects.append(f"d_z = {row['cohens_dz']:+.3f}")
        if finite(row.get("cohens_d")):
            effects.append(f"d = {row['cohens_d']:+.3f}")
        if row["design"] == "independent":
            n = f"{row['n_model']} vs {row['n_reference']} ({row['shared']} shared ids)"
        else:
            n = f"{row['n']}" + (f" ({row['dropped']} unpaired)" if row.get("dropped") else "")
        rows.append(
            {
                "measure": view.label(row["measure"]),
                "model": row["model"],
                "design": row["design"],
                "n": n,
                "diff": fmt_diff(row.get("diff"), kind),
                "ci": interval_text(row, kind),
                "ci_method": interval_note(row),
                "test": row.get("test", ""),
                "p": fmt_p(row.get("p_value")),
                "p_adj": fmt_p(row.get("p_adjusted")) + stars(row.get("p_adjusted")),
                "family": family_label(row),
                "effect": "; ".join(effects),
                "mde": fmt_diff(row.get("mde"), kind).lstrip("+"),
                "r": fmt_num(row.get("correlation"), 2),
            }
        )
    return rows
