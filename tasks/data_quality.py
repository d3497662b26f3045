"""data_quality: judge the records of a training subset as data, on the data-quality rubric.

Each record of a normalized pool or subset JSONL (`harness.core.records`) becomes one
sample; no model generates anything (the record's own response is what is graded), and
the judge bound to the `grader` role rates the record on `rubrics/data_quality.yaml`:
differential diagnosis, safety, evidence, correctness and faithful reasoning. Running it
on a DIQ subset and on a baseline subset of the same size gives two logs whose axis
scores compare the subsets as data, sample ids being the record ids.

    inspect eval tasks/data_quality -T path=runs/x/subsets/diq-0.01.jsonl \\
        --model-role grader=openai/gpt-4.1
"""

from __future__ import annotations

import random
from pathlib import Path

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample

from harness.core.errors import InputError
from harness.core.inspect_names import namespaced
from harness.core.io import sha256_file
from harness.core.records import PoolRecord, read_records
from rubrics.judge import load_rubrics, rubric_judge, rubric_provenance
from rubrics.solvers import fixed_output
from tasks.exclusions import exclude_ids

# meta keys that carry a record's reference answer in the pool loaders' layouts
REFERENCE_KEYS = ("reference", "answer", "Ground-True Answer", "ground_truth")


def record_sample(record: PoolRecord, reference_key: str | None, subset: str) -> Sample:
    """The sample for one training record; the reference (if any) is shown to the judge only."""
    keys = (reference_key,) if reference_key else REFERENCE_KEYS
    reference = next(
        (str(record.meta[k]) for k in keys if isinstance(record.meta.get(k), str | int)), None
    )
    return Sample(
        id=record.id,
        input=record.question,
        metadata={
            "record_question": record.question,
            "record_reasoning": record.reasoning,
            "record_response": record.response,
            "record_source": record.source,
            "reference": reference,
            "subset": subset,
        },
    )


@task(name=namespaced("tasks", "data_quality"))
def data_quality(
    path: str,
    rubric: str = "data_quality",
    reference_key: str | None = None,
    limit: int | None = None,
    seed: int = 0,
    exclude: str | None = None,
    mode: str = "json",
    judge_retries: int = 2,
    judge_max_tokens: int | None = None,
    judge_cache: bool = False,
) -> Task:
    """Judge the records of a subset file as training data.

    Args:
        path: Normalized pool or subset JSONL (`id, question, reasoning, response, source, meta`).
        rubric: A rubric that applies to training records (name or YAML path).
        reference_key: The record `meta` key holding its reference answer (default: the
            first of reference, answer, Ground-True Answer, ground_truth that is present).
        limit: Judge a seeded random sample of this many records.
        seed: Seed for `limit`.
        exclude: File of record ids to leave out.
        mode: "json" or "logprobs" judge verdicts.
        judge_retries: Re-asks after an unusable judge reply.
        judge_max_tokens: Judge generation limit.
        judge_cache: Cache judge calls.
    """
    rubrics = load_rubrics(rubric)
    if rubrics[0].applies_to != "training_record":
        raise InputError(
            f"rubric {rubrics[0].id!r} judges responses, not training records", field="rubric"
        )
    file = Path(path).expanduser()
    records = read_records(file)
    kept = exclude_ids(records, exclude, "data_quality")
    if limit is not None and limit < len(kept):
        chosen = set(random.Random(seed).sample(range(len(kept)), limit))
        kept = [record for i, record in enumerate(kept) if i in chosen]
    if not kept:
        raise InputError("no records left to judge", path=file)
    samples = [record_sample(record, reference_key, file.stem) for record in kept]
    return Task(
        name="data_quality",
        dataset=MemoryDataset(samples, name=file.stem, location=str(file.resolve())),
        solver=fixed_output("record_response"),
        scorer=rubric_judge(
            rubrics=rubric,
            mode=mode,  # type: ignore[arg-type]
            retries=judge_retries,
            max_tokens=judge_max_tokens,
            cache=judge_cache,
            require_grader=True,
        ),
        model="none/none",
        metadata={
            # each log holds its own subset's records: reports compare logs as independent
            # samples (difference of means), never paired by record id
            "pairing": "independent",
            "subset": file.stem,
            "source": str(file.resolve()),
            "source_sha256": sha256_file(file),
            "records": len(kept),
            "excluded": len(records) - len(kept),
            **rubric_provenance(rubric),
        },
    )
