"""Patients of the synthetic world, and how their questions and answers are written.

A case is a patient with a condition and a set of findings; its *difficulty level*
(1-5) controls how many discriminating (key) findings it shows and how many misleading
ones (supportive findings of look-alike conditions), nonspecific ones and comorbidities
it adds. Misleading findings and options stay within a condition's group (the evaluated
conditions, or the others), so cases of the two groups share no finding but the
nonspecific ones. A case is asked as a multiple-choice question in the
evaluation's prompt format (`tasks.mcq.render_prompt`) and answered on one line,
`ANSWER: <diagnosis>` (the option's text, which the evaluation's scorer maps to its
letter), optionally followed by the reasoning, in fixed steps.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from harness.demo.conditions import (
    BY_NAME,
    COMORBIDITIES,
    EVALUATED,
    NONSPECIFIC,
    NOT_EVALUATED,
    Condition,
)

MCQ_QUESTION = "Which of the following is the most likely diagnosis?"
OPTIONS = 5

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
            text += f" {self.pronoun} also has {join(rest)}."
        if self.comorbidities:
            text += f" Past history includes {join(self.comorbidities)}."
        return text

    def question(self) -> str:
        """The multiple-choice question about the case, without its options."""
        return f"{self.vignette()} {MCQ_QUESTION}"


def join(items: list[str] | tuple[str, ...]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _shuffled(rng: random.Random, items: list[str]) -> list[str]:
    rng.shuffle(items)
    return items


def group(condition: Condition) -> tuple[Condition, ...]:
    """The conditions a case's options and look-alikes come from: the evaluated or the others."""
    return EVALUATED if condition in EVALUATED else NOT_EVALUATED


def look_alikes(condition: Condition) -> list[str]:
    """The condition's look-alikes within its group, so the two groups share no finding."""
    names = {c.name for c in group(condition)}
    return [name for name in condition.look_alikes if name in names]


def make_case(rng: random.Random, level: int, condition: Condition) -> Case:
    """A random patient with `condition` at the given difficulty level."""
    n_key, n_supportive, n_nonspecific, n_misleading, n_comorbid = LEVELS[level]
    key = sorted(rng.sample(condition.key, n_key), key=condition.key.index)  # symptoms lead
    supportive = rng.sample(condition.supportive, min(n_supportive, len(condition.supportive)))
    nonspecific = rng.sample(NONSPECIFIC, n_nonspecific)
    similar = look_alikes(condition)
    misleading_from = rng.sample(similar, min(n_misleading, len(similar)))
    return Case(
        condition=condition,
        level=level,
        age=rng.randint(*condition.ages),
        sex=rng.choice(condition.sexes),
        # the presenting complaint is always a key finding of the condition
        findings=(key[0], *_shuffled(rng, [*key[1:], *supportive, *nonspecific])),
        misleading=tuple(rng.choice(BY_NAME[name].supportive) for name in misleading_from),
        comorbidities=tuple(rng.sample(COMORBIDITIES, n_comorbid)),
    )


def retell(rng: random.Random, case: Case) -> Case:
    """The same case told again: same findings, another age, sex and order (a near-copy)."""
    return Case(
        condition=case.condition,
        level=case.level,
        age=rng.randint(*case.condition.ages),
        sex=rng.choice(case.condition.sexes),
        findings=(case.findings[0], *_shuffled(rng, list(case.findings[1:]))),
        misleading=tuple(_shuffled(rng, list(case.misleading))),
        comorbidities=tuple(_shuffled(rng, list(case.comorbidities))),
    )


def mcq_options(rng: random.Random, condition: Condition) -> tuple[list[str], int]:
    """The diagnosis, its look-alikes and random others of its group, shuffled.

    An evaluation item's options are therefore all evaluated conditions. Returns the
    options and the index of the diagnosis.
    """
    similar = look_alikes(condition)[: OPTIONS - 2]
    others = [c.name for c in group(condition) if c != condition and c.name not in similar]
    options = [condition.name, *similar, *rng.sample(others, OPTIONS - 1 - len(similar))]
    rng.shuffle(options)
    return options, options.index(condition.name)


def answer_line(name: str) -> str:
    """The first line of every answer: the option's text."""
    return f"ANSWER: {name}"


def reasoning(
    findings: list[str],
    concluded: Condition,
    rule_outs: int,
    misleading: tuple[str, ...] = (),
    nonspecific: tuple[str, ...] = (),
) -> str:
    """Reasoning from `findings` to `concluded`, in the world's fixed steps.

    Steps: the findings and what they point to, `rule_outs` look-alikes ruled out by
    their first key finding, misleading and nonspecific findings set aside, the next step.
    """
    steps = [f"Key findings: {join(findings)}. These point to {concluded.name}."]
    for name in concluded.look_alikes[:rule_outs]:
        hallmark = BY_NAME[name].key[0].split(" with ")[0].removeprefix("a ").removeprefix("an ")
        steps.append(f"Not {name}: no {hallmark}.")
    if misleading:
        steps.append(f"Misleading: {join(misleading)}, seen in look-alikes.")
    if nonspecific:
        steps.append(f"Nonspecific: {join(nonspecific)}.")
    steps.append(f"Next step: {concluded.management}.")
    return " ".join(steps)


def case_reasoning(case: Case) -> str:
    """The reasoning that resolves a case: more look-alikes ruled out at higher levels."""
    return reasoning(
        [f for f in case.findings if f in case.condition.key],
        case.condition,
        1 + case.level // 2,
        case.misleading,
        tuple(f for f in case.findings if f in NONSPECIFIC),
    )


def answer(case: Case, explained: bool) -> str:
    """The answer to a case's question, with its reasoning after a blank line if `explained`."""
    line = answer_line(case.condition.name)
    return f"{line}\n\n{case_reasoning(case)}" if explained else line
