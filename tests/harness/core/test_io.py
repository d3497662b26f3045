import json
from pathlib import Path

import pytest

from harness.core.errors import InputError
from harness.core.io import (
    atomic_directory,
    atomic_write,
    iter_jsonl,
    read_json,
    sha256_json,
    write_json,
    write_jsonl,
)


def test_atomic_write_leaves_old_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    write_json(target, {"a": 1})
    with pytest.raises(RuntimeError), atomic_write(target) as handle:
        handle.write("partial")
        raise RuntimeError("interrupted")
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temp file left behind


def test_atomic_directory_replaces_whole(tmp_path: Path) -> None:
    target = tmp_path / "model"
    with atomic_directory(target) as tmp:
        (tmp / "a").write_text("1")
    with pytest.raises(RuntimeError), atomic_directory(target) as tmp:
        (tmp / "b").write_text("2")
        raise RuntimeError
    assert sorted(p.name for p in target.iterdir()) == ["a"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_jsonl_errors_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    write_jsonl(path, [{"a": 1}])
    path.write_text(path.read_text() + "\n[1, 2]\n")
    rows = iter_jsonl(path)
    assert next(rows) == (1, {"a": 1})
    with pytest.raises(InputError, match=r"x.jsonl:3: expected a JSON object, got list"):
        next(rows)
    with pytest.raises(InputError, match="file not found"):
        read_json(tmp_path / "absent.json")


def test_error_rendering() -> None:
    error = InputError("empty value", path="a.csv", line=4, record="q1", field="opa")
    assert str(error) == "a.csv:4: record 'q1': field 'opa': empty value"


def test_canonical_hash_ignores_key_order() -> None:
    assert sha256_json({"a": 1, "b": [1, 2]}) == sha256_json({"b": [1, 2], "a": 1})
    assert sha256_json({"a": 1}) != sha256_json({"a": 2})


def test_published_outputs_are_not_private(tmp_path: Path) -> None:
    write_json(tmp_path / "a.json", {})
    with atomic_directory(tmp_path / "d") as tmp:
        (tmp / "x").write_text("1")
    assert (tmp_path / "a.json").stat().st_mode & 0o044 == 0o044  # group/other readable (umask 022)
    assert (tmp_path / "d").stat().st_mode & 0o055 == 0o055
