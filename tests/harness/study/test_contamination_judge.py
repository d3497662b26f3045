"""The semantic stage's Inspect judge: strict yes/no, every verdict logged, wired through."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.core.records import PoolRecord
from harness.study.contamination_judge import (
    INSTRUCTION,
    ContaminationJudge,
    build_judge,
    parse_verdict,
    prompt,
)
from selection.decontaminate import DecontaminationConfig, EvalText, decontaminate
from selection.decontamination_config import SemanticConfig
from selection.semantic import Candidate
from tests.helpers import scripted_model

LOG = "decontamination_judge.jsonl"


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("yes", True),
        ("Yes.", True),
        ("  NO \n", False),
        ("no.", False),
        ("Yes, they are the same question.", None),
        ("maybe", None),
        ("True", None),
        ("", None),
    ],
)
def test_only_a_bare_yes_or_no_is_a_verdict(text: str, verdict: bool | None) -> None:
    assert parse_verdict(text) is verdict


def _pair(record: str, item: str, rank: int = 1) -> Candidate:
    return Candidate(record, f"pool question {record}", "medqa", item, f"item {item}", 0.5, rank)


def test_each_pair_is_asked_and_logged(tmp_path: Path) -> None:
    seen: list[list[str]] = []

    def answer(messages) -> str:
        seen.append([m.text for m in messages])
        return {"item a": "Yes", "item b": "no.", "item c": "I cannot tell"}[
            messages[-1].text.split("{\n")[2].split("\n}")[0]
        ]

    log = tmp_path / LOG
    judge = ContaminationJudge(scripted_model(answer), log)
    pairs = [_pair("r1", "a"), _pair("r1", "b", 2), _pair("r2", "c")]
    assert judge(pairs) == [True, False, None]
    assert all(messages[0] == INSTRUCTION for messages in seen) and len(seen) == 3
    assert prompt(pairs[0]) == "Question 1: {\npool question r1\n}\nQuestion 2: {\nitem a\n}"
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["record_id"], r["item_id"], r["verdict"]) for r in rows] == [
        ("r1", "a", "yes"),
        ("r1", "b", "no"),
        ("r2", "c", None),
    ]
    assert rows[2]["answer"] == "I cannot tell" and rows[1]["rank"] == 2
    assert rows[0]["model"] == "mockllm/model" and rows[0]["similarity"] == 0.5


def test_decontaminate_with_an_inspect_judge(tmp_path: Path) -> None:
    question = (
        "A 45-year-old homeless man presents unconscious with a history of severe pain treated "
        "with hydromorphone; hemoglobin is 6 g/dL and reticulocytes 0.4%. What is associated?"
    )
    original = (
        "A 45-year-old homeless man is brought in unconscious. He was treated for severe pain "
        "with hydromorphone. Hemoglobin: 6 g/dL. Reticulocyte count: 0.4%. Which of the "
        "following is associated with the most likely diagnosis?\nFolate deficiency\nIron"
    )
    pool = [PoolRecord("rewrite", question, "", "answer", "medical-o1")]
    evals = [EvalText("medqa", "q1", original)]
    config = DecontaminationConfig(semantic=SemanticConfig(judge_model="mockllm/model"))
    judge = ContaminationJudge(scripted_model(["yes"]), tmp_path / LOG)
    kept, report = decontaminate(pool, evals, config, judge)
    assert kept == [] and report["removed"][0]["reason"] == "judge"
    assert report["semantic"]["judge"]["yes"] == 1
    (row,) = [json.loads(line) for line in (tmp_path / LOG).read_text().splitlines()]
    assert (row["record_id"], row["item_id"], row["verdict"]) == ("rewrite", "q1", "yes")


def test_build_judge_follows_the_config(tmp_path: Path) -> None:
    judged = SemanticConfig(judge_model="mockllm/model")
    assert build_judge(DecontaminationConfig(), tmp_path / LOG) is None
    off = SemanticConfig(judge_model="m", enabled=False)
    assert build_judge(DecontaminationConfig(semantic=off), tmp_path / LOG) is None
    assert (
        build_judge(DecontaminationConfig(semantic=judged, enabled=False), tmp_path / LOG) is None
    )
    judge = build_judge(DecontaminationConfig(semantic=judged), tmp_path / LOG)
    assert judge is not None and judge.log_path == tmp_path / LOG
