"""Helpers shared by the selection tests."""

from __future__ import annotations

import json
from pathlib import Path

from harness.core.records import PoolRecord
from tests.helpers import CLINICAL_SENTENCES


def make_records(count: int, prefix: str = "r", offset: int = 0) -> list[PoolRecord]:
    """Records with uneven question / reasoning / response lengths (some without reasoning)."""
    records = []
    for i in range(count):
        j = i + offset
        sentence = CLINICAL_SENTENCES
        records.append(
            PoolRecord(
                id=f"{prefix}{i:03d}",
                question=f"{sentence[j % 10]} Case {j}. " + sentence[(j + 3) % 10] * (j % 3),
                reasoning=" ".join(sentence[(j + k) % 10] for k in range(j % 4)),
                response=f"{sentence[(j + 5) % 10]} ANSWER: {'ABCD'[j % 4]}",
                source="test",
            )
        )
    return records


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path
