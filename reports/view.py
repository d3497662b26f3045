"""Turn the analysis into what the template shows: tables of formatted cells and SVG charts.

All formatting and layout decisions live here, so the template is a set of loops and
the numbers in `report.json` and on the page come from the same dicts.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from reports import stats, svg
from reports.html import (
    diverging,
    fmt_diff,
    fmt_num,
    fmt_p,
    fmt_p_eq,
    fmt_rate,
    fmt_value,
    stars,
)

AGGREGATE_ORDER = ("AvgS", "AvgC", "AvgA")
ICC_LABELS = {
    "ICC2": "ICC(A,1) absolute, one rater",
    "ICC2k": "ICC(A,k) absolute, mean of raters",
    "ICC3": "ICC(C,1) consistency",
    "ICC1": "ICC(1) one-way",
}


def family_label(row: dict[str, Any]) -> str:
    """The family a comparison was corrected in, and how, short: "primary · Holm".

    Short names because the comparison table is wide already.
    """
    return f"{row['family']} · {stats.CORRECTION_ABBREVIATIONS[row['correction']]}"


def families_note(families: list[dict[str, Any]]) -> str:
    """One sentence naming every family, its correction and its size, for the page."""
    return "; ".join(
        f"{family['name']}: {stats.CORRECTION_NAMES[family['correction']]} over {family['tests']} tests"
        for family in families
    )


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


class ViewBuilder:
    """Builds the template context from the analysis and the optional sections."""

    def __init__(self, analysis: dict[str, Any]) -> None:
        self.analysis = analysis
        self.models = analysis["models"]
        self.reference = analysis["settings"]["reference"]
        self.colours = {model: svg.colour(i) for i, model in enumerate(self.models)}
        self.measures = {m["key"]: m for m in analysis["measures"]}
        self.summary = {(r["measure"], r["model"]): r for r in analysis["summary"]}
        self.matrix = {(r["measure"], r["a"], r["b"]): r for r in analysis["matrix"]}

    # ------------------------------------------------------------------ summary tables

    def significantly_best(self, measure: str) -> str | None:
        """The top model when it beats every other model significantly (matrix family)."""
        rows = [
            (self.summary[(measure, m)]["mean"], m)
            for m in self.models
            if (measure, m) in self.summary
        ]
        rows = [(mean, m) for mean, m in rows if _finite(mean)]
        if len(rows) < 2:
            return None
        best = max(rows)[1]
        for _, other in rows:
            if other == best:
                continue
            entry = self.matrix.get((measure, best, other)) or self.matrix.get(
                (measure, other, best)
            )
            if entry is None or not entry.get("significant"):
                return None
        return best

    def summary_tables(self) -> list[dict[str, Any]]:
        """Model rows, measure columns: benchmarks, judge scores, independent-samples tasks.

        Benchmarks carry AvgS/AvgC/AvgA; each independent-samples task gets a table of its
        own (its models' own items). A model with no value in a table gets no row there.
        """
        aggregates = {(r["name"], r["model"]): r for r in self.analysis["aggregates"]}
        names = [n for n in AGGREGATE_ORDER if any(k[0] == n for k in aggregates)]
        names += sorted({k[0] for k in aggregates} - set(names))
        measures = self.analysis["measures"]
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
                            "label": name,
                            "title": f"{name}: mean of {', '.join(first['benchmarks'])}",
                        }
                    )
            columns += [
                {
                    "group": self.measures[k]["task"],
                    "label": "accuracy"
                    if self.measures[k]["kind"] == "binary"
                    and self.measures[k]["metric"] == self.measures[k]["scorer"]
                    else self.measures[k]["metric"],
                    "title": k,
                }
                for k in keys
            ]
            best = {k: self.significantly_best(k) for k in keys}
            rows = []
            for model in self.models:
                if not any((key, model) in self.summary for key in keys) and not any(
                    (name, model) in aggregates for name in averages
                ):
                    continue
                cells = []
                for name in averages:
                    row = aggregates.get((name, model))
                    cells.append(
                        self._cell(
                            row["mean"] if row else None,
                            row.get("low") if row else None,
                            row.get("high") if row else None,
                            "binary",
                            f"{name}: stratified bootstrap CI" if row else "",
                            False,
                        )
                    )
                for key in keys:
                    row = self.summary.get((key, model))
                    if row is None:
                        cells.append(self._cell(None, None, None, "binary", "no data", False))
                        continue
                    note = (
                        f"{row['method']} interval, n = {row['n']}"
                        + (f", {row['clusters']} clusters" if row["clusters"] < row["n"] else "")
                        + (f", {row['unscored']} unscored" if row["unscored"] else "")
                    )
                    cells.append(
                        self._cell(
                            row["mean"],
                            row["low"],
                            row["high"],
                            self.measures[key]["kind"],
                            note,
                            best[key] == model,
                            row["n"],
                        )
                    )
                rows.append(
                    {
                        "model": model,
                        "colour": self.colours[model],
                        "reference": model == self.reference,
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

    @staticmethod
    def _cell(
        mean: Any, low: Any, high: Any, kind: str, note: str, best: bool, n: int | None = None
    ) -> dict[str, Any]:
        return {
            "text": fmt_value(mean, kind),
            "ci": f"[{fmt_value(low, kind)}, {fmt_value(high, kind)}]" if _finite(low) else "",
            "n": "" if n is None else f"n={n}",
            "title": note,
            "best": best,
        }

    # ------------------------------------------------------------------ forest plots

    def forest_panels(self) -> list[dict[str, Any]]:
        """Differences against the reference, one panel per unit of measurement.

        Paired: accuracy (with the aggregates) in one panel, one panel per judge metric.
        Independent samples never share a panel with paired comparisons (their intervals
        answer another question: each side's own items, not the same items); each such
        task gets one panel per scale, its 0-1 scores and its 1-5 ratings, all axes in it.
        Paired panels come first.
        """
        panels: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        for row in self.analysis["aggregate_comparisons"]:
            panels[("paired", "binary")].append((row["name"], row | {"kind": "binary"}))
        for row in self.analysis["comparisons"]:
            info = self.measures[row["measure"]]
            if info["kind"] == "binary" and not info["judged"]:
                unit = "binary"
                label = info["task"] if info["metric"] == info["scorer"] else info["label"]
            elif row["design"] == "independent":
                scale = "1–5 rating" if info["metric"].endswith("_rating") else "score"
                unit, label = f"{info['task']} · {scale}", info["metric"]
            else:
                unit, label = info["metric"], info["task"]
            panels[(row["design"], unit)].append((label, row))
        result = []
        for design, unit in sorted(panels, key=lambda k: (k[0] != "paired", k[1] != "binary", k)):
            entries = [
                (label, row) for label, row in panels[(design, unit)] if _finite(row["diff"])
            ]
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
                    colour=self.colours[row["model"]],
                    note=f"{fmt_diff(row['diff'], kind)} [{fmt_diff(row.get('low'), kind)}, {fmt_diff(row.get('high'), kind)}]  {fmt_p_eq(row.get('p_adjusted'))}{stars(row.get('p_adjusted'))}",
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
                    f"{next(iter(labels))} · {unit} difference"
                    if one_label
                    else f"{unit} difference"
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

    def comparison_rows(self) -> list[dict[str, Any]]:
        """Every number of every comparison with the reference, for the detail table."""
        rows = []
        for row in self.analysis["aggregate_comparisons"]:
            rows.append(
                {
                    "measure": row["name"],
                    "model": row["model"],
                    "design": "paired",
                    "n": f"{row['n']} over {len(row['benchmarks'])} benchmarks",
                    "diff": fmt_diff(row["diff"], "binary"),
                    "ci": f"[{fmt_diff(row['low'], 'binary')}, {fmt_diff(row['high'], 'binary')}]",
                    "test": row["test"],
                    "p": fmt_p(row["p_value"]),
                    "p_adj": fmt_p(row["p_adjusted"]) + stars(row["p_adjusted"]),
                    "family": family_label(row),
                    "effect": f"h = {row['cohens_h']:+.3f}" if _finite(row["cohens_h"]) else "",
                    "mde": fmt_diff(row["mde"], "binary").lstrip("+"),
                    "r": "",
                }
            )
        for row in self.analysis["comparisons"]:
            kind = row["kind"]
            effects = []
            if _finite(row.get("odds_ratio")) or row.get("n10") is not None:
                effects.append(
                    f"{row.get('n10', 0)}:{row.get('n01', 0)} discordant, OR {fmt_num(row.get('odds_ratio'), 2)} [{fmt_num(row.get('odds_ratio_low'), 2)}, {fmt_num(row.get('odds_ratio_high'), 2)}]"
                )
            if _finite(row.get("cohens_h")):
                effects.append(f"h = {row['cohens_h']:+.3f}")
            if _finite(row.get("cohens_dz")):
                effects.append(f"d_z = {row['cohens_dz']:+.3f}")
            if _finite(row.get("cohens_d")):
                effects.append(f"d = {row['cohens_d']:+.3f}")
            if row["design"] == "independent":
                n = f"{row['n_model']} vs {row['n_reference']} ({row['shared']} shared ids)"
            else:
                n = f"{row['n']}" + (f" ({row['dropped']} unpaired)" if row.get("dropped") else "")
            rows.append(
                {
                    "measure": self.measures[row["measure"]]["label"],
                    "model": row["model"],
                    "design": row["design"],
                    "n": n,
                    "diff": fmt_diff(row.get("diff"), kind),
                    "ci": f"[{fmt_diff(row.get('low'), kind)}, {fmt_diff(row.get('high'), kind)}]",
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

    # ------------------------------------------------------------------ matrix and bars

    def matrices(self) -> list[dict[str, Any]]:
        """All-pairs difference tables (row - column), one per measure."""
        result = []
        for info in self.analysis["measures"]:
            key, kind = info["key"], info["kind"]
            present = [m for m in self.models if (key, m) in self.summary]
            if len(present) < 2:
                continue
            diffs = [
                abs(r["diff"])
                for (k, _, _), r in self.matrix.items()
                if k == key and _finite(r.get("diff"))
            ]
            scale = max(diffs) if diffs else 0.0
            rows = []
            for a in present:
                cells = []
                for b in present:
                    if a == b:
                        cells.append(
                            {
                                "text": "",
                                "colour": "#eeeeee",
                                "title": "",
                                "a": a,
                                "b": b,
                                "self": True,
                            }
                        )
                        continue
                    entry = self.matrix.get((key, a, b))
                    sign = 1.0
                    if entry is None:
                        entry, sign = self.matrix.get((key, b, a)), -1.0
                    if entry is None or not _finite(entry.get("diff")):
                        cells.append(
                            {
                                "text": "–",
                                "colour": "#ffffff",
                                "title": "no paired items"
                                if info["design"] == "paired"
                                else "no scored items",
                                "a": a,
                                "b": b,
                                "self": False,
                            }
                        )
                        continue
                    diff = sign * entry["diff"]
                    if entry["design"] == "independent":
                        sizes = (entry["n_a"], entry["n_b"])[:: int(sign)]
                        n = f"independent samples, n = {sizes[0]} vs {sizes[1]}"
                    else:
                        n = f"n = {entry['n']}"
                    cells.append(
                        {
                            "text": fmt_diff(diff, kind) + stars(entry.get("p_adjusted")),
                            "colour": diverging(diff, scale),
                            "title": f"{a} − {b}: {fmt_diff(diff, kind)}, {entry['test']}, p = {fmt_p(entry['p_value'])}, adjusted p = {fmt_p(entry['p_adjusted'])}, {n}",
                            "a": a,
                            "b": b,
                            "self": False,
                        }
                    )
                rows.append({"model": a, "colour": self.colours[a], "cells": cells})
            result.append(
                {
                    "key": key,
                    "task": info["task"],
                    "label": info["label"],
                    "judged": info["judged"],
                    "design": info["design"],
                    "models": present,
                    "rows": rows,
                }
            )
        return result

    def bar_charts(self) -> list[dict[str, Any]]:
        """Each model's mean with its CI, one chart per measure."""
        charts = []
        for info in self.analysis["measures"]:
            key, kind = info["key"], info["kind"]
            rows = []
            for model in self.models:
                row = self.summary.get((key, model))
                if row is None or not _finite(row["mean"]):
                    continue
                rows.append(
                    svg.IntervalRow(
                        label=model,
                        estimate=row["mean"],
                        low=row["low"] if _finite(row["low"]) else math.nan,
                        high=row["high"] if _finite(row["high"]) else math.nan,
                        colour=self.colours[model],
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

    # ------------------------------------------------------------------ health

    def health_rows(self) -> list[dict[str, Any]]:
        rows = []
        order = {model: i for i, model in enumerate(self.models)}
        for row in sorted(
            self.analysis["health"], key=lambda r: (order.get(r["model"], len(order)), r["task"])
        ):
            unscored = ", ".join(
                f"{scorer} {fmt_rate(entry['rate'])} ({entry['count']})"
                for scorer, entry in row["unscored"].items()
            )
            rows.append(
                {
                    "model": row["model"],
                    "colour": self.colours.get(row["model"], "#000"),
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

    def length_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "measure": self.measures[r["measure"]]["label"],
                "model": r["model"],
                "n": r["n"],
                "rho": fmt_num(r["spearman"], 2),
                "p": fmt_p(r["p_value"]),
                "alert": _finite(r["spearman"])
                and abs(r["spearman"]) >= 0.3
                and _finite(r["p_value"])
                and r["p_value"] < 0.05,
            }
            for r in self.analysis["length_correlation"]
        ]

    def criteria_tables(self) -> list[dict[str, Any]]:
        grouped: dict[tuple[str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
        for row in self.analysis["criteria"]:
            grouped[(row["task"], row["scorer"])].setdefault(row["criterion"], {})[row["model"]] = (
                row
            )
        tables = []
        for (task, scorer), criteria in sorted(grouped.items()):
            rows = [
                {
                    "criterion": name,
                    "cells": [
                        fmt_rate(entries[m]["rate"]) + f" (n={entries[m]['n']})"
                        if m in entries
                        else "–"
                        for m in self.models
                    ],
                }
                for name, entries in sorted(criteria.items())
            ]
            tables.append({"title": f"{task} · {scorer}", "rows": rows})
        return tables


def agreement_view(
    agreement: dict[str, Any] | None, colours: dict[str, str]
) -> dict[str, Any] | None:
    """Rater-agreement tables and charts from `reports.build.agreement_section` output."""
    if agreement is None:
        return None
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
            if _finite(r["mean"])
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
    return {**agreement, "axes": axes, "human_charts": human_charts}


def selection_view(selection: dict[str, Any] | None) -> dict[str, Any] | None:
    """Quadrant plots and subset tables for a run directory."""
    if selection is None:
        return None
    plots = [
        svg.scatter(
            [svg.Point(x, y, bool(flag)) for x, y, flag in panel["points"]],
            x_label="difficulty",
            y_label="influence",
            title=f"{panel['subset']} ({panel['members']:,} of {panel['pool']:,})",
            x_line=selection["medians"].get("difficulty", math.nan),
            y_line=selection["medians"].get("influence", math.nan),
        )
        for panel in selection["panels"]
    ]
    names = [s["name"] for s in selection["subsets"]]
    overlap = {(o["a"], o["b"]): o for o in selection["overlaps"]}
    matrix = [
        {
            "name": a,
            "cells": [
                {
                    "text": f"{overlap[(a, b)]['shared']:,}",
                    "title": f"Jaccard {fmt_num(overlap[(a, b)]['jaccard'], 3)}",
                    "value": overlap[(a, b)]["jaccard"],
                }
                for b in names
            ],
        }
        for a in names
    ]
    return {**selection, "plots": plots, "names": names, "matrix": matrix}


def provenance_rows(frames_logs: list[Any], reference: str) -> list[dict[str, Any]]:
    """One row per log: what ran, where, with what."""
    rows = []
    for info in frames_logs:
        record = info.record
        rows.append(
            {
                "label": info.label,
                "reference": info.label == reference,
                "model": record.model,
                "task": record.task,
                "status": record.status,
                "samples": len(record.samples),
                "epochs": record.epochs,
                "created": record.created,
                "file": Path(record.path).name,
                "eval_id": record.eval_id,
                "inspect": record.packages.get("inspect_ai", "?"),
                "git": (record.git_commit or "")[:10],
                "task_args": ", ".join(f"{k}={v}" for k, v in record.task_args.items()) or "–",
                "config": ", ".join(f"{k}={v}" for k, v in sorted(record.generate_config.items()))
                or "–",
                "roles": ", ".join(f"{k}={v}" for k, v in record.model_roles.items()) or "–",
                "model_args": ", ".join(f"{k}={v}" for k, v in record.model_args.items()) or "–",
            }
        )
    return sorted(rows, key=lambda r: (r["label"], r["task"]))
