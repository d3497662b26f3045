"""How much of a published benchmark set a task's file holds: the `coverage` task metadata.

Contract with the reports: a task built from a partial set (fewer questions than the
official or paper set) records in its Inspect task metadata

    coverage = {"items": <questions in the set the file holds>,
                "published": <questions in the official set>,
                "note": "<one line saying which part it is>"}

and a task built from a complete set has no `coverage` key. `items` counts the file's
questions before exclusions (validation items dropped are counted in `excluded`).
"""

from __future__ import annotations

from typing import Any

COVERAGE = "coverage"


def coverage_metadata(items: int, published: int, note: str) -> dict[str, Any]:
    """`{"coverage": {...}}` for a partial set (`items < published`), else nothing."""
    if items >= published:
        return {}
    return {COVERAGE: {"items": items, "published": published, "note": note}}
