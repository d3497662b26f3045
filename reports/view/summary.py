"""The summary tables (one row per model, one column per measure) and the per-benchmark bars."""

from __future__ import annotations

import math
from typing import Any

from reports import svg
from reports.html import fmt_value
from reports.view.base import ViewData, finite

AGGREGATE_ORDER = ("AvgS", "AvgC", "AvgA")


def significantly_best(view: ViewData, measure: str) -> str | None:
    """The top model when it beats every other model significantly (matrix family)."""
    rows = [
        (view.summary[(measure, m)]["mean"], m) for m in view.models if (measure, m) in view.summary
    ]
    rows = [(mean, m) for mean, m in rows if finite(mean)]
    if len(rows) < 2:
        return None
    best = max(rows)[1]
    for _, other in rows:
        if other == best:
            continue
        entry = view.matrix.get((measure, best, other)) or view.matrix.get((measure, other, best))
        if entry is None or not entry.get("significant"):
            return None
    return best


def summary_tables(view: ViewData) -> list[dict[str, Any]]:
    """Model rows, measure columns: benchmarks, judge scores, independent-samples tasks.

    Benchmarks carry AvgS/AvgC/AvgA; each independent-samples task gets a table of its
    own (its models' own items). A model with no value in a table gets no row there.
    """
    aggregates = {(r["name"], r["model"]): r for r in view.analysis["aggregates"]}
    names = [n for n in AGGREGATE_ORDER if any(k[0] == n for k in aggregates)]
    names += sorted({k[0] for k in aggregates} - set(names))
    measures = view.analysis["measures"]
    paired = [m for m in measures if m["design"] == "paired"]
    sections = [
        ("Benchmarks", [m["key"] for m in paired if not m["judged"]], names),
        ("Judge scores", [m["key"] for m in paired if m["judged"]], []),
    ]
    for task in sorted({m["task"] for m in measures if m["design"] == "independent"}):
        keys = [m["key"] for m in measures if m["task"] == task]
        sections.append((f"{task}: independent samples (each model's own items)", keys, []))
    tables = []
    for title, keys, averages in sections:
        if not keys and not averages:
            continue
        columns = []
        if averages:
            for name in averages:
                first = next(r for (n, _), r in aggregates.items() if n == name)
                columns.append(
                    {
                        "group": "Averages",
                        "label": name if first["complete"] else f"{name} · partial",
                        "title": f"{name}: mean of {', '.join(first['benchmarks'])}; "
                        f"{first['coverage_note']}",
                    }
                )
        columns += [
            {
                "group": view.measures[k]["task"]
                + ("" if view.measures[k]["complete"] else " · partial set"),
                "label": "accuracy"
                if view.measures[k]["kind"] == "binary"
                and view.measures[k]["metric"] == view.measures[k]["scorer"]
                else view.measures[k]["metric"],
                "title": view.column_title(k),
            }
            for k in keys
        ]
        best = {k: significantly_best(view, k) for k in keys}
        rows = []
        for model in view.models:
            if not any((key, model) in view.summary for key in keys) and not any(
                (name, model) in aggregates for name in averages
            ):
                continue
            cells = []
            for name in averages:
                row = aggregates.get((name, model))
                cells.append(
                    _cell(
                        row["mean"] if row else None,
                        row.get("low") if row else None,
                        row.get("high") if row else None,
                        "binary",
                        f"{name}: {row['interval']}" if row else "",
                        False,
                    )
                )
            for key in keys:
                row = view.summary.get((key, model))
                if row is None:
                    cells.append(_cell(None, None, None, "binary", "no data", False))
                    continue
                note = (
                    f"{row['method']} interval, n = {row['n']}"
                    + (f", {row['clusters']} clusters" if row["clusters"] < row["n"] else "")
                    + (f", {row['unscored']} unscored" if row["unscored"] else "")
                )
                cells.append(
                    _cell(
                        row["mean"],
                        row["low"],
                        row["high"],
                        view.measures[key]["kind"],
                        note,
                        best[key] == model,
                        row["n"],
                    )
                )
            rows.append(
                {
                    "model": model,
                    "colour": view.colours[model],
                    "reference": model == view.reference,
                    "cells": cells,
                }
            )
        groups: list[dict[str, Any]] = []
        for column in columns:
            if groups and groups[-1]["label"] == column["group"]:
                groups[-1]["span"] += 1
            else:
                groups.append({"label": column["group"], "span": 1})
        tables.append({"title": title, "columns": columns, "groups": groups, "rows": rows})
    return tables


def _cell(
    mean: Any, low: Any, high: Any, kind: str, note: str, best: bool, n: int | None = None
) -> dict[str, Any]:
    return {
        "text": fmt_value(mean, kind),
        "ci": f"[{fmt_value(low, kind)}, {fmt_value(high, kind)}]" if finite(low) else "",
        "n": "" if n is None else f"n={n}",
        "title": note,
        "best": best,
    }


def bar_charts(view: ViewData) -> list[dict[str, Any]]:
    """Each model's mean with its CI, one chart per measure."""
    charts = []
    for info in view.analysis["measures"]:
        key, kind = info["key"], info["kind"]
        rows = []
        for model in view.models:
            row = view.summary.get((key, model))
            if row is None or not finite(row["mean"]):
                continue
            rows.append(
                svg.IntervalRow(
                    label=model,
                    estimate=row["mean"],
                    low=row["low"] if finite(row["low"]) else math.nan,
                    high=row["high"] if finite(row["high"]) else math.nan,
                    colour=view.colours[model],
                    note=f"{fmt_value(row['mean'], kind)} [{fmt_value(row['low'], kind)}, {fmt_value(row['high'], kind)}] n={row['n']}",
                )
            )
        if not rows:
            continue
        domain = (
            (0.0, 1.0)
            if kind == "binary"
            else (1.0, 5.0)
            if info["metric"].endswith("_rating")
            else None
        )

        def formatter(v: float, kind: str = kind) -> str:
            return f"{v * 100:.0f}%" if kind == "binary" else f"{v:.2g}"

        charts.append(
            {
                "title": info["label"],
                "judged": info["judged"],
                "chart": svg.interval_chart(
                    rows,
                    domain=domain,
                    formatter=formatter,
                    bars=True,
                    zero_line=kind != "binary",
                    title=info["label"],
                    widths=svg.COMPACT,
                ),
            }
        )
    return charts
