"""`rubric_judge`: grade a response (or a training record) on rubric criteria with an LLM judge.

One judgment per criterion (HealthBench style: atomic, signed points) plus one holistic
1-5 rating per axis on the axis's anchors (the scale physicians rate on), all asked
concurrently of the judge or jury bound to the `grader` role.

`Score.value` (a dict, so epochs reduce per key):
- `<axis>`: points earned / positive points of the applicable criteria of that axis;
- `<axis>_rating`: the panel's 1-5 rating of the axis (NaN with `ratings=False`);
- `overall`: the same arithmetic over every criterion of every rubric;
- `<axis>_expected`, `<axis>_rating_expected`, `overall_expected` (logprobs mode only):
  the same scores from the judges' probabilities instead of their argmax answers
  (points weighted by P(yes), probability-weighted levels and ratings, as G-Eval), a
  continuous secondary score that separates a confident "yes" from a coin toss;
- `crit_<criterion id, dots as underscores>`: 1 / 0, the level fraction (L-1)/4 for a
  scaled criterion, NaN when not applicable or not judged;
- `grader_failed`: 1 when any judgment failed after the re-asks (those keys are NaN,
  never zero, and the score's `reason` is "grader_failed"), else 0;
- `response_length`: characters of the graded text (a record's reasoning and response);
- `jury_agreement` (with a jury): share of judge pairs casting the same vote.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

from inspect_ai.model import ChatMessage, GenerateConfig
from inspect_ai.scorer import Score, Scorer, Target, scorer
from inspect_ai.solver import TaskState

from harness.core.errors import ConfigError
from harness.core.inspect_names import namespaced
from harness.core.io import sha256_file
from rubrics.metrics import (
    EXPECTED_SUFFIX,
    grader_failure_rate,
    jury_agreement,
    length_correlation,
    rubric_scores,
)
from rubrics.panel import Panel, Question, Verdict, pairwise_agreement
from rubrics.prompts import Material, Mode, criterion_prompt, rating_prompt, template_sha256
from rubrics.schema import Criterion, Rubric, load_rubric, rubric_path
from rubrics.scoring import (
    NAN,
    Credit,
    axis_scores,
    criterion_value,
    earned,
    expected_earned,
    expected_level,
    points_score,
)
from rubrics.verdicts import NOT_APPLICABLE, AnswerSpec, Vote

DEFAULT_RUBRICS = ("differential_diagnosis", "safety_check", "evidence_citation")
RESERVED_KEYS = {
    "overall",
    f"overall{EXPECTED_SUFFIX}",
    "grader_failed",
    "response_length",
    "jury_agreement",
}
RATING_KEY = "rating:"


def rubric_names(rubrics: str | Sequence[str]) -> list[str]:
    """Rubric names or paths from a comma-separated string or a list."""
    parts = rubrics.split(",") if isinstance(rubrics, str) else rubrics
    return [str(part).strip() for part in parts if str(part).strip()]


def load_rubrics(rubrics: str | Sequence[str]) -> list[Rubric]:
    """Rubrics by name or path (a comma-separated string or a list), checked to combine.

    Combined rubrics must judge the same kind of thing and have distinct axis and
    criterion ids, because those ids become keys of the score.
    """
    loaded = [load_rubric(name) for name in rubric_names(rubrics)]
    if not loaded:
        raise ConfigError("rubric_judge needs at least one rubric")
    kinds = {rubric.applies_to for rubric in loaded}
    if len(kinds) > 1:
        raise ConfigError(
            f"rubrics judge different things ({', '.join(sorted(kinds))}); grade them separately"
        )
    axes = [axis.id for rubric in loaded for axis in rubric.axes]
    criteria = [criterion.id for rubric in loaded for criterion in rubric.criteria]
    for label, ids in (("axis", axes), ("criterion", criteria)):
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ConfigError(f"{label} ids repeat across rubrics: {duplicates}")
    per_axis = [f"{a}{suffix}" for a in axes for suffix in ("", "_rating")]
    keys = [
        *per_axis,
        *(f"{key}{EXPECTED_SUFFIX}" for key in per_axis),
        *map(criterion_key, criteria),
        *RESERVED_KEYS,
    ]
    clashes = sorted({key for key in keys if keys.count(key) > 1})
    if clashes:
        raise ConfigError(f"rubric ids give clashing score keys: {clashes}")
    return loaded


def criterion_key(criterion_id: str) -> str:
    """The `Score.value` key of a criterion."""
    return "crit_" + criterion_id.replace(".", "_")


def _transcript(messages: list[ChatMessage]) -> str:
    turns = [m for m in messages if m.role != "system"]
    if len(turns) == 1:
        return turns[0].text
    return "\n\n".join(f"{m.role}: {m.text}" for m in turns)


def _reference(state: TaskState, target: Target) -> str | None:
    if state.metadata.get("reference"):
        return str(state.metadata["reference"])
    text = target.text.strip()
    if not text:
        return None
    # a multiple-choice target is a letter: show the judge the option it stands for
    if state.choices and len(text) == 1 and text.isalpha():
        index = ord(text.upper()) - ord("A")
        if 0 <= index < len(state.choices):
            return f"{text}) {state.choices[index].value}"
    return text


def material_for(state: TaskState, target: Target, kind: str) -> Material:
    """What the judge reads, from the sample metadata and the model's output.

    Response rubrics read `metadata["case"]` (else the sample input) and
    `metadata["reference"]` (else the target); training-record rubrics read the record's
    `record_question`, `record_reasoning` and `record_response` from the metadata.
    """
    metadata = state.metadata
    if kind == "training_record":
        missing = [
            name
            for name in ("record_question", "record_reasoning", "record_response")
            if name not in metadata
        ]
        if missing:
            raise ConfigError(
                f"a training-record rubric needs sample metadata {missing} (use the data_quality task)"
            )
        return Material(
            kind="training_record",
            case=str(metadata["record_question"]),
            reasoning=str(metadata["record_reasoning"]),
            response=str(metadata["record_response"]),
            reference=metadata.get("reference") or None,
        )
    case = metadata.get("case") or (
        state.input if isinstance(state.input, str) else _transcript(state.input)
    )
    return Material(
        case=str(case), response=state.output.completion, reference=_reference(state, target)
    )


def questions_for(
    rubrics: list[Rubric], material: Material, mode: Mode, ratings: bool
) -> list[Question]:
    """One question per criterion, and one rating question per axis when `ratings`."""
    questions = []
    for rubric in rubrics:
        for criterion in rubric.criteria:
            spec = AnswerSpec("level" if criterion.scaled else "binary", criterion.conditional)
            questions.append(
                Question(criterion.id, criterion_prompt(rubric, criterion, material, mode), spec)
            )
        if ratings:
            for axis in rubric.axes:
                questions.append(
                    Question(
                        f"{RATING_KEY}{axis.id}",
                        rating_prompt(rubric, axis.id, material, mode),
                        AnswerSpec("rating"),
                    )
                )
    return questions


def _verdict_label(vote: Vote | None) -> str | int:
    if vote is None:
        return "failed"
    if vote == NOT_APPLICABLE:
        return "not_applicable"
    if isinstance(vote, bool):
        return "met" if vote else "not_met"
    return int(vote)


def _level(verdict: Verdict) -> float:
    return float(verdict.vote)  # type: ignore[arg-type]  # a rating's vote is its level


def _points_values(
    criteria: list[Criterion],
    votes: dict[str, Any],
    verdicts: dict[str, Verdict],
    credit: Credit,
    rating_of: Callable[[Verdict], float],
    suffix: str,
) -> dict[str, float]:
    """Axis scores, axis ratings and `overall`, with `credit` and `rating_of` reading the verdicts."""
    value: dict[str, float] = {}
    for axis, score in axis_scores(criteria, votes, credit).items():
        value[f"{axis}{suffix}"] = score
        rating = verdicts.get(f"{RATING_KEY}{axis}")  # absent when ratings are off
        value[f"{axis}_rating{suffix}"] = (
            NAN if rating is None or rating.vote is None else rating_of(rating)
        )
    value[f"overall{suffix}"] = points_score(((c, votes[c.id]) for c in criteria), credit)
    return value


def score_value(
    rubrics: list[Rubric],
    verdicts: dict[str, Verdict],
    material: Material,
    jury: bool,
    expected: bool = False,
) -> dict[str, float]:
    """`Score.value` from the panel's verdicts (see the module docstring).

    With `expected` (logprobs mode), the `*_expected` keys are added beside the argmax ones.
    """
    criteria = [criterion for rubric in rubrics for criterion in rubric.criteria]
    votes = {criterion.id: verdicts[criterion.id].vote for criterion in criteria}
    value = _points_values(criteria, votes, verdicts, earned, _level, "")
    if expected:
        distributions = {c.id: verdicts[c.id].distribution() for c in criteria}
        value |= _points_values(
            criteria,
            votes,
            verdicts,
            lambda criterion, _: expected_earned(criterion, distributions[criterion.id]),
            lambda rating: expected_level(rating.distribution()),
            EXPECTED_SUFFIX,
        )
    for criterion in criteria:
        value[criterion_key(criterion.id)] = criterion_value(criterion, votes[criterion.id])
    value["grader_failed"] = float(any(v.failed for v in verdicts.values()))
    value["response_length"] = float(len(material.reasoning) + len(material.response))
    if jury:
        agreement = pairwise_agreement(list(verdicts.values()))
        value["jury_agreement"] = NAN if agreement is None else agreement
    return value


def rubric_provenance(rubrics: str | Sequence[str]) -> dict[str, Any]:
    """Ids, versions and file hashes of the rubrics, and the hash of the prompt templates.

    The YAML hashes are sha256 of the files, as the rater export records; the template
    hash changes whenever the wording of a judge prompt does.
    """
    names = rubric_names(rubrics)
    loaded = [load_rubric(name) for name in names]
    return {
        "rubric_ids": [rubric.id for rubric in loaded],
        "rubric_versions": {rubric.id: rubric.version for rubric in loaded},
        "rubric_hashes": {
            rubric.id: sha256_file(rubric_path(name))
            for rubric, name in zip(loaded, names, strict=True)
        },
        "template_sha256": template_sha256(),
    }


def score_metadata(
    provenance: dict[str, Any], verdicts: dict[str, Verdict], panel: Panel, material: Material
) -> dict[str, Any]:
    """Everything a rater or the report needs to audit the grade.

    `judge_settings` holds the temperature, seed and max_tokens each judge was asked
    with, after settings bound with the role override the scorer's defaults.
    """
    metadata: dict[str, Any] = {
        **provenance,
        "judges": panel.names,
        "judge_settings": panel.settings(),
        "mode": panel.mode,
        "judge_prompts": {key: v.question.prompt for key, v in verdicts.items()},
        "judge_outputs": {
            key: {answer.judge: answer.raw for answer in v.answers} for key, v in verdicts.items()
        },
        "rationales": {
            key: v.rationale() for key, v in verdicts.items() if not key.startswith(RATING_KEY)
        },
        "rating_rationales": {
            key.removeprefix(RATING_KEY): v.rationale()
            for key, v in verdicts.items()
            if key.startswith(RATING_KEY)
        },
        "verdicts": {key: _verdict_label(v.vote) for key, v in verdicts.items()},
        "votes": {key: v.votes() for key, v in verdicts.items()},
        "failures": {key: v.failure_report() for key, v in verdicts.items() if v.failed},
        "response_length": len(material.reasoning) + len(material.response),
    }
    if panel.mode == "logprobs":
        metadata["probabilities"] = {
            key: {
                answer.judge: answer.reading.distribution
                for answer in v.answers
                if answer.reading is not None
            }
            for key, v in verdicts.items()
        }
    return metadata


def _explanation(
    rubrics: list[Rubric], value: dict[str, float], verdicts: dict[str, Verdict]
) -> str:
    lines = []
    for axis in [axis.id for rubric in rubrics for axis in rubric.axes]:
        rating = value[f"{axis}_rating"]
        lines.append(
            f"{axis}: {value[axis]:.3f}"
            + ("" if math.isnan(rating) else f" (rating {rating:.0f}/5)")
        )
    lines.append(f"overall: {value['overall']:.3f}")
    failed = [key for key, verdict in verdicts.items() if verdict.failed]
    if failed:
        lines.append(f"grader failed on: {', '.join(failed)}")
    return "\n".join(lines)


@scorer(
    metrics=[rubric_scores(), grader_failure_rate(), length_correlation(), jury_agreement()],
    name=namespaced("rubrics", "rubric_judge"),
)
def rubric_judge(
    rubrics: str | Sequence[str] = DEFAULT_RUBRICS,
    mode: Literal["json", "logprobs"] = "json",
    retries: int = 2,
    ratings: bool = True,
    temperature: float = 0.0,
    seed: int | None = 42,
    max_tokens: int | None = None,
    structured: bool = False,
    system_message: str | None = None,
    cache: bool = False,
    require_grader: bool = False,
) -> Scorer:
    """Grade the output on rubric criteria and axis ratings with the `grader` role.

    Args:
        rubrics: Rubric names or YAML paths (list, or comma-separated string).
        mode: "json" for schema-validated JSON verdicts with an explanation;
            "logprobs" to read P(answer word) from the judge's top log probabilities
            (one word per criterion, one digit per rating; providers that return
            logprobs: OpenAI, vLLM, Hugging Face, ...).
        retries: Re-asks after an unusable reply (the judge is told what was wrong).
        ratings: Also ask for the holistic 1-5 rating of each axis.
        temperature: Judge sampling temperature (settings bound with the role win).
        seed: Judge sampling seed, for providers that accept one.
        max_tokens: Judge generation limit (provider default when None).
        structured: Constrain JSON replies with the provider's response schema.
        system_message: Optional system message for the judge.
        cache: Cache judge calls, so re-scoring a log re-uses earlier verdicts.
        require_grader: Fail instead of letting the evaluated model grade itself when
            no model is bound to the `grader` role.
    """
    loaded = load_rubrics(rubrics)
    if mode not in ("json", "logprobs"):
        raise ConfigError(f"mode must be 'json' or 'logprobs', got {mode!r}")
    kind = loaded[0].applies_to
    provenance = rubric_provenance(rubrics)
    config = GenerateConfig(temperature=temperature, seed=seed, max_tokens=max_tokens)

    async def score(state: TaskState, target: Target) -> Score:
        panel = Panel.from_role(
            required=require_grader,
            mode=mode,
            config=config,
            retries=retries,
            system_message=system_message,
            structured=structured,
            cache=cache,
        )
        material = material_for(state, target, kind)
        questions = questions_for(loaded, material, mode, ratings)
        answered = await asyncio.gather(*(panel.ask(question) for question in questions))
        verdicts = {verdict.question.key: verdict for verdict in answered}
        value = score_value(
            loaded, verdicts, material, jury=len(panel.models) > 1, expected=mode == "logprobs"
        )
        return Score(
            value=value,
            answer=material.response,
            explanation=_explanation(loaded, value, verdicts),
            reason="grader_failed" if value["grader_failed"] else None,
            metadata=score_metadata(provenance, verdicts, panel, material),
        )

    return score
