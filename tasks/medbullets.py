"""MedBullets: USMLE Step 2/3-style questions with 4 (op4) or 5 (op5) options, user-supplied.

The data is not redistributed: point the task at your copy of the upstream CSV
(HanjieChen/ChallengeClinicalQA, `medbullets/medbullets_op4.csv` / `medbullets_op5.csv`)
with `-T path=FILE`, or place it under `$DIQ_DATA_DIR/medbullets/`. Columns:
`question, opa, opb, opc, opd[, ope], answer_idx (letter), answer (text), explanation`
(an optional `link` column is kept as metadata). Upstream has no ids, so the id is a
content hash of the question and options. The official files repeat some questions (10
pairs in op5, 4 in op4, each once with a medbullets.com and once with a bit.ly link);
every row is kept, as in the published 308, and a repeat's id is numbered
(`<hash>-2`; see `tasks.items.number_repeats`). The explanation is never shown to the model.
`-T options` must match the file: an op4 file has no `ope` column or leaves it empty,
and reading an op5 file as op4 would silently drop option E, so a filled `ope` with
options=4 (or a missing `ope` with options=5) is an error saying which to pass.
Loader for other modules: `load_medbullets(options, path) -> (items, location)`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from inspect_ai import Task, task

from harness.core.errors import InputError, Where
from harness.core.inspect_names import namespaced
from tasks._data import local_file
from tasks.items import LETTERS, MCQItem, check_loaded, content_id, number_repeats
from tasks.mcq import mcq_task

OPTION_COLUMNS = ("opa", "opb", "opc", "opd", "ope")
REQUIRED = ("question", "answer_idx", "answer", "explanation")


def rows_with_lines(reader: csv.DictReader[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Each row of `reader` with the line it starts on (a quoted field may span lines)."""
    start = reader.line_num + 1
    for row in reader:
        yield start, row
        start = reader.line_num + 1


def medbullets_item(row: dict[str, str], options: int, where: Where) -> MCQItem:
    """One row of an op4 / op5 file as an item."""
    if options == 4 and (row.get("ope") or "").strip():
        raise where.error(
            "a fifth option is filled in, so this is an op5 file; pass -T options=5", field="ope"
        )
    columns = OPTION_COLUMNS[:options]
    for name in ("question", *columns):
        if not (row[name] or "").strip():
            raise where.error("empty value", field=name)
    choices = [row[name].strip() for name in columns]
    letter = (row["answer_idx"] or "").strip().upper()
    if letter not in LETTERS[:options]:
        raise where.error(
            f"answer_idx must be one of A-{LETTERS[options - 1]}, got {row['answer_idx']!r}",
            field="answer_idx",
        )
    return MCQItem(
        id=content_id(row["question"], *choices),
        question=row["question"].strip(),
        choices=choices,
        answer=LETTERS.index(letter),
        benchmark=f"medbullets_op{options}",
        split="test",
        explanation=(row["explanation"] or "").strip() or None,
        metadata={"link": (row.get("link") or "").strip()},
        line=where.line,
    )


def load_medbullets(options: int = 4, path: str | None = None) -> tuple[list[MCQItem], str]:
    """Items of the op4 or op5 CSV from `path` or `$DIQ_DATA_DIR/medbullets/medbullets_op{N}.csv`."""
    if options not in (4, 5):
        raise InputError(f"options must be 4 or 5, got {options!r}", field="options")
    file = local_file(path, f"medbullets/medbullets_op{options}.csv", "medbullets")
    if file is None:
        raise InputError(
            "medbullets is user-supplied: pass -T path=medbullets_op4.csv (or op5) or put it under "
            "$DIQ_DATA_DIR/medbullets/"
        )
    with Path(file).open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        if options == 5 and "ope" not in header:
            raise InputError(
                "no 'ope' column, so this is an op4 file; pass -T options=4", path=file, line=1
            )
        missing = [name for name in (*REQUIRED, *OPTION_COLUMNS[:options]) if name not in header]
        if missing:
            raise InputError(f"missing column(s) {missing}; header is {header}", path=file, line=1)
        items = [
            medbullets_item(row, options, Where(file, line))
            for line, row in rows_with_lines(reader)
        ]
    return check_loaded(number_repeats(items, str(file)), str(file)), str(Path(file).resolve())


@task(name=namespaced("tasks", "medbullets"))
def medbullets(
    options: int = 4,
    path: str | None = None,
    cot: bool = False,
    shuffle: bool = False,
    seed: int = 0,
    exclude: str | None = None,
    max_tokens: int | None = None,
) -> Task:
    """MedBullets op4 / op5 (`-T options=5`) from a user-supplied CSV."""
    items, location = load_medbullets(options, path)
    return mcq_task(
        name=f"medbullets_op{options}",
        items=items,
        location=location,
        cot=cot,
        shuffle=shuffle,
        seed=seed,
        exclude=exclude,
        max_tokens=max_tokens,
        metadata={"options": options},
    )
