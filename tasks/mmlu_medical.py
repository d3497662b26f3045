"""MMLU, the six medical subjects of MultiMedQA: 1,089 test questions.

Upstream files: `mmlu_medical/<subject>_test.csv` (hendrycks/test layout, no header:
question, A, B, C, D, answer letter). MMLU has no ids; the id is the subject plus a
content hash of question and options (the same question text appears with different
options within a subject, so the options are part of the hash).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from inspect_ai import Task, task

from harness.core.errors import InputError
from harness.core.inspect_names import namespaced
from tasks._data import HFSource, as_list, hf_rows, local_file
from tasks.items import LETTERS, MCQItem, check_loaded, content_id
from tasks.mcq import mcq_task

SUBJECTS = (
    "anatomy",
    "clinical_knowledge",
    "college_biology",
    "college_medicine",
    "medical_genetics",
    "professional_medicine",
)
REVISION = "c30699e8356da336a370243923dbaf21066bb9fe"


def mmlu_item(
    subject: str, question: str, choices: list[str], answer: int, line: int | None = None
) -> MCQItem:
    """One MMLU question as an item."""
    return MCQItem(
        id=f"{subject}-{content_id(question, *choices, length=10)}",
        question=question,
        choices=choices,
        answer=answer,
        benchmark="mmlu_medical",
        split="test",
        subject=subject,
        line=line,
    )


def _read_csv(file: Path, subject: str) -> list[MCQItem]:
    items = []
    with file.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.reader(handle), start=1):
            if len(row) != 6:
                raise InputError(
                    f"expected 6 columns (question, A-D, answer), got {len(row)}",
                    path=file,
                    line=line,
                )
            answer = row[5].strip().upper()
            if answer not in LETTERS[:4]:
                raise InputError(
                    f"answer must be A-D, got {row[5]!r}", path=file, line=line, field="answer"
                )
            items.append(mmlu_item(subject, row[0], row[1:5], LETTERS.index(answer), line))
    return items


def _hf_source(subject: str) -> HFSource:
    return HFSource("cais/mmlu", name=subject, split="test", revision=REVISION)


def _hf_items(source: HFSource, subject: str) -> list[MCQItem]:
    rows: list[dict[str, Any]] = hf_rows(source, "mmlu_medical")
    return [
        mmlu_item(subject, row["question"], list(row["choices"]), int(row["answer"]))
        for row in rows
    ]


def _subject_items(subject: str, path: str | None) -> tuple[list[MCQItem], str]:
    """One subject's items, from `path` (a directory), `$DIQ_DATA_DIR`, or pinned HF."""
    source = _hf_source(subject)
    file = local_file(
        str(Path(path) / f"{subject}_test.csv") if path else None,
        f"mmlu_medical/{subject}_test.csv",
        "mmlu_medical",
        source,
    )
    if file is None:
        return check_loaded(_hf_items(source, subject), source.describe()), source.describe()
    return check_loaded(_read_csv(file, subject), str(file)), str(file.resolve())


def load_mmlu_medical(
    subjects: str | list[str] | None = None, path: str | None = None
) -> tuple[list[MCQItem], str]:
    """Items of the chosen subjects from `path` (a directory), `$DIQ_DATA_DIR`, or pinned HF."""
    chosen = list(dict.fromkeys(as_list(subjects))) or list(SUBJECTS)  # each subject once
    unknown = sorted(set(chosen) - set(SUBJECTS))
    if unknown:
        raise InputError(
            f"unknown subject(s) {unknown}; choose from {', '.join(SUBJECTS)}", field="subjects"
        )
    loaded = [_subject_items(subject, path) for subject in chosen]
    # ids start with the subject, so ids checked unique per file are unique overall
    items = [item for subject_items, _ in loaded for item in subject_items]
    return items, "; ".join(location for _, location in loaded)


@task(name=namespaced("tasks", "mmlu_medical"))
def mmlu_medical(
    subjects: str | list[str] | None = None,
    path: str | None = None,
    cot: bool = False,
    shuffle: bool = False,
    seed: int = 0,
    exclude: str | None = None,
    max_tokens: int | None = None,
) -> Task:
    """MMLU medical subjects (1,089 over six subjects; `-T subjects=anatomy,...`); accuracy by subject."""
    items, location = load_mmlu_medical(subjects, path)
    return mcq_task(
        name="mmlu_medical",
        items=items,
        location=location,
        cot=cot,
        shuffle=shuffle,
        seed=seed,
        exclude=exclude,
        max_tokens=max_tokens,
        by_subject=True,
    )
