"""MMLU-Pro, health category, filtered: 553 questions with up to 10 options.

Upstream file: `mmlu_pro_health/test_health.json` (a JSON list with `question_id`,
`question`, `options` {A..J} where unused trailing options are empty strings,
`answer` letter, `src`; some copies store `options` as the Python repr of a list or
dict, which is parsed as a literal, never evaluated). This is a FILTERED version of the 818-question health category
(incorrect, unrelated and duplicate items removed; `problem_ids.json` beside it lists
them), so its task records a `coverage` of 553 of 818 (`tasks.coverage`). The Hugging
Face route gives the unfiltered 818 and says so in the task metadata.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from inspect_ai import Task, task

from harness.core.errors import InputError, Where
from harness.core.inspect_names import namespaced
from harness.core.io import read_json
from tasks._data import HFSource, hf_rows, local_file
from tasks.coverage import coverage_metadata
from tasks.items import LETTERS, MCQItem, check_loaded
from tasks.mcq import mcq_task

RELATIVE_PATH = "mmlu_pro_health/test_health.json"
PUBLISHED = 818  # questions in MMLU-Pro's health category (test)
HF = HFSource(
    "TIGER-Lab/MMLU-Pro", split="test", revision="b189ec765aa7ed75c8acfea42df31fdae71f97be"
)


def _option_values(options: Any, where: Where) -> list[Any]:
    """Option texts in letter order, from a list, a dict keyed by letter, or the repr of one.

    A repr string must be parsed: iterating it would yield its characters as options.
    """
    if isinstance(options, str):
        try:
            options = ast.literal_eval(options)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            raise where.error(
                f"options is a string that is not a list or dict literal: {options[:60]!r}",
                field="options",
            ) from None
    if isinstance(options, dict):
        return [options[key] for key in sorted(options)]
    if isinstance(options, list | tuple):
        return list(options)
    raise where.error(
        f"expected options as a list or a dict keyed by letter, got {type(options).__name__}",
        field="options",
    )


def mmlu_pro_item(row: dict[str, Any], source: str, variant: str) -> MCQItem:
    """One MMLU-Pro row (options as a dict or a list) as an item; empty trailing options dropped."""
    where = Where(source, record=str(row.get("question_id")))
    for field in ("question_id", "question", "options", "answer"):
        if row.get(field) in (None, ""):
            raise where.error("missing field", field=field)
    values = _option_values(row["options"], where)
    while values and not str(values[-1]).strip():
        values.pop()
    if any(not str(value).strip() for value in values):
        raise where.error("an empty option sits between non-empty ones", field="options")
    answer = str(row["answer"]).strip().upper()
    if answer not in LETTERS[: len(values)]:
        raise where.error(
            f"answer {answer!r} is not one of the {len(values)} options", field="answer"
        )
    return MCQItem(
        id=str(row["question_id"]),
        question=str(row["question"]),
        choices=[str(value) for value in values],
        answer=LETTERS.index(answer),
        benchmark="mmlu_pro_health",
        split=variant,
        subject=str(row.get("src") or "health"),
    )


def load_mmlu_pro_health(path: str | None = None) -> tuple[list[MCQItem], str]:
    """The filtered 553 from `path`/`$DIQ_DATA_DIR`, else the unfiltered 818 from pinned HF."""
    file = local_file(path, RELATIVE_PATH, "mmlu_pro_health", HF)
    if file is not None:
        rows = read_json(file)
        if not isinstance(rows, list):
            raise InputError("expected a JSON list of questions", path=file)
        items = [mmlu_pro_item(row, str(file), "test-filtered") for row in rows]
        return check_loaded(items, str(file)), str(Path(file).resolve())
    rows = [row for row in hf_rows(HF, "mmlu_pro_health") if row.get("category") == "health"]
    items = [mmlu_pro_item(row, HF.describe(), "test-unfiltered") for row in rows]
    return check_loaded(items, HF.describe()), HF.describe()


@task(name=namespaced("tasks", "mmlu_pro_health"))
def mmlu_pro_health(
    path: str | None = None,
    cot: bool = False,
    shuffle: bool = False,
    seed: int = 0,
    exclude: str | None = None,
    max_tokens: int | None = None,
) -> Task:
    """MMLU-Pro health (filtered 553 locally; 818 unfiltered from Hugging Face), up to 10 options."""
    items, location = load_mmlu_pro_health(path)
    return mcq_task(
        name="mmlu_pro_health",
        items=items,
        location=location,
        cot=cot,
        shuffle=shuffle,
        seed=seed,
        exclude=exclude,
        max_tokens=max_tokens,
        metadata={
            "variant": items[0].split,
            **coverage_metadata(
                len(items),
                PUBLISHED,
                f"MMLU-Pro health test, filtered (incorrect, unrelated and duplicate items "
                f"removed): {len(items)} of {PUBLISHED}",
            ),
        },
    )
