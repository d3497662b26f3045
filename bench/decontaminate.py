"""Decontamination on real rewrites: recall, false positives, calibration, and timing.

Labelled data (`$DIQ_DATA_DIR`):
- positives: the 198 rewrites of `medical_o1_sft_demo`, with only the Hub fields
  (`Question`, `Complex_CoT`, `Response`) visible, against their originals (`question` +
  `options`, written as the tasks write MCQs) among the `paper` suite. A rewrite is found
  when a stage removes it with its own original (or a text that reads the same) as the
  match;
- negatives A: the same rewrites against the `paper` suite and the other half's
  originals, with every text that reads like one of their own originals taken out;
- negatives B: MedMCQA dev as a pool (labelled options, as the pool loader reads it)
  against every other benchmark of the `all` suite (MedQA, PubMedQA, MMLU medical,
  MMLU-Pro health, MedXpertQA, MedCalc-Bench). Different exams, so every removal counts
  as a false positive, although a few are the same question asked by two exams (the
  palatine-process item is in MedMCQA and MMLU): the rate is an upper bound.

Each set is split by row parity: half 0 calibrates the thresholds (`--calibrate`), half
1 is what the figures report (`--measure`, and tests/selection/test_decontaminate_rewrites.py).
With no option, times the whole `paper` suite against a synthetic 20,000-record pool
(`--pool-size`), with the exact + n-gram stages alone as the baseline run beside it.

    python bench/decontaminate.py                  # timing
    python bench/decontaminate.py --measure        # recall and false positives, half 1
    python bench/decontaminate.py --calibrate      # thresholds from half 0, per analyzer
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.core.io import read_json
from harness.core.records import PoolRecord
from selection.decontaminate import (
    DecontaminationConfig,
    EvalText,
    Removal,
    contamination,
    decontaminate,
    exact_keys,
)
from selection.decontamination_config import SemanticConfig
from selection.semantic import Candidate, Retrieval, retrieve
from selection.similarity import IndexConfig, similarity_scores
from selection.text import text_lines

FP_GOAL = 0.005
# calibration keeps false positives under half the goal: the halves differ by chance
CALIBRATION_FP = FP_GOAL / 2
ASK_RECALL = 0.95  # the ask threshold keeps this share of rewrites in front of the judge
ORIGINAL = "medical-o1-original"
# Benchmark items that ask an original's question in other words (original index -> items),
# found by comparing each original with the benchmark items (the 4 nearest by TF-IDF
# cosine, from 0.3) and reading the pairs. MedXpertQA rewrote these MedQA questions.
SAME_QUESTION: dict[int, tuple[tuple[str, str], ...]] = {
    0: (("medxpertqa", "Text-1214"),),
    14: (("medxpertqa", "Text-2202"),),
    61: (("medxpertqa", "Text-2141"),),
    69: (("medxpertqa", "Text-1728"),),
    82: (
        ("medmcqa", "4982eef9-e03f-4b52-af7d-e0e2f588358e"),
        ("medmcqa", "f87f2d68-4192-4a90-9df8-16057f7edbf3"),
    ),
    113: (("medmcqa", "d50419e1-2a30-4eee-bc64-d8ed11d958cb"),),
    153: (("medxpertqa", "Text-2047"),),
}


@dataclass(frozen=True)
class LabelledSets:
    """One half of the labelled data: pools, evaluation texts, and the true matches."""

    rewrites: list[PoolRecord]
    positives_eval: list[EvalText]
    negatives_a_eval: list[EvalText]
    medmcqa: list[PoolRecord]
    negatives_b_eval: list[EvalText]
    matches_of: dict[str, set[tuple[str, str]]]  # rewrite id -> its original and twins


def _data_dir() -> Path:
    value = os.environ.get("DIQ_DATA_DIR")
    if not value:
        raise SystemExit("set DIQ_DATA_DIR to the shared benchmark data")
    return Path(value)


def labelled_sets(half: int, data_dir: Path | None = None) -> LabelledSets:
    """The labelled sets of one half (0: calibration, 1: report)."""
    from selection.loaders import load_pool
    from tasks.suites import suite_texts

    root = data_dir or _data_dir()
    rows = read_json(root / "medical_o1_sft_demo" / "demo_data.json")
    originals = [
        EvalText(ORIGINAL, f"o{i}", "\n".join([row["question"], *row["options"].values()]))
        for i, row in enumerate(rows)
    ]
    rewrites = [
        PoolRecord(f"r{i}", row["Question"], row["Complex_CoT"], row["Response"], "medical-o1")
        for i, row in enumerate(rows)
        if i % 2 == half
    ]
    paper = [EvalText(*entry) for entry in suite_texts("paper")]
    twins = same_question(originals, [*originals, *paper])
    matches_of = {r.id: twins[int(r.id[1:])] for r in rewrites}
    own = set().union(*matches_of.values())
    medmcqa = load_pool(root / "medmcqa" / "dev.json")
    return LabelledSets(
        rewrites=rewrites,
        positives_eval=[*originals, *paper],
        negatives_a_eval=[
            t
            for t in [*paper, *(o for i, o in enumerate(originals) if i % 2 != half)]
            if (t.source, t.id) not in own
        ],
        medmcqa=[r for i, r in enumerate(medmcqa) if i % 2 == half],
        negatives_b_eval=[
            EvalText(*entry) for entry in suite_texts("all") if entry[0] != "medmcqa"
        ],
        matches_of=matches_of,
    )


def same_question(
    originals: Sequence[EvalText], texts: Sequence[EvalText]
) -> list[set[tuple[str, str]]]:
    """For each original, the (source, id) of every text that asks its question: those
    with an exact-match key in common (same text, or same stem and option set in any
    order) and those listed in `SAME_QUESTION`."""
    holders: dict[Any, set[tuple[str, str]]] = {}
    for text in texts:
        for key in exact_keys(text_lines(text.text), min_words=8):
            holders.setdefault(key, set()).add((text.source, text.id))
    result = []
    for i, original in enumerate(originals):
        found = {(original.source, original.id), *SAME_QUESTION.get(i, ())}
        for key in exact_keys(text_lines(original.text), min_words=8):
            found |= holders.get(key, set())
        result.append(found)
    return result


def found_rewrites(sets: LabelledSets, removed: Sequence[dict[str, Any]]) -> set[str]:
    """Ids of rewrites removed (report entries) with their original, or a text asking it."""
    return {
        r["id"]
        for r in removed
        if (r["match_source"], r["match_id"]) in sets.matches_of.get(r["id"], ())
    }


def measure(sets: LabelledSets, config: DecontaminationConfig) -> dict[str, Any]:
    """Recall on the rewrites and false positive rates, through `decontaminate`."""
    config = config.model_copy(update={"near_duplicate_threshold": None})
    _, positives = decontaminate(sets.rewrites, sets.positives_eval, config)
    _, negatives_a = decontaminate(sets.rewrites, sets.negatives_a_eval, config)
    _, negatives_b = decontaminate(sets.medmcqa, sets.negatives_b_eval, config)
    removed = positives["removed"]
    found = found_rewrites(sets, removed)
    stages = {
        stage: sum(r["id"] in found and r["reason"] == stage for r in removed)
        for stage in ("exact", "ngram", "semantic", "judge")
    }
    return {
        "rewrites": len(sets.rewrites),
        "found": len(found),
        "recall": len(found) / len(sets.rewrites),
        "found_by_stage": stages,
        "wrong_match": len(removed) - len(found),
        "negatives_a": len(sets.rewrites),
        "false_positives_a": negatives_a["removed_total"],
        "fp_rate_a": negatives_a["removed_total"] / len(sets.rewrites),
        "negatives_b": len(sets.medmcqa),
        "false_positives_b": negatives_b["removed_total"],
        "fp_rate_b": negatives_b["removed_total"] / len(sets.medmcqa),
        "flagged_b": negatives_b["removed"],
    }


class OracleJudge:
    """A judge that knows the labels: "yes" exactly for a rewrite and its original.

    Its recall is the most any judge can reach: what retrieval puts in front of it.
    """

    def __init__(self, sets: LabelledSets) -> None:
        self.sets = sets
        self.asked = 0

    def __call__(self, pairs: Sequence[Candidate]) -> list[bool | None]:
        self.asked += len(pairs)
        return [(p.source, p.item_id) in self.sets.matches_of.get(p.record_id, ()) for p in pairs]


# -- calibration: the same stages, the thresholds swept on precomputed retrievals --


@dataclass(frozen=True)
class _Swept:
    earlier: list[Removal]  # by the exact and n-gram stages
    found: Retrieval
    size: int


def _sweepable(
    records: list[PoolRecord], texts: list[EvalText], config: DecontaminationConfig
) -> _Swept:
    earlier = contamination(records, texts, config)
    removed = {r.id for r in earlier}
    remaining = [r for r in records if r.id not in removed]
    return _Swept(earlier, retrieve(remaining, texts, config.semantic), len(records))


def _flags(swept: _Swept, threshold: float, ratio: float) -> np.ndarray:
    best = swept.found.similarities[:, 0]
    return (best >= threshold) & (best >= ratio * np.maximum(swept.found.similarities[:, 1], 0))


def calibrate(sets: LabelledSets, semantic: SemanticConfig) -> dict[str, float]:
    """Thresholds that find the most rewrites with both false positive rates under
    `CALIBRATION_FP`, and the highest ask threshold that keeps `ASK_RECALL` of them."""
    config = DecontaminationConfig(near_duplicate_threshold=None, semantic=semantic)
    pos = _sweepable(sets.rewrites, sets.positives_eval, config)
    neg_a = _sweepable(sets.rewrites, sets.negatives_a_eval, config)
    neg_b = _sweepable(sets.medmcqa, sets.negatives_b_eval, config)
    early = found_rewrites(sets, [asdict(r) for r in pos.earlier])
    items = pos.found.items
    is_original = np.array(
        [
            [j >= 0 and (items[j].source, items[j].id) in sets.matches_of[record.id] for j in row]
            for record, row in zip(pos.found.records, pos.found.indices, strict=True)
        ]
    ).reshape(pos.found.indices.shape)
    n = len(sets.rewrites)
    best: dict[str, float] = {"recall": -1.0}
    for threshold in np.arange(0.10, 0.801, 0.01):
        for ratio in np.arange(1.0, 4.001, 0.1):
            fp_a = (len(neg_a.earlier) + _flags(neg_a, threshold, ratio).sum()) / neg_a.size
            fp_b = (len(neg_b.earlier) + _flags(neg_b, threshold, ratio).sum()) / neg_b.size
            if fp_a > CALIBRATION_FP or fp_b > CALIBRATION_FP:
                continue
            recall = (len(early) + (_flags(pos, threshold, ratio) & is_original[:, 0]).sum()) / n
            if recall > best["recall"] + 1e-12:
                best = {
                    "recall": float(recall),
                    "threshold": round(float(threshold), 2),
                    "min_ratio": round(float(ratio), 1),
                    "fp_a": float(fp_a),
                    "fp_b": float(fp_b),
                }
    ask = 0.05
    for level in np.arange(0.05, 0.801, 0.01):
        reached = ((pos.found.similarities >= level) & is_original).any(axis=1).sum()
        if (len(early) + reached) / n >= ASK_RECALL:
            ask = round(float(level), 2)
    return {**best, "ask_threshold": ask}


# -- timing --


def synthetic_pool(size: int, seed: int = 0) -> list[PoolRecord]:
    """`size` pool questions, half medical-o1 rewrites (long vignettes) and half MedMCQA
    dev questions with their options, each with a tenth of its words dropped and a fifth
    replaced by words of other questions: most share no 8-gram with a benchmark any more,
    so every stage has work, and their lengths are those of the real pools."""
    from selection.loaders import load_pool

    root = _data_dir()
    rewrites = [
        row["Question"] for row in read_json(root / "medical_o1_sft_demo" / "demo_data.json")
    ]
    mcqs = [r.question for r in load_pool(root / "medmcqa" / "dev.json")]
    vocabulary = [w for text in [*rewrites, *mcqs] for w in text.split()]
    rng = random.Random(seed)
    records = []
    for i in range(size):
        words = [w for w in rng.choice(mcqs if i % 2 else rewrites).split() if rng.random() > 0.1]
        words = [rng.choice(vocabulary) if rng.random() < 0.2 else w for w in words]
        records.append(PoolRecord(f"s{i}", " ".join(words), "", "answer", "synthetic"))
    return records


def _timed(function: Any, *args: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def bench_timing(size: int) -> None:
    from tasks.suites import suite_texts

    texts = [EvalText(*entry) for entry in suite_texts("paper")]
    pool = synthetic_pool(size)
    lexical = DecontaminationConfig(semantic=SemanticConfig(enabled=False))
    full = DecontaminationConfig()
    print(f"pool {len(pool):,} synthetic records, paper suite {len(texts):,} texts")
    base, (_, base_report) = _timed(decontaminate, pool, texts, lexical)
    seconds, (_, report) = _timed(decontaminate, pool, texts, full)
    print(
        f"exact + n-gram + near-dup (baseline)   {base:7.1f} s   removed "
        f"{base_report['removed_total']:,}"
    )
    print(
        f"with the semantic stage                {seconds:7.1f} s   removed "
        f"{report['removed_total']:,} (semantic {report['semantic']['removed']:,})   "
        f"ratio {seconds / base:.2f}x"
    )
    validation = [PoolRecord(f"v{i}", t.text, "", "ANSWER: A") for i, t in enumerate(texts[:180])]
    baseline_seconds, _ = _timed(similarity_scores, pool, validation, IndexConfig())
    print(
        f"similarity baseline (180 validation)   {baseline_seconds:7.1f} s   "
        f"ratio {baseline_seconds / base:.2f}x"
    )


def _print_measure(half: int) -> None:
    sets = labelled_sets(half)
    for name, config in (
        ("exact + n-gram only", DecontaminationConfig(semantic=SemanticConfig(enabled=False))),
        *(
            (
                f"semantic, {analyzer} (calibrated)",
                DecontaminationConfig(semantic=SemanticConfig(analyzer=analyzer)),
            )
            for analyzer in ("word", "char", "word+char")
        ),
    ):
        m = measure(sets, config)
        print(
            f"{name:34s} recall {m['found']}/{m['rewrites']} = {m['recall']:.1%} "
            f"{m['found_by_stage']}  wrong match {m['wrong_match']}  "
            f"FP A {m['false_positives_a']}/{m['negatives_a']} = {m['fp_rate_a']:.2%}  "
            f"FP B {m['false_positives_b']}/{m['negatives_b']} = {m['fp_rate_b']:.2%}"
        )
    judge = OracleJudge(sets)
    judged = DecontaminationConfig(
        near_duplicate_threshold=None, semantic=SemanticConfig(judge_model="oracle")
    )
    _, report = decontaminate(sets.rewrites, sets.positives_eval, judged, judge)
    found = found_rewrites(sets, report["removed"])
    _, negatives = decontaminate(sets.medmcqa, sets.negatives_b_eval, judged, OracleJudge(sets))
    print(
        f"with a judge that is always right: recall {len(found)}/{len(sets.rewrites)} = "
        f"{len(found) / len(sets.rewrites):.1%}; pairs asked per record: rewrites "
        f"{judge.asked / len(sets.rewrites):.2f}, MedMCQA "
        f"{negatives['semantic']['judge']['pairs_asked'] / len(sets.medmcqa):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--measure", action="store_true", help="recall and FP on half 1")
    parser.add_argument("--calibrate", action="store_true", help="thresholds from half 0")
    parser.add_argument("--pool-size", type=int, default=20_000)
    args = parser.parse_args()
    if args.calibrate:
        sets = labelled_sets(0)
        for analyzer in ("word", "char", "word+char"):
            start = time.perf_counter()
            chosen = calibrate(sets, SemanticConfig(analyzer=analyzer))
            print(f"{analyzer:10s} {chosen}  ({time.perf_counter() - start:.0f} s)")
    elif args.measure:
        _print_measure(1)
    else:
        bench_timing(args.pool_size)


if __name__ == "__main__":
    main()
