"""MedXpertQA Text: expert-level, 10-option medical questions.

Two local subsets, named as what they are:
- `subset-1449`: `medxpertqa/MedXpertQA_test.jsonl`, ids Text-1001..Text-2449, a
  1,449-question SUBSET of the 2,450-question Text test set (options {A..J}, `label`);
- `sampled-244`: `medxpertqa/medxpertqa_sampled_text_input.jsonl`, the official ~10%
  sample (options as a list of {letter, content}, `label` a one-element list, the
  options also appended to the question, which we strip because we render them).
- `full-2450`: the whole Text test set, from the pinned Hugging Face copy (or a local
  export of it in the {A..J} layout with `-T path=`).
The subset name goes into every sample and the log, so a local file must be the subset
it is named as: its layout and question count are checked, and a mismatch is an error
that names the subset the file does hold (e.g. `-T path=...sampled_text_input.jsonl`
without `-T subset=sampled-244`).
The two local subsets are partial sets, so their tasks record a `coverage` (1449 or 244
of 2450, `tasks.coverage`); `full-2450` has none.
Accuracy is grouped by question type (Reasoning / Understanding), as the paper reports.
Loader for other modules: `load_medxpertqa(subset, path) -> (items, location)`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from inspect_ai import Task, task

from harness.core.errors import InputError, Where
from harness.core.inspect_names import namespaced
from harness.core.io import iter_jsonl
from tasks._data import HFSource, hf_rows, local_file
from tasks.coverage import coverage_metadata
from tasks.items import LETTERS, MCQItem, check_loaded
from tasks.mcq import mcq_task

SUBSET_FILES = {
    "subset-1449": "medxpertqa/MedXpertQA_test.jsonl",
    "sampled-244": "medxpertqa/medxpertqa_sampled_text_input.jsonl",
}
FULL = "full-2450"
# What each subset looks like on disk: its options layout and its number of questions.
SUBSET_SHAPES = {"subset-1449": ("dict", 1449), "sampled-244": ("list", 244), FULL: ("dict", 2450)}
PUBLISHED = SUBSET_SHAPES[FULL][1]  # questions in the MedXpertQA Text test set
# What part of the Text test set each partial subset is, for the task's `coverage`.
COVERAGE_NOTES = {
    "subset-1449": "MedXpertQA Text test: ids {first}..{last}, {items} of {published}",
    "sampled-244": "MedXpertQA Text test: the official ~10% sample, {items} of {published}",
    FULL: "MedXpertQA Text test: {items} of {published}",
}
HF = HFSource(
    "TsinghuaC3I/MedXpertQA",
    name="Text",
    split="test",
    revision="7e7c465a68eb2b866926bfa59c8c9d17a8daba65",
)
APPENDED_CHOICES = re.compile(r"\s*Answer Choices:.*\Z", re.DOTALL)


def _options(value: Any, where: Where) -> dict[str, str]:
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, list) and all(
        isinstance(o, dict) and {"letter", "content"} <= set(o) for o in value
    ):
        return {str(o["letter"]): str(o["content"]) for o in value}
    raise where.error("expected options as {letter: text} or [{letter, content}]", field="options")


def medxpertqa_item(
    row: dict[str, Any], subset: str, source: str, line: int | None = None
) -> MCQItem:
    """One MedXpertQA row (either upstream layout) as an item."""
    where = Where(source, line, str(row.get("id")))
    for field in ("id", "question", "options", "label"):
        if row.get(field) in (None, "", []):
            raise where.error("missing field", field=field)
    options = _options(row["options"], where)
    letters = sorted(options)
    if letters != list(LETTERS[: len(letters)]):
        raise where.error(f"option letters must be A.. in order, got {letters}", field="options")
    label = row["label"]
    if isinstance(label, list):
        if len(label) != 1:
            raise where.error(f"expected one correct letter, got {label}", field="label")
        label = label[0]
    if label not in options:
        raise where.error(f"label {label!r} is not an option", field="label")
    return MCQItem(
        id=str(row["id"]),
        question=APPENDED_CHOICES.sub("", str(row["question"])),
        choices=[options[letter] for letter in letters],
        answer=letters.index(label),
        benchmark="medxpertqa",
        split=subset,
        subject=row.get("question_type") or None,
        metadata={
            "medical_task": row.get("medical_task", ""),
            "body_system": row.get("body_system", ""),
        },
        line=line,
    )


def check_subset(rows: list[dict[str, Any]], subset: str, file: Path) -> None:
    """Fail unless the rows of `file` have the layout and size of `subset`."""
    layout = "list" if rows and isinstance(rows[0].get("options"), list) else "dict"
    shape = (layout, len(rows))
    if shape == SUBSET_SHAPES[subset]:
        return
    held = [name for name, expected in SUBSET_SHAPES.items() if expected == shape]
    hint = f"; pass -T subset={held[0]}" if held else ""
    raise InputError(
        f"{len(rows)} questions with options as a {layout}, but subset {subset!r} has "
        f"{SUBSET_SHAPES[subset][1]} with options as a {SUBSET_SHAPES[subset][0]}{hint}",
        path=file,
        field="subset",
    )


def load_medxpertqa(
    subset: str = "subset-1449", path: str | None = None
) -> tuple[list[MCQItem], str]:
    """Items of a named subset from `path`, `$DIQ_DATA_DIR`, or (full-2450) the pinned HF copy."""
    if subset not in (*SUBSET_FILES, FULL):
        raise InputError(
            f"unknown subset {subset!r}; choose from {', '.join([*SUBSET_FILES, FULL])}",
            field="subset",
        )
    relative = SUBSET_FILES.get(subset)
    file = local_file(path, relative or "", "medxpertqa") if path or relative else None
    if file is not None:
        rows = list(iter_jsonl(file))
        items = [medxpertqa_item(row, subset, str(file), line) for line, row in rows]
        checked = check_loaded(items, str(file))
        check_subset([row for _, row in rows], subset, file)
        return checked, str(Path(file).resolve())
    if relative is not None:
        raise InputError(
            f"medxpertqa subset {subset!r} exists only as a local file; set DIQ_DATA_DIR, pass -T path=, "
            f"or use -T subset={FULL} for the Hugging Face copy"
        )
    items = [medxpertqa_item(row, subset, HF.describe()) for row in hf_rows(HF, "medxpertqa")]
    return check_loaded(items, HF.describe()), HF.describe()


@task(name=namespaced("tasks", "medxpertqa"))
def medxpertqa(
    subset: str = "subset-1449",
    path: str | None = None,
    cot: bool = False,
    shuffle: bool = False,
    seed: int = 0,
    exclude: str | None = None,
    max_tokens: int | None = None,
) -> Task:
    """MedXpertQA Text (`-T subset=subset-1449|sampled-244|full-2450`); accuracy by question type."""
    items, location = load_medxpertqa(subset, path)
    return mcq_task(
        name="medxpertqa",
        items=items,
        location=location,
        cot=cot,
        shuffle=shuffle,
        seed=seed,
        exclude=exclude,
        max_tokens=max_tokens,
        by_subject=True,
        metadata={"subset": subset, **subset_coverage(subset, items)},
    )


def subset_coverage(subset: str, items: list[MCQItem]) -> dict[str, Any]:
    """The `coverage` metadata of a partial subset (none for the whole Text test set)."""
    note = COVERAGE_NOTES[subset].format(
        first=items[0].id, last=items[-1].id, items=len(items), published=PUBLISHED
    )
    return coverage_metadata(len(items), PUBLISHED, note)
