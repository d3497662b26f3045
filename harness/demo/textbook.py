"""The demo base model's pretraining: what a textbook and a few worked examples teach.

A real study fine-tunes a model that already knows medicine and how to answer, and DIQ
scores the pool with it (difficulty and influence are measured at the base). The
demo's base is pretrained on

- short prose about every condition of the world: its findings (discriminating and
  supportive alike, so the base cannot tell which findings decide a hard case), its
  look-alikes, red flag and management;
- multiple-choice questions about red flags, management and guidelines, in the
  evaluation's prompt format, answered on an `ANSWER:` line, half of them followed by
  reasoning in the world's steps;
- worked easy cases (levels 1-2) of the conditions no evaluation item asks about.

So the base knows the question, answer and reasoning formats and how to read an easy
vignette, but it has never seen a case of an evaluated condition nor a hard case: that
is what fine-tuning teaches.
"""

from __future__ import annotations

import random

from harness.demo.cases import answer, answer_line, join, make_case, mcq_options, reasoning
from harness.demo.conditions import CONDITIONS, NONSPECIFIC, NOT_EVALUATED, Condition
from harness.models.tiny import Document
from tasks.mcq import render_prompt

PASSAGES = 12  # prose passages per condition
QUESTION_ROUNDS = 2  # each question asked twice, with other options
WORKED_EXAMPLES = 10  # easy cases per condition no evaluation item asks about


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def passage(rng: random.Random, condition: Condition) -> str:
    """A few sentences about a condition, stated from the condition to its findings.

    The textbook says what a condition presents with, never which condition findings
    suggest: reading a diagnosis off a patient's findings is learned from cases.
    """
    findings = [*condition.key, *condition.supportive]
    name = condition.name
    sentences = [
        f"Patients with {name} present with {join(rng.sample(findings, len(findings)))}.",
        f"The differential diagnosis of {name} includes {join(condition.look_alikes)}.",
        f"In {name}, a red flag is {condition.red_flag}.",
        f"Management of {name}: {condition.management} ({condition.evidence}).",
        f"{_capital(join(rng.sample(NONSPECIFIC, 2)))} are common in many conditions.",
    ]
    return " ".join(rng.sample(sentences, rng.randint(2, 4)))


def questions(rng: random.Random, condition: Condition) -> list[tuple[str, str]]:
    """Multiple-choice questions about a condition's red flag, management and guideline."""
    stems = (
        (f"Which condition has the red flag {condition.red_flag}?", condition.red_flag),
        (f"Which condition is managed with {condition.management}?", condition.management),
        (f"Which condition does the {condition.evidence} cover?", condition.evidence),
    )
    exchanges = []
    for stem, clue in stems:
        options, _ = mcq_options(rng, condition)
        reply = answer_line(condition.name)
        if rng.random() < 0.5:  # answers stand alone or come with their reasoning
            reply += "\n\n" + reasoning([clue], condition, rng.randint(1, 3))
        exchanges.append((render_prompt(stem, options), reply))
    return exchanges


def worked_examples(rng: random.Random, condition: Condition) -> list[tuple[str, str]]:
    """Easy cases (levels 1-2) of a condition, answered, every other one with reasoning."""
    exchanges = []
    for index in range(WORKED_EXAMPLES):
        case = make_case(rng, 1 + index % 2, condition)
        options, _ = mcq_options(rng, condition)
        exchanges.append((render_prompt(case.question(), options), answer(case, bool(index % 2))))
    return exchanges


def textbook(seed: int = 0) -> list[Document]:
    """The base model's pretraining documents, in a seeded order."""
    rng = random.Random(f"textbook:{seed}")
    documents: list[Document] = [
        passage(rng, condition) for condition in CONDITIONS for _ in range(PASSAGES)
    ]
    documents += [
        exchange
        for condition in CONDITIONS
        for _ in range(QUESTION_ROUNDS)
        for exchange in questions(rng, condition)
    ]
    documents += [
        exchange for condition in NOT_EVALUATED for exchange in worked_examples(rng, condition)
    ]
    rng.shuffle(documents)
    return documents
