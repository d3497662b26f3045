"""Recall on real rewrites and false positives on pairs that must not match (held-out half).

The labelled sets and the measurement are `bench/decontaminate.py`'s: the 198
medical-o1 demo rewrites (Hub fields only) against their originals among the `paper`
suite, and MedMCQA dev against the other benchmarks. Thresholds were calibrated on half
0; these figures are half 1's, the ones docs/decontamination.md reports.

Goals (issue 12): recall >= 90% without a judge, false positives <= 0.5%. The false
positive goal is met. The recall goal is not, by a similarity threshold: about two
thirds of the rewrites are found (65.7% measured); the rest keep too few of the
original's words to stand out from other questions at that false positive rate. With a
judge, the retrieval bound is met: a judge that is always right finds 96%, asking fewer
than two pairs per rewrite. The assertions hold the measured levels with a small margin.
About a minute on 2 cores, so marked slow (`make test-slow`, and CI).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

from bench.decontaminate import (
    FP_GOAL,
    LabelledSets,
    OracleJudge,
    found_rewrites,
    labelled_sets,
    measure,
)
from harness.core.io import read_json
from harness.core.records import PoolRecord
from selection.decontaminate import DecontaminationConfig, EvalText, contamination, decontaminate
from selection.decontamination_config import SemanticConfig
from tasks.suites import suite_texts

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def held_out(data_dir: Path) -> LabelledSets:
    return labelled_sets(1, data_dir)


def test_rewrites_recall_and_false_positives(held_out: LabelledSets) -> None:
    # with only the Hub fields, no rewrite shares enough of its original's words
    lexical = contamination(held_out.rewrites, held_out.positives_eval, DecontaminationConfig())
    assert not found_rewrites(held_out, [asdict(r) for r in lexical])
    figures = measure(held_out, DecontaminationConfig())
    assert figures["rewrites"] == 99 and figures["negatives_b"] == 2091
    assert figures["recall"] >= 0.6
    assert figures["wrong_match"] == 0
    assert figures["fp_rate_a"] <= FP_GOAL
    assert figures["fp_rate_b"] <= FP_GOAL


def test_a_right_judge_reaches_the_recall_goal(held_out: LabelledSets) -> None:
    """Retrieval bounds the judged stage: what it puts in front of the judge can be found."""
    judge = OracleJudge(held_out)
    config = DecontaminationConfig(
        near_duplicate_threshold=None, semantic=SemanticConfig(judge_model="oracle")
    )
    _, report = decontaminate(held_out.rewrites, held_out.positives_eval, config, judge)
    found = {r["id"] for r in report["removed"] if r["reason"] == "judge"}
    assert found == found_rewrites(held_out, report["removed"])
    assert len(found) / len(held_out.rewrites) >= 0.9
    assert judge.asked / len(held_out.rewrites) <= 2.0


def test_the_demo_against_the_paper_suite(data_dir: Path) -> None:
    """As a user runs it: Hub fields against the suite alone, every removal a suite question."""
    rows = read_json(data_dir / "medical_o1_sft_demo" / "demo_data.json")
    pool = [
        PoolRecord(f"r{i}", row["Question"], row["Complex_CoT"], row["Response"], "medical-o1")
        for i, row in enumerate(rows)
    ]
    _, report = decontaminate(pool, [EvalText(*entry) for entry in suite_texts("paper")])
    assert {r["id"]: (r["reason"], r["match_id"]) for r in report["removed"]} == {
        "r0": ("semantic", "Text-1214"),
        "r61": ("semantic", "Text-2141"),
        "r82": ("semantic", "4982eef9-e03f-4b52-af7d-e0e2f588358e"),
        "r151": ("semantic", "bc8e9ed4-81fd-4c8e-9381-ae6c4d193066"),
        "r154": ("semantic", "da529e73-61fe-4b52-81b1-8686b6a62ffd"),
        "r193": ("semantic", "b5135682-e700-4fda-a6b2-39b289c3cc41"),
    }
