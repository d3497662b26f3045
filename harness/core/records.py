"""The normalized pool record, and the JSONL files that hold pools and subsets."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.core.errors import InputError, Where
from harness.core.io import iter_jsonl, write_jsonl

TEXT_FIELDS = ("id", "question", "reasoning", "response", "source")


@dataclass(frozen=True)
class PoolRecord:
    """One SFT example: a question, an optional chain of thought, and the response.

    `id` is unique within a pool and stable across runs; `source` names the dataset it
    came from; `meta` keeps whatever else the loader found (options, subject, ...).
    """

    id: str
    question: str
    reasoning: str
    response: str
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict in the normalized JSONL layout."""
        return asdict(self)

    @classmethod
    def from_dict(
        cls, row: dict[str, Any], *, path: str | Path | None = None, line: int | None = None
    ) -> PoolRecord:
        """Validate a normalized row; errors name the file, line, record and field."""
        record_id = row.get("id")
        where = Where(path, line).at_record(record_id)
        for name in TEXT_FIELDS:
            value = row.get(name, "" if name in ("reasoning", "source") else None)
            if value is None:
                raise where.error("missing required field", field=name)
            if not isinstance(value, str):
                raise where.error(f"expected a string, got {type(value).__name__}", field=name)
        if not row["id"].strip():
            raise where.error("empty id", field="id")
        if any(unicodedata.category(char) in ("Cc", "Cf") for char in row["id"]):
            # ids travel into file names, SVG plots, sheets and logs, where these break
            raise where.error("id holds control or invisible characters", field="id")
        if not row["question"].strip():
            raise where.error("empty question", field="question")
        if not row["response"].strip():
            raise where.error("empty response (every training record needs one)", field="response")
        meta = row.get("meta") or {}
        if not isinstance(meta, dict):
            raise where.error(f"expected an object, got {type(meta).__name__}", field="meta")
        return cls(
            id=row["id"],
            question=row["question"],
            reasoning=row.get("reasoning") or "",
            response=row["response"],
            source=row.get("source") or "",
            meta=meta,
        )


def read_records(path: str | Path) -> list[PoolRecord]:
    """Read a normalized pool or subset JSONL file; ids must be unique."""
    records: list[PoolRecord] = []
    seen: dict[str, int | None] = {}
    for line, row in iter_jsonl(path):
        record = PoolRecord.from_dict(row, path=path, line=line)
        note_unique_id(seen, record.id, path, line)
        records.append(record)
    return records


def note_unique_id(
    seen: dict[str, int | None], record_id: str, path: str | Path, line: int | None
) -> None:
    """Remember the line an id was first seen on; seeing it again is an error naming both."""
    if record_id in seen:
        raise InputError(
            f"duplicate id (first seen on line {seen[record_id]})",
            path=path,
            line=line,
            record=record_id,
            field="id",
        )
    seen[record_id] = line


def write_records(path: str | Path, records: Iterable[PoolRecord]) -> int:
    """Write records as normalized JSONL, atomically."""
    return write_jsonl(path, (record.to_dict() for record in records))
