"""Partial sets carry their coverage in the task metadata; complete sets carry none."""

import json
from pathlib import Path

import pytest
from inspect_ai import eval

from tasks import medxpertqa as medxpertqa_module
from tasks import mmlu_pro_health as mmlu_pro_module
from tasks.coverage import coverage_metadata
from tasks.medbullets import medbullets
from tasks.medmcqa import medmcqa
from tasks.medqa import medqa
from tasks.medxpertqa import medxpertqa
from tasks.mmlu_medical import mmlu_medical
from tasks.mmlu_pro_health import mmlu_pro_health
from tasks.pubmedqa import pubmedqa
from tests.helpers import scripted_model
from tests.tasks.test_loaders import OFFICIAL_ROWS, fake_hub, write_official


def test_partial_sets_name_what_they_hold(data_dir: Path) -> None:
    medxpertqa_dir = data_dir / "medxpertqa"
    subset = medxpertqa("subset-1449", str(medxpertqa_dir / "MedXpertQA_test.jsonl"))
    assert subset.metadata["coverage"] == {
        "items": 1449,
        "published": 2450,
        "note": "MedXpertQA Text test: ids Text-1001..Text-2449, 1449 of 2450",
    }
    sampled = medxpertqa("sampled-244", str(medxpertqa_dir / "medxpertqa_sampled_text_input.jsonl"))
    assert sampled.metadata["coverage"] == {
        "items": 244,
        "published": 2450,
        "note": "MedXpertQA Text test: the official ~10% sample, 244 of 2450",
    }
    filtered = mmlu_pro_health(str(data_dir / "mmlu_pro_health/test_health.json"))
    assert filtered.metadata["coverage"] == {
        "items": 553,
        "published": 818,
        "note": "MMLU-Pro health test, filtered (incorrect, unrelated and duplicate items "
        "removed): 553 of 818",
    }


def test_complete_sets_carry_no_coverage(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    complete = [
        medqa(str(data_dir / "medqa/phrases_no_exclude_test.jsonl")),
        medmcqa(str(data_dir / "medmcqa/dev.json")),
        pubmedqa(str(data_dir / "pubmedqa/ori_pqal.json")),
        mmlu_medical(path=str(data_dir / "mmlu_medical")),
        medbullets(options=5, path=write_official(tmp_path / "op5.csv", OFFICIAL_ROWS)),
    ]
    assert [task.name for task in complete if "coverage" in task.metadata] == []
    options = {letter: f"option {letter}" for letter in "ABCDEFGHIJ"}
    rows = [
        {"id": f"Text-{n}", "question": "q", "options": options, "label": "A"} for n in range(2450)
    ]
    fake_hub(monkeypatch, medxpertqa_module, rows)
    assert "coverage" not in medxpertqa("full-2450").metadata
    # a hub copy short of the whole set would be named partial, like any file
    fake_hub(monkeypatch, medxpertqa_module, rows[:2000])
    assert medxpertqa("full-2450").metadata["coverage"]["note"] == (
        "MedXpertQA Text test: 2000 of 2450"
    )
    health = [
        {
            "question_id": n,
            "question": "q",
            "options": ["a", "b"],
            "answer": "A",
            "category": "health",
        }
        for n in range(818)
    ]
    fake_hub(monkeypatch, mmlu_pro_module, health)
    unfiltered = mmlu_pro_health()
    assert unfiltered.metadata["variant"] == "test-unfiltered"
    assert "coverage" not in unfiltered.metadata


def test_coverage_reaches_the_log_and_counts_the_file_before_exclusions(
    data_dir: Path, tmp_path: Path
) -> None:
    validation = tmp_path / "validation.jsonl"
    validation.write_text(json.dumps({"task": "medxpertqa", "sample_id": "Text-1002"}) + "\n")
    task = medxpertqa(
        "subset-1449", str(data_dir / "medxpertqa/MedXpertQA_test.jsonl"), exclude=str(validation)
    )
    [log] = eval(
        task,
        model=scripted_model(lambda messages: "ANSWER: A"),
        limit=1,
        display="none",
        log_dir=str(tmp_path / "logs"),
    )
    assert log.status == "success", log.error
    assert log.eval.metadata["coverage"]["items"] == 1449
    assert log.eval.metadata["excluded"] == 1


def test_coverage_only_for_fewer_items_than_published() -> None:
    assert coverage_metadata(10, 10, "all of it") == {}
    assert coverage_metadata(9, 10, "nine") == {
        "coverage": {"items": 9, "published": 10, "note": "nine"}
    }
