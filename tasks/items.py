"""The normalized multiple-choice item every benchmark loader produces, and its Inspect Sample.

Loaders map upstream schemas onto `MCQItem`; everything downstream (prompting,
shuffling, scoring, validation sampling, open-ended clinical cases) works on items, so
a benchmark is one small loader module.
"""

from __future__ import annotations

import hashlib
import logging
import random
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from inspect_ai.dataset import MemoryDataset, Sample

from harness.core.errors import InputError

LETTERS = string.ascii_uppercase
R = TypeVar("R")
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MCQItem:
    """One benchmark question with its options and the index of the correct one.

    `id` is the stable upstream id (or a content hash where upstream has none), so
    models can be paired sample by sample across runs. `explanation` (when upstream has
    one) is never shown to the model; the open-ended judge sees it as the reference.
    `line` is where the item sits in its upstream file (None for the Hugging Face
    copies), so errors about the item can point at it; it is not part of its identity.
    """

    id: str
    question: str
    choices: list[str]
    answer: int
    benchmark: str
    split: str
    subject: str | None = None
    context: str | None = None
    explanation: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    line: int | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        """The item's identity in every task built from it: its benchmark and upstream id."""
        return self.benchmark, self.id

    @property
    def answer_letter(self) -> str:
        """Upstream letter of the correct choice."""
        return LETTERS[self.answer]

    def prompt_text(self) -> str:
        """The question as the model sees it, with the context (abstract, note) first."""
        if self.context:
            return f"Context: {self.context}\n\nQuestion: {self.question}"
        return self.question


def content_id(*parts: str, length: int = 12) -> str:
    """A stable id from content, for upstream files that carry none."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:length]


def number_repeats(items: list[MCQItem], source: str) -> list[MCQItem]:
    """The items, with the later copies of a repeated question given ids of their own.

    Some upstream files hold the same question twice (MedBullets op5 has 10 such pairs,
    differing only in their link), and the published counts keep every row. A content
    id would then repeat, so the n-th copy (n >= 2) gets `<id>-<n>`: ids stay distinct,
    and stable as long as the file is. A warning names the repeated questions' lines.
    """
    copies: dict[str, list[MCQItem]] = {}
    numbered = []
    for item in items:
        seen = copies.setdefault(item.id, [])
        seen.append(item)
        numbered.append(item if len(seen) == 1 else replace(item, id=f"{item.id}-{len(seen)}"))
    repeated = [group for group in copies.values() if len(group) > 1]
    if repeated:
        logger.warning(
            "%s: %d question(s) appear more than once (%s); every copy is kept, "
            "the later ones with ids <id>-2, <id>-3, ...",
            source,
            len(repeated),
            "; ".join(
                f"{group[0].id} at lines {', '.join(str(item.line) for item in group)}"
                for group in repeated
            ),
        )
    return numbered


def _own_id(record: Any) -> str:
    return str(record.id)


def _own_line(record: Any) -> int | None:
    return getattr(record, "line", None)


def check_unique(
    records: Iterable[R],
    source: str,
    *,
    id_of: Callable[[R], str] = _own_id,
    where_of: Callable[[R], str | None] | None = None,
    field: str = "id",
) -> list[R]:
    """The records, in order; fails on the first repeated id, naming both records.

    Paired comparisons match samples by id, so a repeated id would silently pair the
    wrong questions. The error names `source`, the id and `field`, and where both
    records are: `where_of(record)` when given (e.g. a file and line of a directory of
    files), else the record's `line` in the file when it has one, else its 1-based
    position among the records.

    Args:
        records: MCQ items, Inspect samples or anything `id_of` reads an id from.
        source: The file (or pinned dataset) the records came from.
        id_of: The record's id (default: `str(record.id)`).
        where_of: Where the record is, for the message (default: its line or position).
        field: The upstream field the id comes from.
    """
    seen: dict[str, str] = {}
    result = []
    for number, record in enumerate(records, start=1):
        key = id_of(record)
        line = _own_line(record)
        where = (where_of(record) if where_of else None) or (
            f"line {line}" if line is not None else f"record #{number}"
        )
        if key in seen:
            raise InputError(
                f"duplicate sample id (first at {seen[key]}, again at {where})",
                path=source,
                record=key,
                field=field,
            )
        seen[key] = where
        result.append(record)
    return result


def check_loaded(records: Iterable[R], source: str, **options: Any) -> list[R]:
    """What a loader read from `source`, after the checks every loader makes.

    An empty file is an error here, naming the file, rather than later as a confusing
    "no samples left" from the task; ids must be unique (`check_unique`, which takes
    the same keyword arguments).
    """
    result = check_unique(records, source, **options)
    if not result:
        raise InputError("no questions in file", path=source)
    return result


def choice_order(item_id: str, n_choices: int, seed: int) -> list[int]:
    """A per-item permutation of choice positions, stable for (seed, id).

    Seeding per item (rather than shuffling the dataset in order, as Inspect's
    `shuffle_choices` does) keeps each item's order fixed when other items are
    excluded or limited.
    """
    rng = random.Random(f"{seed}:{item_id}")
    order = list(range(n_choices))
    rng.shuffle(order)
    return order


def to_sample(item: MCQItem, shuffle_seed: int | None = None) -> Sample:
    """The Inspect Sample for an item, with choices shuffled when a seed is given.

    The metadata keeps the upstream letter of the correct choice as `original_target`
    and the shown order as `choice_order`, so a shuffled answer maps back to upstream
    letters (the scorer records the model's upstream letter as `original_answer`).
    """
    order = (
        choice_order(item.id, len(item.choices), shuffle_seed)
        if shuffle_seed is not None
        else list(range(len(item.choices)))
    )
    choices = [item.choices[i] for i in order]
    target = LETTERS[order.index(item.answer)]
    metadata = {
        "benchmark": item.benchmark,
        "split": item.split,
        "subject": item.subject or "all",
        "original_target": item.answer_letter,
        "choice_order": "".join(LETTERS[i] for i in order),
        **item.metadata,
    }
    return Sample(
        id=item.id, input=item.prompt_text(), choices=choices, target=target, metadata=metadata
    )


def to_dataset(
    items: list[MCQItem], name: str, location: str, shuffle_seed: int | None = None
) -> MemoryDataset:
    """A MemoryDataset of checked items, labelled with where the data came from."""
    return MemoryDataset(
        [to_sample(item, shuffle_seed) for item in items], name=name, location=location
    )
