"""The issue's commands as a user types them: `inspect eval tasks/...` in a subprocess, offline.

The evaluated model is a tiny local checkpoint and the judge is the harness's reference
grader (`reference-grader/diagnosis`, registered through the `inspect_ai` entry point),
so nothing downloads and nothing calls an API.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from inspect_ai.log import EvalLog, list_eval_logs, read_eval_log

from rubrics.scoring import is_number

INSPECT = Path(sys.executable).with_name("inspect")
GRADER = "reference-grader/diagnosis"
HEALTHBENCH_RECORDS = (19, 24)  # 3 and 4 rubric items
RECORD = "healthbench/processed_data/2025-05-07-06-14-12_oss_eval_example_{}.json"


def inspect_eval(
    task: str, options: list[str], checkpoint: Path, data_dir: Path, cwd: Path
) -> EvalLog:
    """Run `inspect eval TASK` with a local model and the reference grader; the one log it writes."""
    log_dir = cwd / "logs"
    command = [
        str(INSPECT), "eval", task, *options,
        "--model", "hf/tiny", "-M", f"model_path={checkpoint}", "-M", "device=cpu",
        "--max-tokens", "8", "--model-role", f"grader={GRADER}",
        "--log-dir", str(log_dir), "--display", "none",
    ]  # fmt: skip
    env = {**os.environ, "DIQ_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    completed = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    [log_file] = list_eval_logs(str(log_dir))
    log = read_eval_log(log_file)
    assert log.status == "success", log.error
    assert log.samples and not [sample.id for sample in log.samples if sample.error]
    return log


def metrics(log: EvalLog) -> dict[str, float]:
    assert log.results is not None
    return {name: m.value for score in log.results.scores for name, m in score.metrics.items()}


def test_inspect_eval_healthbench(data_dir: Path, tiny_checkpoint: Path, tmp_path: Path) -> None:
    path = tmp_path / "healthbench.jsonl"
    records = [json.loads((data_dir / RECORD.format(n)).read_text()) for n in HEALTHBENCH_RECORDS]
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    log = inspect_eval(
        "tasks/healthbench", ["-T", f"path={path}"], tiny_checkpoint, data_dir, tmp_path
    )
    assert log.eval.task == "healthbench" and log.eval.model == "hf/tiny"
    assert sorted(str(s.id) for s in log.samples) == sorted(r["prompt_id"] for r in records)
    for sample in log.samples:
        score = sample.scores["healthbench_judge"]
        items = next(r["rubrics"] for r in records if r["prompt_id"] == sample.id)
        assert is_number(score.value["healthbench_score"]) and score.value["grader_failed"] == 0
        assert score.value["total_criteria"] == len(items)
        assert score.metadata["judges"] == [GRADER]
        assert len(score.metadata["judge_prompts"]) == len(items)
    assert is_number(metrics(log)["healthbench_score"])
    assert metrics(log)["grader_failure_rate"] == 0.0


def test_inspect_eval_clinical_reasoning(
    data_dir: Path, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    options = ["-T", "source=medqa", "-T", "limit=1"]
    log = inspect_eval("tasks/clinical_reasoning", options, tiny_checkpoint, data_dir, tmp_path)
    assert log.eval.task == "clinical_reasoning"
    [sample] = log.samples
    assert str(sample.id).startswith("medqa:")
    score = sample.scores["rubric_judge"]
    assert score.value["grader_failed"] == 0 and score.metadata["judges"] == [GRADER]
    assert all(is_number(score.value[axis]) for axis in ("ddx", "safety", "evidence"))
    assert len(score.metadata["judge_prompts"]) == 10 + 11 + 10 + 3  # criteria + axis ratings
    assert all(is_number(metrics(log)[axis]) for axis in ("ddx", "safety", "evidence"))
