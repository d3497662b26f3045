"""The user cache: converted and fetched models, file hashes and pinned downloads between runs."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "DIQ_CACHE_DIR"


def user_cache_dir() -> Path:
    """`$DIQ_CACHE_DIR`, else `$XDG_CACHE_HOME/diq`, else `~/.cache/diq` (not created here)."""
    if value := os.environ.get(CACHE_ENV):
        return Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "diq"
