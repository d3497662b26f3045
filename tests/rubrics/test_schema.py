"""The shipped rubrics load, are well formed, and the schema rejects bad files with located errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.core.errors import InputError
from rubrics.schema import LEVELS, builtin_rubrics, load_rubric


def test_shipped_rubrics_and_their_axes() -> None:
    assert builtin_rubrics() == [
        "data_quality",
        "differential_diagnosis",
        "evidence_citation",
        "safety_check",
    ]
    axes = {name: [a.id for a in load_rubric(name).axes] for name in builtin_rubrics()}
    assert axes["differential_diagnosis"] == ["ddx"]
    assert axes["safety_check"] == ["safety"]
    assert axes["evidence_citation"] == ["evidence"]
    assert axes["data_quality"][:3] == ["ddx", "safety", "evidence"]
    assert load_rubric("data_quality").applies_to == "training_record"


@pytest.mark.parametrize(
    "name", ["data_quality", "differential_diagnosis", "evidence_citation", "safety_check"]
)
def test_rubric_content_is_complete(name: str) -> None:
    rubric = load_rubric(name)
    for axis in rubric.axes:
        assert sorted(axis.anchors) == list(LEVELS)
        criteria = rubric.criteria_for(axis.id)
        # harmful behaviour is penalised on every axis, and ids name their axis
        assert any(c.points < 0 for c in criteria), axis.id
        assert all(axis.id in c.id.split(".") for c in criteria)
        assert all(-10 <= c.points <= 10 for c in criteria)


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "custom.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _minimal() -> dict:
    anchors = {level: f"level {level}" for level in LEVELS}
    return {
        "id": "custom",
        "version": "0.1",
        "title": "Custom",
        "description": "A test rubric.",
        "axes": [{"id": "x", "title": "X", "question": "How good?", "anchors": anchors}],
        "criteria": [{"id": "x.good", "axis": "x", "points": 3, "text": "Does the good thing."}],
    }


def test_conditional_criteria_need_an_unconditional_positive_one(tmp_path: Path) -> None:
    data = _minimal()
    data["criteria"][0]["applies_when"] = "the case is urgent"
    with pytest.raises(InputError, match="no unconditional criterion with positive points"):
        load_rubric(_write(tmp_path, data))
    data["criteria"].append({"id": "x.base", "axis": "x", "points": 1, "text": "Answers."})
    rubric = load_rubric(_write(tmp_path, data))
    assert rubric.criteria[0].conditional and not rubric.criteria[1].conditional


def test_bad_fields_are_located(tmp_path: Path) -> None:
    data = _minimal()
    data["criteria"][0]["applies_when"] = "  "
    with pytest.raises(InputError, match="applies_when") as error:
        load_rubric(_write(tmp_path, data))
    assert "custom.yaml" in str(error.value)
    data = _minimal()
    data["criteria"][0]["points"] = 0
    with pytest.raises(InputError, match="criteria.0.points"):
        load_rubric(_write(tmp_path, data))
