"""The all-pairs significance matrices, one per measure (row minus column)."""

from __future__ import annotations

from typing import Any

from reports.html import diverging, fmt_diff, fmt_p, stars
from reports.view.base import ViewData, finite


def matrices(view: ViewData) -> list[dict[str, Any]]:
    """All-pairs difference tables (row - column), one per measure."""
    result = []
    for info in view.analysis["measures"]:
        key, kind = info["key"], info["kind"]
        present = [m for m in view.models if (key, m) in view.summary]
        if len(present) < 2:
            continue
        diffs = [
            abs(r["diff"])
            for (k, _, _), r in view.matrix.items()
            if k == key and finite(r.get("diff"))
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
                entry = view.matrix.get((key, a, b))
                sign = 1.0
                if entry is None:
                    entry, sign = view.matrix.get((key, b, a)), -1.0
                if entry is None or not finite(entry.get("diff")):
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
            rows.append({"model": a, "colour": view.colours[a], "cells": cells})
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
