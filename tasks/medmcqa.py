"""MedMCQA, dev (validation) split: 4,183 questions from Indian medical entrance exams.

Upstream file: `medmcqa/dev.json`, JSON-lines despite the suffix, with `id`, `question`,
`opa..opd`, `cop` (1-based in the raw release; 0-based in the Hugging Face copy),
`exp`, `subject_name`, `topic_name`, `choice_type`. The test split has no public labels,
so dev is the evaluation split everyone reports.
Loader for other modules: `load_medmcqa(path) -> (items, location)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inspect_ai import Task, task

from harness.core.errors import Where
from harness.core.inspect_names import namespaced
from harness.core.io import iter_jsonl
from tasks._data import HFSource, hf_rows, local_file
from tasks.items import MCQItem, check_loaded
from tasks.mcq import mcq_task

RELATIVE_PATH = "medmcqa/dev.json"
HF = HFSource(
    "openlifescienceai/medmcqa",
    split="validation",
    revision="91c6572c454088bf71b679ad90aa8dffcd0d5868",
)
OPTION_FIELDS = ("opa", "opb", "opc", "opd")


def medmcqa_item(
    row: dict[str, Any], source: str, line: int | None = None, cop_base: int = 1
) -> MCQItem:
    """One upstream row as an item; `cop_base` is 1 for the raw files, 0 for the HF copy."""
    record = str(row.get("id")) if row.get("id") is not None else None
    where = Where(source, line, record)
    for field in ("id", "question", "cop", *OPTION_FIELDS):
        if row.get(field) is None:
            raise where.error("missing field", field=field)
    try:
        answer = int(row["cop"]) - cop_base
    except (TypeError, ValueError):
        raise where.error(f"cop must be an integer, got {row['cop']!r}", field="cop") from None
    if not 0 <= answer < len(OPTION_FIELDS):
        raise where.error(f"cop {row['cop']!r} is outside {cop_base}..{cop_base + 3}", field="cop")
    return MCQItem(
        id=str(row["id"]),
        question=str(row["question"]),
        choices=[str(row[field]) for field in OPTION_FIELDS],
        answer=answer,
        benchmark="medmcqa",
        split="dev",
        subject=row.get("subject_name") or None,
        explanation=row.get("exp") or None,
        metadata={
            "topic": row.get("topic_name") or "",
            "choice_type": row.get("choice_type") or "",
        },
        line=line,
    )


def load_medmcqa(path: str | None = None) -> tuple[list[MCQItem], str]:
    """MedMCQA dev items from `path`, `$DIQ_DATA_DIR`, or the pinned Hugging Face copy."""
    file = local_file(path, RELATIVE_PATH, "medmcqa", HF)
    if file is not None:
        items = [medmcqa_item(row, str(file), line) for line, row in iter_jsonl(file)]
        return check_loaded(items, str(file)), str(Path(file).resolve())
    items = [medmcqa_item(row, HF.describe(), cop_base=0) for row in hf_rows(HF, "medmcqa")]
    return check_loaded(items, HF.describe()), HF.describe()


@task(name=namespaced("tasks", "medmcqa"))
def medmcqa(
    path: str | None = None,
    cot: bool = False,
    shuffle: bool = False,
    seed: int = 0,
    exclude: str | None = None,
    max_tokens: int | None = None,
) -> Task:
    """MedMCQA dev (4,183); accuracy overall and by subject."""
    items, location = load_medmcqa(path)
    return mcq_task(
        name="medmcqa",
        items=items,
        location=location,
        cot=cot,
        shuffle=shuffle,
        seed=seed,
        exclude=exclude,
        max_tokens=max_tokens,
        by_subject=True,
    )
