"""PubMedQA PQA-L, the official 500-question test split: yes / no / maybe from an abstract.

Upstream files: `pubmedqa/ori_pqal.json` (1,000 expert-labelled items keyed by PMID,
with `QUESTION`, `CONTEXTS`, `LABELS`, `final_decision`, `LONG_ANSWER`) and
`pubmedqa/test_ground_truth.json` (the 500 test PMIDs). The abstract (its labelled
sections) is the context; the long answer is kept as the explanation, never shown.
Loader for other modules: `load_pubmedqa(path) -> (items, location)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inspect_ai import Task, task

from harness.errors import InputError
from harness.inspect_names import namespaced
from harness.io import read_json
from tasks._data import HFSource, hf_rows, local_file
from tasks.items import MCQItem, check_unique
from tasks.mcq import mcq_task

RELATIVE_PATH = "pubmedqa/ori_pqal.json"
TEST_IDS_NAME = "test_ground_truth.json"
# BigBio's QA view of PQA-L carries the PMIDs as ids; its test split is the same 500 items.
HF = HFSource(
    "bigbio/pubmed_qa",
    name="pubmed_qa_labeled_fold0_bigbio_qa",
    split="test",
    revision="13a7d15476092370cbabb6475390e7e69b74d2f2",
)
CHOICES = ["yes", "no", "maybe"]


def _context(record: dict[str, Any]) -> str:
    contexts = record.get("CONTEXTS") or []
    labels = record.get("LABELS") or []
    if len(labels) == len(contexts):
        return "\n".join(f"{label}: {text}" for label, text in zip(labels, contexts, strict=True))
    return "\n".join(contexts)


def pubmedqa_item(pmid: str, record: dict[str, Any], source: str) -> MCQItem:
    """One PQA-L record (raw layout) as an item."""
    where = {"path": source, "record": pmid}
    for field in ("QUESTION", "CONTEXTS", "final_decision"):
        if field not in record:
            raise InputError("missing field", field=field, **where)
    decision = str(record["final_decision"]).strip().lower()
    if decision not in CHOICES:
        raise InputError(
            f"final_decision must be yes/no/maybe, got {decision!r}",
            field="final_decision",
            **where,
        )
    return MCQItem(
        id=pmid,
        question=record["QUESTION"],
        choices=list(CHOICES),
        answer=CHOICES.index(decision),
        benchmark="pubmedqa",
        split="test",
        context=_context(record),
        explanation=record.get("LONG_ANSWER") or None,
        metadata={"year": str(record.get("YEAR", ""))},
    )


def _hf_item(row: dict[str, Any]) -> MCQItem:
    answer = row["answer"][0] if isinstance(row["answer"], list) else row["answer"]
    record = {"QUESTION": row["question"], "CONTEXTS": [row["context"]], "final_decision": answer}
    return pubmedqa_item(str(row["id"]), record, HF.describe())


def load_pubmedqa(
    path: str | None = None, test_ids: str | None = None
) -> tuple[list[MCQItem], str]:
    """The 500 test items from `path` (+ `test_ids`), `$DIQ_DATA_DIR`, or the pinned HF copy."""
    file = local_file(path, RELATIVE_PATH, "pubmedqa")
    if file is None:
        items = [_hf_item(row) for row in hf_rows(HF, "pubmedqa")]
        return check_unique(items, HF.describe()), HF.describe()
    records = read_json(file)
    if not isinstance(records, dict):
        raise InputError("expected an object keyed by PMID", path=file)
    ids_file = Path(test_ids) if test_ids else Path(file).with_name(TEST_IDS_NAME)
    test = read_json(ids_file)
    if not isinstance(test, dict):
        raise InputError("expected an object of PMID -> answer", path=ids_file)
    missing = sorted(set(test) - set(records))
    if missing:
        raise InputError(
            f"{len(missing)} test PMIDs are not in {file}", path=ids_file, record=missing[0]
        )
    items = [pubmedqa_item(pmid, records[pmid], str(file)) for pmid in test]
    return check_unique(items, str(file)), str(Path(file).resolve())


@task(name=namespaced("tasks", "pubmedqa"))
def pubmedqa(
    path: str | None = None,
    test_ids: str | None = None,
    cot: bool = False,
    shuffle: bool = False,
    seed: int = 0,
    exclude: str | None = None,
    max_tokens: int | None = None,
) -> Task:
    """PubMedQA PQA-L test (500) with the abstract as context; yes/no/maybe as A/B/C."""
    items, location = load_pubmedqa(path, test_ids)
    return mcq_task(
        name="pubmedqa",
        items=items,
        location=location,
        cot=cot,
        shuffle=shuffle,
        seed=seed,
        exclude=exclude,
        max_tokens=max_tokens,
    )
