"""Judge and answer health: failures per model and task, verbosity, criterion pass rates."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from reports.html import fmt_num, fmt_p, fmt_rate
from reports.view.base import ViewData, finite


def health_rows(view: ViewData) -> list[dict[str, Any]]:
    """One row per model and task: errors, format failures, unscored, reasons; alerts over 5%."""
    rows = []
    order = {model: i for i, model in enumerate(view.models)}
    for row in sorted(
        view.analysis["health"], key=lambda r: (order.get(r["model"], len(order)), r["task"])
    ):
        unscored = ", ".join(
            f"{scorer} {fmt_rate(entry['rate'])} ({entry['count']})"
            for scorer, entry in row["unscored"].items()
        )
        rows.append(
            {
                "model": row["model"],
                "colour": view.colours.get(row["model"], "#000"),
                "task": row["task"],
                "samples": row["samples"],
                "errors": f"{row['errors']} ({fmt_rate(row['error_rate'])})",
                "format": f"{row['format_failures']} ({fmt_rate(row['format_failure_rate'])})",
                "unscored": unscored or "0",
                "reasons": ", ".join(f"{k}: {v}" for k, v in row["reasons"].items()) or "–",
                "length": fmt_num(row["response_length_mean"], 0),
                "alert": row["format_failure_rate"] > 0.05
                or row["error_rate"] > 0
                or any(e["rate"] > 0.05 for e in row["unscored"].values()),
            }
        )
    return rows


def length_rows(view: ViewData) -> list[dict[str, Any]]:
    """Judge score vs response length per model; |rho| >= 0.3 with p < 0.05 is an alert."""
    return [
        {
            "measure": view.measures[r["measure"]]["label"],
            "model": r["model"],
            "n": r["n"],
            "rho": fmt_num(r["spearman"], 2),
            "p": fmt_p(r["p_value"]),
            "alert": finite(r["spearman"])
            and abs(r["spearman"]) >= 0.3
            and finite(r["p_value"])
            and r["p_value"] < 0.05,
        }
        for r in view.analysis["length_correlation"]
    ]


def criteria_tables(view: ViewData) -> list[dict[str, Any]]:
    """Criterion pass rates, one table per judged task and scorer, one column per model."""
    grouped: dict[tuple[str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in view.analysis["criteria"]:
        grouped[(row["task"], row["scorer"])].setdefault(row["criterion"], {})[row["model"]] = row
    tables = []
    for (task, scorer), criteria in sorted(grouped.items()):
        rows = [
            {
                "criterion": name,
                "cells": [
                    fmt_rate(entries[m]["rate"]) + f" (n={entries[m]['n']})"
                    if m in entries
                    else "–"
                    for m in view.models
                ],
            }
            for name, entries in sorted(criteria.items())
        ]
        tables.append({"title": f"{task} · {scorer}", "rows": rows})
    return tables
