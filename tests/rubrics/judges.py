"""Scripted judges for tests of judged tasks and scorers: mockllm graders that answer by rule."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from inspect_ai.model import (
    ChatMessage,
    GenerateConfig,
    Logprob,
    Logprobs,
    Model,
    ModelOutput,
    TopLogprob,
    get_model,
)

from rubrics.schema import builtin_rubrics, load_rubric
from tests.helpers import mock_output

Reply = Callable[[list[ChatMessage], GenerateConfig], "str | ModelOutput"]


@dataclass
class ScriptedJudge:
    """A mockllm grader: `reply(messages, config)` answers each call; calls are recorded.

    `config` plays the settings bound with the role (`--model-role 'grader={model: ...,
    temperature: ...}'`).
    """

    reply: Reply
    name: str = "mockllm/model"
    config: GenerateConfig = field(default_factory=GenerateConfig)
    calls: list[tuple[list[ChatMessage], GenerateConfig]] = field(default_factory=list)

    @property
    def model(self) -> Model:
        def respond(
            input: list[ChatMessage], tools: Any, tool_choice: Any, config: GenerateConfig
        ) -> ModelOutput:
            self.calls.append((list(input), config))
            out = self.reply(list(input), config)
            return out if isinstance(out, ModelOutput) else mock_output(out)

        return get_model(self.name, custom_outputs=respond, memoize=False, config=self.config)


def _criterion_index() -> tuple[dict[str, str], dict[str, str]]:
    criteria: dict[str, str] = {}
    axes: dict[str, str] = {}
    for name in builtin_rubrics():
        rubric = load_rubric(name)
        for criterion in rubric.criteria:
            criteria[" ".join(criterion.text.split())] = criterion.id
        for axis in rubric.axes:
            axes[f"{axis.title}: {' '.join(axis.question.split())}"] = f"{rubric.id}:{axis.id}"
    return criteria, axes


CRITERIA, AXES = _criterion_index()


def question_of(messages: list[ChatMessage]) -> str:
    """The criterion id, or `rating:<axis>`, that a judge prompt asks about."""
    prompt = next(m.text for m in messages if m.role == "user")
    found = re.search(r"^Criterion \([+-][\d.]+ points\): (.*)$", prompt, re.MULTILINE)
    if found:
        return CRITERIA[found.group(1).strip()]
    rating = re.search(r"^# Axis to rate\n(.*)$", prompt, re.MULTILINE)
    assert rating, prompt
    return "rating:" + AXES[rating.group(1).strip()].split(":")[1]


def verdict_json(met: bool, applicable: bool | None = None, explanation: str = "checked") -> str:
    body: dict[str, Any] = {"explanation": explanation, "criteria_met": met}
    if applicable is not None:
        body["applicable"] = applicable
    return "```json\n" + json.dumps(body) + "\n```"


def rating_json(rating: int) -> str:
    return "```json\n" + json.dumps({"explanation": "rated", "rating": rating}) + "\n```"


def logprob_output(distribution: dict[str, float], lead: list[str] | None = None) -> ModelOutput:
    """An output whose first answer position has these token probabilities (after `lead` tokens)."""
    top = sorted(distribution.items(), key=lambda kv: -kv[1])
    tokens = [
        Logprob(token=t, logprob=0.0, top_logprobs=[TopLogprob(token=t, logprob=0.0)])
        for t in lead or []
    ]
    tokens.append(
        Logprob(
            token=top[0][0],
            logprob=math.log(top[0][1]),
            top_logprobs=[TopLogprob(token=t, logprob=math.log(p)) for t, p in top],
        )
    )
    output = mock_output("".join(lead or []) + top[0][0])
    output.choices[0].logprobs = Logprobs(content=tokens)
    return output
