"""The ratings ledger: one row per response x rater x axis, unblinded, and what reads it.

`import_sheets` (`reports.review.importer`) writes it from validated sheets; the report
reads it (`read_ledger`), and `precomputed_scores` turns it into Inspect scores.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from harness.core.errors import InputError
from harness.core.io import iter_jsonl, sha256_file, write_jsonl

LEDGER_FIELDS = (
    "export_id", "sheet_id", "rater", "code", "task", "sample_id", "epoch", "label", "model",
    "eval_id", "log", "rubric", "rubric_version", "axis", "value", "missing_reason", "comment",
    "source_file", "source_sha256", "imported_at",
)  # fmt: skip


@dataclass(frozen=True)
class Rating:
    """A validated rating, before it is unblinded into ledger rows."""

    sheet_id: str
    rater: str
    code: str
    axis: str
    value: int | None
    missing_reason: str | None
    comment: str
    source: Path


def ledger_rows(
    ratings: list[Rating], manifest: dict[str, Any], key: dict[str, Any]
) -> list[dict[str, Any]]:
    """Unblinded long-format rows: one per response x rater x axis."""
    imported_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    axes = {a["axis"]: a for a in manifest["axes"]}
    hashes = {path: sha256_file(path) for path in {r.source for r in ratings}}
    rows = []
    for rating in ratings:
        origin = key["codes"][rating.code]
        rows.append(
            {
                "export_id": manifest["export_id"],
                "sheet_id": rating.sheet_id,
                "rater": rating.rater,
                "code": rating.code,
                "task": origin["task"],
                "sample_id": origin["sample_id"],
                "epoch": origin["epoch"],
                "label": origin["label"],
                "model": origin["model"],
                "eval_id": origin["eval_id"],
                "log": origin["log"],
                "rubric": axes[rating.axis]["rubric"],
                "rubric_version": axes[rating.axis]["version"],
                "axis": rating.axis,
                "value": rating.value,
                "missing_reason": rating.missing_reason,
                "comment": rating.comment,
                "source_file": rating.source.name,
                "source_sha256": hashes[rating.source],
                "imported_at": imported_at,
            }
        )
    return rows


def read_ledger_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a ratings ledger, each checked for the ledger's fields."""
    rows = []
    for line, row in iter_jsonl(path):
        missing = [f for f in LEDGER_FIELDS if f not in row]
        if missing:
            raise InputError(
                f"not a ratings ledger row (missing {', '.join(missing)})", path=path, line=line
            )
        value = row["value"]
        if value is not None and (isinstance(value, bool) or value not in (1, 2, 3, 4, 5)):
            raise InputError(
                f"rating {value!r} is not 1-5 or null", path=path, line=line, field="value"
            )
        rows.append(row)
    return rows


def read_ledger(path: Path) -> pd.DataFrame:
    """The ledger as a frame with an `item` column (the response code) for agreement."""
    rows = read_ledger_rows(path)
    frame = pd.DataFrame(rows, columns=list(LEDGER_FIELDS))
    frame["item"] = frame["code"]
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    return frame


def precomputed_scores(ledger: pd.DataFrame, out_dir: Path) -> list[Path]:
    """One `precomputed_scores` JSONL per rated log: mean physician rating per axis.

    Attach them with `inspect score LOG --scorer precomputed_scores -S scores=FILE
    --action append` (or `score(log, precomputed_scores(FILE, metrics=...))`) to see
    physicians next to the judge in Inspect View. Values are `<axis>_human`, the mean
    over raters (null when all were unsure); the metadata has each rater's ratings and
    comments and how many rated each axis.
    """
    written = []
    for log, group in ledger.groupby("log", sort=True):
        records = []
        for (sample_id, epoch), rows in group.groupby(["sample_id", "epoch"], sort=True):
            value: dict[str, float | None] = {}
            counts: dict[str, int] = {}
            ratings: dict[str, dict[str, Any]] = {}
            for axis, axis_rows in rows.groupby("axis", sort=True):
                rated = axis_rows["value"].dropna()
                value[f"{axis}_human"] = float(rated.mean()) if len(rated) else None
                counts[str(axis)] = int(len(rated))
            for _, row in rows.iterrows():
                entry = ratings.setdefault(row["rater"], {"comment": row["comment"]})
                entry[row["axis"]] = None if pd.isna(row["value"]) else int(row["value"])
            records.append(
                {
                    "id": sample_id,
                    "epoch": int(epoch),
                    "value": value,
                    "explanation": f"physician ratings from {len(ratings)} rater(s)",
                    "metadata": {
                        "ratings": ratings,
                        "raters_per_axis": counts,
                        "codes": sorted(rows["code"].unique()),
                    },
                }
            )
        target = out_dir / f"{Path(str(log)).stem}.ratings.jsonl"
        write_jsonl(target, records)
        written.append(target)
    return written
