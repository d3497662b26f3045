"""Reading a judge's reply: schema-validated JSON verdicts and log-probability verdicts.

Every question a judge is asked has an `AnswerSpec`: binary (met / not met, HealthBench's
`criteria_met`) or a 1-5 level, optionally with "not applicable". A reply becomes a
`Vote` (True / False, an int level, or `NOT_APPLICABLE`) or raises `VerdictError` with a
message precise enough to send back to the judge in a bounded re-ask.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Final, Literal

from inspect_ai.model import ModelOutput
from pydantic import BaseModel, ConfigDict, Field, ValidationError

NOT_APPLICABLE: Final = "na"
Vote = bool | int | Literal["na"]


class VerdictError(Exception):
    """A reply that cannot be used; `fatal` when asking again cannot help."""

    def __init__(self, message: str, *, fatal: bool = False) -> None:
        super().__init__(message)
        self.fatal = fatal


class _Verdict(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    explanation: str


class BinaryVerdict(_Verdict):
    """HealthBench's grader contract: `{"explanation": str, "criteria_met": bool}`."""

    criteria_met: bool


class ConditionalVerdict(BinaryVerdict):
    """A binary verdict on a criterion that applies only under a condition."""

    applicable: bool


class LevelVerdict(_Verdict):
    """A criterion graded on its own 1-5 anchors."""

    level: int = Field(ge=1, le=5)


class ConditionalLevelVerdict(LevelVerdict):
    """A 1-5 criterion that applies only under a condition."""

    applicable: bool


class RatingVerdict(_Verdict):
    """The holistic 1-5 rating of an axis on its anchors."""

    rating: int = Field(ge=1, le=5)


@dataclass(frozen=True)
class AnswerSpec:
    """What kind of answer a question expects."""

    scale: Literal["binary", "level", "rating"]
    conditional: bool = False

    @property
    def model(self) -> type[_Verdict]:
        """The pydantic model a JSON reply must validate against."""
        if self.scale == "rating":
            return RatingVerdict
        if self.scale == "level":
            return ConditionalLevelVerdict if self.conditional else LevelVerdict
        return ConditionalVerdict if self.conditional else BinaryVerdict

    @property
    def key_field(self) -> str:
        """The field that carries the verdict."""
        return {"binary": "criteria_met", "level": "level", "rating": "rating"}[self.scale]

    @property
    def options(self) -> dict[str, Vote]:
        """Answer words accepted in log-probability mode, and the vote each one casts."""
        options: dict[str, Vote] = (
            {"yes": True, "no": False}
            if self.scale == "binary"
            else {str(level): level for level in range(1, 6)}
        )
        if self.conditional:
            options[NOT_APPLICABLE] = NOT_APPLICABLE
        return options


@dataclass(frozen=True)
class Reading:
    """A usable reply: the vote, the judge's explanation, and (logprobs mode) P(option)."""

    vote: Vote
    explanation: str
    distribution: dict[str, float] | None = None


_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)


def json_objects(text: str) -> list[dict[str, Any]]:
    """Top-level JSON objects in `text`, in order: from fenced blocks, else anywhere."""
    found = [obj for block in _FENCE.findall(text) for obj in _bare_objects(block)]
    return found or _bare_objects(text)


def _bare_objects(source: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    decoder = json.JSONDecoder()
    position = source.find("{")
    while position != -1:
        try:
            value, end = decoder.raw_decode(source, position)
        except json.JSONDecodeError:
            position = source.find("{", position + 1)
            continue
        if isinstance(value, dict):
            found.append(value)
        position = source.find("{", end)
    return found


def read_json(text: str, spec: AnswerSpec) -> Reading:
    """The verdict in a JSON reply.

    Binds to the *last* object that carries the verdict field, so an object quoted
    earlier in the reply (for example echoed from the graded text) cannot decide it.
    """
    candidates = [obj for obj in json_objects(text) if spec.key_field in obj]
    if not candidates:
        if not text.strip():
            raise VerdictError("the reply was empty")
        raise VerdictError(f'no JSON object with a "{spec.key_field}" field was found')
    try:
        verdict = spec.model.model_validate(candidates[-1])
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "object"
        raise VerdictError(f'field "{where}": {problem["msg"]}') from None
    if isinstance(verdict, ConditionalVerdict | ConditionalLevelVerdict) and not verdict.applicable:
        return Reading(NOT_APPLICABLE, verdict.explanation)
    return Reading(getattr(verdict, spec.key_field), verdict.explanation)


def _normalise_token(token: str) -> str:
    return token.strip().strip("\"'`*.,:;!()[]").lower().replace("n/a", NOT_APPLICABLE)


def read_logprobs(output: ModelOutput, spec: AnswerSpec) -> Reading:
    """The verdict from the first generated position whose top tokens include an answer word.

    The probabilities of the answer words there (variants such as " Yes" pooled) are
    renormalised over the options; the vote is the most probable option. For a binary
    question the distribution's "yes" entry is P(yes).
    """
    if not output.choices or output.choices[0].logprobs is None:
        raise VerdictError(
            "the grader returned no log probabilities (use mode='json' with this provider)",
            fatal=True,
        )
    options = spec.options
    for position in output.choices[0].logprobs.content:
        candidates = [(position.token, position.logprob)]
        candidates += [(top.token, top.logprob) for top in position.top_logprobs or []]
        mass: dict[str, float] = {}
        seen: set[str] = set()
        for token, logprob in candidates:
            if token in seen:
                continue
            seen.add(token)
            word = _normalise_token(token)
            if word in options:
                mass[word] = mass.get(word, 0.0) + math.exp(logprob)
        if mass:
            total = sum(mass.values())
            distribution = {word: mass.get(word, 0.0) / total for word in options}
            best = max(options, key=lambda word: (distribution[word], -list(options).index(word)))
            return Reading(options[best], f"P={_format(distribution)}", distribution)
    raise VerdictError(
        f"none of the answer words ({', '.join(options)}) is among the top tokens of the reply"
    )


def _format(distribution: dict[str, float]) -> str:
    return ", ".join(f"{word}:{p:.3f}" for word, p in distribution.items())
