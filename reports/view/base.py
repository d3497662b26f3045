"""The lookups every section's view reads: models, colours, measures, summary and matrix rows."""

from __future__ import annotations

import math
from typing import Any

from reports import stats, svg


def finite(value: Any) -> bool:
    """A number that can be drawn or printed as one (not None, NaN or infinite)."""
    return isinstance(value, int | float) and math.isfinite(value)


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


def aggregate_label(row: dict[str, Any]) -> str:
    """An average's name, with how much of the paper's average it is when not all of it."""
    if row["complete"]:
        return str(row["name"])
    if row["sets_in_paper"] and row["sets"] < row["sets_in_paper"]:
        return f"{row['name']} ({row['sets']} of {row['sets_in_paper']} sets)"
    return f"{row['name']} (partial sets)"


class ViewData:
    """The analysis, indexed the ways the views look numbers up."""

    def __init__(self, analysis: dict[str, Any]) -> None:
        self.analysis = analysis
        self.models: list[str] = analysis["models"]
        self.reference: str = analysis["settings"]["reference"]
        self.colours = {model: svg.colour(i) for i, model in enumerate(self.models)}
        self.measures = {m["key"]: m for m in analysis["measures"]}
        self.summary = {(r["measure"], r["model"]): r for r in analysis["summary"]}
        self.matrix = {(r["measure"], r["a"], r["b"]): r for r in analysis["matrix"]}

    def label(self, key: str) -> str:
        """A measure's display label, marked "(partial)" when its set is not the published one."""
        info = self.measures[key]
        return str(info["label"]) + ("" if info["complete"] else " (partial)")

    def column_title(self, key: str) -> str:
        """A measure's column heading tooltip: its key, and its coverage when partial."""
        info = self.measures[key]
        coverage = info["coverage"]
        if coverage is None:
            return key
        return f"{key}: partial set, {coverage['items']:,} of {coverage['full_set']:,} items ({coverage['note']})"
