"""Decontamination against evaluation texts, and near-duplicate removal inside the pool.

Both sides are compared line by line with option labels stripped (`A) `, `(B) `, `C. ` at
the start of a line), because pools fold options into the question as labelled lines
while benchmark texts list them bare; whatever the labels, the same item must compare
equal. Four filters, applied in this order and each reported with counts:

1. exact match, two keys:
   - the whole text after normalization (case, punctuation, whitespace, Unicode width)
     and label stripping, for texts of at least n words; shorter texts ("Which of the
     following is true?") are too generic to identify a question on their own;
   - the MCQ key (stem, set of options): any split of a text's lines into a non-empty
     stem and its last 2..10 lines as the options. Two items match when stem and option
     set agree, whatever the option order (benchmarks may shuffle choices) and however
     short the stem ("Axonal transport is:"), because the options make it specific. A
     record's upstream MCQ (`meta["source_question"]` with `meta["options"]`) counts too;
2. n-gram overlap: the share of word n-grams (default 8) two texts have in common,
   relative to the shorter text, reaches a threshold (default 0.5), with at least
   `min_shared` (3) n-grams in common, or all of them when the shorter text has fewer
   (a 9-word text has only 2 8-grams); n-grams found in many evaluation texts (prompt
   templates such as "answer the following multiple choice question") are ignored, so
   shared boilerplate does not count as overlap;
3. the semantic stage (`selection.semantic`): rewritten questions, retrieved by a
   similarity index and confirmed by a threshold or by a judge model;
4. near duplicates inside the pool: MinHash-LSH candidates over word 5-gram shingles of
   the question, confirmed by exact Jaccard similarity (default >= 0.8); the first record
   of each cluster (pool order) is kept.

`decontaminate` returns the report written as `decontamination.json`
(`selection.decontamination_report`): counts per stage, every removal with its stage,
match and score, and the sentences of the report's Methods section.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import numpy as np

from harness.core.records import PoolRecord
from selection.decontamination_config import (
    DEFAULT_CONFIG,
    DecontaminationConfig,
    EvalText,
    Removal,
)
from selection.decontamination_report import report
from selection.semantic import PairJudge, semantic_contamination
from selection.text import ngrams, text_lines, words

MAX_OPTIONS = 10  # options A..J, the most any benchmark here has (MedXpertQA)


def record_texts(record: PoolRecord) -> list[str]:
    """The texts of a record that an evaluation item could leak into.

    The question, and the upstream MCQ when the loader kept it: its stem alone and, with
    `meta["options"]` (a list, or a dict by letter), the stem with its options.
    """
    texts = [record.question]
    stem = record.meta.get("source_question")
    if isinstance(stem, str) and stem.strip():
        texts.append(stem)
        options = record.meta.get("options")
        values = list(options.values()) if isinstance(options, dict) else options
        if isinstance(values, list) and values and all(isinstance(v, str) for v in values):
            texts.append("\n".join([stem, *values]))
    return texts


def exact_keys(lines: list[str], min_words: int) -> list[Hashable]:
    """Exact-match keys of a text's `text_lines`: the whole text and every MCQ reading.

    The whole text counts when long enough; an MCQ reading is (stem, set of the last k
    lines as options).
    """
    joined = " ".join(lines)
    keys: list[Hashable] = [("text", joined)] if len(joined.split()) >= min_words else []
    for count in range(2, min(MAX_OPTIONS, len(lines) - 1) + 1):
        keys.append(("mcq", " ".join(lines[:-count]), frozenset(lines[-count:])))
    return keys


def _tokens(lines: list[str]) -> list[str]:
    """Word tokens of a text's `text_lines` (what n-gram overlap compares)."""
    return " ".join(lines).split()


class _NgramIndex:
    """Evaluation n-grams -> evaluation texts, minus boilerplate n-grams."""

    def __init__(
        self, texts_lines: Sequence[list[str]], n: int, boilerplate_fraction: float
    ) -> None:
        self.n = n
        grams = [ngrams(_tokens(lines), n) for lines in texts_lines]
        frequency = Counter(g for gs in grams for g in gs)
        limit = max(3, int(boilerplate_fraction * len(texts_lines)))
        self.boilerplate = {g for g, count in frequency.items() if count > limit}
        self.postings: dict[tuple[str, ...], list[int]] = defaultdict(list)
        self.sizes: list[int] = []
        for index, gs in enumerate(grams):
            kept = gs - self.boilerplate
            self.sizes.append(len(kept))
            for gram in kept:
                self.postings[gram].append(index)

    def best_match(self, lines: list[str], min_shared: int) -> tuple[int, float] | None:
        """(evaluation index, overlap relative to the shorter text) of the closest text.

        Only texts sharing at least `min_shared` n-grams count, or every n-gram of the
        shorter text when it has fewer.
        """
        grams = ngrams(_tokens(lines), self.n) - self.boilerplate
        if not grams:
            return None
        shared: Counter[int] = Counter()
        for gram in grams:
            shared.update(self.postings.get(gram, ()))
        best = None
        for index, count in shared.items():
            shorter = min(len(grams), self.sizes[index])
            if count < min(min_shared, shorter):
                continue
            score = count / shorter
            if best is None or score > best[1]:
                best = (index, score)
        return best


def _shingle_hashes(text: str, size: int) -> np.ndarray:
    tokens = words(text)
    shingles = (
        {" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}
        if len(tokens) >= size
        else {" ".join(tokens)}
    )
    return np.array(
        sorted(
            int.from_bytes(hashlib.blake2b(s.encode(), digest_size=4).digest(), "little")
            for s in shingles
        ),
        dtype=np.uint64,
    )


def near_duplicates(records: Sequence[PoolRecord], config: DecontaminationConfig) -> list[Removal]:
    """Records to drop as near duplicates of an earlier record (MinHash-LSH + exact Jaccard)."""
    threshold = config.near_duplicate_threshold
    if threshold is None or len(records) < 2:
        return []
    rng = np.random.default_rng(config.seed)
    a = rng.integers(1, 2**63, size=config.permutations, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 2**63, size=config.permutations, dtype=np.uint64)
    shingles = [_shingle_hashes(r.question, config.shingle) for r in records]
    rows = config.permutations // config.bands
    buckets: dict[tuple[int, bytes], list[int]] = defaultdict(list)
    for index, hashes in enumerate(shingles):
        # multiply-shift hashing; uint64 arithmetic wraps, the high 32 bits are the hash
        with np.errstate(over="ignore"):
            values = (a[:, None] * hashes[None, :] + b[:, None]) >> np.uint64(32)
        signature = values.min(axis=1)
        for band in range(config.bands):
            key = signature[band * rows : (band + 1) * rows].tobytes()
            buckets[(band, key)].append(index)
    parent = list(range(len(records)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    best: dict[int, tuple[int, float]] = {}
    checked: set[tuple[int, int]] = set()
    for members in buckets.values():
        for pos, i in enumerate(members):
            for j in members[pos + 1 :]:
                if (i, j) in checked:
                    continue
                checked.add((i, j))
                inter = np.intersect1d(shingles[i], shingles[j], assume_unique=True).size
                jaccard = inter / (shingles[i].size + shingles[j].size - inter)
                if jaccard >= threshold:
                    root_i, root_j = find(i), find(j)
                    if root_i != root_j:
                        parent[max(root_i, root_j)] = min(root_i, root_j)
                    if j not in best or jaccard > best[j][1]:
                        best[j] = (i, jaccard)
    removals = []
    for index in range(len(records)):
        root = find(index)
        if root != index:
            match, score = best.get(index, (root, threshold))
            removals.append(
                Removal(records[index].id, "near-duplicate", "pool", records[match].id, score)
            )
    return removals


def contamination(
    records: Sequence[PoolRecord],
    eval_texts: Iterable[EvalText],
    config: DecontaminationConfig = DEFAULT_CONFIG,
) -> list[Removal]:
    """Records that match an evaluation text exactly or by n-gram overlap (in pool order)."""
    texts = [t for t in eval_texts if t.text.strip()]
    if not texts:
        return []
    texts_lines = [text_lines(t.text) for t in texts]
    exact: dict[Hashable, int] = {}
    for i, lines in enumerate(texts_lines):
        for key in exact_keys(lines, config.ngram):
            exact.setdefault(key, i)
    index = _NgramIndex(texts_lines, config.ngram, config.boilerplate_fraction)
    found = (_contamination(record, texts, exact, index, config) for record in records)
    return [removal for removal in found if removal is not None]


def decontaminate(
    records: Sequence[PoolRecord],
    eval_texts: Iterable[EvalText],
    config: DecontaminationConfig = DEFAULT_CONFIG,
    judge: PairJudge | None = None,
) -> tuple[list[PoolRecord], dict[str, Any]]:
    """Filter the pool; return the kept records and a JSON-ready report.

    Stages in order: exact match and n-gram overlap (`contamination`), the semantic
    stage on what they leave (`selection.semantic`; `judge` confirms its matches when
    `config.semantic.judge_model` is set), then near-duplicates inside the pool.
    """
    texts = [t for t in eval_texts if t.text.strip()]
    removals = contamination(records, texts, config)
    removed = {r.id for r in removals}
    semantic: dict[str, Any] | None = None
    if config.semantic.enabled and texts:
        remaining = [r for r in records if r.id not in removed]
        found, semantic = semantic_contamination(remaining, texts, config.semantic, judge)
        removals += found
        removed |= {r.id for r in found}
    survivors = [r for r in records if r.id not in removed]
    duplicates = near_duplicates(survivors, config)
    dropped = {r.id for r in duplicates}
    kept = [r for r in survivors if r.id not in dropped]
    return kept, report(records, texts, kept, [*removals, *duplicates], config, semantic)


def _contamination(
    record: PoolRecord,
    texts: Sequence[EvalText],
    exact: dict[Hashable, int],
    index: _NgramIndex,
    config: DecontaminationConfig,
) -> Removal | None:
    readings = [text_lines(text) for text in record_texts(record)]
    for lines in readings:
        for key in exact_keys(lines, config.ngram):
            hit = exact.get(key)
            if hit is not None:
                return Removal(record.id, "exact", texts[hit].source, texts[hit].id, 1.0)
    best: tuple[int, float] | None = None
    for lines in readings:
        match = index.best_match(lines, config.min_shared)
        if match is not None and (best is None or match[1] > best[1]):
            best = match
    if best is not None and best[1] >= config.ngram_threshold:
        return Removal(record.id, "ngram", texts[best[0]].source, texts[best[0]].id, best[1])
    return None
