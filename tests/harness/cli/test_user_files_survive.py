"""Every command that writes into a folder leaves the user's own files there untouched.

Each command is pointed (with `--force` where the folder is not one diq made) at a
folder that already holds a user's files, including files where diq also writes (a
hand-curated subset in `subsets/`, a plot in `plots/`); it succeeds, and every one of
those files is still there, byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from harness.cli import main
from harness.core.records import PoolRecord, write_records
from tests.selection.util import make_records

USER_FILES = {
    "README.md": "my notes\n",
    "src/analysis.py": "print('mine')\n",
    "subsets/mine.jsonl": json.dumps(PoolRecord("m1", "My own question?", "", "Mine.").to_dict())
    + "\n",
    "plots/mine.svg": "<svg/>",
    "logs/notes.txt": "not a log\n",
}


def with_user_files(folder: Path) -> Path:
    for name, text in USER_FILES.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def inputs(root: Path) -> tuple[Path, Path]:
    pool = root / "inputs" / "pool.jsonl"
    write_records(pool, make_records(8))
    validation = root / "inputs" / "validation.jsonl"
    write_records(
        validation,
        [
            PoolRecord(f"medqa:v{i}", f"Validation vignette {i}: which drug?", "", "ANSWER: A")
            for i in range(2)
        ],
    )
    return pool, validation


def select(root: Path, checkpoint: Path, logs: Path, out: Path) -> list[str]:
    pool, validation = inputs(root)
    return [
        "select", "--pool", str(pool), "--validation", str(validation), "--model",
        str(checkpoint), "--batch-size", "4", "--max-length", "128", "--ratios", "0.5",
        "--quiet", "--out", str(out), "--force",
    ]  # fmt: skip


def run(root: Path, checkpoint: Path, logs: Path, out: Path) -> list[str]:
    pool, validation = inputs(root)
    config = {
        "name": "survive",
        "select": {
            "pool": {"path": str(pool)},
            "validation": {"path": str(validation)},
            "scoring": {"batch_size": 4, "max_length": 128},
            "ratios": [0.5],
        },
        "train": {"base": str(checkpoint)},
        "eval": {"suites": []},
        "judge": {"graders": []},
    }
    path = root / "inputs" / "experiment.yaml"
    path.write_text(yaml.safe_dump(config))
    return ["run", str(path), "--out", str(out), "--only", "select", "--force"]


def train(root: Path, checkpoint: Path, logs: Path, out: Path) -> list[str]:
    subsets = root / "inputs" / "subsets"
    write_records(subsets / "a.jsonl", make_records(4))
    return [
        "train", "--subsets", str(subsets), "--base", str(checkpoint), "--out", str(out),
        "--max-steps", "1", "--max-length", "128", "--no-progress",
    ]  # fmt: skip


def evaluate(root: Path, checkpoint: Path, logs: Path, out: Path) -> list[str]:
    return [
        "eval", "--suite", "smoke", "--model", f"tiny={checkpoint}", "--limit", "1",
        "--max-tokens", "2", "--log-dir", str(out),
    ]  # fmt: skip


def tiny_model(root: Path, checkpoint: Path, logs: Path, out: Path) -> list[str]:
    texts = root / "inputs" / "texts.txt"
    texts.parent.mkdir(parents=True, exist_ok=True)
    texts.write_text("fever and cough\nchest pain on exertion\n" * 20)
    return [
        "tiny-model", "--texts", str(texts), "--out", str(out), "--vocab-size", "300",
        "--hidden-size", "16", "--heads", "2", "--kv-heads", "1", "--layers", "1", "--force",
    ]  # fmt: skip


def report(root: Path, checkpoint: Path, logs: Path, out: Path) -> list[str]:
    return ["report", str(logs), "--out", str(out), "--resamples", "99", "--force"]


def review(root: Path, checkpoint: Path, logs: Path, out: Path) -> list[str]:
    return ["review", "export", str(logs), "--out", str(out), "--raters", "ann,bob", "--force"]


COMMANDS: dict[str, Callable[[Path, Path, Path, Path], list[str]]] = {
    "select": select,
    "run": run,
    "train": train,
    "eval": evaluate,
    "tiny-model": tiny_model,
    "report": report,
    "review export": review,
}


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.reports.conftest import write_scripted_logs

    return write_scripted_logs(tmp_path_factory.mktemp("logs"))


@pytest.mark.parametrize("command", COMMANDS, ids=str)
def test_user_files_under_the_output_folder_survive(
    command: str, tmp_path: Path, tiny_checkpoint: Path, logs: Path, data_dir: Path
) -> None:
    out = with_user_files(tmp_path / "out")
    args = COMMANDS[command](tmp_path, tiny_checkpoint, logs, out)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    for name, text in USER_FILES.items():
        assert (out / name).read_text() == text, name
    assert len([p for p in out.rglob("*") if p.is_file()]) > len(USER_FILES)  # it wrote too
