"""The semantic stage: rewritten evaluation questions that share no long n-gram with them.

As the LMSYS llm-decontaminator does (Yang et al. 2023, "Rethinking Benchmark and
Contamination for Language Models with Rephrased Samples"), in two steps:

1. retrieval: the `top_k` evaluation questions most similar to each pool question
   (`selection.similarity`: cosine over TF-IDF word 1-2 grams by default);
2. confirmation, one of:
   - a threshold: the best match's similarity reaches `threshold` AND it is at least
     `min_ratio` times the runner-up's (the next-best distinct evaluation question).
     A rewrite keeps the ages, findings and values of its original, so the original
     stands out from every other question; a question that merely shares a topic has
     several neighbours about as close. The ratio makes the rule hold for evaluation
     sets of any size, where a bare threshold flags more records the more questions
     there are to be near by chance;
   - a judge: every retrieved pair at or above `judge_threshold` is put to a model ("are
     these the same question, rephrased?", `harness.study.contamination_judge`), and a
     "yes" removes the record.

Identical evaluation texts (after normalization) are indexed once, so a benchmark that
holds the same question twice does not make its own runner-up. The default thresholds
(`decontamination_config.CALIBRATED`, per analyzer) were chosen on half of the
medical-o1 rewrites and of the must-not-match pairs (`bench/decontaminate.py
--calibrate`); docs/decontamination.md has the recall and false positive rates measured
on the other half.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from harness.core.errors import ConfigError
from harness.core.records import PoolRecord
from selection.decontamination_config import EvalText, Removal, SemanticConfig
from selection.similarity import encode, top_k
from selection.text import flat_text

# Shorter questions ("What causes scurvy?") are too generic to pin down one evaluation
# question by shared words; the exact stage draws the same line for whole texts.
MIN_WORDS = 8


@dataclass(frozen=True)
class Candidate:
    """A pool question and one evaluation question it resembles, as retrieved."""

    record_id: str
    record_text: str
    source: str
    item_id: str
    item_text: str
    similarity: float
    rank: int


class PairJudge(Protocol):
    """Decides whether pairs are the same question rephrased (None: no usable answer)."""

    def __call__(self, pairs: Sequence[Candidate]) -> list[bool | None]:
        """One verdict per pair, in order."""
        ...


@dataclass(frozen=True)
class Retrieval:
    """Each compared pool record's `top_k` evaluation items, best first.

    `indices[row, rank]` points into `items` (-1 past the last item) and
    `similarities[row, rank]` is the cosine similarity (-inf there).
    """

    records: list[PoolRecord]
    items: list[EvalText]
    indices: np.ndarray
    similarities: np.ndarray


def retrieve(
    records: Sequence[PoolRecord], texts: Sequence[EvalText], config: SemanticConfig
) -> Retrieval:
    """The `top_k` most similar evaluation texts of each pool question.

    Pool questions of fewer than `MIN_WORDS` words are left out; evaluation texts that
    read the same after normalization are indexed once (the first item stands for all).
    """
    pool = [(r, flat) for r in records if len((flat := flat_text(r.question)).split()) >= MIN_WORDS]
    first: dict[str, EvalText] = {}
    for item in texts:
        if flat := flat_text(item.text):
            first.setdefault(flat, item)
    k = config.top_k
    if not pool or not first:
        return Retrieval([r for r, _ in pool], list(first.values()), *_empty(len(pool), k))
    queries, keys = encode([flat for _, flat in pool], list(first), config)
    indices, similarities = top_k(queries, keys, k)
    return Retrieval([r for r, _ in pool], list(first.values()), indices, similarities)


def _empty(rows: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full((rows, k), -1, dtype=np.int64), np.full((rows, k), -np.inf)


def confirm_by_threshold(found: Retrieval, threshold: float, min_ratio: float) -> list[Removal]:
    """Records whose best match reaches `threshold` and `min_ratio` times the runner-up."""
    best = found.similarities[:, 0]
    # a lone evaluation text has no runner-up (-inf): nothing competes, similarity 0
    runner_up = np.maximum(found.similarities[:, 1], 0.0)
    confirmed = (best >= threshold) & (best >= min_ratio * runner_up)
    return [
        Removal(
            found.records[row].id,
            "semantic",
            found.items[found.indices[row, 0]].source,
            found.items[found.indices[row, 0]].id,
            float(best[row]),
        )
        for row in np.flatnonzero(confirmed)
    ]


def candidates(found: Retrieval, ask_threshold: float) -> list[Candidate]:
    """Every retrieved pair from `ask_threshold` on, record by record, best first."""
    return [
        Candidate(
            record_id=found.records[row].id,
            record_text=found.records[row].question,
            source=found.items[found.indices[row, rank]].source,
            item_id=found.items[found.indices[row, rank]].id,
            item_text=found.items[found.indices[row, rank]].text,
            similarity=float(found.similarities[row, rank]),
            rank=int(rank) + 1,
        )
        for row, rank in zip(*np.nonzero(found.similarities >= ask_threshold), strict=True)
    ]


def confirm_by_judge(pairs: Sequence[Candidate], verdicts: Sequence[bool | None]) -> list[Removal]:
    """Records with a "yes" verdict, each matched to its best confirmed pair."""
    if len(verdicts) != len(pairs):
        raise RuntimeError(f"the judge returned {len(verdicts)} verdicts for {len(pairs)} pairs")
    removals: dict[str, Removal] = {}
    # pairs come record by record, best first, so a record's first "yes" is its best match
    for pair, verdict in zip(pairs, verdicts, strict=True):
        if verdict is True and pair.record_id not in removals:
            removals[pair.record_id] = Removal(
                pair.record_id, "judge", pair.source, pair.item_id, pair.similarity
            )
    return list(removals.values())


def semantic_contamination(
    records: Sequence[PoolRecord],
    texts: Sequence[EvalText],
    config: SemanticConfig,
    judge: PairJudge | None = None,
) -> tuple[list[Removal], dict[str, Any]]:
    """Pool records that are rewrites of an evaluation text, and the stage's counts.

    With `judge` the retrieved pairs from `judge_threshold` on are confirmed by it;
    without, by the similarity threshold and ratio.
    """
    if (judge is None) != (config.judge_model is None):
        raise ConfigError(
            "judge_model names the model that confirms semantic matches; give both it and "
            "the judge built from it, or neither"
        )
    threshold, min_ratio, ask = config.thresholds()
    found = retrieve(records, texts, config)
    summary: dict[str, Any] = {
        "index": config.describe(),
        "top_k": config.top_k,
        "min_words": MIN_WORDS,
        "compared": len(found.records),
        "distinct_eval_texts": len(found.items),
    }
    if judge is None:
        removals = confirm_by_threshold(found, threshold, min_ratio)
        summary.update(
            threshold=threshold,
            min_ratio=min_ratio,
            above_threshold=int((found.similarities[:, 0] >= threshold).sum()),
        )
    else:
        pairs = candidates(found, ask)
        verdicts = judge(pairs) if pairs else []
        removals = confirm_by_judge(pairs, verdicts)
        summary["judge"] = {
            "model": config.judge_model,
            "ask_threshold": ask,
            "pairs_asked": len(pairs),
            "records_asked": len({pair.record_id for pair in pairs}),
            "yes": sum(v is True for v in verdicts),
            "no": sum(v is False for v in verdicts),
            "unparsed": sum(v is None for v in verdicts),
        }
    summary["removed"] = len(removals)
    summary["by_source"] = dict(sorted(Counter(r.match_source for r in removals).items()))
    return removals, summary
