"""Output directories: written only when new, empty, or made by diq for the same kind of output.

A directory diq writes carries a marker file naming what it holds (`run`, `report`,
`review`, `model`). A command refuses, before any work, to write into a directory that
holds anything else: a user's folder of notes, a checkpoint of their own, the output of
another command. `--force` lets it write there anyway; even then a command replaces only
files it writes itself and deletes nothing else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from harness.core.errors import InputError
from harness.core.io import read_json, write_json

MARKER = ".diq-output.json"
OutputKind = Literal["run", "report", "review", "model"]


def output_kind(path: Path) -> str | None:
    """The kind of output diq wrote to `path`, or None when it did not (or cannot tell)."""
    marker = path / MARKER
    if not marker.is_file():
        return None
    try:
        data = read_json(marker)
    except InputError:
        return None
    kind = data.get("kind") if isinstance(data, dict) else None
    return kind if isinstance(kind, str) else None


def check_output_dir(path: str | Path, kind: OutputKind, *, force: bool = False) -> None:
    """Refuse (an `InputError` naming the path) unless `path` may hold this kind of output."""
    path = Path(path)
    if not path.exists():
        return
    if not path.is_dir():
        raise InputError("the output path exists and is not a directory", path=path)
    if force or not any(path.iterdir()):
        return
    found = output_kind(path)
    if found == kind:
        return
    what = f"diq's {found} output" if found else "files diq did not write"
    raise InputError(
        f"the output directory holds {what}, not a {kind} output; choose a new or empty "
        "directory, or pass --force to write there (diq then replaces only its own files)",
        path=path,
    )


def claim_output_dir(path: str | Path, kind: OutputKind) -> Path:
    """Create `path` if needed and mark it as holding this kind of output."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    if output_kind(path) != kind:
        write_json(path / MARKER, {"kind": kind})
    return path
