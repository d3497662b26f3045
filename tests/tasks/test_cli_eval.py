"""`diq eval` and `inspect eval tasks/...` from the command line."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from inspect_ai.log import list_eval_logs, read_eval_log

from harness.cli import main
from harness.core.records import PoolRecord


def run(*args: str) -> object:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def second_checkpoint(tiny_checkpoint: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "tiny-b"
    shutil.copytree(tiny_checkpoint, copy)
    return copy


def test_suite_writes_one_log_per_model_and_task_and_resumes(
    data_dir: Path, tiny_checkpoint: Path, second_checkpoint: Path, tmp_path: Path
) -> None:
    log_dir = tmp_path / "logs"
    args = [
        "eval",
        "--suite",
        "smoke",
        "--model",
        f"a={tiny_checkpoint}",
        "--model",
        f"b={second_checkpoint}",
    ]
    args += ["--limit", "2", "--max-tokens", "4", "--log-dir", str(log_dir)]
    first = run(*args)
    assert first.exit_code == 0, first.output
    logs = sorted(log.name for log in list_eval_logs(str(log_dir)))
    headers = [read_eval_log(log, header_only=True) for log in logs]
    assert len(logs) == 4
    assert sorted((h.eval.model, h.eval.task) for h in headers) == [
        ("hf/a", "medqa"),
        ("hf/a", "pubmedqa"),
        ("hf/b", "medqa"),
        ("hf/b", "pubmedqa"),
    ]
    assert all(h.status == "success" for h in headers)
    second = run(*args)
    assert second.exit_code == 0, second.output
    assert sorted(log.name for log in list_eval_logs(str(log_dir))) == logs  # nothing re-run


def test_sample_validation_and_exclusion(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "validation.jsonl"
    result = run(
        "eval",
        "sample-validation",
        "--suite",
        "standard",
        "--per-task",
        "4",
        "--seed",
        "3",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["task"] for r in rows) == ["medmcqa"] * 4 + ["medqa"] * 4 + ["pubmedqa"] * 4
    records = [PoolRecord.from_dict(row) for row in rows]  # usable as influence validation records
    assert all(
        r.question.startswith("Answer the following multiple choice question") for r in records
    )
    assert all(r.response.startswith("ANSWER: ") for r in records)
    again = tmp_path / "again.jsonl"
    run(
        "eval",
        "sample-validation",
        "--suite",
        "standard",
        "--per-task",
        "4",
        "--seed",
        "3",
        "--out",
        str(again),
    )
    assert again.read_text() == out.read_text()  # seeded

    from tasks.pubmedqa import pubmedqa

    excluded = {r["sample_id"] for r in rows if r["task"] == "pubmedqa"}
    kept = {
        s.id for s in pubmedqa(str(data_dir / "pubmedqa/ori_pqal.json"), exclude=str(out)).dataset
    }
    assert len(kept) == 496 and not kept & excluded


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["eval", "--suite", "nope", "--model", "mockllm/model"], "unknown suite 'nope'"),
        (["eval", "--suite", "smoke", "--model", "/no/such/dir"], "neither a checkpoint directory"),
        (
            ["eval", "--suite", "smoke", "--model", "mockllm/model", "-T", "path=/no/such.jsonl"],
            "/no/such.jsonl: medqa: data file not found",
        ),
        (
            [
                "eval",
                "sample-validation",
                "--suite",
                "smoke",
                "--per-task",
                "0",
                "--out",
                "x.jsonl",
            ],
            "--per-task must be at least 1",
        ),
    ],
)
def test_bad_input_exits_non_zero_with_a_located_message(
    data_dir: Path, args: list[str], message: str
) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert message in result.output


def fake_checkpoint(path: Path) -> str:
    path.mkdir(parents=True)
    (path / "config.json").write_text("{}")
    return str(path)


def test_checkpoints_with_the_same_basename_are_refused(tmp_path: Path) -> None:
    first = fake_checkpoint(tmp_path / "run1" / "diq-0.1")
    second = fake_checkpoint(tmp_path / "run2" / "diq-0.1")
    args = ["eval", "--suite", "smoke", "--model", first, "--model", second]
    result = CliRunner().invoke(main, [*args, "--log-dir", str(tmp_path / "logs")])
    assert result.exit_code == 2
    assert "two models share the model name 'hf/diq-0.1'" in result.output
    assert first in result.output and second in result.output
    assert not (tmp_path / "logs").exists()  # refused before anything ran


@pytest.mark.parametrize(
    ("specs", "provider", "message"),
    [
        (["x=CKPT1", "x=CKPT2"], "vllm", "share the label 'x'"),
        (["a=CKPT1", "b=CKPT1"], "vllm", "share the model name 'vllm/"),
        (["mockllm/model", "mockllm/model"], "hf", "share the model name 'mockllm/model'"),
    ],
)
def test_run_eval_refuses_duplicate_names_and_labels(
    tmp_path: Path, specs: list[str], provider: str, message: str
) -> None:
    from harness.core.errors import ConfigError
    from harness.study.evaluation import EvalConfig, run_eval
    from harness.study.models import parse_model

    paths = {"CKPT1": tmp_path / "one" / "m", "CKPT2": tmp_path / "two" / "m"}
    for path in paths.values():
        fake_checkpoint(path)
    for name, path in paths.items():
        specs = [spec.replace(name, str(path)) for spec in specs]
    models = [parse_model(spec, provider=provider) for spec in specs]
    with pytest.raises(ConfigError, match=message):
        run_eval(EvalConfig(suites=["smoke"]), tmp_path / "logs", models=models)


def test_inspect_eval_runs_an_installed_task_on_a_local_checkpoint(
    data_dir: Path, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    """The entry point registers `tasks/medqa` for the inspect CLI (pip install -e .)."""
    command = [
        str(Path(sys.executable).with_name("inspect")), "eval", "tasks/medqa",
        "--model", "hf/tiny", "-M", f"model_path={tiny_checkpoint}", "-M", "device=cpu",
        "--limit", "3", "--max-tokens", "8", "--log-dir", str(tmp_path / "logs"), "--display", "none",
    ]  # fmt: skip
    env = {**os.environ, "DIQ_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    completed = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    [log_file] = list_eval_logs(str(tmp_path / "logs"))
    log = read_eval_log(log_file)
    assert log.status == "success"
    assert len(log.samples) == 3 and not [s for s in log.samples if s.error]
