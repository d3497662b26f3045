"""Exclusion files: the items that must never count in evaluation (the validation items).

An item is named by a key `(scope, id)`: the task or source benchmark it belongs to, and
its id there. The validation file of the influence step (`diq eval sample-validation`)
names each drawn item by its benchmark task and upstream id, so every task built from
that benchmark's items drops it: the benchmark's own multiple-choice task, and the
judged tasks that reuse its items (`clinical_reasoning` keys each case on its item's
benchmark and id as well as on its own sample id).

Two file formats: JSONL rows `{"task": ..., "sample_id": ...}`, or plain text with one
id per line, optionally written `task:id` (a bare id names that id in every scope). A
file is JSONL when its name ends in `.jsonl` or its first entry starts with `{`, so a
renamed validation file is still read as one; a JSON document (a list, an object over
several lines) is an error naming the line, never a list of odd ids.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from harness.core.errors import InputError

R = TypeVar("R")
Key = tuple[str, str]  # (task or source benchmark, sample id)
logger = logging.getLogger(__name__)


class HasId(Protocol):
    """Anything with an id: an Inspect Sample, a pool record."""

    @property
    def id(self) -> object:
        """The record's id."""
        ...


Identified = TypeVar("Identified", bound=HasId)


@dataclass(frozen=True)
class Exclusions:
    """The keys an exclusion file lists (`scoped`), and the ids it lists without a scope."""

    path: str | None = None
    scoped: frozenset[Key] = frozenset()
    bare: frozenset[str] = frozenset()

    @classmethod
    def read(cls, exclude: str | None) -> Exclusions:
        """The exclusion file `exclude` (nothing excluded when None)."""
        if not exclude:
            return cls()
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
        jsonl = path.suffix == ".jsonl" or bool(entries and entries[0][1].startswith("{"))
        keys = [(_jsonl_key if jsonl else _plain_key)(entry, path, line) for line, entry in entries]
        return cls(
            path=exclude,
            scoped=frozenset(key for key in keys if isinstance(key, tuple)),
            bare=frozenset(key for key in keys if isinstance(key, str)),
        )

    def names(self, keys: Iterable[Key]) -> bool:
        """True when the file lists any of an item's keys."""
        return any(key in self.scoped or key[1] in self.bare for key in keys)

    def keep(self, records: Sequence[R], task: str, keys: Callable[[R], Sequence[Key]]) -> list[R]:
        """The records the file does not name, checked with `check` for `task`."""
        kept = [record for record in records if not self.names(keys(record))]
        self.check(
            task, {key[0] for record in records for key in keys(record)}, len(records), len(kept)
        )
        return kept

    def check(self, task: str, scopes: set[str], total: int, kept: int) -> None:
        """Warn when a given file excluded nothing of `total`; fail when it excluded all.

        A file that names none of the task's items is almost always a mistake (ids of
        another subset, a file for other tasks); an empty task would report nothing and
        look like a success.
        """
        if self.path is None:
            return
        if kept == total:
            listed = len(self.bare) + sum(1 for scope, _ in self.scoped if scope in scopes)
            where = ", ".join(sorted(scopes))
            found = (
                f"none of the {listed} ids it lists for {where} is a sample of {task}"
                if listed
                else f"it lists no ids for {where}"
            )
            logger.warning("exclusion file %s: %s; nothing excluded", self.path, found)
        if total and not kept:
            raise InputError(f"{task}: no samples left after excluding {total} ids", path=self.path)


def exclude_ids(records: list[Identified], exclude: str | None, task: str) -> list[Identified]:
    """The records that the exclusion file does not list for `task` (keyed by their own id)."""
    return Exclusions.read(exclude).keep(records, task, lambda record: [(task, str(record.id))])


def _jsonl_key(entry: str, path: Path, line: int) -> Key:
    """The key of one JSONL row of an exclusion file."""
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
    return str(row["task"]), str(row["sample_id"])


def _plain_key(entry: str, path: Path, line: int) -> Key | str:
    """The key on one line of a plain exclusion file: `task:id`, or a bare id."""
    if entry[0] in '{["':
        raise InputError(
            "looks like JSON, not one sample id per line; write JSONL rows "
            '{"task": ..., "sample_id": ...} (as diq eval sample-validation does)',
            path=path,
            line=line,
        )
    scope, sep, rest = entry.partition(":")
    return (scope, rest) if sep else entry
