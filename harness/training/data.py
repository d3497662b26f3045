"""A subset file as a training dataset, and an account of what `max_length` cuts off.

The dataset is in TRL's conversational prompt-completion format, built by
`harness.core.render.conversation`, so `SFTTrainer` tokenizes it exactly as
`harness.core.render.render` does (a test checks the two agree token for token).
Truncation is measured here with `render` itself, because the trainer truncates
silently and drops records whose completion is cut off entirely.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm.auto import tqdm

from harness.core.errors import InputError
from harness.core.records import PoolRecord, read_records
from harness.core.render import RenderStyle, conversation, render

if TYPE_CHECKING:
    from datasets import Dataset

# How many record ids a manifest or an error message lists before "...".
SHOWN_IDS = 20


def load_subset(path: str | Path) -> list[PoolRecord]:
    """Read a subset file; an empty subset is an error, not an empty model."""
    records = read_records(path)
    if not records:
        raise InputError("subset has no records: nothing to train on", path=path)
    return records


@dataclass(frozen=True)
class LengthReport:
    """Token counts of a subset under `max_length`, and which records it cuts."""

    max_length: int
    records: int
    tokens: int
    completion_tokens: int
    truncated_ids: tuple[str, ...]
    dropped_ids: tuple[str, ...]

    @property
    def truncated(self) -> int:
        """Records longer than `max_length` (trained on their first `max_length` tokens)."""
        return len(self.truncated_ids)

    @property
    def dropped(self) -> int:
        """Records whose completion starts beyond `max_length`: no loss, so not trained on."""
        return len(self.dropped_ids)

    def summary(self) -> str:
        """One log line."""
        line = (
            f"{self.truncated} of {self.records} records exceed max_length={self.max_length} "
            "tokens and are truncated (the start is kept)"
        )
        if self.dropped:
            line += f"; {self.dropped} keep no completion token and are left out"
        return line

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_length": self.max_length,
            "records": self.records,
            "tokens": self.tokens,
            "completion_tokens": self.completion_tokens,
            "truncated": self.truncated,
            "dropped": self.dropped,
            "truncated_ids": list(self.truncated_ids[:SHOWN_IDS]),
            "dropped_ids": list(self.dropped_ids[:SHOWN_IDS]),
        }


def measure_lengths(
    records: Sequence[PoolRecord],
    tokenizer: Any,
    max_length: int,
    style: RenderStyle,
    *,
    progress: bool = False,
) -> LengthReport:
    """Render every record as the trainer will and count what `max_length` cuts."""
    truncated: list[str] = []
    dropped: list[str] = []
    tokens = completion_tokens = 0
    for record in tqdm(records, desc="measuring lengths", unit="record", disable=not progress):
        example = render(record, tokenizer, max_length=max_length, style=style)
        tokens += len(example.input_ids)
        completion_tokens += example.completion_tokens
        if example.truncated:
            truncated.append(record.id)
        if example.completion_tokens == 0:
            dropped.append(record.id)
    return LengthReport(
        max_length=max_length,
        records=len(records),
        tokens=tokens,
        completion_tokens=completion_tokens,
        truncated_ids=tuple(truncated),
        dropped_ids=tuple(dropped),
    )


def check_lengths(report: LengthReport, path: str | Path, *, fail_on_truncation: bool) -> None:
    """Refuse a subset that `max_length` would empty, or any truncation when asked to."""
    if report.dropped == report.records:
        raise InputError(
            f"every record's completion starts beyond max_length={report.max_length} tokens; "
            "raise --max-length",
            path=path,
        )
    if fail_on_truncation and report.truncated:
        shown = ", ".join(report.truncated_ids[:SHOWN_IDS])
        more = (
            "" if report.truncated <= SHOWN_IDS else f" (and {report.truncated - SHOWN_IDS} more)"
        )
        raise InputError(
            f"{report.truncated} of {report.records} records exceed max_length="
            f"{report.max_length} tokens: {shown}{more}; raise --max-length or drop "
            "--fail-on-truncation to truncate them",
            path=path,
            record=report.truncated_ids[0],
        )


def to_dataset(records: Sequence[PoolRecord], style: RenderStyle) -> Dataset:
    """The records in TRL's conversational prompt-completion format, in subset order."""
    from datasets import Dataset

    return Dataset.from_list(
        [{"id": record.id, **conversation(record, style)} for record in records]
    )
