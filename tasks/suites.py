"""Benchmark suites, declared in one place, and the paper's aggregate groupings.

DIQ reports three averages: AvgS over the standard sets (MedQA, MedMCQA, PubMedQA),
AvgC over six harder sets and AvgA over all nine. Only some of the paper's harder sets
are public and available here (MMLU-Pro health, MedXpertQA, MedBullets op4/op5); GPQA
medical, Lancet and NEJM are not, so our AvgC averages the harder sets we have, and the
report says which. This module is plain data (no Inspect import) so that reports can
read the groupings; `suite_samples` imports the tasks lazily.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SuiteTask:
    """One task of a suite: the registered task, its arguments, and its label in logs.

    `label` equals the Inspect task name the task produces (`medbullets` with
    `options=5` is `medbullets_op5`), which is also the key in exclusion files.
    Optional entries are skipped with a warning when their data cannot be found
    (MedBullets is user-supplied).
    """

    task: str
    label: str
    args: dict[str, Any] = field(default_factory=dict)
    optional: bool = False


@dataclass(frozen=True)
class Suite:
    """A named list of tasks."""

    name: str
    description: str
    tasks: tuple[SuiteTask, ...]


STANDARD = (
    SuiteTask("medqa", "medqa"),
    SuiteTask("medmcqa", "medmcqa"),
    SuiteTask("pubmedqa", "pubmedqa"),
)
CHALLENGING = (
    SuiteTask("mmlu_pro_health", "mmlu_pro_health"),
    SuiteTask("medxpertqa", "medxpertqa", {"subset": "subset-1449"}),
    SuiteTask("medbullets", "medbullets_op4", {"options": 4}, optional=True),
    SuiteTask("medbullets", "medbullets_op5", {"options": 5}, optional=True),
)
EXTRA = (
    SuiteTask("mmlu_medical", "mmlu_medical"),
    SuiteTask("medcalc_bench", "medcalc_bench"),
)

SUITES: dict[str, Suite] = {
    suite.name: suite
    for suite in (
        Suite("standard", "AvgS: MedQA, MedMCQA, PubMedQA (the paper's standard sets)", STANDARD),
        Suite(
            "challenging",
            "AvgC: the harder sets available here (MMLU-Pro health, MedXpertQA, MedBullets)",
            CHALLENGING,
        ),
        Suite("paper", "AvgA: standard + challenging", STANDARD + CHALLENGING),
        Suite(
            "all",
            "every benchmark: paper + MMLU medical + MedCalc-Bench",
            STANDARD + CHALLENGING + EXTRA,
        ),
        Suite("smoke", "two small, fast sets for smoke tests", (STANDARD[0], STANDARD[2])),
    )
}

# Aggregates reported next to per-benchmark numbers: name -> task labels averaged.
AGGREGATES: dict[str, tuple[str, ...]] = {
    "AvgS": tuple(t.label for t in STANDARD),
    "AvgC": tuple(t.label for t in CHALLENGING),
    "AvgA": tuple(t.label for t in STANDARD + CHALLENGING),
}


def get_suite(name: str) -> Suite:
    """A suite by name, with the known names in the error."""
    from harness.core.errors import ConfigError

    if name not in SUITES:
        raise ConfigError(f"unknown suite {name!r}; choose from {', '.join(SUITES)}")
    return SUITES[name]


def build_task(entry: SuiteTask, **overrides: Any) -> Any:
    """Construct the Inspect Task for one suite entry (imports the task module).

    Each override is passed only when the task function takes it (`cot` means nothing
    to MedCalc-Bench, for example).
    """
    registry = importlib.import_module("tasks._registry")
    task_function = getattr(registry, entry.task)
    accepted = inspect.signature(task_function).parameters
    return task_function(**{**entry.args, **{k: v for k, v in overrides.items() if k in accepted}})


def sample_text(sample: Any) -> str:
    """A sample's question as plain text with its options (what decontamination compares)."""
    text = (
        sample.input if isinstance(sample.input, str) else "\n".join(m.text for m in sample.input)
    )
    return "\n".join([text, *(sample.choices or [])])


def suite_texts(name: str) -> list[tuple[str, str, str]]:
    """`(task label, sample id, text)` for every evaluation question of a suite."""
    return [
        (label, str(sample.id), sample_text(sample))
        for label, samples in suite_samples(name).items()
        for sample in samples
    ]


def suite_samples(name: str) -> dict[str, list[Any]]:
    """Inspect Samples of every available task in a suite, keyed by task label.

    Optional tasks whose data is missing are left out. Used to draw validation items
    and to decontaminate training pools against evaluation texts.
    """
    from harness.core.errors import InputError

    result: dict[str, list[Any]] = {}
    for entry in get_suite(name).tasks:
        try:
            task = build_task(entry)
        except InputError:
            if entry.optional:
                continue
            raise
        result[entry.label] = list(task.dataset)
    return result
