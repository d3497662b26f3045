"""Where benchmark data comes from, and which items count.

Resolution order for every benchmark file:

1. `-T path=FILE` (a task argument) when given;
2. `$DIQ_DATA_DIR/<relative path>` when the environment variable is set, using the
   upstream file layout listed in `../shared/data/MANIFEST.md`;
3. otherwise the pinned Hugging Face dataset id and revision (needs network access
   the first time, then the Hugging Face cache), for the benchmarks that have one.

Exclusion files (`-T exclude=FILE`) name items that must never count in evaluation
(the influence step's validation items); `exclude_ids` applies one to a task's records.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from harness.core.errors import InputError

DATA_DIR_ENV = "DIQ_DATA_DIR"
R = TypeVar("R")
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HFSource:
    """A pinned Hugging Face dataset: id, config, split and a 40-hex revision."""

    path: str
    split: str
    revision: str
    name: str | None = None

    def describe(self) -> str:
        """Short human-readable form for messages and metadata."""
        config = f" ({self.name})" if self.name else ""
        return f"hf:{self.path}{config}@{self.revision[:12]} split={self.split}"


def data_dir() -> Path | None:
    """The directory named by `DIQ_DATA_DIR`, if set."""
    value = os.environ.get(DATA_DIR_ENV)
    return Path(value).expanduser() if value else None


def local_file(
    path: str | None, relative: str, benchmark: str, hf: HFSource | None = None
) -> Path | None:
    """The local file for a benchmark: `path`, else `$DIQ_DATA_DIR/relative`, else None.

    An explicit path or a set data directory that lacks the file is an error (naming
    the file), not a silent fall-back to the network. Its hint offers the pinned
    Hugging Face dataset `hf` only to benchmarks that have one.
    """
    if path:
        candidate = Path(path).expanduser()
        if not candidate.exists():
            raise InputError(f"{benchmark}: data file not found", path=candidate)
        return candidate
    root = data_dir()
    if root is None:
        return None
    candidate = root / relative
    if not candidate.exists():
        online = (
            f", or unset {DATA_DIR_ENV} to use the pinned Hugging Face dataset {hf.describe()}"
            if hf
            else " (there is no pinned Hugging Face copy of this data)"
        )
        raise InputError(
            f"{benchmark}: not found under {DATA_DIR_ENV}={root}; pass -T path=FILE{online}",
            path=candidate,
        )
    return candidate


def hf_rows(source: HFSource, benchmark: str) -> list[dict[str, Any]]:
    """Rows of a pinned Hugging Face dataset, with an actionable error when offline."""
    try:
        from datasets import load_dataset

        dataset = load_dataset(
            source.path, source.name, split=source.split, revision=source.revision
        )
    except Exception as error:  # datasets raises many types for offline / missing data
        raise InputError(
            f"{benchmark}: could not load {source.describe()} ({type(error).__name__}: {error}); "
            f"set {DATA_DIR_ENV} or pass -T path=FILE to read a local copy"
        ) from None
    return [dict(row) for row in dataset]


def as_list(value: str | Iterable[str] | None) -> list[str]:
    """Normalise a `-T` argument that may be one string, a comma list or a list."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(part).strip() for part in value]


def excluded_ids(exclude: str | None, task: str) -> set[str]:
    """Sample ids listed in an exclusion file for `task`.

    Two formats: JSONL as written by `diq eval sample-validation` (rows with `task` and
    `sample_id`; rows of other tasks are ignored), or plain text with one id per line,
    optionally written `task:id` (ids of other tasks are ignored). A file is JSONL when
    its name ends in `.jsonl` or its first entry starts with `{`, so a renamed
    validation file is still read as one; a JSON document (a list, an object over
    several lines) is an error naming the line, never a list of odd ids.
    """
    if not exclude:
        return set()
    path = Path(exclude).expanduser()
    if not path.is_file():
        raise InputError("exclusion file not found", path=path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"not UTF-8 text ({error.reason})", path=path) from None
    entries = [
        (number, raw.strip())
        for number, raw in enumerate(text.splitlines(), start=1)
        if raw.strip() and not raw.strip().startswith("#")
    ]
    read = (
        _jsonl_id
        if path.suffix == ".jsonl" or (entries and entries[0][1].startswith("{"))
        else _plain_id
    )
    return {read(entry, path, line, task) for line, entry in entries} - {""}


def _jsonl_id(entry: str, path: Path, line: int, task: str) -> str:
    """The sample id of one JSONL row of an exclusion file ('' for another task's row)."""
    try:
        row = json.loads(entry)
    except json.JSONDecodeError as error:
        raise InputError(
            f"invalid JSON ({error.msg}, column {error.colno}); expected one "
            '{"task": ..., "sample_id": ...} object per line',
            path=path,
            line=line,
        ) from None
    if not isinstance(row, dict) or "task" not in row or "sample_id" not in row:
        raise InputError(
            "expected an object with fields 'task' and 'sample_id'", path=path, line=line
        )
    return str(row["sample_id"]) if row["task"] == task else ""


def _plain_id(entry: str, path: Path, line: int, task: str) -> str:
    """The id on one line of a plain exclusion file ('' for another task's `task:id`)."""
    if entry[0] in '{["':
        raise InputError(
            "looks like JSON, not one sample id per line; write JSONL rows "
            '{"task": ..., "sample_id": ...} (as diq eval sample-validation does)',
            path=path,
            line=line,
        )
    prefix, sep, rest = entry.partition(":")
    if not sep:
        return entry
    return rest if prefix == task else ""


def exclude_ids(records: list[R], exclude: str | None, task: str) -> list[R]:
    """The records (anything with an `id`) that the exclusion file does not list for `task`.

    An exclusion file that names none of the task's ids excludes nothing, which is
    almost always a mistake (ids of another subset, a file for other tasks), so it
    is logged as a warning; excluding every record is an error, since an empty task
    would report nothing and look like a success.
    """
    if not exclude:
        return records
    excluded = excluded_ids(exclude, task)
    kept = [record for record in records if str(record.id) not in excluded]  # type: ignore[attr-defined]
    if len(kept) == len(records):
        found = (
            f"none of the {len(excluded)} ids it lists for {task} is a sample of the task"
            if excluded
            else f"it lists no ids for {task}"
        )
        logger.warning("exclusion file %s: %s; nothing excluded", exclude, found)
    if not kept:
        raise InputError(
            f"{task}: no samples left after excluding {len(records)} ids", path=exclude
        )
    return kept
