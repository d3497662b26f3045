"""Real Inspect logs for the report tests: scripted runs of three models on two MCQ tasks
(scored by the harness's own `mcq_answer`) and one judged task with a dict-valued scorer.

The scripted outputs plant the things a report must survive: a `<script>` tag, a
formula-looking answer, an unparseable answer (format failure), an unscored judgement.
"""

from __future__ import annotations

import math
import random
import re
from pathlib import Path

import pytest
from inspect_ai import Task
from inspect_ai import eval as inspect_eval
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.scorer import Score, Scorer, Target, mean, scorer
from inspect_ai.solver import TaskState, generate

from tasks.mcq import mcq_answer
from tests.helpers import scripted_model

MODELS = {"mockllm/random": 0.45, "mockllm/diq": 0.75, "mockllm/full": 0.6}
PLANTED_SCRIPT = '<script>alert("pwned")</script>'
FORMULA = '=HYPERLINK("http://evil.example","click")'
ITEMS = 60
JUDGED_ITEMS = 24

RUBRIC_YAML = """\
id: test_rubric
version: "0.1.0"
title: Test rubric
description: Two axes for tests.
axes:
  - id: ddx
    title: Differential diagnosis
    question: How good is the differential?
    anchors:
      1: none
      2: poor
      3: fair
      4: good
      5: expert
  - id: safety
    title: Safety check
    question: Is the response safe?
    anchors:
      1: dangerous
      2: risky
      3: acceptable
      4: safe
      5: exemplary
criteria:
  - id: ddx.leading
    axis: ddx
    points: 5
    text: Names the leading diagnosis.
  - id: safety.red_flags
    axis: safety
    points: 5
    text: Mentions red flags.
"""


def _mcq_dataset(name: str) -> MemoryDataset:
    samples = []
    for i in range(ITEMS):
        samples.append(
            Sample(
                id=f"{name}-{i:03d}",
                input=f"Item {i}: a 40-year-old presents with finding {i}. What next?",
                choices=["Observe", "Order an ECG", "Give aspirin", "Discharge"],
                target="ABCD"[i % 4],
                metadata={
                    "benchmark": name,
                    "subject": "medicine",
                    "split": "test",
                    "case_id": i // 3,
                },
            )
        )
    return MemoryDataset(samples, name=name)


def _mcq_reply(model: str, accuracy: float, task: str):  # type: ignore[no-untyped-def]
    rng = random.Random(f"{model}:{task}")
    answers = {}

    def reply(messages):  # type: ignore[no-untyped-def]
        text = messages[-1].text
        i = int(re.search(r"Item (\d+):", text).group(1))  # type: ignore[union-attr]
        correct = "ABCD"[i % 4]
        if i not in answers:
            answers[i] = correct if rng.random() < accuracy else "ABCD"[(i + 1) % 4]
        if model == "mockllm/diq" and i == 3:
            return f"Thinking {PLANTED_SCRIPT} done.\nANSWER: {answers[i]}"
        if model == "mockllm/random" and i in (5, 6):
            return "I cannot decide between the options."
        if model == "mockllm/full" and i == 7:
            return f"{FORMULA}\nANSWER: {answers[i]}"
        return f"Reasoning about item {i}.\nANSWER: {answers[i]}"

    return reply


@scorer(metrics={"*": [mean()]})
def toy_judge() -> Scorer:
    """A judge-shaped scorer: per-axis points ratio, 1-5 rating, criteria, metadata."""

    async def score(state: TaskState, target: Target) -> Score:
        text = state.output.completion
        if "UNSCORABLE" in text:
            return Score.unscored(reason="grader_failed", explanation="verdict could not be parsed")
        level = int(re.search(r"quality (\d)", text).group(1))  # type: ignore[union-attr]
        partial = "PARTIAL" in text  # one judgment failed after re-asks: its key is NaN
        return Score(
            value={
                "ddx": (level - 1) / 4,
                "ddx_rating": math.nan if partial else level,
                "crit_ddx_leading": int(level >= 3),
                "safety": 1.0 if level >= 2 else -0.5,
                "safety_rating": min(5, level + 1),
                "overall": (level - 1) / 4,
                "grader_failed": 1.0 if partial else 0.0,
                "response_length": float(len(text)),
            },
            reason="grader_failed" if partial else None,
            metadata={
                "rubric_ids": ["test_rubric"],
                "rubric_versions": {"test_rubric": "0.1.0"},
                "judges": ["mockllm/judge"],
                "rubric_hashes": {"test_rubric": "ab" * 32},
                "mode": "json",
                "judge_prompts": {"ddx": "You are grading a differential diagnosis. " * 5},
                "rationales": {"ddx.leading": f"Level {level}: <b>reasons</b>"},
                "rating_rationales": {"ddx": "fine", "safety": "fine"},
                "response_length": len(text),
            },
        )

    return score


def _judged_reply(model: str):  # type: ignore[no-untyped-def]
    shift = {"mockllm/random": 0, "mockllm/diq": 1, "mockllm/full": 1}[model]

    def reply(messages):  # type: ignore[no-untyped-def]
        i = int(re.search(r"Case (\d+)", messages[-1].text).group(1))  # type: ignore[union-attr]
        if model == "mockllm/random" and i == 2:
            return "UNSCORABLE"
        if model == "mockllm/diq" and i == 4:
            return "Differential with quality 3. PARTIAL"
        level = min(5, 1 + (i + shift) % 4 + (shift if i % 2 else 0))
        return f"Differential for case {i} with quality {level}. " + "detail " * (level * 5)

    return reply


def write_scripted_logs(log_dir: Path) -> Path:
    """Write 9 logs into `log_dir`: 3 models x (medqa, pubmedqa, clinical_cases)."""
    judged = MemoryDataset(
        [
            Sample(
                id=f"case-{i:02d}",
                input=f"Case {i}: chest pain and dyspnoea.",
                target="Pulmonary embolism",
                metadata={"benchmark": "clinical_cases"},
            )
            for i in range(JUDGED_ITEMS)
        ],
        name="clinical_cases",
    )
    for model, accuracy in MODELS.items():
        for name in ("medqa", "pubmedqa"):
            task = Task(
                name=name, dataset=_mcq_dataset(name), solver=generate(), scorer=mcq_answer()
            )
            inspect_eval(
                task,
                model=scripted_model(_mcq_reply(model, accuracy, name), name=model),
                log_dir=str(log_dir),
                display="none",
            )
        task = Task(name="clinical_cases", dataset=judged, solver=generate(), scorer=toy_judge())
        inspect_eval(
            task,
            model=scripted_model(_judged_reply(model), name=model),
            log_dir=str(log_dir),
            display="none",
        )
    return log_dir


@pytest.fixture(scope="session")
def scripted_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scripted logs, written once per session."""
    return write_scripted_logs(tmp_path_factory.mktemp("scripted-logs"))


@pytest.fixture(scope="session")
def rubric_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rubric") / "test_rubric.yaml"
    path.write_text(RUBRIC_YAML, encoding="utf-8")
    return path
