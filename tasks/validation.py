"""Validation items for the influence step: k items per benchmark, never evaluated.

DIQ's influence score is the dot product of a training sample's gradient with the mean
gradient of a small validation set drawn from the downstream tasks (20 per task in the
paper). Each drawn item becomes a training-style record whose prompt is exactly what
the task shows the model and whose completion is the answer line the scorer expects.
The same file, passed to every task as `-T exclude=FILE`, keeps these items out of the
evaluation, and out of the judged tasks built from the same benchmarks' items
(`tasks.exclusions` keys each item on its benchmark, which is the task name here).
"""

from __future__ import annotations

import random
from typing import Any

from inspect_ai.dataset import Sample

from harness.core.errors import ConfigError
from tasks.mcq import render_prompt


def _prompt(sample: Sample, task: str) -> str:
    if sample.choices:
        return render_prompt(str(sample.input), list(sample.choices))
    if task == "medcalc_bench":
        from tasks.medcalc_bench import TEMPLATE

        return TEMPLATE.format(prompt=sample.input)
    raise ConfigError(f"cannot draw validation items from task {task!r}: no prompt rule for it")


def validation_record(task: str, sample: Sample) -> dict[str, Any]:
    """One drawn item as a pool-compatible record (plus `task` and `sample_id`)."""
    target = sample.target if isinstance(sample.target, str) else ",".join(sample.target)
    return {
        "task": task,
        "sample_id": str(sample.id),
        "id": f"{task}:{sample.id}",
        "question": _prompt(sample, task),
        "reasoning": "",
        "response": f"ANSWER: {target}",
        "source": task,
        "meta": {
            "target": target,
            **{
                k: v for k, v in (sample.metadata or {}).items() if isinstance(v, str | int | float)
            },
        },
    }


def draw_validation(
    samples_by_task: dict[str, list[Sample]], per_task: int, seed: int
) -> list[dict[str, Any]]:
    """`per_task` items from each task, drawn with a seed per task (independent of the others)."""
    if per_task < 1:
        raise ConfigError(f"--per-task must be at least 1, got {per_task}")
    rows: list[dict[str, Any]] = []
    for task in sorted(samples_by_task):
        samples = sorted(samples_by_task[task], key=lambda s: str(s.id))
        if len(samples) < per_task:
            raise ConfigError(f"{task} has {len(samples)} items, fewer than --per-task {per_task}")
        drawn = random.Random(f"{seed}:{task}").sample(samples, per_task)
        rows.extend(validation_record(task, sample) for sample in drawn)
    return rows
