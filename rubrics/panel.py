"""The judges: one model or a jury bound to the grader role, asked with bounded re-asks.

`Panel.from_role()` is called inside a scorer's `score()` (roles are bound by `eval()`
after tasks are built). A role bound to a list (`--model-role grader=a,b,c`) is a jury:
every judge answers every question, and the verdict is the option a strict majority of
the panel chose. A judge whose reply cannot be read after the re-asks withholds its vote
rather than shrinking the panel, so a split or mostly failed panel gives no verdict
(the question *failed*), never a guess.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations

from inspect_ai.model import (
    ChatMessage,
    ChatMessageSystem,
    ChatMessageUser,
    GenerateConfig,
    Model,
    ResponseSchema,
    get_model,
    model_roles,
)
from inspect_ai.util import json_schema

from harness.core.errors import ConfigError
from rubrics.prompts import Mode, reask_prompt
from rubrics.verdicts import (
    NOT_APPLICABLE,
    AnswerSpec,
    Reading,
    VerdictError,
    Vote,
    read_json,
    read_logprobs,
)

logger = logging.getLogger(__name__)

GRADER_ROLE = "grader"
_warned: list[bool] = []  # the self-grading warning is given once per process
TOP_LOGPROBS = 20
RECORDED_SETTINGS = ("temperature", "seed", "max_tokens")


@dataclass(frozen=True)
class Question:
    """One thing to ask every judge: a criterion, or the rating of an axis."""

    key: str
    prompt: str
    spec: AnswerSpec


@dataclass
class JudgeAnswer:
    """One judge's answer to one question, with every raw reply it took."""

    judge: str
    reading: Reading | None
    raw: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def vote(self) -> Vote | None:
        """The judge's vote, or None when its reply could not be read."""
        return None if self.reading is None else self.reading.vote


@dataclass
class Verdict:
    """The panel's verdict on one question (`vote` None: the question failed)."""

    question: Question
    vote: Vote | None
    answers: list[JudgeAnswer]
    failure: str | None = None

    @property
    def failed(self) -> bool:
        """True when no verdict could be reached."""
        return self.vote is None

    def votes(self) -> dict[str, Vote | None]:
        """Each judge's vote (None where its reply was unusable)."""
        return {answer.judge: answer.vote for answer in self.answers}

    def failure_report(self) -> str:
        """Why the question failed, with each judge's last problem."""
        problems = [f"{a.judge}: {a.error}" for a in self.answers if a.error]
        return "; ".join([self.failure or "failed", *problems])

    def distribution(self) -> dict[str, float]:
        """P(answer word) averaged over the judges that gave probabilities (logprobs mode).

        Empty when none did; in logprobs mode every usable reading has probabilities,
        so a question with a vote always has a distribution.
        """
        given = [
            answer.reading.distribution
            for answer in self.answers
            if answer.reading is not None and answer.reading.distribution is not None
        ]
        if not given:
            return {}
        return {word: statistics.fmean(d[word] for d in given) for word in given[0]}

    def rationale(self) -> str:
        """The judges' explanations (prefixed by judge name when there are several)."""
        parts = []
        for answer in self.answers:
            text = answer.reading.explanation if answer.reading else f"(failed: {answer.error})"
            parts.append(text if len(self.answers) == 1 else f"[{answer.judge}] {text}")
        return "\n".join(parts)


def combine(answers: list[JudgeAnswer], spec: AnswerSpec) -> tuple[Vote | None, str | None]:
    """The strict-majority verdict of a panel, or (None, why) when there is none.

    Binary votes need more than half of the panel; "not applicable" likewise. Levels and
    ratings take the lower median of the judges' levels, provided more than half of the
    panel gave one (the median keeps the 1-5 scale ordinal and on integer levels).
    """
    panel = len(answers)
    votes = [answer.vote for answer in answers if answer.vote is not None]
    if not votes:
        return None, "no judge gave a usable verdict"
    if votes.count(NOT_APPLICABLE) * 2 > panel:
        return NOT_APPLICABLE, None
    applicable = [vote for vote in votes if vote != NOT_APPLICABLE]
    if spec.scale == "binary":
        counts = Counter(applicable)
        for option in (True, False):
            if counts[option] * 2 > panel:
                return option, None
        return None, f"no majority among {panel} judges (votes: {_describe(votes)})"
    if len(applicable) * 2 > panel:
        return int(statistics.median_low(applicable)), None
    return None, f"no majority among {panel} judges (votes: {_describe(votes)})"


def _describe(votes: list[Vote]) -> str:
    return ", ".join(f"{vote}: {count}" for vote, count in Counter(map(str, votes)).items())


def pairwise_agreement(verdicts: list[Verdict]) -> float | None:
    """Share of judge pairs that cast the same vote, over all questions (None: no pairs)."""
    agree = total = 0
    for verdict in verdicts:
        votes = [answer.vote for answer in verdict.answers if answer.vote is not None]
        for first, second in combinations(votes, 2):
            total += 1
            agree += first == second and type(first) is type(second)
    return None if total == 0 else agree / total


def _unique_names(models: list[Model]) -> list[str]:
    names: list[str] = []
    for model in models:
        name = str(model)
        candidate, suffix = name, 2
        while candidate in names:
            candidate, suffix = f"{name}#{suffix}", suffix + 1
        names.append(candidate)
    return names


@dataclass
class Panel:
    """The judges bound to the grader role and how they are asked.

    Args:
        models: The judges (one model, or a jury).
        mode: "json" (schema-validated verdicts) or "logprobs" (answer-word probabilities).
        config: Grading defaults (temperature 0, a seed); settings given with the role
            (`--model-role 'grader={model: ..., temperature: ...}'`) take precedence.
        retries: Re-asks after an unusable reply (so at most `retries + 1` replies).
        system_message: Optional system message before each prompt.
        structured: Ask providers that support it for schema-constrained JSON.
        cache: Cache judge calls (Inspect's model cache) so a re-run re-uses verdicts.
    """

    models: list[Model]
    mode: Mode = "json"
    config: GenerateConfig = field(default_factory=GenerateConfig)
    retries: int = 2
    system_message: str | None = None
    structured: bool = False
    cache: bool = False
    names: list[str] = field(init=False)

    def __post_init__(self) -> None:
        if not self.models:
            raise ValueError("a panel needs at least one judge")
        if self.retries < 0:
            raise ValueError(f"retries must be >= 0, got {self.retries}")
        self.names = _unique_names(self.models)

    @classmethod
    def from_role(cls, *, required: bool = False, **options: object) -> Panel:
        """The judge (or jury) bound to the grader role, resolved at scoring time.

        Unbound, the evaluated model grades itself; that is allowed (as in Inspect's
        own model-graded scorers) but logged as a warning, and `required=True` forbids it
        with a `ConfigError` that says how to bind one.
        """
        bound = model_roles().get(GRADER_ROLE)
        if isinstance(bound, list):
            models = list(bound)
        else:
            if bound is None and required:
                raise ConfigError(
                    "no model is bound to the 'grader' role, and this task does not let the "
                    "evaluated model grade itself; pass --model-role grader=MODEL (offline: "
                    "--model-role grader=reference-grader/diagnosis, a rule, not a judge)"
                )
            if bound is None and not _warned:
                _warned.append(True)
                logger.warning(
                    "no model is bound to the 'grader' role, so the evaluated model grades "
                    "itself; pass --model-role grader=MODEL"
                )
            models = [get_model(role=GRADER_ROLE)]
        return cls(models=models, **options)  # type: ignore[arg-type]

    def _settings(self, model: Model) -> GenerateConfig:
        """The grading defaults under the judge's own settings (those bound with the role win)."""
        return self.config.merge(model.config)

    def settings(self) -> dict[str, dict[str, float | int | None]]:
        """What each judge is asked with: temperature, seed and max_tokens (None: provider default).

        Recorded with every score, because a setting bound with the role overrides the
        scorer's defaults and the log would otherwise show only the defaults.
        """
        return {
            name: {key: getattr(self._settings(model), key) for key in RECORDED_SETTINGS}
            for model, name in zip(self.models, self.names, strict=True)
        }

    def _config(self, model: Model, spec: AnswerSpec) -> GenerateConfig:
        config = self._settings(model)
        if config.temperature == 0 and getattr(model.api, "do_sample", False) is True:
            # transformers refuses temperature 0 when sampling; greedy decoding is the
            # deterministic equivalent, but only the model's own args can select it
            raise ConfigError(
                f"judge {model} samples (hf do_sample=true) but grading uses temperature 0; "
                "bind it with greedy decoding: --model-role "
                "'grader={model: hf/NAME, model_args: {model_path: PATH, do_sample: false}}'"
            )
        if self.mode == "logprobs":
            return config.merge(GenerateConfig(logprobs=True, top_logprobs=TOP_LOGPROBS))
        if self.structured:
            schema = ResponseSchema(name="verdict", json_schema=json_schema(spec.model))
            return config.merge(GenerateConfig(response_schema=schema))
        return config

    async def ask(self, question: Question) -> Verdict:
        """Every judge's answer to `question`, concurrently, and the panel's verdict."""
        answers = await asyncio.gather(
            *(
                self._ask_one(model, name, question)
                for model, name in zip(self.models, self.names, strict=True)
            )
        )
        vote, failure = combine(list(answers), question.spec)
        return Verdict(question, vote, list(answers), failure)

    async def _ask_one(self, model: Model, name: str, question: Question) -> JudgeAnswer:
        messages: list[ChatMessage] = [ChatMessageUser(content=question.prompt)]
        if self.system_message:
            messages.insert(0, ChatMessageSystem(content=self.system_message))
        config = self._config(model, question.spec)
        answer = JudgeAnswer(judge=name, reading=None)
        for attempt in range(self.retries + 1):
            output = await model.generate(messages, config=config, cache=self.cache)
            answer.raw.append(output.completion)
            try:
                if output.stop_reason == "content_filter":
                    raise VerdictError("the reply was refused or filtered")
                answer.reading = (
                    read_logprobs(output, question.spec)
                    if self.mode == "logprobs"
                    else read_json(output.completion, question.spec)
                )
                answer.error = None
                return answer
            except VerdictError as error:
                answer.error = f"attempt {attempt + 1}: {error}"
                if error.fatal:
                    return answer
                messages = [
                    *messages,
                    output.message,
                    ChatMessageUser(content=reask_prompt(str(error), self.mode)),
                ]
        return answer
