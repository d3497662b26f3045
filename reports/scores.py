"""What a sample's scores say: numbers from Inspect values, failures, judge provenance.

A measure is *binary* when every value is C/I/N, a bool, or an integer 0/1. A judge's
dict-valued score holds one number per key; keys starting with `crit_` are per-criterion
verdicts, and a few keys describe the judging rather than the answer.
"""

from __future__ import annotations

import math
from typing import Any

from harness.core.io import sha256_json
from reports.logs import SampleRecord, ScoreRecord, is_missing

INVALID_FORMAT = "invalid_response_format"
CRITERION_PREFIX = "crit_"
GRADER_FAILED = "grader_failed"
# Dict keys that describe the judging rather than the answer: reported under judge
# health (failures, length, jury agreement), never compared as measures.
DIAGNOSTIC_KEYS = frozenset({GRADER_FAILED, "response_length", "jury_agreement"})
LETTER_VALUES = {"C": 1.0, "I": 0.0, "N": 0.0, "P": 0.5}
BINARY_LETTERS = {"C", "I", "N"}
# Score metadata keys that describe the judge (collected for provenance). Per-sample
# prompts are not among them: they differ for every sample.
JUDGE_KEYS = ("rubric_ids", "rubric_versions", "rubric_hashes", "judges", "mode")
# Graded measures whose values all lie on one of these scales get intervals inside it.
RATING_SCALE = (1.0, 5.0)  # `<axis>_rating`: a judge's or physician's 1-5 rating
UNIT_SCALE = (0.0, 1.0)  # points ratios and other 0-1 scores


def score_to_float(value: Any) -> float | None:
    """C/I/P/N to 1/0/0.5/0 (Inspect's convention), bools and numbers as floats, else None."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        if value in LETTER_VALUES:
            return LETTER_VALUES[value]
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _is_binary_raw(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return value in (0, 1)
    return isinstance(value, str) and value in BINARY_LETTERS


def format_failure(scores: dict[str, ScoreRecord]) -> bool:
    """True when any scorer says the answer could not be parsed (`invalid_response_format`)."""
    for score in scores.values():
        reasons = (
            score.reason,
            score.metadata.get("reason"),
            score.metadata.get("unscored_reason"),
        )
        if INVALID_FORMAT in reasons:
            return True
    return False


def judgement_failed(score: ScoreRecord) -> bool:
    """True when a scorer gave no usable verdict: unscored (NaN), or its grader failed.

    A rubric judge whose judgments partly failed keeps its other keys but sets
    `reason="grader_failed"` (and `grader_failed: 1` in the value); the failed keys
    are NaN and drop out of means like an unscored sample.
    """
    if is_missing(score.value) or score.reason == GRADER_FAILED:
        return True
    return (
        isinstance(score.value, dict) and score_to_float(score.value.get(GRADER_FAILED, 0)) == 1.0
    )


def track_kind(
    kinds: dict[tuple[str, str, str], bool], key: tuple[str, str, str], raw: Any
) -> None:
    """Record whether every raw value of a measure so far is a 0/1 outcome."""
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        kinds.setdefault(key, True)
        return
    kinds[key] = kinds.get(key, True) and _is_binary_raw(raw)


def response_length(sample: SampleRecord) -> int:
    """Characters in the response (a judge's recorded `response_length` when it has one)."""
    for score in sample.scores.values():
        length = score.metadata.get("response_length")
        if isinstance(length, int | float) and not isinstance(length, bool):
            return int(length)
    return len(sample.output)


def output_view(sample: SampleRecord) -> dict[str, Any]:
    """What the drill-down shows of one model's answer to one sample (first epoch)."""
    rationales: dict[str, Any] = {}
    for scorer, score in sample.scores.items():
        found = False
        for field_name, prefix in (("rating_rationales", "rating "), ("rationales", "")):
            entries = score.metadata.get(field_name)
            if isinstance(entries, dict):
                rationales.update({f"{scorer}/{prefix}{k}": v for k, v in entries.items()})
                found = True
        if not found and score.explanation and score.explanation != sample.output:
            rationales[scorer] = score.explanation
    return {
        "output": sample.output,
        "error": sample.error,
        "answers": {s: sc.answer for s, sc in sample.scores.items() if sc.answer is not None},
        "reasons": {s: sc.reason for s, sc in sample.scores.items() if sc.reason},
        "rationales": {k: v if isinstance(v, str) else str(v) for k, v in rationales.items()},
    }


def collect_judge(found: dict[str, dict[str, set[str]]], key: str, score: ScoreRecord) -> None:
    """Add a score's judge provenance (rubric ids, versions, hashes, judges) to `found`."""
    for field_name in JUDGE_KEYS:
        value = score.metadata.get(field_name)
        if value is None:
            continue
        entry = found.setdefault(key, {})
        bucket = entry.setdefault(field_name, set())
        if isinstance(value, dict):
            bucket.update(f"{k}={_short(v)}" for k, v in value.items())
        elif isinstance(value, list):
            bucket.update(_short(v) for v in value)
        else:
            bucket.add(_short(value))


def _short(value: Any) -> str:
    """A provenance value; anything long is recorded by its hash."""
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= 80 else f"sha256:{sha256_json(text)[:16]}"


def measure_bounds(metric: str, values: Any, binary: bool) -> tuple[float, float] | None:
    """The scale a measure lives on, as its name and values show it; None if unbounded.

    0/1 outcomes and scores that all lie in [0, 1] (points ratios) live on [0, 1];
    `*_rating` values that all lie in [1, 5] on the 1-5 scale. Anything else (a score
    that can go below 0, as a HealthBench sample can) gets no bounds and a t interval.
    """
    if binary:
        return UNIT_SCALE
    finite = [float(v) for v in values if not math.isnan(v)]
    for scale, applies in ((RATING_SCALE, metric.endswith("_rating")), (UNIT_SCALE, True)):
        if applies and finite and all(scale[0] <= v <= scale[1] for v in finite):
            return scale
    return None
