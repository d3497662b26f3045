"""A synthetic clinical world: cases with controllable difficulty, redundancy and label noise.

Everything here is generated and marked synthetic (ids start with `syn-`, `source` is
`synthetic`, and every record carries `meta.synthetic = true`); no real patient or
benchmark text is involved. A case is a patient with a condition and a set of findings;
its *difficulty level* (1-5) controls how many discriminating findings it shows and how
many misleading ones (findings of look-alike conditions) and nonspecific ones it adds,
and how long the reasoning that resolves it is. The training pool mixes open-ended
records (question, chain of thought, answer: the medical-o1 shape) with
multiple-choice records in the evaluation prompt format that answer directly (the
MedMCQA shape), plus near-duplicates of easy
cases (redundancy) and records whose final answer contradicts their reasoning (label
noise). `WorldConfig` sets the mix of difficulty levels in the pool and both rates.
Evaluation items are fresh cases from a disjoint seed stream, balanced over the levels;
the same items serve the open-ended evaluation (`clinical_reasoning -T source=synthetic`
asks them without their options).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from harness.core.errors import ConfigError
from harness.core.records import PoolRecord
from harness.demo.conditions import BY_NAME, COMORBIDITIES, CONDITIONS, NONSPECIFIC, Condition
from tasks.items import LETTERS
from tasks.mcq import render_prompt

OPEN_QUESTION = "What is the most likely diagnosis, and what is the next step in management?"
MCQ_QUESTION = "Which of the following is the most likely diagnosis?"

# (key, supportive, nonspecific, look-alike findings, comorbidities) shown at each level
LEVELS: dict[int, tuple[int, int, int, int, int]] = {
    1: (3, 1, 0, 0, 0),
    2: (2, 1, 1, 0, 1),
    3: (1, 2, 2, 0, 1),
    4: (1, 1, 2, 1, 2),
    5: (1, 0, 3, 2, 2),
}


@dataclass(frozen=True)
class Case:
    """A generated patient: condition, difficulty level and the findings shown."""

    id: str
    condition: Condition
    level: int
    age: int
    sex: str
    findings: tuple[str, ...]
    misleading: tuple[str, ...]
    comorbidities: tuple[str, ...]

    @property
    def pronoun(self) -> str:
        """He or She."""
        return "He" if self.sex == "man" else "She"

    def vignette(self) -> str:
        """The case as a short clinical vignette."""
        shown = list(self.findings) + list(self.misleading)
        presenting, rest = shown[0], shown[1:]
        text = f"A {self.age}-year-old {self.sex} presents with {presenting}."
        if rest:
            text += f" {self.pronoun} also has {_join(rest)}."
        if self.comorbidities:
            text += f" Past history includes {_join(self.comorbidities)}."
        return text


def _join(items: list[str] | tuple[str, ...]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


@dataclass(frozen=True)
class WorldConfig:
    """Sizes and rates of the generated world.

    Attributes:
        pool_size: training records (near-duplicates included).
        mcq_fraction: share of pool cases written as multiple-choice records.
        difficulty_mix: relative weights of difficulty levels 1-5 among the pool's cases
            (uniform by default; e.g. (4, 3, 2, 1, 0) for a pool short of hard cases).
        duplicate_rate: chance that an easy case (level <= 2) gets 1-3 near-duplicates.
        noise_rate: chance that a case's answer is a look-alike's (its reasoning is not).
        mcq_eval: evaluation items, levels 1-5 in turn.
        seed: the same config and seed give the same world.
    """

    pool_size: int = 480
    mcq_fraction: float = 0.5
    difficulty_mix: tuple[float, float, float, float, float] = (1.0, 1.0, 1.0, 1.0, 1.0)
    duplicate_rate: float = 0.3
    noise_rate: float = 0.08
    mcq_eval: int = 120
    seed: int = 0

    def __post_init__(self) -> None:
        mix = self.difficulty_mix
        if len(mix) != len(LEVELS) or min(mix) < 0 or sum(mix) <= 0:
            raise ConfigError(
                f"difficulty mix must be {len(LEVELS)} non-negative weights (levels 1-5) "
                f"with a positive sum, not {tuple(mix)}"
            )
        for name in ("mcq_fraction", "duplicate_rate", "noise_rate"):
            if not 0 <= getattr(self, name) <= 1:
                raise ConfigError(f"{name} must be between 0 and 1, not {getattr(self, name)}")


def make_case(
    rng: random.Random, case_id: str, level: int, condition: Condition | None = None
) -> Case:
    """A random patient of the given difficulty level."""
    condition = condition or rng.choice(CONDITIONS)
    n_key, n_supportive, n_nonspecific, n_misleading, n_comorbid = LEVELS[level]
    key = sorted(rng.sample(condition.key, n_key), key=condition.key.index)  # symptoms lead
    supportive = rng.sample(condition.supportive, min(n_supportive, len(condition.supportive)))
    nonspecific = rng.sample(NONSPECIFIC, n_nonspecific)
    look_alikes = rng.sample(condition.look_alikes, n_misleading)
    misleading = tuple(rng.choice(BY_NAME[name].supportive) for name in look_alikes)
    findings = [*key, *supportive, *nonspecific]
    rng.shuffle(findings)
    if key:  # the presenting complaint is always a real finding of the condition
        findings.remove(key[0])
        findings.insert(0, key[0])
    return Case(
        id=case_id,
        condition=condition,
        level=level,
        age=rng.randint(*condition.ages),
        sex=rng.choice(condition.sexes),
        findings=tuple(findings),
        misleading=misleading,
        comorbidities=tuple(rng.sample(COMORBIDITIES, n_comorbid)),
    )


def reasoning(case: Case) -> str:
    """The chain of thought that resolves a case; longer and more careful at higher levels."""
    condition = case.condition
    key = [f for f in case.findings if f in condition.key]
    steps = [f"Key findings: {_join(key)}. These point to {condition.name}."]
    noise = [f for f in case.findings if f in NONSPECIFIC]
    if case.level >= 3 and noise:
        steps.append(f"Nonspecific: {_join(noise)}.")
    for name in condition.look_alikes[: 1 + case.level // 2]:
        steps.append(f"Not {name}: no {BY_NAME[name].key[0].split(' with ')[0]}.")
    if case.misleading:
        steps.append(f"Misleading: {_join(case.misleading)}, seen in look-alikes.")
    if case.level >= 2:
        steps.append(f"Red flag: {condition.red_flag}.")
    steps.append(f"Next step ({condition.evidence}): {condition.management}.")
    return " ".join(steps)


def answer(condition: Condition) -> str:
    """The final answer of an open-ended record."""
    return f"The most likely diagnosis is {condition.name}. Next step: {condition.management}."


def mcq_options(rng: random.Random, condition: Condition, n: int = 5) -> tuple[list[str], int]:
    """The correct diagnosis, its look-alikes and random others, shuffled; returns (options, answer)."""
    others = [
        c.name
        for c in CONDITIONS
        if c.name != condition.name and c.name not in condition.look_alikes
    ]
    options = [
        condition.name,
        *condition.look_alikes[: n - 2],
        *rng.sample(others, n - 1 - min(n - 2, len(condition.look_alikes))),
    ]
    rng.shuffle(options)
    return options, options.index(condition.name)


def _meta(case: Case, **extra: Any) -> dict[str, Any]:
    return {"synthetic": True, "condition": case.condition.name, "level": case.level, **extra}


def pool_record(rng: random.Random, case: Case, mcq: bool, noisy: bool) -> PoolRecord:
    """A training record for a case: open-ended or in the evaluation's multiple-choice format."""
    condition = case.condition
    shown = BY_NAME[rng.choice(condition.look_alikes)] if noisy else condition
    if mcq:
        # answered with the option's text: a tiny model learns findings -> diagnosis long
        # before it learns to look up letters, and the scorer maps option text to its letter
        options, _ = mcq_options(rng, condition)
        question = render_prompt(f"{case.vignette()} {MCQ_QUESTION}", options)
        response = f"ANSWER: {shown.name}"
    else:
        question = f"{case.vignette()} {OPEN_QUESTION}"
        response = answer(shown)
    return PoolRecord(
        id=case.id,
        question=question,
        reasoning="" if mcq else reasoning(case),  # MCQ rows answer directly, like MedMCQA
        response=response,
        source="synthetic",
        # the true diagnosis, as real pools carry a reference answer (medical-o1's
        # "Ground-True Answer"); the data-quality judge checks the response against it
        meta=_meta(case, format="mcq" if mcq else "open", noisy=noisy, reference=condition.name),
    )


@dataclass
class World:
    """The generated pool and evaluation items."""

    pool: list[PoolRecord] = field(default_factory=list)
    mcq_items: list[dict[str, Any]] = field(default_factory=list)


def _draw_level(rng: random.Random, mix: tuple[float, ...]) -> int:
    """A difficulty level drawn with the mix's weights.

    A uniform mix draws as the world did before the mix existed (`randint`), so the
    default world, and the demo figures quoted in the README, stay as they were.
    """
    if len(set(mix)) == 1:
        return rng.randint(1, len(LEVELS))
    [level] = rng.choices(sorted(LEVELS), weights=mix)
    return level


def generate_world(config: WorldConfig = WorldConfig()) -> World:
    """Build the pool and the evaluation items; the same config gives the same world."""
    world = World()
    rng = random.Random(f"pool:{config.seed}")
    index = 0
    while len(world.pool) < config.pool_size:
        level = _draw_level(rng, config.difficulty_mix)
        case = make_case(rng, f"syn-pool-{index:05d}", level)
        index += 1
        mcq = rng.random() < config.mcq_fraction
        world.pool.append(pool_record(rng, case, mcq, noisy=rng.random() < config.noise_rate))
        if level <= 2 and rng.random() < config.duplicate_rate:
            for copy in range(rng.randint(1, 3)):  # near-duplicates: same findings, new age
                twin = Case(
                    **{
                        **case.__dict__,
                        "id": f"{case.id}-dup{copy}",
                        "age": rng.randint(*case.condition.ages),
                    }
                )
                record = pool_record(rng, twin, mcq, noisy=False)
                world.pool.append(
                    PoolRecord(
                        **{**record.__dict__, "meta": {**record.meta, "duplicate_of": case.id}}
                    )
                )
    world.pool = world.pool[: config.pool_size]

    rng = random.Random(f"eval:{config.seed}")
    for i in range(config.mcq_eval):
        case = make_case(rng, f"syn-mcq-{i:04d}", 1 + i % 5)
        options, correct = mcq_options(rng, case.condition)
        world.mcq_items.append(
            {
                "id": case.id,
                "question": f"{case.vignette()} {MCQ_QUESTION}",
                "options": {LETTERS[j]: option for j, option in enumerate(options)},
                "answer_idx": LETTERS[correct],
                "meta_info": f"level-{case.level}",
                "synthetic": True,
            }
        )
    return world
