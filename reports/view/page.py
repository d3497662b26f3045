"""The whole page: every section's view assembled into the template's context, rendered."""

from __future__ import annotations

import datetime
from typing import Any

from reports import html, stats
from reports.config import ReportConfig
from reports.families import EXPLORATORY_CORRECTION, PRIMARY_CORRECTION
from reports.frames import Frames
from reports.view.base import ViewData, families_note
from reports.view.differences import comparison_rows, forest_panels
from reports.view.health import criteria_tables, health_rows, length_rows
from reports.view.pairwise import matrices
from reports.view.raters import agreement_view
from reports.view.selection import selection_view
from reports.view.summary import bar_charts, summary_tables

SECTIONS = (
    ("findings", "Findings"),
    ("summary", "Summary"),
    ("forest", "Differences"),
    ("matrix", "Pairwise"),
    ("benchmarks", "Per benchmark"),
    ("judge", "Judge health"),
    ("agreement", "Raters"),
)
CLOSING_SECTIONS = (("samples", "Samples"), ("provenance", "Provenance"), ("methods", "Methods"))


def render_page(
    frames: Frames,
    analysis: dict[str, Any],
    agreement: dict[str, Any] | None,
    selection: dict[str, Any] | None,
    data: dict[str, Any],
    config: ReportConfig,
) -> str:
    """The HTML page for an analysis (`data` is report.json's content)."""
    view = ViewData(analysis)
    payload = html.drilldown(frames, analysis, config.max_chars)
    settings = analysis["settings"]
    nav = [*SECTIONS, *([("selection", "Selection")] if selection else []), *CLOSING_SECTIONS]
    context = {
        "title": config.title,
        "nav": nav,
        "models": [
            {"name": m, "colour": view.colours[m], "reference": m == view.reference}
            for m in analysis["models"]
        ],
        "reference": view.reference,
        "settings": settings,
        "correction": stats.CORRECTION_NAMES[settings["correction"]],
        "primary_correction": stats.CORRECTION_NAMES[PRIMARY_CORRECTION],
        "exploratory_correction": stats.CORRECTION_NAMES[EXPLORATORY_CORRECTION],
        "primary": list(settings["confirmatory"]),
        "families_note": families_note(analysis["families"]),
        "intervals": analysis["intervals"],
        "findings": analysis["findings"],
        "warnings": analysis["warnings"] + (selection["warnings"] if selection else []),
        "summary_tables": summary_tables(view),
        "forest_panels": forest_panels(view),
        "paired_tasks": sorted(t for t, d in frames.designs.items() if d == "paired"),
        "independent_tasks": sorted(t for t, d in frames.designs.items() if d == "independent"),
        "comparison_rows": comparison_rows(view),
        "matrices": matrices(view),
        "bar_charts": bar_charts(view),
        "health_rows": health_rows(view),
        "length_rows": length_rows(view),
        "criteria_tables": criteria_tables(view),
        "judges": frames.judges,
        "agreement": agreement_view(agreement, view),
        "selection": selection_view(selection),
        "methods": data["methods"],
        "logs": data["logs"],
        "software": data["software"],
        "meta": {
            "models": analysis["models"],
            "colours": [view.colours[m] for m in analysis["models"]],
            "reference": view.reference,
        },
        "samples": html.embed(payload),
        "sample_count": len(payload["items"]),
        "max_chars": config.max_chars,
        "generated": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    return html.render(context)
