"""Records as model inputs: token ids with completion-only targets, padded batches, per-sample loss.

Every scorer (influence on the pool, the validation gradient, the loss/IFD proxies and
the reference paths) goes through `per_sample_loss`, so train and validation records
share one loss definition: the mean next-token cross-entropy over the completion tokens
that `harness.core.render.render` labels.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch
import torch.nn.functional as F

from harness.core.errors import InputError
from harness.core.records import PoolRecord
from harness.core.render import IGNORE_INDEX, RenderStyle, prompt_messages, render


@dataclass(frozen=True)
class EncodedRecord:
    """One record as token ids: the rendering with labels, and the response-alone variant.

    `alone_ids` is the same completion tokens behind an empty user turn (for IFD): the
    completion tokens are copied, not re-tokenized, so both losses average over exactly
    the same tokens.
    """

    id: str
    input_ids: list[int]
    labels: list[int]
    alone_ids: list[int]
    alone_labels: list[int]
    reasoning_tokens: int
    truncated: bool

    @property
    def completion_tokens(self) -> int:
        """Number of labelled (completion) tokens."""
        return sum(1 for label in self.labels if label != IGNORE_INDEX)


def encode_record(
    record: PoolRecord,
    tokenizer: Any,
    *,
    max_length: int | None,
    style: RenderStyle | None = None,
    source: str | None = None,
) -> EncodedRecord:
    """Render a record for scoring; a record whose completion is truncated away is an error."""
    style = style or RenderStyle()
    example = render(record, tokenizer, max_length=max_length, style=style)
    if example.completion_tokens == 0:
        raise InputError(
            f"no completion tokens left after truncation to max_length={max_length} "
            f"(prompt is {example.prompt_length} tokens); raise max_length "
            "(validation_max_length for validation items)",
            path=source,
            record=record.id,
            field="question",
        )
    completion = example.input_ids[example.prompt_length :]
    empty = render(replace(record, question=""), tokenizer, style=style)
    prefix = empty.input_ids[: empty.prompt_length]
    reasoning_tokens = (
        len(tokenizer(record.reasoning, add_special_tokens=False)["input_ids"])
        if record.reasoning.strip()
        else 0
    )
    return EncodedRecord(
        id=record.id,
        input_ids=example.input_ids,
        labels=example.labels,
        alone_ids=prefix + completion,
        alone_labels=[IGNORE_INDEX] * len(prefix) + completion,
        reasoning_tokens=reasoning_tokens,
        truncated=example.truncated,
    )


def check_fits(
    records: Sequence[PoolRecord],
    tokenizer: Any,
    *,
    max_length: int | None,
    style: RenderStyle | None = None,
    source: str | None = None,
) -> None:
    """Raise (like `encode_record`) for the first record whose completion would not fit.

    Cheap: only the prompt is rendered, unless it is long enough to need the full check.
    """
    if max_length is None:
        return
    style = style or RenderStyle()
    for record in records:
        prompt = tokenizer.apply_chat_template(
            prompt_messages(record, style),
            add_generation_prompt=True,
            tokenize=True,
            return_dict=True,
        )["input_ids"]
        if len(prompt) >= max_length:
            encode_record(record, tokenizer, max_length=max_length, style=style, source=source)


@dataclass
class Batch:
    """A right-padded batch. `targets[:, t]` is the label of token t + 1 (-100: no loss)."""

    ids: list[str]
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    targets: torch.Tensor

    @property
    def size(self) -> int:
        return self.input_ids.shape[0]

    def to(self, device: torch.device | str) -> Batch:
        return Batch(
            self.ids,
            self.input_ids.to(device),
            self.attention_mask.to(device),
            self.targets.to(device),
        )


def collate(
    ids: Sequence[str],
    sequences: Sequence[Sequence[int]],
    labels: Sequence[Sequence[int]],
    pad_token_id: int,
) -> Batch:
    """Right-pad sequences; shift labels into next-token targets."""
    length = max(len(seq) for seq in sequences)
    input_ids = torch.full((len(sequences), length), pad_token_id, dtype=torch.long)
    attention_mask = torch.zeros((len(sequences), length), dtype=torch.long)
    targets = torch.full((len(sequences), length), IGNORE_INDEX, dtype=torch.long)
    for row, (seq, lab) in enumerate(zip(sequences, labels, strict=True)):
        input_ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        attention_mask[row, : len(seq)] = 1
        targets[row, : len(seq) - 1] = torch.tensor(lab[1:], dtype=torch.long)
    return Batch(list(ids), input_ids, attention_mask, targets)


def collate_records(
    examples: Sequence[EncodedRecord], pad_token_id: int, *, alone: bool = False
) -> Batch:
    """Collate the conditioned renderings (default) or the response-alone ones (IFD)."""
    if alone:
        return collate(
            [e.id for e in examples],
            [e.alone_ids for e in examples],
            [e.alone_labels for e in examples],
            pad_token_id,
        )
    return collate(
        [e.id for e in examples],
        [e.input_ids for e in examples],
        [e.labels for e in examples],
        pad_token_id,
    )


def length_batches(
    examples: Sequence[EncodedRecord], batch_size: int
) -> Iterator[list[EncodedRecord]]:
    """Batches of similar length (longest first), so padding stays small.

    Sorting is stable on (length, id), so batch composition does not depend on the
    input order.
    """
    ordered = sorted(examples, key=lambda e: (-len(e.input_ids), e.id))
    for start in range(0, len(ordered), batch_size):
        yield ordered[start : start + batch_size]


@functools.cache
def _accepts_logits_to_keep(model_class: Any) -> bool:
    return "logits_to_keep" in inspect.signature(model_class.forward).parameters


def model_logits(
    model: torch.nn.Module,
    batch: Batch,
    *,
    forward: Callable[..., Any] | None = None,
) -> torch.Tensor:
    """Logits at the positions that carry a target, flattened to `[n_targets, vocab]`.

    Uses the model's own `logits_to_keep` when it has one, so the vocabulary projection
    (and any model-specific logit processing) runs on completion positions only.
    `forward` replaces `model.__call__` (e.g. a `functional_call` with other weights).
    """
    keep = batch.targets != IGNORE_INDEX
    kwargs: dict[str, Any] = {
        "input_ids": batch.input_ids,
        "attention_mask": batch.attention_mask,
        "use_cache": False,
    }
    model_class: Any = type(model)  # a class is hashable; its typing stub says otherwise
    if _accepts_logits_to_keep(model_class):
        kwargs["logits_to_keep"] = keep
    logits = (forward or model)(**kwargs).logits
    return logits[keep] if logits.dim() == 3 else logits


def losses_from_logits(logits: torch.Tensor, batch: Batch) -> torch.Tensor:
    """Per-sample mean cross-entropy over target positions, accumulated in fp32 or better."""
    keep = batch.targets != IGNORE_INDEX
    acc_dtype = torch.float64 if logits.dtype == torch.float64 else torch.float32
    token_loss = F.cross_entropy(logits.to(acc_dtype), batch.targets[keep], reduction="none")
    rows = keep.nonzero()[:, 0]
    sums = torch.zeros(batch.size, dtype=acc_dtype, device=logits.device).index_add(
        0, rows, token_loss
    )
    return sums / keep.sum(dim=1).to(acc_dtype)


def per_sample_loss(model: torch.nn.Module, batch: Batch) -> torch.Tensor:
    """Mean completion-token cross-entropy of every sample in the batch, shape `[B]`."""
    return losses_from_logits(model_logits(model, batch), batch)
