"""Where an upstream record sits, so that every error about it names the same place."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from harness.core.errors import InputError


@dataclass(frozen=True)
class Where:
    """A record's place: its file (or pinned dataset), line and record id, as far as known."""

    path: str | Path | None = None
    line: int | None = None
    record: str | None = None

    def error(self, message: str, field: str | None = None) -> InputError:
        """The error about this record (and `field` of it), naming where it is."""
        return InputError(message, path=self.path, line=self.line, record=self.record, field=field)

    def at_record(self, record: object) -> Where:
        """The same place, naming `record` (any id; None keeps it unnamed)."""
        return replace(self, record=None if record is None else str(record))
