"""Rendering a pool record into model tokens, shared by scoring and training.

The question is the user turn; reasoning and response together are the assistant turn.
Tokens follow TRL's prompt-completion convention, so the loss that selection scores is
the loss that `SFTTrainer` optimises:

- `prompt_ids` = chat template of the user turn with the generation prompt;
- `input_ids` = chat template of the user turn plus the assistant turn;
- the completion starts where the two token sequences diverge (their common prefix),
  and only completion tokens carry labels (the rest are -100);
- sequences longer than `max_length` keep their start (TRL's `keep_start`).

The per-sample loss is the mean cross-entropy over completion tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import Field, field_validator

from harness.core.config import Section
from harness.core.errors import InputError
from harness.core.records import PoolRecord

IGNORE_INDEX = -100

# HuatuoGPT-o1 / medical-o1 layout of the assistant turn when a chain of thought exists.
DEFAULT_ASSISTANT_FORMAT = "## Thinking\n\n{reasoning}\n\n## Final Response\n\n{response}"


class RenderStyle(Section):
    """How a record becomes chat messages, the same for influence scoring and for training."""

    cli_prefix: ClassVar[str] = ""

    system_prompt: str | None = Field(
        None, description="system turn before every question (must match evaluation)"
    )
    assistant_format: str = Field(
        DEFAULT_ASSISTANT_FORMAT,
        description="the assistant turn of a record with a chain of thought "
        "({reasoning} and {response} are filled in); without one, the response alone",
    )

    @field_validator("assistant_format")
    @classmethod
    def _format_has_fields(cls, value: str) -> str:
        for name in ("{reasoning}", "{response}"):
            if name not in value:
                raise ValueError(f"the assistant format must contain {name}")
        try:
            value.format(reasoning="", response="")
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(f"the assistant format is not a valid template ({error})") from None
        return value


@dataclass(frozen=True)
class RenderedExample:
    """Token ids and labels of one record; `labels` is -100 outside the completion."""

    id: str
    input_ids: list[int]
    labels: list[int]
    prompt_length: int
    truncated: bool

    @property
    def completion_tokens(self) -> int:
        """Number of tokens that carry a label."""
        return sum(1 for label in self.labels if label != IGNORE_INDEX)


def assistant_text(record: PoolRecord, style: RenderStyle = RenderStyle()) -> str:
    """The assistant turn: reasoning and response in `style`'s layout, or the response alone."""
    if record.reasoning.strip():
        return style.assistant_format.format(
            reasoning=record.reasoning.strip(), response=record.response.strip()
        )
    return record.response.strip()


def prompt_messages(record: PoolRecord, style: RenderStyle = RenderStyle()) -> list[dict[str, str]]:
    """The prompt as chat messages (optional system turn, then the question)."""
    messages = [{"role": "system", "content": style.system_prompt}] if style.system_prompt else []
    messages.append({"role": "user", "content": record.question})
    return messages


def conversation(
    record: PoolRecord, style: RenderStyle = RenderStyle()
) -> dict[str, list[dict[str, str]]]:
    """The record in TRL's conversational prompt-completion format."""
    return {
        "prompt": prompt_messages(record, style),
        "completion": [{"role": "assistant", "content": assistant_text(record, style)}],
    }


def common_prefix_length(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common prefix of two token sequences."""
    length = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        length += 1
    return length


def _chat_ids(tokenizer: Any, messages: list[dict[str, str]], **kwargs: Any) -> list[int]:
    if getattr(tokenizer, "chat_template", None) is None:
        raise InputError(
            "the tokenizer has no chat template; pass a chat model or set tokenizer.chat_template",
            field="chat_template",
        )
    encoded = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True, **kwargs)
    return list(encoded["input_ids"])


def render(
    record: PoolRecord,
    tokenizer: Any,
    *,
    max_length: int | None = None,
    style: RenderStyle = RenderStyle(),
) -> RenderedExample:
    """Tokenize one record with completion-only labels (see the module docstring)."""
    chat = conversation(record, style)
    prompt_ids = _chat_ids(tokenizer, chat["prompt"], add_generation_prompt=True)
    input_ids = _chat_ids(tokenizer, chat["prompt"] + chat["completion"])
    prompt_length = common_prefix_length(prompt_ids, input_ids)
    truncated = max_length is not None and len(input_ids) > max_length
    if truncated:
        input_ids = input_ids[:max_length]
    labels = [IGNORE_INDEX] * min(prompt_length, len(input_ids)) + input_ids[prompt_length:]
    return RenderedExample(
        id=record.id,
        input_ids=input_ids,
        labels=labels,
        prompt_length=prompt_length,
        truncated=truncated,
    )
