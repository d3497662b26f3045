"""HealthBench grading with its own grader contract, and its physician meta-evaluation.

Each HealthBench record carries a physician-written rubric: items with a criterion,
signed points and tags. As in openai/simple-evals (`healthbench_eval.py`), the judge is
asked about one item at a time with the verbatim GRADER_TEMPLATE and answers JSON
`{"explanation": str, "criteria_met": bool}`; the sample score is the points of the met
items (negative items included) over the positive points, so numbers are comparable with
published HealthBench results. Differences from simple-evals, all on the side of
honesty: items are graded concurrently; an unusable reply is re-asked at most `retries`
times and then leaves the sample unscored (`grader_failed`), where simple-evals loops
forever; the judge is bound to the `grader` role (a list is a jury, majority per item);
temperature 0 and a seed by default (simple-evals' sampler uses 0.5). The judge's
generation limit is simple-evals' `max_tokens=2048`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from inspect_ai.model import GenerateConfig
from inspect_ai.scorer import Score, Scorer, Target, scorer
from inspect_ai.solver import TaskState

from harness.core.errors import ConfigError
from harness.core.inspect_names import namespaced
from rubrics.metrics import (
    grader_failure_rate,
    healthbench_metrics,
    jury_agreement,
    length_correlation,
    physician_agreement,
)
from rubrics.panel import Panel, Question, Verdict, pairwise_agreement
from rubrics.prompts import healthbench_prompt, healthbench_template_sha256
from rubrics.scoring import (
    EXAMPLE_TAG_KINDS,
    NAN,
    RUBRIC_TAG_KINDS,
    healthbench_score,
    tag_key,
)
from rubrics.verdicts import AnswerSpec

# simple-evals grades with OPENAI_SYSTEM_MESSAGE_API as the grader's system message
SYSTEM_MESSAGE = "You are a helpful assistant."
# simple-evals grades with ChatCompletionSampler(model="gpt-4.1-2025-04-14", max_tokens=2048)
GRADER_MAX_TOKENS = 2048
BINARY = AnswerSpec("binary")


def rubric_item_text(item: dict[str, Any]) -> str:
    """A rubric item as simple-evals renders it: `[points] criterion`."""
    return f"[{item['points']}] {item['criterion']}"


def category_scores(
    example_tags: Sequence[str], items: Sequence[dict[str, Any]], met: Sequence[bool | None]
) -> dict[str, float]:
    """Per-sample HealthBench breakdowns, keyed `<kind>_<name>` (simple-evals' tag scores).

    Each of the record's `theme:` and `physician_agreed_category:` tags gets the sample's
    overall score; each `axis:`, `level:` and `cluster:` tag of the rubric items gets the
    score over the items with that tag, present only when they carry positive points (as
    simple-evals). Tags of other kinds are not scored.
    """
    points = [float(item["points"]) for item in items]
    overall = healthbench_score(points, met)
    scores: dict[str, float] = {}
    for tag in example_tags:
        key = tag_key(tag, EXAMPLE_TAG_KINDS)
        if key and overall is not None:
            scores[key] = overall
    keys = {
        t: k for item in items for t in item.get("tags", []) if (k := tag_key(t, RUBRIC_TAG_KINDS))
    }
    for tag, key in sorted(keys.items()):
        chosen = [i for i, item in enumerate(items) if tag in item.get("tags", [])]
        score = healthbench_score([points[i] for i in chosen], [met[i] for i in chosen])
        if score is not None:
            scores[key] = score
    return scores


def _met(verdict: Verdict) -> bool | None:
    return None if verdict.vote is None else bool(verdict.vote)


def _panel(
    required: bool,
    retries: int,
    temperature: float,
    seed: int | None,
    max_tokens: int | None,
    system_message: str | None,
    cache: bool,
) -> Panel:
    return Panel.from_role(
        required=required,
        mode="json",
        config=GenerateConfig(temperature=temperature, seed=seed, max_tokens=max_tokens),
        retries=retries,
        system_message=system_message,
        cache=cache,
    )


def _conversation(state: TaskState) -> list[dict[str, str]]:
    if "conversation" not in state.metadata:
        raise ConfigError(
            "HealthBench scoring needs the record's conversation in the sample metadata"
        )
    completion = {"role": "assistant", "content": state.output.completion}
    return [*state.metadata["conversation"], completion]


def _audit(verdicts: list[Verdict], panel: Panel) -> dict[str, Any]:
    """The judges, their effective settings, the template hash, prompts and raw replies."""
    return {
        "judges": panel.names,
        "judge_settings": panel.settings(),
        "template_sha256": healthbench_template_sha256(),
        "judge_prompts": [v.question.prompt for v in verdicts],
        "judge_outputs": [{a.judge: a.raw for a in v.answers} for v in verdicts],
        "votes": {v.question.key: v.votes() for v in verdicts},
        "failures": {v.question.key: v.failure_report() for v in verdicts if v.failed},
    }


@scorer(
    metrics=[
        healthbench_metrics(),
        grader_failure_rate(),
        length_correlation("healthbench_score"),
        jury_agreement(),
    ],
    name=namespaced("rubrics", "healthbench_judge"),
)
def healthbench_judge(
    retries: int = 2,
    temperature: float = 0.0,
    seed: int | None = 42,
    max_tokens: int | None = GRADER_MAX_TOKENS,
    system_message: str | None = SYSTEM_MESSAGE,
    neutralize: bool = True,
    cache: bool = False,
    require_grader: bool = False,
) -> Scorer:
    """Grade each rubric item of a HealthBench record (`metadata["rubrics"]`).

    Args:
        retries: Re-asks after an unusable reply (then the sample is unscored).
        temperature: Judge temperature (settings bound with the role win).
        seed: Judge seed, for providers that accept one.
        max_tokens: Judge generation limit (simple-evals' 2048; provider default when None).
        system_message: The judge's system message (simple-evals' by default).
        neutralize: Escape lines of the graded conversation that repeat a heading of the
            grader template; benign conversations are unchanged.
        cache: Cache judge calls.
        require_grader: Fail when no model is bound to the `grader` role.
    """

    async def score(state: TaskState, target: Target) -> Score:
        panel = _panel(
            require_grader, retries, temperature, seed, max_tokens, system_message, cache
        )
        items = state.metadata["rubrics"]
        conversation = _conversation(state)
        questions = [
            Question(
                str(i), healthbench_prompt(conversation, rubric_item_text(item), neutralize), BINARY
            )
            for i, item in enumerate(items)
        ]
        verdicts = list(await asyncio.gather(*(panel.ask(q) for q in questions)))
        met = [_met(v) for v in verdicts]
        overall = healthbench_score([float(item["points"]) for item in items], met)
        failed = any(m is None for m in met)
        value: dict[str, float] = {
            "healthbench_score": NAN if overall is None else overall,
            "criteria_met": float(sum(1 for m in met if m)),
            "total_criteria": float(len(items)),
            "grader_failed": float(failed),
            "response_length": float(len(state.output.completion)),
        }
        value |= category_scores(state.metadata.get("example_tags", []), items, met)
        value |= {f"crit_{i}": NAN if m is None else float(m) for i, m in enumerate(met)}
        if len(panel.models) > 1:
            agreement = pairwise_agreement(verdicts)
            value["jury_agreement"] = NAN if agreement is None else agreement
        details = [
            {**item, "criteria_met": m, "explanation": v.rationale()}
            for item, m, v in zip(items, met, verdicts, strict=True)
        ]
        return Score(
            value=value,
            answer=state.output.completion,
            explanation="\n\n".join(
                f"[{d['criteria_met']}] {rubric_item_text(d)}\n\tExplanation: {d['explanation']}"
                for d in details
            ),
            reason="grader_failed" if failed else None,
            metadata={
                "prompt_id": state.metadata.get("prompt_id"),
                "detailed_results": details,
                "rationales": {str(i): d["explanation"] for i, d in enumerate(details)},
                "response_length": len(state.output.completion),
                **_audit(verdicts, panel),
            },
        )

    return score


@scorer(
    metrics=[physician_agreement(), grader_failure_rate()],
    name=namespaced("rubrics", "healthbench_meta_judge"),
)
def healthbench_meta_judge(
    retries: int = 2,
    temperature: float = 0.0,
    seed: int | None = 42,
    max_tokens: int | None = GRADER_MAX_TOKENS,
    system_message: str | None = SYSTEM_MESSAGE,
    neutralize: bool = True,
    cache: bool = False,
    require_grader: bool = True,
) -> Scorer:
    """Grade a physician-labelled completion on its one rubric item (meta-evaluation).

    The sample metadata carries `rubric` (the criterion text, rendered without points as
    in simple-evals' meta-eval), `binary_labels` (the physicians' verdicts) and
    `anonymized_physician_ids`; the completion is the sample's output. Options as for
    `healthbench_judge`.
    """

    async def score(state: TaskState, target: Target) -> Score:
        panel = _panel(
            require_grader, retries, temperature, seed, max_tokens, system_message, cache
        )
        question = Question(
            "0",
            healthbench_prompt(_conversation(state), str(state.metadata["rubric"]), neutralize),
            BINARY,
        )
        verdict = await panel.ask(question)
        labels = [bool(label) for label in state.metadata["binary_labels"]]
        met = _met(verdict)
        return Score(
            value={
                "model_met": NAN if met is None else float(met),
                "physician_majority": float(sum(labels) * 2 > len(labels)),
                "grader_failed": float(met is None),
            },
            answer=state.output.completion,
            explanation=verdict.rationale(),
            reason="grader_failed" if met is None else None,
            metadata={
                "binary_labels": labels,
                "anonymized_physician_ids": state.metadata.get("anonymized_physician_ids"),
                "category": state.metadata.get("category"),
                "rationales": {"0": verdict.rationale()},
                **_audit([verdict], panel),
            },
        )

    return score
