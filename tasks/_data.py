"""Where benchmark data comes from, and which items count.

Resolution order for every benchmark file:

1. `-T path=FILE` (a task argument) when given;
2. `$DIQ_DATA_DIR/<relative path>` when the environment variable is set, using the
   upstream file layout listed in `../shared/data/MANIFEST.md`;
3. otherwise the pinned Hugging Face dataset id and revision (needs network access
   the first time, then the Hugging Face cache), for the benchmarks that have one.

Exclusion files (`-T exclude=FILE`) are read by `tasks.exclusions`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.errors import InputError

DATA_DIR_ENV = "DIQ_DATA_DIR"


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
