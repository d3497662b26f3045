from __future__ import annotations

import json
from pathlib import Path

from harness.core.records import PoolRecord
from selection.decontaminate import (
    DecontaminationConfig,
    EvalText,
    contamination,
    decontaminate,
    near_duplicates,
)
from selection.loaders import load_pool
from selection.text import normalize

TEMPLATE = (
    "Answer the following multiple choice question about medicine. The last line must be ANSWER."
)
STEM = "A 63 year old smoker has painless hematuria and a flank mass on examination today"


def _record(rid: str, question: str, **meta: str) -> PoolRecord:
    return PoolRecord(rid, question, "", "answer", "test", dict(meta))


def test_normalize() -> None:
    assert normalize("  Which  of the FOLLOWING—is true?\n") == "which of the following is true"
    assert normalize("ＡＢＣ") == "abc"


def test_exact_match_uses_the_question_and_the_source_stem() -> None:
    scurvy = "Which vitamin deficiency causes scurvy in sailors on long voyages?"
    pool = [
        _record("a", scurvy),
        _record("b", "Rewritten open question", source_question=scurvy.upper().replace("?", " !")),
        _record("c", "Unrelated question about the kidney and its tubules in detail"),
        _record("generic", "Which of the following is true?"),
    ]
    evals = [
        EvalText("bench", "e1", scurvy.lower()),
        EvalText("bench", "e2", "Which of the following is true?"),
    ]
    found = {r.id: (r.reason, r.match_id) for r in contamination(pool, evals)}
    # a stem shorter than n words identifies no question without its options
    assert found == {"a": ("exact", "e1"), "b": ("exact", "e1")}


def test_mcq_key_matches_labelled_options_in_any_order() -> None:
    """A short stem matches with its option set; the stem alone, or other options, do not."""
    evals = [
        EvalText("bench", "axonal", "Axonal transport is:\nAntegrade\nRetrograde\nBoth\nNone"),
        EvalText("bench", "generic", "Which of the following is true?\nAspirin\nHeparin"),
    ]
    pool = [
        # options folded in with labels (the MedMCQA loader) and shuffled
        _record(
            "labelled", "Axonal transport is:\n\nA) Retrograde\nB) None\nC) Both\nD) Antegrade"
        ),
        _record("stem-only", "Axonal transport is:"),
        _record("other-options", "Which of the following is true?\nA) Warfarin\nB) Heparin"),
        _record("generic-stem", "Which of the following is true?"),
        # the upstream MCQ kept in meta by the medical-o1 loader
        PoolRecord(
            "meta-mcq",
            "Rewritten as an open question about axonal transport directions",
            "",
            "answer",
            "test",
            {
                "source_question": "Axonal transport is:",
                "options": {"A": "Antegrade", "B": "Retrograde", "C": "Both", "D": "None"},
            },
        ),
    ]
    found = {r.id: (r.reason, r.match_id) for r in contamination(pool, evals)}
    assert found == {"labelled": ("exact", "axonal"), "meta-mcq": ("exact", "axonal")}


def test_short_texts_need_only_the_ngrams_they_have() -> None:
    """A 9-word text has two 8-grams; both shared is full containment, not too few."""
    short = "tuberous sclerosis presents with ash leaf macules in infancy"
    evals = [EvalText("bench", "long", f"A child is seen. {short}. What is the gene?")]
    pool = [_record("short", short), _record("other", "ash leaf macules are seen in vitiligo too")]
    found = contamination(pool, evals)
    assert [(r.id, r.reason, r.score) for r in found] == [("short", "ngram", 1.0)]


def test_a_benchmark_pool_is_removed_by_its_own_items(data_dir: Path) -> None:
    """MedMCQA dev as a pool, against MedMCQA dev as the evaluation shows it, is removed.

    Evaluation texts are built as `diq select --decontaminate-suite` builds them (the
    task's samples, here with shuffled choices, through `tasks.suites.sample_text`); the
    pool goes through the pool loader (labelled options). Unrelated records stay: of the
    medical-o1 demo only the 3 questions known to be MedMCQA dev items go (the loader
    keeps their source MCQ, matched exactly), and one rewrite of a MedMCQA dev question
    that the semantic stage finds (the valproate question; its own source MCQ is worded
    differently, so no exact or n-gram match).
    """
    from tasks.items import to_sample
    from tasks.medmcqa import load_medmcqa
    from tasks.suites import sample_text

    dev = data_dir / "medmcqa" / "dev.json"
    items, _ = load_medmcqa(str(dev))
    evals = [
        EvalText("medmcqa", item.id, sample_text(to_sample(item, shuffle_seed=1))) for item in items
    ]
    benchmark = load_pool(dev)
    demo = load_pool(data_dir / "medical_o1_sft_demo" / "demo_data.json")
    config = DecontaminationConfig(near_duplicate_threshold=None)
    kept, report = decontaminate([*benchmark, *demo], evals, config)
    assert report["exact_match"]["removed"] + report["ngram_overlap"]["removed"] == 4183 + 3
    assert report["exact_match"]["removed"] >= 4183
    semantic = [r for r in report["removed"] if r["reason"] == "semantic"]
    assert [(r["match_id"], r["id"]) for r in semantic] == [
        ("4982eef9-e03f-4b52-af7d-e0e2f588358e", "medical-o1-461a1ca3acef")
    ]
    assert {r.source for r in kept} == {"medical-o1"} and len(kept) == 194


def test_ngram_overlap_ignores_shared_template_text() -> None:
    evals = [
        EvalText("bench", f"e{i}", f"{TEMPLATE} Item {i} about topic number {i} with words")
        for i in range(20)
    ]
    evals.append(EvalText("bench", "hit", f"{TEMPLATE} {STEM} A) renal cell carcinoma B) cyst"))
    pool = [
        _record("contained", STEM),  # the evaluation item embeds this stem
        _record("template-only", f"{TEMPLATE} a different question about asthma in children"),
    ]
    found = contamination(pool, evals, DecontaminationConfig(ngram=8))
    assert [(r.id, r.reason, r.match_id) for r in found] == [("contained", "ngram", "hit")]
    assert found[0].score == 1.0


def test_near_duplicates_keep_the_first_of_each_cluster() -> None:
    base = (
        "a 45 year old man presents with crushing chest pain radiating to the left arm and sweating"
    )
    pool = [
        _record("first", base),
        _record("copy", base.upper() + "!"),
        _record("close", base + " since morning"),
        _record(
            "other", "child with barking cough and inspiratory stridor most likely has croup today"
        ),
    ]
    removed = near_duplicates(pool, DecontaminationConfig(near_duplicate_threshold=0.8))
    assert {r.id: r.match_id for r in removed} == {"copy": "first", "close": "first"}
    assert near_duplicates(pool, DecontaminationConfig(near_duplicate_threshold=None)) == []


def test_report_counts() -> None:
    pool = [
        _record("a", "What causes scurvy?"),
        _record("b", "What causes scurvy?!"),
        _record("c", "Other"),
    ]
    kept, report = decontaminate(pool, [EvalText("bench", "e", "What causes rickets?")])
    assert [r.id for r in kept] == ["a", "c"]
    assert report["exact_match"]["removed"] == 0
    assert report["near_duplicates"]["removed"] == 1
    assert report["kept"] == 2 and report["pool_records"] == 3
    assert report["removed"][0] == {
        "id": "b",
        "reason": "near-duplicate",
        "match_source": "pool",
        "match_id": "a",
        "score": 1.0,
    }


def test_medical_o1_demo_against_medmcqa_dev(data_dir: Path) -> None:
    """The three demo questions that appear verbatim in MedMCQA dev are found."""
    pool = load_pool(data_dir / "medical_o1_sft_demo" / "demo_data.json")
    rows = [json.loads(line) for line in (data_dir / "medmcqa" / "dev.json").open(encoding="utf-8")]
    evals = [EvalText("medmcqa", row["id"], row["question"]) for row in rows]
    kept, report = decontaminate(pool, evals)
    assert report["exact_match"]["removed"] == 3
    assert {r["match_id"] for r in report["removed"] if r["reason"] == "exact"} == {
        "bc8e9ed4-81fd-4c8e-9381-ae6c4d193066",
        "da529e73-61fe-4b52-81b1-8686b6a62ffd",
        "b5135682-e700-4fda-a6b2-39b289c3cc41",
    }
    assert len(kept) == 198 - report["removed_total"]
