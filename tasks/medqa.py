"""MedQA (USMLE, 4 options), test split: 1,273 questions.

Upstream file: `medqa/phrases_no_exclude_test.jsonl` (jind11/MedQA layout: `question`,
`options` {A..D}, `answer_idx`, `meta_info` = exam step). Upstream has no ids, so the id
is a content hash of the question and options, identical for the local file and the
Hugging Face copy. Loader for other modules: `load_medqa(path) -> (items, location)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inspect_ai import Task, task

from harness.core.errors import Where
from harness.core.inspect_names import namespaced
from harness.core.io import iter_jsonl
from tasks._data import HFSource, hf_rows, local_file
from tasks.items import LETTERS, MCQItem, check_loaded, content_id
from tasks.mcq import mcq_task

RELATIVE_PATH = "medqa/phrases_no_exclude_test.jsonl"
HF = HFSource(
    "GBaker/MedQA-USMLE-4-options",
    split="test",
    revision="0fb93dd23a7339b6dcd27e241cb9b5eca62d4d18",
)


def medqa_item(row: dict[str, Any], source: str, line: int | None = None) -> MCQItem:
    """One upstream MedQA row as an item."""
    where = Where(source, line)
    for field in ("question", "options", "answer_idx"):
        if field not in row:
            raise where.error("missing field", field=field)
    options = row["options"]
    if not isinstance(options, dict) or not options:
        raise where.error("expected an object of lettered options", field="options")
    letters = sorted(options)
    if letters != list(LETTERS[: len(letters)]):
        raise where.error(f"option letters must be A.. in order, got {letters}", field="options")
    if row["answer_idx"] not in options:
        raise where.error(f"answer_idx {row['answer_idx']!r} is not an option", field="answer_idx")
    choices = [str(options[letter]) for letter in letters]
    return MCQItem(
        id=content_id(row["question"], *choices),
        question=row["question"],
        choices=choices,
        answer=letters.index(row["answer_idx"]),
        benchmark="medqa",
        split="test",
        subject=row.get("meta_info") or None,
        line=line,
    )


def load_medqa(path: str | None = None) -> tuple[list[MCQItem], str]:
    """MedQA items from `path`, `$DIQ_DATA_DIR`, or the pinned Hugging Face copy."""
    file = local_file(path, RELATIVE_PATH, "medqa", HF)
    if file is not None:
        items = [medqa_item(row, str(file), line) for line, row in iter_jsonl(file)]
        return check_loaded(items, str(file)), str(Path(file).resolve())
    items = [medqa_item(row, HF.describe()) for row in hf_rows(HF, "medqa")]
    return check_loaded(items, HF.describe()), HF.describe()


@task(name=namespaced("tasks", "medqa"))
def medqa(
    path: str | None = None,
    cot: bool = False,
    shuffle: bool = False,
    seed: int = 0,
    exclude: str | None = None,
    max_tokens: int | None = None,
) -> Task:
    """MedQA USMLE 4-option test set (1,273); accuracy overall and by exam step."""
    items, location = load_medqa(path)
    return mcq_task(
        name="medqa",
        items=items,
        location=location,
        cot=cot,
        shuffle=shuffle,
        seed=seed,
        exclude=exclude,
        max_tokens=max_tokens,
        by_subject=True,
    )
