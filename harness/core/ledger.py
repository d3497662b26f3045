"""The ledger behind every skip-if-unchanged decision: a stage's input hash and output hashes.

A stage is up to date when the hash of everything it reads equals the one recorded when
it last ran, and what it wrote is still what it wrote (by content). The study keeps one
ledger per run directory (`run_manifest.json`, one entry per stage), selection one for its
sub-stages (`select_manifest.json`), training one per model (`train_manifest.json`). The
ledger lives under the key `ledger` of its JSON file, beside whatever else the file records.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.core.errors import InputError
from harness.core.io import read_json, write_json

KEY = "ledger"


class Ledger:
    """Entries `{name: {"inputs": hash, "outputs": {name: hash}}}` kept in a JSON file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.document: dict[str, Any] = {}
        if self.path.is_file():
            try:
                data = read_json(self.path)
            except InputError:  # a half-written or foreign file: nothing is up to date
                data = {}
            self.document = data if isinstance(data, dict) else {}
        entries = self.document.get(KEY)
        self.entries: dict[str, Any] = dict(entries) if isinstance(entries, dict) else {}

    def fresh(self, name: str, inputs: str, outputs: Mapping[str, str | None]) -> bool:
        """Whether `name` ran on these inputs and its outputs are still what it wrote."""
        entry = self.entries.get(name) or {}
        return entry.get("inputs") == inputs and entry.get("outputs") == dict(outputs)

    def inputs(self, name: str) -> str | None:
        """The input hash recorded for `name`, if any."""
        entry = self.entries.get(name) or {}
        return entry.get("inputs")

    def output(self, name: str, output: str) -> str | None:
        """The recorded hash of one of `name`'s outputs."""
        entry = self.entries.get(name) or {}
        return (entry.get("outputs") or {}).get(output)

    def record(
        self, name: str, inputs: str, outputs: Mapping[str, str | None], **extra: Any
    ) -> None:
        """Remember that `name` ran on `inputs` and wrote `outputs` (saved by `save`)."""
        self.entries[name] = {"inputs": inputs, "outputs": dict(outputs), **extra}

    def save(self, **document: Any) -> None:
        """Write the file: `document`'s keys (replacing earlier ones) and the ledger."""
        self.document.update(document)
        write_json(self.path, {**self.document, KEY: self.entries})
