"""Files on disk: atomic writes, strict reads that locate errors, and content hashes.

Every output of the harness goes through `atomic_write` (a temporary file in the same
directory, then `os.replace`), so an interrupted stage leaves either the old file or
the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from harness.core.errors import InputError


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp/mkdtemp create private (0600/0700) entries; published outputs get the modes a
# plain open()/mkdir() would give, so runs on a shared cluster stay readable by the group.
FILE_MODE = 0o666 & ~_current_umask()
DIR_MODE = 0o777 & ~_current_umask()


@contextlib.contextmanager
def atomic_write(
    path: str | Path, mode: str = "w", encoding: str | None = "utf-8"
) -> Iterator[IO[Any]]:
    """Open a temporary sibling of `path` for writing; rename it over `path` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.chmod(tmp, FILE_MODE)
    binary = "b" in mode
    try:
        with os.fdopen(fd, mode, encoding=None if binary else encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_directory(path: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling directory; on success it replaces `path` as a whole."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    os.chmod(tmp, DIR_MODE)
    try:
        yield tmp
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_text(path: str | Path, text: str) -> None:
    """Write text atomically."""
    with atomic_write(path) as handle:
        handle.write(text)


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no insignificant whitespace: the form we hash."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def write_json(path: str | Path, obj: Any) -> None:
    """Write pretty, key-sorted JSON atomically (stable diffs, stable hashes)."""
    with atomic_write(path) as handle:
        json.dump(obj, handle, indent=2, sort_keys=True, ensure_ascii=False, default=str)
        handle.write("\n")


def write_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write one JSON object per line atomically; return the number of rows."""
    count = 0
    with atomic_write(path) as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, default=str))
            handle.write("\n")
            count += 1
    return count


def read_json(path: str | Path) -> Any:
    """Parse a JSON file, naming the file and position on failure (a UTF-8 BOM is allowed)."""
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", path=path)
    try:
        with path.open(encoding="utf-8-sig") as handle:
            return json.load(handle)
    except json.JSONDecodeError as error:
        raise InputError(
            f"invalid JSON ({error.msg}, column {error.colno})", path=path, line=error.lineno
        ) from None
    except UnicodeDecodeError as error:
        raise InputError(
            f"not UTF-8 text ({error.reason} at byte {error.start})", path=path
        ) from None


# a config is small: anything bigger, or with more aliases, is not one (and an alias bomb
# would expand to exhaust memory long before validation could refuse it)
YAML_MAX_BYTES = 1 << 20
YAML_MAX_ALIASES = 100
YAML_MAX_NODES = 100_000


def _yaml_size(value: Any, budget: list[int]) -> None:
    """Count the nodes `value` expands to, stopping once over the budget."""
    budget[0] -= 1
    if budget[0] < 0:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _yaml_size(key, budget)
            _yaml_size(item, budget)
    elif isinstance(value, list):
        for item in value:
            _yaml_size(item, budget)


def read_yaml_mapping(path: str | Path, what: str) -> dict[str, Any]:
    """Parse a YAML file that must hold a mapping (`what` names it in errors).

    Size, aliases and expanded nodes are capped before anything is built from it.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{what} not found", path=path)
    if path.stat().st_size > YAML_MAX_BYTES:
        raise InputError(f"{what} is larger than {YAML_MAX_BYTES >> 20} MiB", path=path)
    try:
        text = path.read_text(encoding="utf-8-sig")
        aliases = sum(isinstance(e, yaml.AliasEvent) for e in yaml.parse(text, yaml.SafeLoader))
        if aliases > YAML_MAX_ALIASES:
            raise InputError(
                f"{what} has {aliases} YAML aliases (at most {YAML_MAX_ALIASES})", path=path
            )
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        where = "" if mark is None else f", column {mark.column + 1}"
        raise InputError(
            f"invalid YAML ({' '.join(str(problem).split())}{where})",
            path=path,
            line=None if mark is None else mark.line + 1,
        ) from None
    except UnicodeDecodeError as error:
        raise InputError(
            f"not UTF-8 text ({error.reason} at byte {error.start})", path=path
        ) from None
    budget = [YAML_MAX_NODES]
    _yaml_size(data, budget)
    if budget[0] < 0:
        raise InputError(f"{what} expands to more than {YAML_MAX_NODES} values", path=path)
    if not isinstance(data, dict):
        raise InputError(f"{what} must be a YAML mapping", path=path)
    return data


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield `(line_number, object)` for each non-blank line; every line must be a JSON object.

    A UTF-8 byte-order mark at the start is allowed; bytes that are not UTF-8 are an
    error naming the line.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", path=path)
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as error:
                raise InputError(
                    f"not UTF-8 text ({error.reason} at byte {error.start} of the line)",
                    path=path,
                    line=number,
                ) from None
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as error:
                raise InputError(
                    f"invalid JSON ({error.msg}, column {error.colno})", path=path, line=number
                ) from None
            if not isinstance(value, dict):
                raise InputError(
                    f"expected a JSON object, got {type(value).__name__}", path=path, line=number
                )
            yield number, value


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes, streamed."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def sha256_json(obj: Any) -> str:
    """Hex SHA-256 of an object's canonical JSON form."""
    return sha256_bytes(canonical_json(obj).encode("utf-8"))


def publish_into(staging: str | Path, target: str | Path) -> list[Path]:
    """Move every file of `staging` into `target`, replacing files of the same name only.

    Unlike `atomic_directory`, whatever else `target` holds stays. Each file lands with
    one rename; `staging` is removed. Returns the published paths.
    """
    staging, target = Path(staging), Path(target)
    published = []
    for source in sorted(p for p in staging.rglob("*") if p.is_file()):
        destination = target / source.relative_to(staging)
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, destination)
        published.append(destination)
    shutil.rmtree(staging, ignore_errors=True)
    return published
