"""Subset files: `<strategy>-<budget>.jsonl` plus a `.manifest.json` saying how it was made.

Records are normalized JSONL in selection (priority) order.
The manifest carries the strategy, budget, seed, thresholds, per-quadrant counts (of the
subset and of the pool) and the SHA-256 of the pool file, the scores file and the
selected id list, so a report can name what it compares and a rerun can tell whether
anything changed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import pandas as pd

from harness.core.io import sha256_json, write_json
from harness.core.records import PoolRecord, write_records
from selection.strategies import QUADRANTS, Selection, Thresholds, quadrants
from selection.strategies import budget as ratio_budget


@dataclass(frozen=True)
class Budget:
    """A subset size: a ratio of the pool (`0.1`) or an absolute count (`n200`)."""

    ratio: Fraction | None = None
    count: int | None = None
    label: str = ""

    def size(self, pool_size: int) -> int:
        if self.count is not None:
            return min(self.count, pool_size)
        assert self.ratio is not None
        return ratio_budget(self.ratio, pool_size)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ratio": None if self.ratio is None else float(self.ratio),
            "ratio_exact": None if self.ratio is None else str(self.ratio),
            "count": self.count,
            "label": self.label,
        }


def subset_name(strategy: str, label: str) -> str:
    """File stem of a subset: `diq-0.01`, `random-n200`, `full`."""
    return "full" if strategy == "full" else f"{strategy}-{label}"


def quadrant_counts(labels: Sequence[str]) -> dict[str, int]:
    """Records per quadrant, every quadrant present."""
    counts = Counter(labels)
    return {q: int(counts.get(q, 0)) for q in QUADRANTS}


def write_subset(
    directory: Path,
    name: str,
    selection: Selection,
    budget: Budget,
    records: Mapping[str, PoolRecord],
    scores: pd.DataFrame,
    split: Thresholds,
    *,
    seed: int,
    provenance: Mapping[str, Any],
) -> dict[str, Any]:
    """Write `<name>.jsonl` and `<name>.manifest.json` into `directory`; return the manifest."""
    write_records(directory / f"{name}.jsonl", (records[i] for i in selection.ids))
    labels = quadrants(scores, split)
    by_id = dict(zip(scores["id"], labels, strict=True))
    notes = list(selection.notes)
    if budget.count is not None and budget.count > len(scores):
        notes.append(f"{budget.count} records asked for; the pool holds {len(scores)}")
    manifest = {
        "name": name,
        "strategy": selection.strategy,
        "budget": budget.to_dict(),
        "requested": budget.count if budget.count is not None else selection.requested,
        "selected": len(selection.ids),
        "pool_size": len(scores),
        "seed": seed,
        "thresholds": split.to_dict(),
        "quadrants": {
            "subset": quadrant_counts([by_id[i] for i in selection.ids]),
            "pool": quadrant_counts(list(labels)),
        },
        "ids_sha256": sha256_json(selection.ids),
        "notes": notes,
        **provenance,
    }
    write_json(directory / f"{name}.manifest.json", manifest)
    return manifest
