"""What a path holds: the one identity policy for checkpoints, data files and hub ids.

A file is identified by the SHA-256 of its bytes, a directory by the name, size and
SHA-256 of every file in it (hidden work files aside), and anything that is not a path
(a Hugging Face id, an API model name) by its text. Content, never paths or times, so a
copied checkpoint keeps its identity and one retrained in place gets a new one. Hashing a
multi-GB checkpoint takes a while, so a file's hash is remembered by (device, inode, size,
modification time), which a rename keeps and a rewrite changes, in this process and in the
user cache
(`hashes.json` in `harness.core.cache.user_cache_dir`), for files large enough to matter.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Collection
from pathlib import Path
from typing import Any

from harness.core.cache import user_cache_dir
from harness.core.io import sha256_file, sha256_json, write_json

# hashing under this size is cheaper than reading and writing the cache
CACHE_MIN_BYTES = 16 << 20

_memory: dict[str, str] = {}


def _stat_key(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_dev}:{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}"


def _disk_cache() -> tuple[Path, dict[str, Any]]:
    store = user_cache_dir() / "hashes.json"
    try:
        return store, json.loads(store.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return store, {}


def file_hash(path: str | Path) -> str:
    """SHA-256 of a file's bytes, remembered by (device, inode, size, mtime)."""
    path = Path(path)
    key = _stat_key(path)
    if key in _memory:
        return _memory[key]
    large = path.stat().st_size >= CACHE_MIN_BYTES
    if large:
        store, known = _disk_cache()
        if key in known:
            _memory[key] = str(known[key])
            return _memory[key]
    digest = sha256_file(path)
    _memory[key] = digest
    if large:
        store, known = _disk_cache()
        known[key] = digest
        # a read-only home: the hash is still right, only slower next time
        with contextlib.suppress(OSError):
            write_json(store, known)
    return digest


def directory_files(directory: Path, exclude: Collection[str] = ()) -> list[Path]:
    """The files that make up a directory's content.

    Hidden files and folders are work state, and `exclude` names top-level entries that
    describe the content rather than being part of it (a manifest).
    """
    files = []
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        hidden = any(part.startswith(".") for part in relative.parts)
        if path.is_file() and not hidden and relative.parts[0] not in exclude:
            files.append(path)
    return files


def fingerprint(reference: str | Path | None, exclude: Collection[str] = ()) -> str | None:
    """The content identity of a file, a directory, or (for anything else) the reference text.

    `exclude`: top-level entries of a directory left out (see `directory_files`).
    """
    if reference is None:
        return None
    path = Path(reference).expanduser()
    if path.is_file():
        return file_hash(path)
    if path.is_dir():
        return sha256_json(
            [
                [p.relative_to(path).as_posix(), p.stat().st_size, file_hash(p)]
                for p in directory_files(path, exclude)
            ]
        )
    return sha256_json({"reference": str(reference)})


_HUB_ID = re.compile(r"[\w.-]+/[\w.-]+")
# a data or model file, never a Hugging Face repository
FILE_SUFFIXES = (".gguf", ".json", ".jsonl", ".parquet", ".csv", ".yaml", ".yml", ".safetensors")


def looks_like_hub_id(reference: str | Path) -> bool:
    """`owner/name`, not an existing path, not written as one (`./x`, `~/x`), no file suffix."""
    text = str(reference)
    return (
        not Path(text).expanduser().exists()
        and not text.startswith((".", "~", "/"))
        and _HUB_ID.fullmatch(text) is not None
        and not text.lower().endswith(FILE_SUFFIXES)
    )
