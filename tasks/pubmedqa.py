"""PubMedQA PQA-L, the official 500-question test split: yes / no / maybe from an abstract.

Upstream files: `pubmedqa/ori_pqal.json` (1,000 expert-labelled items keyed by PMID,
with `QUESTION`, `CONTEXTS`, `LABELS`, `final_decision`, `LONG_ANSWER`) and
`pubmedqa/test_ground_truth.json` (the 500 test PMIDs). The abstract (its labelled
sections) is the context; the long answer is kept as the explanation, never shown.

Online, the 1,000 items come from the Parquet copy `qiaojin/PubMedQA` (`pqa_labeled`,
one `train` split; `bigbio/pubmed_qa` is a loading script, which `datasets` >= 4
refuses), mapped onto the raw layout above so both routes give the same items and ids.
The test PMIDs then come from `-T test_ids=FILE`, or are fetched once from the
upstream repository at a pinned commit, checked against their SHA-256 and cached, so
the 500 are exactly the official ones and never shipped with this package.
Loader for other modules: `load_pubmedqa(path, test_ids) -> (items, location)`.
"""

from __future__ import annotations

import contextlib
import json
import os
import urllib.request
from pathlib import Path
from typing import Any

from inspect_ai import Task, task

from harness.core.cache import user_cache_dir
from harness.core.errors import InputError, Where
from harness.core.inspect_names import namespaced
from harness.core.io import atomic_write, read_json, sha256_bytes
from tasks._data import DATA_DIR_ENV, HFSource, hf_rows, local_file
from tasks.items import MCQItem, check_loaded
from tasks.mcq import mcq_task

RELATIVE_PATH = "pubmedqa/ori_pqal.json"
TEST_IDS_NAME = "test_ground_truth.json"
HF = HFSource(
    "qiaojin/PubMedQA",
    name="pqa_labeled",
    split="train",
    revision="9001f2853fb87cab8d220904e0de81ac6973b318",
)
TEST_IDS_URL = (
    "https://raw.githubusercontent.com/pubmedqa/pubmedqa/"
    "1cbae8e92f72f20c8d3747cbb3bf5bc53554d997/data/test_ground_truth.json"
)
TEST_IDS_SHA256 = "939fe566f09017d13b1ca64d2ddfee0bc2374b366048152997669cccedc44d51"
OFFLINE_ENV = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
CHOICES = ["yes", "no", "maybe"]


def _context(record: dict[str, Any]) -> str:
    contexts = record.get("CONTEXTS") or []
    labels = record.get("LABELS") or []
    if len(labels) == len(contexts):
        return "\n".join(f"{label}: {text}" for label, text in zip(labels, contexts, strict=True))
    return "\n".join(contexts)


def pubmedqa_item(pmid: str, record: dict[str, Any], source: str) -> MCQItem:
    """One PQA-L record (raw layout) as an item."""
    where = Where(source, record=pmid)
    for field in ("QUESTION", "CONTEXTS", "final_decision"):
        if field not in record:
            raise where.error("missing field", field=field)
    decision = str(record["final_decision"]).strip().lower()
    if decision not in CHOICES:
        raise where.error(
            f"final_decision must be yes/no/maybe, got {decision!r}", field="final_decision"
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


def hub_record(row: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A `qiaojin/PubMedQA` row as (PMID, record in the raw `ori_pqal.json` layout).

    The hub stores the abstract as `context: {contexts: [...], labels: [...], ...}`
    and has no year; everything else maps one to one.
    """
    pmid = str(row.get("pubid"))
    context = row.get("context")
    if not isinstance(context, dict) or "contexts" not in context:
        raise InputError(
            "expected context as {contexts, labels, ...}",
            path=HF.describe(),
            record=pmid,
            field="context",
        )
    record = {
        "QUESTION": row.get("question"),
        "CONTEXTS": list(context["contexts"]),
        "LABELS": list(context.get("labels") or []),
        "LONG_ANSWER": row.get("long_answer"),
        "final_decision": row.get("final_decision"),
    }
    return pmid, {key: value for key, value in record.items() if value is not None}


def _download(url: str) -> bytes:
    """The bytes at `url`; refuses when Hugging Face is told to stay offline."""
    if any(os.environ.get(name, "").lower() in ("1", "true", "yes") for name in OFFLINE_ENV):
        raise OSError(f"offline ({' or '.join(OFFLINE_ENV)} is set)")
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


def _cache_file() -> Path:
    return user_cache_dir() / f"pubmedqa-test-ids-{TEST_IDS_SHA256[:16]}.json"


def official_test_ids() -> dict[str, Any]:
    """The official test PMIDs, from the cache or fetched from the pinned upstream commit.

    Both the cached and the fetched bytes must have the pinned SHA-256, so a truncated
    download or an edited cache can never change which items are the test set.
    """
    cache = _cache_file()
    cached = cache.read_bytes() if cache.is_file() else b""
    if sha256_bytes(cached) == TEST_IDS_SHA256:
        return json.loads(cached)
    hint = f"pass -T test_ids={TEST_IDS_NAME} (a local copy) or set {DATA_DIR_ENV}"
    try:
        data = _download(TEST_IDS_URL)
    except OSError as error:
        raise InputError(
            f"pubmedqa: could not fetch the official test ids from {TEST_IDS_URL} ({error}); {hint}"
        ) from None
    digest = sha256_bytes(data)
    if digest != TEST_IDS_SHA256:
        raise InputError(
            f"pubmedqa: the test ids fetched from {TEST_IDS_URL} have SHA-256 {digest}, "
            f"expected {TEST_IDS_SHA256}; {hint}"
        )
    with contextlib.suppress(OSError), atomic_write(cache, "wb") as handle:
        handle.write(data)  # a cache only: an unwritable one means fetching again next time
    return json.loads(data)


def _test_ids_from(path: Path) -> dict[str, Any]:
    test = read_json(path)
    if not isinstance(test, dict):
        raise InputError("expected an object of PMID -> answer", path=path)
    return test


def _test_items(
    records: dict[str, dict[str, Any]], test: dict[str, Any], source: str, ids_source: str
) -> list[MCQItem]:
    """The items of the test PMIDs, in the test file's order; every PMID must exist."""
    missing = [pmid for pmid in test if pmid not in records]
    if missing:
        raise InputError(
            f"{len(missing)} test PMIDs are not in {source}", path=ids_source, record=missing[0]
        )
    return check_loaded([pubmedqa_item(pmid, records[pmid], source) for pmid in test], source)


def load_pubmedqa(
    path: str | None = None, test_ids: str | None = None
) -> tuple[list[MCQItem], str]:
    """The 500 test items from `path` (+ `test_ids`), `$DIQ_DATA_DIR`, or the pinned HF copy."""
    file = local_file(path, RELATIVE_PATH, "pubmedqa", HF)
    if file is None:
        test = _test_ids_from(Path(test_ids).expanduser()) if test_ids else official_test_ids()
        records = dict(hub_record(row) for row in hf_rows(HF, "pubmedqa"))
        ids_source = test_ids or TEST_IDS_URL
        return _test_items(records, test, HF.describe(), ids_source), HF.describe()
    records = read_json(file)
    if not isinstance(records, dict):
        raise InputError("expected an object keyed by PMID", path=file)
    ids_file = Path(test_ids).expanduser() if test_ids else Path(file).with_name(TEST_IDS_NAME)
    items = _test_items(records, _test_ids_from(ids_file), str(file), str(ids_file))
    return items, str(Path(file).resolve())


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
    """PubMedQA PQA-L test (500) with the abstract as context; yes/no/maybe as A/B/C.

    `test_ids` is a `test_ground_truth.json` (PMID -> answer); by default the one next
    to the local file, or the pinned upstream copy when reading the Hugging Face data.
    """
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
