"""Synthetic multiple-choice items written by `diq demo` (generated cases, no real patients).

File layout: JSONL with `id`, `question`, `options` {A..}, `answer_idx`, `meta_info`
(the case's difficulty level) and `synthetic: true`. Used by the embedded demo so the
whole study runs offline; accuracy is grouped by difficulty level.
"""

from __future__ import annotations

from pathlib import Path

from inspect_ai import Task, task

from harness.core.errors import InputError
from harness.core.inspect_names import namespaced
from harness.core.io import iter_jsonl
from tasks.items import MCQItem, check_loaded
from tasks.mcq import mcq_task
from tasks.medqa import medqa_item


def load_synthetic(path: str) -> tuple[list[MCQItem], str]:
    """Items of a synthetic MCQ file; every row must carry an `id` and `synthetic: true`."""
    items = []
    for line, row in iter_jsonl(path):
        if row.get("synthetic") is not True:
            raise InputError(
                "not a synthetic item (expected synthetic: true)",
                path=path,
                line=line,
                field="synthetic",
            )
        if not row.get("id"):
            raise InputError("missing field", path=path, line=line, field="id")
        item = medqa_item(row, path, line)
        items.append(
            MCQItem(**{**item.__dict__, "id": str(row["id"]), "benchmark": "synthetic_mcq"})
        )
    return check_loaded(items, path), str(Path(path).resolve())


@task(name=namespaced("tasks", "synthetic_mcq"))
def synthetic_mcq(
    path: str,
    cot: bool = False,
    shuffle: bool = False,
    seed: int = 0,
    exclude: str | None = None,
    max_tokens: int | None = None,
) -> Task:
    """Synthetic diagnosis questions from the demo world; accuracy by difficulty level."""
    items, location = load_synthetic(path)
    return mcq_task(
        name="synthetic_mcq",
        items=items,
        location=location,
        cot=cot,
        shuffle=shuffle,
        seed=seed,
        exclude=exclude,
        max_tokens=max_tokens,
        by_subject=True,
        metadata={"synthetic": True},
    )
