"""Errors a user can fix, rendered with the file, record and field they come from."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path


class DiqError(Exception):
    """A problem with the user's input or configuration.

    The CLI prints these as one line without a traceback and exits non-zero;
    anything else is a bug and keeps its traceback.
    """


class InputError(DiqError):
    """Bad input data, located as precisely as we know: file, line, record id, field."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        record: str | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        self.record = record
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.path is not None:
            where.append(self.path if self.line is None else f"{self.path}:{self.line}")
        elif self.line is not None:
            where.append(f"line {self.line}")
        if self.record is not None:
            where.append(f"record {self.record!r}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        return ": ".join([*where, self.message])


class ConfigError(DiqError):
    """A bad option, setting or combination of settings."""


@dataclass(frozen=True)
class Where:
    """A record's place: its file (or pinned dataset), line and record id, as far as known.

    Built once per record, so every error about the record names the same place.
    """

    path: str | Path | None = None
    line: int | None = None
    record: str | None = None

    def error(self, message: str, field: str | None = None) -> InputError:
        """The error about this record (and `field` of it), naming where it is."""
        return InputError(message, path=self.path, line=self.line, record=self.record, field=field)

    def at_record(self, record: object) -> Where:
        """The same place, naming `record` (any id; None keeps it unnamed)."""
        return replace(self, record=None if record is None else str(record))
