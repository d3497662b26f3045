"""The decontamination report (`decontamination.json`) and its Methods sentences.

Layout: `config` (the settings), `pool_records`, `eval_texts`, `eval_sources` (texts per
task or file), one section per stage with its counts (`exact_match`, `ngram_overlap`,
`semantic`, `near_duplicates`), `kept`, `removed` (every removal: id, reason = the stage
`exact` / `ngram` / `semantic` / `judge` / `near-duplicate`, the matched item's
`match_source` and `match_id`, and `score`), `removed_total` (and `removed_listed`, the
same number, kept for readers of earlier reports), and `methods`: sentences
`{"topic": "decontamination", "text": ...}` stating what was checked, for the HTML
report's Methods section.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from harness.core.records import PoolRecord
from selection.decontamination_config import DecontaminationConfig, EvalText, Removal

TOPIC = "decontamination"


def report(
    records: Sequence[PoolRecord],
    texts: Sequence[EvalText],
    kept: Sequence[PoolRecord],
    removals: Sequence[Removal],
    config: DecontaminationConfig,
    semantic: dict[str, Any] | None,
) -> dict[str, Any]:
    """The JSON-ready report of one decontamination run (`semantic`: that stage's counts)."""
    by_reason: dict[str, Counter[str]] = {
        r: Counter() for r in ("exact", "ngram", "semantic", "judge", "near-duplicate")
    }
    for removal in removals:
        by_reason[removal.reason][removal.match_source] += 1
    result: dict[str, Any] = {
        "config": config.model_dump(mode="json"),
        "pool_records": len(records),
        "eval_texts": len(texts),
        "eval_sources": dict(sorted(Counter(t.source for t in texts).items())),
        "exact_match": _counts(by_reason["exact"]),
        "ngram_overlap": _counts(by_reason["ngram"]),
        "semantic": {"enabled": False} if semantic is None else {"enabled": True, **semantic},
        "near_duplicates": {"removed": sum(by_reason["near-duplicate"].values())},
        "kept": len(kept),
        "removed": [asdict(r) for r in removals],
        "removed_listed": len(removals),
        "removed_total": len(removals),
    }
    result["methods"] = [{"topic": TOPIC, "text": text} for text in methods(result, config)]
    return result


def _counts(sources: Counter[str]) -> dict[str, Any]:
    return {"removed": sum(sources.values()), "by_source": dict(sorted(sources.items()))}


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def methods(result: dict[str, Any], config: DecontaminationConfig) -> list[str]:
    """Sentences stating exactly what was checked: stages, thresholds and counts."""
    if not result["eval_texts"]:
        return [
            "No evaluation questions were given: the pool was not checked for contamination.",
            *_near_duplicate_sentences(result, config),
        ]
    sources = ", ".join(f"{name} ({count:,})" for name, count in result["eval_sources"].items())
    sentences = [
        f"The training pool ({_plural(result['pool_records'], 'record')}) was checked against "
        f"{_plural(result['eval_texts'], 'evaluation question')}"
        + (f" from {sources}." if sources else ".")
        + " Texts were compared after Unicode normalization, case folding, removal of "
        "punctuation and of option labels.",
        f"Exact match of the whole text (of at least {config.ngram} words) or of the stem "
        f"with its set of options removed {_plural(result['exact_match']['removed'], 'record')}.",
        f"Word {config.ngram}-gram overlap of at least {config.ngram_threshold:g} of the "
        f"shorter text's {config.ngram}-grams (at least {config.min_shared} in common, "
        f"{config.ngram}-grams found in more than {config.boilerplate_fraction:g} of "
        f"evaluation texts ignored as template) removed "
        f"{_plural(result['ngram_overlap']['removed'], 'record')}.",
    ]
    semantic = result["semantic"]
    if semantic["enabled"]:
        sentences.append(_semantic_sentence(semantic))
    else:
        sentences.append(
            "No semantic check was run: rewritten evaluation questions that share no long "
            "n-gram with the original were not looked for."
        )
    return [*sentences, *_near_duplicate_sentences(result, config)]


def _near_duplicate_sentences(result: dict[str, Any], config: DecontaminationConfig) -> list[str]:
    threshold = config.near_duplicate_threshold
    return [
        "Near-duplicates inside the pool were not removed."
        if threshold is None
        else f"Near-duplicates inside the pool (MinHash-LSH over word {config.shingle}-gram "
        f"shingles, confirmed by Jaccard similarity of at least {threshold:g}; the first of "
        f"each cluster kept) removed {_plural(result['near_duplicates']['removed'], 'record')}.",
        f"{result['kept']:,} of {result['pool_records']:,} records were kept.",
    ]


def _semantic_sentence(semantic: dict[str, Any]) -> str:
    retrieved = min(semantic["top_k"], semantic["distinct_eval_texts"])
    retrieval = (
        f"A semantic check for rewritten questions retrieved, for each of the "
        f"{_plural(semantic['compared'], 'remaining record')} of at least "
        f"{semantic['min_words']} words, the {retrieved} most similar of "
        f"{semantic['distinct_eval_texts']:,} distinct evaluation questions by cosine "
        f"similarity ({semantic['index']})"
    )
    judge = semantic.get("judge")
    if judge is None:
        return (
            f"{retrieval}; a record was removed when its best match reached a similarity of "
            f"{semantic['threshold']:g} and {semantic['min_ratio']:g} times that of the "
            f"next-best question: {_plural(semantic['removed'], 'record')} removed "
            f"({semantic['above_threshold']:,} reached the similarity alone). "
            "A similarity threshold misses rewrites that keep few of the original's words "
            "(docs/decontamination.md gives the measured recall)."
        )
    return (
        f"{retrieval}; every retrieved pair with a similarity of at least "
        f"{judge['ask_threshold']:g} ({_plural(judge['pairs_asked'], 'pair')} for "
        f"{_plural(judge['records_asked'], 'record')}) was put to {judge['model']}, asked "
        f"whether the two are the same question rephrased: {judge['yes']:,} yes, "
        f"{judge['no']:,} no, {judge['unparsed']:,} without a usable answer (kept); "
        f"{_plural(semantic['removed'], 'record')} removed."
    )
