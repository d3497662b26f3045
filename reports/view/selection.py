"""The data-selection section of a run directory: quadrant plots, subsets and their overlaps."""

from __future__ import annotations

import math
from typing import Any

from reports import svg
from reports.html import fmt_num
from reports.planted import CLASSES, planted_svg


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
    planted = selection.get("planted")
    return {
        **selection,
        "plots": plots,
        "names": names,
        "matrix": matrix,
        "planted": None
        if planted is None
        else {**planted, "plots": planted_svg(planted), "class_names": CLASSES},
    }
