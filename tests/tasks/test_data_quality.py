"""data_quality: training records judged as data on the data-quality rubric."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from inspect_ai import eval
from inspect_ai.model import ChatMessage, GenerateConfig

from harness.core.errors import InputError
from harness.core.records import PoolRecord, write_records
from rubrics.schema import load_rubric
from tasks.data_quality import data_quality
from tests.rubrics.judges import ScriptedJudge, question_of, rating_json, verdict_json

POINTS = {c.id: c for c in load_rubric("data_quality").criteria}


def subset_file(data_dir: Path, tmp_path: Path, n: int = 3) -> tuple[Path, list[dict]]:
    demo = json.loads((data_dir / "medical_o1_sft_demo/demo_data.json").read_text())[:n]
    records = [
        PoolRecord(
            id=f"o1-{i}",
            question=row["Question"],
            reasoning=row["Complex_CoT"],
            response=row["Response"],
            source="medical_o1_demo",
            meta={"Ground-True Answer": row["Ground-True Answer"]},
        )
        for i, row in enumerate(demo)
    ]
    path = tmp_path / "diq-0.01.jsonl"
    write_records(path, records)
    return path, demo


def reply(messages: list[ChatMessage], config: GenerateConfig) -> str:
    key = question_of(messages)
    if key.startswith("rating:"):
        return rating_json(4)
    criterion = POINTS[key]
    if criterion.scaled:
        return '{"explanation": "mostly stepwise", "level": 3}'
    applicable = None if not criterion.conditional else key != "dq.reasoning.self_correction"
    present = key == "dq.reasoning.padding" or (criterion.points > 0)
    return verdict_json(present, applicable)


def test_records_are_judged_on_five_axes(data_dir: Path, tmp_path: Path) -> None:
    path, demo = subset_file(data_dir, tmp_path)
    judge = ScriptedJudge(reply)
    task = data_quality(str(path), limit=2, seed=3)
    log = eval(task, model_roles={"grader": judge.model}, display="none")[0]
    assert log.status == "success", log.error
    assert log.eval.model == "none/none"  # nothing is generated
    assert log.eval.metadata["rubric_versions"] == {"data_quality": "1.0.0"}
    sample = log.samples[0]
    score = sample.scores["rubric_judge"]
    row = demo[int(str(sample.id).split("-")[1])]
    assert sample.output.completion == row["Response"]
    # reasoning axis: supports_response +6 met, stepwise (+4, level 3 -> 4 * 2/4 = 2),
    # self_correction not applicable, padding -3 present -> (6 + 2 - 3) / (6 + 4) = 0.5
    assert score.value["reasoning"] == pytest.approx(0.5)
    assert score.value["crit_dq_reasoning_stepwise"] == 0.5
    # every other axis: all positive criteria met, no harm -> 1
    assert {score.value[a] for a in ("ddx", "safety", "evidence", "correctness")} == {1.0}
    assert score.value["correctness_rating"] == 4.0
    assert score.value["response_length"] == len(row["Complex_CoT"]) + len(row["Response"])
    prompt = score.metadata["judge_prompts"]["dq.correctness.final_answer"]
    assert f"<<<BEGIN REASONING>>>\n{row['Complex_CoT'][:200]}" in prompt
    assert f"<<<BEGIN REFERENCE ANSWER>>>\n{row['Ground-True Answer']}" in prompt
    assert "training record" in prompt
    assert len(judge.calls) == 2 * (27 + 5)


def test_data_quality_needs_a_grader_and_a_record_rubric(data_dir: Path, tmp_path: Path) -> None:
    path, _ = subset_file(data_dir, tmp_path, n=1)
    log = eval(data_quality(str(path)), display="none")[0]
    assert log.status == "error" and "grader" in str(log.error)
    with pytest.raises(InputError, match="judges responses"):
        data_quality(str(path), rubric="safety_check")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "question": "Q", "reasoning": "", "response": ""}\n')
    with pytest.raises(InputError, match="bad.jsonl:1.*response"):
        data_quality(str(bad))
