"""`diq convert`: into a directory, into the cache, and the refusals."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from harness.cli import main
from harness.core.io import sha256_file
from harness.core.outdir import output_kind
from harness.models.gguf import MANIFEST_NAME


def test_convert_into_a_directory_then_skip_it(tiny_gguf: Path, tmp_path: Path) -> None:
    out = tmp_path / "converted"
    result = CliRunner().invoke(main, ["convert", str(tiny_gguf), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(out)
    assert f"converting tiny.gguf (llama, sha256 {sha256_file(tiny_gguf)[:12]})" in result.stderr
    assert (out / MANIFEST_NAME).is_file() and (out / "model.safetensors").is_file()
    assert output_kind(out) == "model"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".convert.")]

    again = CliRunner().invoke(main, ["convert", str(tiny_gguf), "--out", str(out)])
    assert again.exit_code == 0 and "already converted from tiny.gguf" in again.stderr


def test_convert_without_out_prints_the_cached_checkpoint(tiny_gguf: Path, cache_dir: Path) -> None:
    result = CliRunner().invoke(main, ["convert", str(tiny_gguf)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(cache_dir / "gguf" / sha256_file(tiny_gguf))


def test_refusals(tiny_gguf: Path, tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    result = CliRunner().invoke(main, ["convert", str(tiny_gguf), "--out", str(foreign)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"Error: {foreign}: the output directory holds files diq did not write, not a model "
        "output; choose a new or empty directory, or pass --force to write there (diq then "
        "replaces only its own files)"
    )
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]
    forced = CliRunner().invoke(main, ["convert", str(tiny_gguf), "--out", str(foreign), "--force"])
    assert forced.exit_code == 0, forced.output
    assert (foreign / "notes.txt").read_text() == "mine"
    assert (foreign / MANIFEST_NAME).is_file()

    for args in ([], [str(tiny_gguf), "--pinned"]):
        usage = CliRunner().invoke(main, ["convert", *args])
        assert usage.exit_code == 2 and "give exactly one of GGUF and --pinned" in usage.stderr


def test_a_file_that_is_not_gguf_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    garbage = tmp_path / "model.gguf"
    garbage.write_bytes(b"\x00not gguf" * 100)
    before = sorted(tmp_path.rglob("*"))
    result = CliRunner().invoke(main, ["convert", str(garbage), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: {garbage}: not a readable GGUF file")
    assert sorted(tmp_path.rglob("*")) == before
