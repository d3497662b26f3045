from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from harness.core.errors import ConfigError, InputError
from selection.loaders import load_pool, load_validation, parse_field_map
from tests.selection.util import write_jsonl

O1_ROW = {
    "question": "Which vitamin deficiency causes scurvy?\nA. C\nB. D",
    "options": {"A": "C", "B": "D"},
    "Question": "What vitamin deficiency causes scurvy?",
    "Complex_CoT": "Scurvy is a collagen synthesis defect...",
    "Response": "Vitamin C deficiency.",
}
MEDMCQA_ROW = {
    "question": "Drug of choice for absence seizures:",
    "exp": "Ethosuximide is first line.",
    "cop": 3,
    "opa": "Phenytoin",
    "opb": "Carbamazepine",
    "opc": "Ethosuximide",
    "opd": "Phenobarbital",
    "subject_name": "Pharmacology",
    "id": "m-1",
}


def test_medical_o1_json_list_and_jsonl(tmp_path: Path) -> None:
    listed = tmp_path / "o1.json"
    listed.write_text(json.dumps([O1_ROW, {**O1_ROW, "Response": "Ascorbate."}]), encoding="utf-8")
    records = load_pool(listed)
    assert [r.source for r in records] == ["medical-o1", "medical-o1"]
    first = records[0]
    assert first.question == O1_ROW["Question"]
    assert first.reasoning == O1_ROW["Complex_CoT"]
    assert first.meta["source_question"] == O1_ROW["question"]
    assert first.meta["options"] == {"A": "C", "B": "D"}
    assert first.id.startswith("medical-o1-") and records[1].id != first.id
    lines = write_jsonl(tmp_path / "o1.jsonl", [O1_ROW])
    assert load_pool(lines)[0].id == first.id  # content ids are stable across files


def test_medmcqa_options_answer_and_cop_base(tmp_path: Path) -> None:
    one_based = write_jsonl(
        tmp_path / "dev.json", [MEDMCQA_ROW, {**MEDMCQA_ROW, "id": "m-2", "cop": 4}]
    )
    record = load_pool(one_based)[0]
    assert record.id == "m-1"
    assert record.question.endswith(
        "A) Phenytoin\nB) Carbamazepine\nC) Ethosuximide\nD) Phenobarbital"
    )
    assert record.response == "ANSWER: C"
    assert record.reasoning == "Ethosuximide is first line."
    assert record.meta["source_question"] == MEDMCQA_ROW["question"]
    # a file counts from 1: a 0 is an error, not a silent guess of the base
    zero_based = write_jsonl(
        tmp_path / "hf.jsonl", [{**MEDMCQA_ROW, "cop": 0}, {**MEDMCQA_ROW, "id": "m-2", "cop": 2}]
    )
    with pytest.raises(InputError, match=r"hf.jsonl:1: record 'm-1': field 'cop'.*cop base to 0"):
        load_pool(zero_based)
    assert [r.response for r in load_pool(zero_based, cop_base=0)] == ["ANSWER: A", "ANSWER: C"]
    # a file exported from the Hub without a 0 would pass as 1-based: the base is explicit
    exported = write_jsonl(tmp_path / "exported.jsonl", [MEDMCQA_ROW])
    assert load_pool(exported)[0].response == "ANSWER: C"
    assert load_pool(exported, cop_base=0)[0].response == "ANSWER: D"
    with pytest.raises(ConfigError, match="cop base must be 0 or 1"):
        load_pool(one_based, cop_base=2)
    no_exp = write_jsonl(tmp_path / "y.jsonl", [{**MEDMCQA_ROW, "exp": None}])
    assert load_pool(no_exp)[0].reasoning == ""


def test_field_map_jsonl_and_parquet(tmp_path: Path) -> None:
    rows = [
        {"uid": "a", "prompt": "Q one?", "cot": "think", "answer": "A one."},
        {"uid": "b", "prompt": "Q two?", "cot": None, "answer": "A two."},
    ]
    jsonl = write_jsonl(tmp_path / "rows.jsonl", rows)
    records = load_pool(jsonl, pool_format="jsonl", field_map="id=uid,q=prompt,r=cot,a=answer")
    assert [(r.id, r.question, r.reasoning, r.response) for r in records] == [
        ("a", "Q one?", "think", "A one."),
        ("b", "Q two?", "", "A two."),
    ]
    parquet = tmp_path / "rows.parquet"
    pd.DataFrame(rows).to_parquet(parquet)
    again = load_pool(parquet, field_map="id=uid,q=prompt,r=cot,a=answer")
    assert [r.to_dict() for r in again] == [r.to_dict() for r in records]
    with pytest.raises(ConfigError, match="bad --field-map"):
        parse_field_map("question")
    with pytest.raises(ConfigError, match="at least question"):
        parse_field_map("q=prompt")


def test_hf_dataset_directory(tmp_path: Path) -> None:
    """`--pool-format hf` goes through `datasets.load_dataset` (here a local data directory)."""
    data = tmp_path / "dataset"
    data.mkdir()
    write_jsonl(data / "train.jsonl", [O1_ROW])
    records = load_pool(str(data), pool_format="hf", split="train")
    assert records[0].question == O1_ROW["Question"]
    # MedMCQA through the Hub counts cop from 0 (openlifescienceai/medmcqa)
    mcq = tmp_path / "medmcqa"
    mcq.mkdir()
    write_jsonl(mcq / "train.jsonl", [{**MEDMCQA_ROW, "cop": 0}])
    assert load_pool(str(mcq), pool_format="hf")[0].response == "ANSWER: A"


def test_bad_pools_are_located_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="the pool is empty"):
        load_pool(write_jsonl(tmp_path / "empty.jsonl", []))
    missing = write_jsonl(
        tmp_path / "missing.jsonl", [{"id": "x", "question": "Q?", "response": ""}]
    )
    with pytest.raises(
        InputError, match=r"missing.jsonl:1: record 'x': field 'response': empty response"
    ):
        load_pool(missing)
    no_response = write_jsonl(tmp_path / "o1bad.jsonl", [{"Question": "Q?", "Response": None}])
    with pytest.raises(InputError, match="field 'Response': missing required field"):
        load_pool(no_response)
    duplicate = write_jsonl(
        tmp_path / "dup.jsonl", [{"id": "x", "question": "Q?", "response": "A"}] * 2
    )
    with pytest.raises(InputError, match="duplicate id"):
        load_pool(duplicate)
    unknown = write_jsonl(tmp_path / "unknown.jsonl", [{"text": "hello"}])
    with pytest.raises(InputError, match="unrecognised row layout"):
        load_pool(unknown)
    with pytest.raises(InputError, match="file not found"):
        load_pool(tmp_path / "nope.jsonl")


def test_validation_file_from_sample_validation(tmp_path: Path) -> None:
    row = {
        "task": "medqa",
        "sample_id": "q1",
        "id": "medqa:q1",
        "question": "Answer the following...\n\nWhat is X?\n\nA) a\nB) b",
        "reasoning": "",
        "response": "ANSWER: B",
        "source": "medqa",
        "meta": {"target": "B"},
    }
    records = load_validation(write_jsonl(tmp_path / "val.jsonl", [row]))
    assert records[0].id == "medqa:q1" and records[0].meta["task"] == "medqa"


def test_real_pools(data_dir: Path) -> None:
    o1 = load_pool(data_dir / "medical_o1_sft_demo" / "demo_data.json")
    medmcqa = load_pool(data_dir / "medmcqa" / "dev.json")
    assert len(o1) == 198 and len({r.id for r in o1}) == 198
    assert len(medmcqa) == 4183
    assert sum(1 for r in medmcqa if r.reasoning) == 4183 - 1977  # rows with an explanation
    assert {r.response for r in medmcqa} == {f"ANSWER: {x}" for x in "ABCD"}
