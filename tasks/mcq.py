"""Shared multiple-choice machinery: one prompt family, the scorer, metrics and the task builder.

Every benchmark module only loads its items and calls `mcq_task`; prompting, choice
shuffling, exclusion of validation items, answer extraction and per-subject accuracy
are the same everywhere, so results are comparable across benchmarks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from inspect_ai import Task
from inspect_ai.model import GenerateConfig
from inspect_ai.scorer import (
    CORRECT,
    INCORRECT,
    Metric,
    SampleScore,
    Score,
    Scorer,
    Target,
    accuracy,
    grouped,
    metric,
    scorer,
    stderr,
)
from inspect_ai.solver import Generate, Solver, TaskState, generate, solver

from tasks.answers import extract_choice
from tasks.exclusions import Exclusions
from tasks.items import LETTERS, MCQItem, to_dataset

INVALID_FORMAT = "invalid_response_format"

ZERO_SHOT_TEMPLATE = """Answer the following multiple choice question about medicine. \
The last line of your response must be of the form 'ANSWER: $LETTER' (without quotes) \
where LETTER is one of {letters}.

{question}

{choices}"""

CHAIN_OF_THOUGHT_TEMPLATE = """Answer the following multiple choice question about medicine. \
Think step by step before answering. The last line of your response must be of the form \
'ANSWER: $LETTER' (without quotes) where LETTER is one of {letters}.

{question}

{choices}"""


def format_choices(choices: Sequence[str]) -> str:
    """Options as `A) text` lines."""
    return "\n".join(f"{LETTERS[i]}) {choice}" for i, choice in enumerate(choices))


def render_prompt(question: str, choices: Sequence[str], cot: bool = False) -> str:
    """The user message for one item: instructions, question, options."""
    template = CHAIN_OF_THOUGHT_TEMPLATE if cot else ZERO_SHOT_TEMPLATE
    letters = ", ".join(LETTERS[: len(choices)])
    return template.format(letters=letters, question=question, choices=format_choices(choices))


@solver
def mcq_prompt(cot: bool = False) -> Solver:
    """Rewrite the user message into the multiple-choice prompt (zero-shot or chain-of-thought)."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        choices = [choice.value for choice in state.choices]
        state.user_prompt.text = render_prompt(state.user_prompt.text, choices, cot)
        return state

    return solve


@metric
def format_failure_rate() -> Metric:
    """Share of samples whose answer could not be parsed (scored incorrect, counted here).

    With several epochs, a sample counts as a failure only when every epoch failed
    (the reducer keeps a reason only when all epochs agree on it).
    """

    def compute(scores: list[SampleScore]) -> float:
        if not scores:
            return float("nan")
        return sum(1 for s in scores if s.score.reason == INVALID_FORMAT) / len(scores)

    return compute


@scorer(metrics=[accuracy(), stderr(), format_failure_rate()])
def mcq_answer() -> Scorer:
    """Correct when the extracted option letter equals the target letter.

    An output with no parseable answer (or naming two options) is INCORRECT with
    `reason="invalid_response_format"`. The metadata says which extraction rule fired
    (`extraction`) and gives the model's letter in upstream order (`original_answer`,
    comparable to the sample's `original_target` when choices were shuffled).
    """

    async def score(state: TaskState, target: Target) -> Score:
        completion = state.output.completion
        choices = [choice.value for choice in state.choices]
        extraction = extract_choice(completion, len(choices), choices)
        original = _original_letter(extraction.answer, state.metadata)
        metadata: dict[str, Any] = {"extraction": extraction.method, "original_answer": original}
        if extraction.answer is None:
            metadata["problem"] = "empty response" if not completion.strip() else extraction.problem
            return Score(
                value=INCORRECT,
                answer=None,
                explanation=completion,
                reason=INVALID_FORMAT,
                metadata=metadata,
            )
        return Score(
            value=CORRECT if extraction.answer == target.text else INCORRECT,
            answer=extraction.answer,
            explanation=completion,
            metadata=metadata,
        )

    return score


def _original_letter(letter: str | None, metadata: dict[str, Any]) -> str | None:
    """Map a letter in the shown (possibly shuffled) order back to the upstream letter."""
    if letter is None:
        return None
    order = metadata.get("choice_order")
    return order[LETTERS.index(letter)] if order else letter


def mcq_task(
    *,
    name: str,
    items: list[MCQItem],
    location: str,
    cot: bool = False,
    shuffle: bool = False,
    seed: int = 0,
    exclude: str | None = None,
    max_tokens: int | None = None,
    by_subject: bool = False,
    metadata: dict[str, Any] | None = None,
) -> Task:
    """An Inspect task over `items` with the shared prompt, scorer and metrics.

    Args:
        name: Task name: the benchmark of its items (what validation files name them by).
        items: Loaded benchmark items (ids unique).
        location: Where the items came from (file path or pinned HF id), for the log.
        cot: Chain-of-thought prompt instead of zero-shot.
        shuffle: Shuffle each item's choices with a per-item permutation seeded by `seed`.
        seed: Seed for shuffling.
        exclude: File of items never to evaluate (e.g. influence validation items), keyed
            on each item's benchmark and id; see `tasks.exclusions` for what is a warning
            and what an error.
        max_tokens: Generation limit (provider default when None).
        by_subject: Add accuracy grouped by the `subject` metadata.
        metadata: Extra task metadata recorded in the log.
    """
    kept = Exclusions.read(exclude).keep(items, name, lambda item: [item.key])
    dataset = to_dataset(kept, name=name, location=location, shuffle_seed=seed if shuffle else None)
    metrics: list[Any] = [accuracy(), stderr(), format_failure_rate()]
    if by_subject:
        metrics.append(
            grouped(accuracy(), "subject", all=False, name_template="accuracy_{group_name}")
        )
    return Task(
        name=name,
        dataset=dataset,
        solver=[mcq_prompt(cot), generate()],
        scorer=mcq_answer(),
        metrics=metrics,
        config=GenerateConfig(max_tokens=max_tokens) if max_tokens else GenerateConfig(),
        metadata={
            "benchmark": name,
            "source": location,
            "prompt": "chain_of_thought" if cot else "zero_shot",
            "shuffle_seed": seed if shuffle else None,
            "excluded": len(items) - len(kept),
            **(metadata or {}),
        },
    )
