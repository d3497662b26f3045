from __future__ import annotations

from pathlib import Path

import pytest

from harness.core.errors import ConfigError, InputError
from harness.core.records import PoolRecord
from selection.config import ClassifierTraining
from selection.difficulty import (
    labelled_examples,
    predict_classifier,
    read_external,
    read_labels,
    train_classifier,
)
from tests.helpers import CLINICAL_SENTENCES
from tests.selection.util import write_jsonl

HARD = [s for s in CLINICAL_SENTENCES if "diagnosis" in s or "infarction" in s or "casts" in s]
EASY = [s for s in CLINICAL_SENTENCES if s not in HARD]


def test_read_labels_and_errors(tmp_path: Path) -> None:
    good = write_jsonl(
        tmp_path / "labels.jsonl",
        [
            {"id": "a", "knowledge": 2, "reasoning": None, "overall": 3},
            {"id": "b", "overall": 5, "question": "Q?"},
        ],
    )
    labels = read_labels(good)
    assert labels == {"a": {"knowledge": 2, "overall": 3}, "b": {"overall": 5, "question": "Q?"}}
    with pytest.raises(
        InputError, match=r"labels.jsonl:1: record 'a': field 'overall': expected an integer 1..5"
    ):
        read_labels(write_jsonl(tmp_path / "labels.jsonl", [{"id": "a", "overall": 6}]))
    with pytest.raises(InputError, match="no labelled record"):
        read_labels(write_jsonl(tmp_path / "none.jsonl", [{"id": "a", "overall": None}]))
    pool = {"a": PoolRecord("a", "Question a", "", "x")}
    with pytest.raises(InputError, match="neither in the pool nor carries a question"):
        labelled_examples({"z": {"overall": 1}}, pool, "question", "labels.jsonl")
    texts, targets = labelled_examples(labels, pool, "question", "labels.jsonl")
    assert texts == ["Question a", "Q?"] and targets == [
        {"knowledge": 2, "overall": 3},
        {"overall": 5},
    ]


def test_external_scores(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "d.jsonl", [{"id": "b", "difficulty": 2.5}, {"id": "a", "difficulty": 1}]
    )
    assert read_external(path, ["a", "b"]).tolist() == [1.0, 2.5]
    with pytest.raises(InputError, match="1 pool records have no difficulty"):
        read_external(path, ["a", "c"])


def test_classifier_learns_likert_levels(tiny_encoder: Path, tmp_path: Path) -> None:
    texts = [f"{s} ({i})" for i in range(6) for s in HARD + EASY]
    labels = [
        {"overall": 5, "reasoning": 4}
        if any(t.startswith(h) for h in HARD)
        else {"overall": 1, "knowledge": 2}
        for t in texts
    ]
    config = ClassifierTraining(
        encoder=str(tiny_encoder), epochs=10, learning_rate=3e-3, batch_size=8, max_length=64
    )
    out = train_classifier(texts, labels, config, tmp_path / "clf", progress=False)
    predicted = predict_classifier(out, [HARD[0], EASY[0], EASY[1]], progress=False)
    assert list(predicted.columns) == [
        "difficulty_knowledge",
        "difficulty_reasoning",
        "difficulty_overall",
    ]
    assert predicted.to_numpy().min() >= 1 and predicted.to_numpy().max() <= 5
    overall = predicted["difficulty_overall"].tolist()
    assert overall[0] > 3.5 and overall[1] < 2 and overall[2] < 2
    with pytest.raises(ConfigError, match="not a difficulty classifier"):
        predict_classifier(tiny_encoder, ["x"], progress=False)
