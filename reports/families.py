"""Families of tests and their corrections for multiple comparisons.

By default the *declared family* of confirmatory tests is every comparison of a model
with the reference, over every measure, corrected with the named method (Holm by
default), and the aggregates (AvgS/AvgC/AvgA) are a family of their own, corrected the
same way. A user who declares *primary* measures or aggregates (`ReportConfig.primary`)
gets the usual confirmatory/exploratory split instead: Holm over the primary comparisons
with the reference (family-wise error), Benjamini-Hochberg over every other one (false
discovery rate); `primary_models` narrows the primary comparisons to those models' (one
pre-registered contrast keeps its full power). The all-pairs significance matrix is always an exploratory family of its
own, corrected with the named method. Each comparison row names its family and
correction. Only p-values are adjusted: intervals stay per-comparison 95% intervals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from reports import stats

# With declared primary measures: family-wise control where the claims are, FDR elsewhere.
PRIMARY_CORRECTION: stats.Correction = "holm"
EXPLORATORY_CORRECTION: stats.Correction = "bh"
ALL_PAIRS = "all pairs"


def tested(row: dict[str, Any]) -> str:
    """What a comparison row tests: its measure key, or its aggregate's name."""
    return str(row["measure"] if "measure" in row else row["name"])


def assign_families(
    comparisons: list[dict[str, Any]],
    aggregate_comparisons: list[dict[str, Any]],
    matrix: list[dict[str, Any]],
    *,
    correction: stats.Correction,
    primary: list[str],
    primary_models: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Adjust each family's p-values in place; describe the families (all pairs last).

    Rows of the first families get `family` and `correction`; matrix rows are all one
    family.
    """
    if primary:
        declared, models = set(primary), set(primary_models)

        def confirmatory(row: dict[str, Any]) -> bool:
            return tested(row) in declared and (not models or row["model"] in models)

        rows = comparisons + aggregate_comparisons
        groups = [
            ("primary", PRIMARY_CORRECTION, [r for r in rows if confirmatory(r)]),
            ("exploratory", EXPLORATORY_CORRECTION, [r for r in rows if not confirmatory(r)]),
        ]
    else:
        groups = [
            ("vs reference", correction, comparisons),
            ("aggregates", correction, aggregate_comparisons),
        ]
    result = []
    for name, method, rows in [*groups, (ALL_PAIRS, correction, matrix)]:
        adjust(rows, method)
        if name != ALL_PAIRS:
            for row in rows:
                row |= {"family": name, "correction": method}
        result.append(describe(name, method, rows))
    return result


def describe(name: str, method: stats.Correction, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A family as `report.json` lists it: name, correction, number of tests, members."""
    return {
        "name": name,
        "correction": method,
        "tests": sum(math.isfinite(row.get("p_value", math.nan)) for row in rows),
        "members": sorted({tested(row) for row in rows}),
    }


def adjust(rows: list[dict[str, Any]], correction: stats.Correction) -> None:
    """Adjusted p-values over `rows` (one family) and significance at the 5% level."""
    adjusted = stats.adjust_pvalues([row.get("p_value", math.nan) for row in rows], correction)
    alpha = 1 - stats.LEVEL
    for row, p in zip(rows, adjusted, strict=True):
        row["p_adjusted"] = p
        row["significant"] = bool(p < alpha) if math.isfinite(p) else False
