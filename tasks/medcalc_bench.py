"""MedCalc-Bench: clinical calculations from patient notes, 1,047 test rows.

Upstream file: `medcalc_bench/test_data.csv` (v1.0 layout: `Row Number`, `Calculator
Name`, `Category`, `Output Type`, `Patient Note`, `Question`, `Ground Truth Answer`,
`Lower Limit`, `Upper Limit`, ...). Scoring follows the benchmark's own rules by output
type: `decimal` answers are correct inside the row's [lower, upper] limits; `integer`
answers must round to the ground truth; `date` answers must be the same date; the
gestational-age calculator's (weeks, days) pair must match exactly. An output with no
usable value is incorrect with reason `invalid_response_format`.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Any

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import GenerateConfig
from inspect_ai.scorer import (
    CORRECT,
    INCORRECT,
    Score,
    Scorer,
    Target,
    accuracy,
    grouped,
    scorer,
    stderr,
)
from inspect_ai.solver import TaskState, generate, prompt_template

from harness.core.errors import InputError, Where
from harness.core.inspect_names import namespaced
from tasks._data import HFSource, hf_rows, local_file
from tasks.answers import extract_date, extract_number, extract_weeks_days, parse_weeks_days
from tasks.exclusions import exclude_ids
from tasks.items import check_loaded
from tasks.mcq import INVALID_FORMAT, format_failure_rate

RELATIVE_PATH = "medcalc_bench/test_data.csv"
HF = HFSource(
    "ncbi/MedCalc-Bench-v1.0", split="test", revision="8dc4f07974f07e8647fd328a4b6c8301a0b35a21"
)
REQUIRED = (
    "Row Number",
    "Calculator Name",
    "Category",
    "Output Type",
    "Patient Note",
    "Question",
    "Ground Truth Answer",
    "Lower Limit",
    "Upper Limit",
)
OUTPUT_TYPES = ("decimal", "integer", "date")

TEMPLATE = """Read the patient note and answer the question. Think step by step, showing the \
calculation. The last line of your response must be of the form 'ANSWER: $VALUE' (without \
quotes), where VALUE is only the final number, date (MM/DD/YYYY) or duration ('N weeks, M days').

{prompt}"""


def medcalc_sample(row: dict[str, Any], source: str, line: int | None = None) -> Sample:
    """One MedCalc-Bench row as a Sample; the scoring rule travels in the metadata."""
    where = Where(source, line, str(row.get("Row Number")))
    for field in REQUIRED:
        if row.get(field) in (None, ""):
            raise where.error("missing value", field=field)
    output_type = str(row["Output Type"]).strip()
    if output_type not in OUTPUT_TYPES:
        raise where.error(f"unknown output type {output_type!r}", field="Output Type")
    truth = str(row["Ground Truth Answer"]).strip()
    kind = output_type
    if parse_weeks_days(truth):
        kind = "weeks_days"
    elif output_type == "date":
        _parse_truth_date(truth, where)
    else:
        for field in ("Lower Limit", "Upper Limit"):
            try:
                float(row[field])
            except ValueError:
                raise where.error(f"expected a number, got {row[field]!r}", field=field) from None
    return Sample(
        id=str(row["Row Number"]),
        input=f"Patient note:\n{row['Patient Note']}\n\nQuestion: {row['Question']}",
        target=truth,
        metadata={
            "benchmark": "medcalc_bench",
            "split": "test",
            "subject": str(row["Category"]),
            "calculator": str(row["Calculator Name"]),
            "output_type": kind,
            "lower": str(row["Lower Limit"]),
            "upper": str(row["Upper Limit"]),
        },
    )


def _parse_truth_date(text: str, where: Where) -> datetime:
    try:
        return datetime.strptime(text, "%m/%d/%Y")  # noqa: DTZ007 (a calendar date, no time zone)
    except ValueError:
        raise where.error(
            f"expected MM/DD/YYYY, got {text!r}", field="Ground Truth Answer"
        ) from None


def load_medcalc(path: str | None = None) -> tuple[list[Sample], str]:
    """MedCalc-Bench samples from `path`, `$DIQ_DATA_DIR`, or the pinned Hugging Face copy."""
    file = local_file(path, RELATIVE_PATH, "medcalc_bench", HF)
    if file is None:
        samples = [medcalc_sample(row, HF.describe()) for row in hf_rows(HF, "medcalc_bench")]
        return check_loaded(samples, HF.describe(), field="Row Number"), HF.describe()
    with Path(file).open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [name for name in REQUIRED if name not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"missing column(s) {missing}", path=file, line=1)
        rows = [
            (medcalc_sample(row, str(file), reader.line_num), reader.line_num) for row in reader
        ]
    checked = check_loaded(
        rows,
        str(file),
        id_of=lambda row: str(row[0].id),
        where_of=lambda row: f"line {row[1]}",
        field="Row Number",
    )
    return [sample for sample, _ in checked], str(Path(file).resolve())


def judge_value(
    completion: str, metadata: dict[str, Any], truth: str
) -> tuple[bool | None, str | None]:
    """(correct, extracted answer); correct is None when no value could be extracted."""
    kind = metadata["output_type"]
    if kind == "weeks_days":
        pair = extract_weeks_days(completion)
        return (
            (None, None)
            if pair is None
            else (pair == parse_weeks_days(truth), f"{pair[0]} weeks, {pair[1]} days")
        )
    if kind == "date":
        value = extract_date(completion)
        expected = datetime.strptime(truth, "%m/%d/%Y").date()  # noqa: DTZ007
        return (None, None) if value is None else (value == expected, value.strftime("%m/%d/%Y"))
    number = extract_number(completion)
    if number is None:
        return None, None
    if kind == "integer":
        return round(number) == round(float(truth)), f"{number:g}"
    return float(metadata["lower"]) <= number <= float(metadata["upper"]), f"{number:g}"


@scorer(metrics=[accuracy(), stderr(), format_failure_rate()])
def medcalc_answer() -> Scorer:
    """Correct by the row's output type (see the module docstring)."""

    async def score(state: TaskState, target: Target) -> Score:
        correct, answer = judge_value(state.output.completion, state.metadata, target.text)
        if correct is None:
            return Score(
                value=INCORRECT,
                answer=None,
                explanation=state.output.completion,
                reason=INVALID_FORMAT,
            )
        return Score(
            value=CORRECT if correct else INCORRECT,
            answer=answer,
            explanation=state.output.completion,
        )

    return score


@task(name=namespaced("tasks", "medcalc_bench"))
def medcalc_bench(
    path: str | None = None,
    exclude: str | None = None,
    max_tokens: int | None = None,
) -> Task:
    """MedCalc-Bench test (1,047): numeric, date and duration answers; accuracy by category."""
    samples, location = load_medcalc(path)
    kept = exclude_ids(samples, exclude, "medcalc_bench")
    return Task(
        name="medcalc_bench",
        dataset=MemoryDataset(kept, name="medcalc_bench", location=location),
        solver=[prompt_template(TEMPLATE), generate()],
        scorer=medcalc_answer(),
        metrics=[
            accuracy(),
            stderr(),
            format_failure_rate(),
            grouped(accuracy(), "subject", all=False, name_template="accuracy_{group_name}"),
        ],
        config=GenerateConfig(max_tokens=max_tokens) if max_tokens else GenerateConfig(),
        metadata={
            "benchmark": "medcalc_bench",
            "source": location,
            "excluded": len(samples) - len(kept),
        },
    )
