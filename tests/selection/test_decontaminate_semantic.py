"""The semantic stage, its settings, the judge protocol, and the report it adds to."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from harness.core.config import parse_section
from harness.core.errors import ConfigError, InputError
from harness.core.records import PoolRecord
from selection.decontaminate import DecontaminationConfig, EvalText, decontaminate
from selection.decontamination_config import CALIBRATED, SemanticConfig
from selection.semantic import Candidate, retrieve
from selection.similarity import IndexConfig

ORIGINAL = (
    "A 45-year-old homeless man is brought to the emergency department after he was found "
    "unconscious at the park. He was admitted twice over the past year for severe pain "
    "treated with hydromorphone and IV fluids. Hemoglobin: 6 g/dL, Hematocrit: 20%, "
    "Reticulocyte count: 0.4%. Which of the following is associated with the most likely "
    "diagnosis?\nFolate deficiency\nIron deficiency\nParvovirus B19 infection"
)
REWRITE = (
    "A 45-year-old homeless man presents to the emergency department unconscious, with a "
    "history of severe pain treated with hydromorphone and IV fluids on previous admissions. "
    "His hemoglobin is 6 g/dL, hematocrit 20% and reticulocyte count 0.4%. What condition is "
    "most commonly associated with these findings?"
)
OTHERS = [
    "A 23-year-old woman has fever, dysuria and flank pain; urinalysis shows leukocyte casts. "
    "What is the most likely diagnosis?\nPyelonephritis\nCystitis\nUrethritis",
    "A child with a barking cough and inspiratory stridor is brought in at night. Which "
    "virus is the most likely cause?\nParainfluenza\nRSV\nAdenovirus",
    "Which enzyme is rate limiting in cholesterol synthesis in the liver of adults?\n"
    "HMG-CoA reductase\nHMG-CoA synthase\nSqualene synthase",
    "A 60-year-old smoker has painless hematuria and a flank mass found on examination. "
    "What is the next step?\nCT scan\nCystoscopy\nUrine cytology",
]
UNRELATED = "Name the nerve that supplies the deltoid muscle and explain the root values of it"


def _record(rid: str, question: str) -> PoolRecord:
    return PoolRecord(rid, question, "", "answer", "test")


def _evals(*extra: EvalText) -> list[EvalText]:
    return [
        EvalText("medqa", "original", ORIGINAL),
        *(EvalText("medqa", f"other{i}", text) for i, text in enumerate(OTHERS)),
        *extra,
    ]


class ScriptedJudge:
    """Answers from a table of (record id, item id) -> verdict; records what it was asked."""

    def __init__(self, answers: dict[tuple[str, str], bool | None]) -> None:
        self.answers = answers
        self.asked: list[Candidate] = []

    def __call__(self, pairs: Sequence[Candidate]) -> list[bool | None]:
        self.asked.extend(pairs)
        return [self.answers.get((p.record_id, p.item_id), False) for p in pairs]


def test_a_rewrite_the_ngram_stages_miss_is_removed_with_its_match() -> None:
    pool = [_record("rewrite", REWRITE), _record("unrelated", UNRELATED)]
    lexical = DecontaminationConfig(semantic=SemanticConfig(enabled=False))
    kept, report = decontaminate(pool, _evals(), lexical)
    assert len(kept) == 2 and report["semantic"] == {"enabled": False}
    kept, report = decontaminate(pool, _evals())
    assert [r.id for r in kept] == ["unrelated"]
    (removal,) = report["removed"]
    assert removal["id"] == "rewrite" and removal["reason"] == "semantic"
    assert (removal["match_source"], removal["match_id"]) == ("medqa", "original")
    threshold, min_ratio, _ = CALIBRATED["word"]
    assert removal["score"] >= threshold
    semantic = report["semantic"]
    assert semantic["enabled"] and semantic["removed"] == 1
    assert semantic["by_source"] == {"medqa": 1}
    assert (semantic["threshold"], semantic["min_ratio"]) == (threshold, min_ratio)
    assert semantic["compared"] == 2 and semantic["distinct_eval_texts"] == 5
    # the earlier keys keep their meaning
    assert report["exact_match"]["removed"] == report["ngram_overlap"]["removed"] == 0
    assert report["removed_total"] == report["removed_listed"] == 1 and report["kept"] == 1


def test_methods_state_stages_thresholds_and_counts() -> None:
    pool = [_record("rewrite", REWRITE), _record("unrelated", UNRELATED)]
    _, report = decontaminate(pool, _evals())
    texts = [m["text"] for m in report["methods"]]
    assert {m["topic"] for m in report["methods"]} == {"decontamination"}
    assert texts[0].startswith("The training pool (2 records) was checked against 5 evaluation")
    semantic = next(t for t in texts if "semantic check" in t)
    threshold, min_ratio, _ = CALIBRATED["word"]
    assert f"similarity of {threshold:g} and {min_ratio:g} times" in semantic
    assert "TF-IDF over word 1-2 grams" in semantic and "1 record removed" in semantic
    assert texts[-1] == "1 of 2 records were kept."
    lexical_config = DecontaminationConfig(semantic=SemanticConfig(enabled=False))
    _, lexical = decontaminate(pool, _evals(), lexical_config)
    assert any("No semantic check was run" in m["text"] for m in lexical["methods"])


def test_a_question_as_near_to_two_items_is_not_a_rewrite() -> None:
    """The best match must stand out: twice the same near-topic leaves the ratio at 1."""
    shared = "A 60-year-old smoker has painless hematuria and a flank mass found on examination"
    evals = [
        EvalText("a", "1", f"{shared}. What is the next step?\nCT scan\nCystoscopy"),
        EvalText("b", "2", f"{shared}. What is the diagnosis?\nRenal cell carcinoma\nCyst"),
        *(EvalText("c", str(i), text) for i, text in enumerate(OTHERS[:3])),
    ]
    pool = [_record("topic", "An old smoker with painless hematuria and a flank mass: workup?")]
    found = retrieve(pool, evals, SemanticConfig())
    best, runner_up = found.similarities[0, :2]
    assert best >= CALIBRATED["word"][0] and best < CALIBRATED["word"][1] * runner_up
    kept, report = decontaminate(pool, evals)
    assert len(kept) == 1 and report["semantic"]["above_threshold"] == 1


def test_identical_evaluation_texts_are_indexed_once() -> None:
    """A benchmark holding the same question twice does not make it its own runner-up."""
    twice = _evals(EvalText("medmcqa", "copy", ORIGINAL.upper()))
    found = retrieve([_record("rewrite", REWRITE)], twice, SemanticConfig())
    assert len(found.items) == 5
    kept, report = decontaminate([_record("rewrite", REWRITE)], twice)
    assert not kept and report["removed"][0]["match_id"] == "original"


def test_short_questions_are_not_compared() -> None:
    evals = [EvalText("bench", "e", "What causes rickets in children?\nVitamin D\nIron")]
    pool = [_record("short", "What causes rickets?"), _record("long", REWRITE)]
    found = retrieve(pool, evals, SemanticConfig())
    assert [r.id for r in found.records] == ["long"]


def test_the_judge_confirms_pairs_from_the_ask_threshold() -> None:
    pool = [_record("rewrite", REWRITE), _record("unrelated", UNRELATED)]
    judge = ScriptedJudge({("rewrite", "original"): True})
    semantic = SemanticConfig(judge_model="scripted/judge", judge_threshold=0.05)
    config = DecontaminationConfig(semantic=semantic)
    kept, report = decontaminate(pool, _evals(), config, judge)
    assert [r.id for r in kept] == ["unrelated"]
    (removal,) = report["removed"]
    assert (removal["reason"], removal["match_id"]) == ("judge", "original")
    asked = {(p.record_id, p.item_id) for p in judge.asked}
    assert ("rewrite", "original") in asked
    assert all(p.similarity >= 0.05 for p in judge.asked)
    assert [p.rank for p in judge.asked if p.record_id == "rewrite"][:2] == [1, 2]
    summary = report["semantic"]["judge"]
    assert summary["model"] == "scripted/judge" and summary["ask_threshold"] == 0.05
    assert summary["pairs_asked"] == len(judge.asked) and summary["yes"] == 1
    assert summary["no"] == len(judge.asked) - 1 and summary["unparsed"] == 0
    assert "put to scripted/judge" in " ".join(m["text"] for m in report["methods"])


def test_no_verdict_keeps_the_record_and_is_counted() -> None:
    judge = ScriptedJudge({("rewrite", "original"): None})
    config = DecontaminationConfig(semantic=SemanticConfig(judge_model="scripted/judge"))
    kept, report = decontaminate([_record("rewrite", REWRITE)], _evals(), config, judge)
    assert len(kept) == 1 and report["semantic"]["judge"]["unparsed"] == 1


def test_judge_and_judge_model_go_together() -> None:
    pool = [_record("rewrite", REWRITE)]
    with pytest.raises(ConfigError, match="judge_model"):
        decontaminate(
            pool, _evals(), DecontaminationConfig(semantic=SemanticConfig(judge_model="m"))
        )
    with pytest.raises(ConfigError, match="judge_model"):
        decontaminate(pool, _evals(), DecontaminationConfig(), ScriptedJudge({}))


def test_every_setting_is_described_and_typos_are_refused() -> None:
    for section in (DecontaminationConfig, SemanticConfig, IndexConfig):
        for name, info in section.model_fields.items():
            assert info.description, f"{section.__name__}.{name} has no description"
    with pytest.raises(InputError, match="field 'decontamination.ngram_treshold': unknown key"):
        parse_section(DecontaminationConfig, {"ngram_treshold": 0.5}, prefix="decontamination")
    with pytest.raises(InputError, match="field 'decontamination.bands'"):
        parse_section(DecontaminationConfig, {"bands": 7}, prefix="decontamination")


def test_thresholds_default_to_the_calibration_of_the_analyzer() -> None:
    for analyzer, calibrated in CALIBRATED.items():
        assert SemanticConfig(analyzer=analyzer).thresholds() == calibrated
    given = SemanticConfig(threshold=0.4, judge_threshold=0.2)
    assert given.thresholds() == (0.4, CALIBRATED["word"][1], 0.2)


def test_an_embedding_model_needs_its_own_thresholds() -> None:
    data = {"semantic": {"embedding_model": "some/encoder"}}
    with pytest.raises(InputError, match="decontamination.semantic.threshold': set it for"):
        parse_section(DecontaminationConfig, data, prefix="decontamination")
    judged = {"semantic": {"embedding_model": "e", "judge_model": "m", "threshold": 0.9}}
    with pytest.raises(InputError, match="decontamination.semantic.judge_threshold'"):
        parse_section(DecontaminationConfig, judged, prefix="decontamination")
    given = {"embedding_model": "some/encoder", "threshold": 0.9, "min_ratio": 1.1}
    assert parse_section(SemanticConfig, given).thresholds()[:2] == (0.9, 1.1)
    assert not parse_section(SemanticConfig, {"embedding_model": "e", "enabled": False}).enabled


def test_no_evaluation_texts_is_no_semantic_check() -> None:
    judged = DecontaminationConfig(semantic=SemanticConfig(judge_model="m"))
    kept, report = decontaminate([_record("rewrite", REWRITE)], [], judged)
    assert len(kept) == 1 and report["semantic"] == {"enabled": False}
    assert report["methods"][0]["text"].startswith("No evaluation questions were given")
