"""The normalized multiple-choice item every benchmark loader produces, and its Inspect Sample.

Loaders map upstream schemas onto `MCQItem`; everything downstream (prompting,
shuffling, scoring, validation sampling, open-ended clinical cases) works on items, so
a benchmark is one small loader module.
"""

from __future__ import annotations

import hashlib
import random
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from inspect_ai.dataset import MemoryDataset, Sample

from harness.errors import InputError

LETTERS = string.ascii_uppercase


@dataclass(frozen=True)
class MCQItem:
    """One benchmark question with its options and the index of the correct one.

    `id` is the stable upstream id (or a content hash where upstream has none), so
    models can be paired sample by sample across runs. `explanation` (when upstream has
    one) is never shown to the model; the open-ended judge sees it as the reference.
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


def check_unique(items: Iterable[MCQItem], source: str) -> list[MCQItem]:
    """Fail on duplicate ids, naming both records."""
    seen: dict[str, MCQItem] = {}
    result = []
    for item in items:
        if item.id in seen:
            raise InputError("duplicate sample id", path=source, record=item.id, field="id")
        seen[item.id] = item
        result.append(item)
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
    """The Inspect Sample for an item, with choices shuffled when a seed is given."""
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
        "original_answer": item.answer_letter,
        "choice_order": "".join(LETTERS[i] for i in order),
        **item.metadata,
    }
    return Sample(
        id=item.id, input=item.prompt_text(), choices=choices, target=target, metadata=metadata
    )


def to_dataset(
    items: list[MCQItem], name: str, location: str, shuffle_seed: int | None = None
) -> MemoryDataset:
    """A MemoryDataset of items (after id checks), labelled with where the data came from."""
    return MemoryDataset(
        [to_sample(item, shuffle_seed) for item in items], name=name, location=location
    )
