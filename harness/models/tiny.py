"""The embedded default model: a tiny Llama-style causal LM and a tokenizer trained on the data.

Nothing is downloaded. The tokenizer is a byte-level BPE trained on the given texts
(so any text round-trips), with a Llama-3-style chat template; the model is a
`LlamaForCausalLM` of a few million parameters, randomly initialised and optionally
pretrained on plain prose (causal language modelling on every token). All is seeded,
and `save_pretrained` output loads with `AutoModelForCausalLM`/`AutoTokenizer`, so the
same checkpoint directory works for selection, training and Inspect's `hf/` provider.
Real runs pass any Hugging Face checkpoint instead and never touch this module.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness.core.io import atomic_directory, write_json
from harness.core.records import PoolRecord
from harness.core.render import RenderStyle, assistant_text

BOS = "<|begin_of_text|>"
EOS = "<|end_of_text|>"
PAD = "<|pad|>"
EOT = "<|eot_id|>"
HEADER_START = "<|start_header_id|>"
HEADER_END = "<|end_header_id|>"
SPECIAL_TOKENS = [PAD, BOS, EOS, EOT, HEADER_START, HEADER_END]

# Llama-3 layout without the blank line after each header: every turn then starts right
# after a special token, so the tokenized prompt is always a prefix of the tokenized
# conversation (BPE never merges across the boundary). The assistant turn ends with
# <|eot_id|>, which is also the EOS token, so generation stops at the end of a turn.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>' + message['content'] + '<|eot_id|>' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>' }}{% endif %}"
)


@dataclass(frozen=True)
class TinyModelConfig:
    """Shape of the embedded default model; the defaults train a few dozen steps/s on a CPU."""

    vocab_size: int = 4096
    hidden_size: int = 128
    num_layers: int = 2
    num_heads: int = 4
    num_kv_heads: int = 2
    intermediate_size: int = 352
    max_position_embeddings: int = 2048
    seed: int = 0


def pool_texts(records: Iterable[PoolRecord], style: RenderStyle | None = None) -> Iterator[str]:
    """The texts a tokenizer for these records must cover: each question and assistant turn.

    The assistant turn is rendered as training renders it (reasoning and response in
    `style`'s layout), so the tokenizer learns the layout's headings too.
    """
    style = style or RenderStyle()
    for record in records:
        yield record.question
        yield assistant_text(record, style)


def train_tokenizer(texts: Iterable[str], vocab_size: int = 4096) -> object:
    """Train a byte-level BPE tokenizer on `texts` and wrap it as a transformers fast tokenizer.

    Training is deterministic for a given text order, so the same texts give the same
    vocabulary.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(list(texts), trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token=BOS,
        eos_token=EOT,
        pad_token=PAD,
        additional_special_tokens=[EOS, HEADER_START, HEADER_END],
        clean_up_tokenization_spaces=False,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_tiny_model(tokenizer: object, config: TinyModelConfig = TinyModelConfig()) -> object:
    """A randomly initialised Llama-style causal LM sized by `config`, seeded."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    model_config = LlamaConfig(
        vocab_size=len(tokenizer),  # type: ignore[arg-type]
        hidden_size=config.hidden_size,
        num_hidden_layers=config.num_layers,
        num_attention_heads=config.num_heads,
        num_key_value_heads=config.num_kv_heads,
        intermediate_size=config.intermediate_size,
        max_position_embeddings=config.max_position_embeddings,
        bos_token_id=tokenizer.bos_token_id,  # type: ignore[attr-defined]
        eos_token_id=tokenizer.eos_token_id,  # type: ignore[attr-defined]
        pad_token_id=tokenizer.pad_token_id,  # type: ignore[attr-defined]
        tie_word_embeddings=False,
    )
    torch.manual_seed(config.seed)
    random.seed(config.seed)
    model = LlamaForCausalLM(model_config)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,  # type: ignore[attr-defined]
        eos_token_id=tokenizer.eos_token_id,  # type: ignore[attr-defined]
        pad_token_id=tokenizer.pad_token_id,  # type: ignore[attr-defined]
    )
    return model


@dataclass(frozen=True)
class Pretraining:
    """Causal language modelling on documents before the model is saved."""

    steps: int = 300
    batch_size: int = 16
    learning_rate: float = 3e-3
    seed: int = 0


# A pretraining document: plain prose, or a question and its answer as one chat exchange.
Document = str | tuple[str, str]


def document_ids(tokenizer: Any, document: Document) -> list[int]:
    """Token ids of a document: BOS and the prose, or the exchange in the chat template."""
    if isinstance(document, str):
        return [tokenizer.bos_token_id, *tokenizer(document, add_special_tokens=False)["input_ids"]]
    question, answer = document
    messages = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    encoded = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True)
    return list(encoded["input_ids"])


def document_texts(documents: Iterable[Document]) -> Iterator[str]:
    """The texts of documents, for training a tokenizer."""
    for document in documents:
        yield from (document,) if isinstance(document, str) else document


def pretrain(
    model: Any, tokenizer: Any, documents: Sequence[Document], config: Pretraining
) -> list[float]:
    """Train `model` on `documents` (loss on every token, AdamW, cosine decay); returns the losses.

    Batches are drawn in seeded passes over the documents, so the same documents and
    config give the same weights.
    """
    import torch

    if not documents:
        raise ValueError("pretraining needs at least one document")
    threads = torch.get_num_threads()
    # matrices this small multiply faster on one thread than on two waiting for each
    # other (3x on a busy 2-core machine: 32 s against 92 s for the demo's base)
    torch.set_num_threads(1)
    try:
        return _pretrain(model, tokenizer, documents, config)
    finally:
        torch.set_num_threads(threads)


def _pretrain(
    model: Any, tokenizer: Any, documents: Sequence[Document], config: Pretraining
) -> list[float]:
    import torch

    encoded = [document_ids(tokenizer, document) for document in documents]
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * step / config.steps))
    )
    order: list[int] = []
    losses = []
    model.train()
    for _ in range(config.steps):
        if len(order) < config.batch_size:
            order += rng.sample(range(len(encoded)), len(encoded))
        batch = [encoded[order.pop()] for _ in range(min(config.batch_size, len(encoded)))]
        width = max(map(len, batch))
        ids = torch.full((len(batch), width), tokenizer.pad_token_id)
        labels = torch.full((len(batch), width), -100)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, tokens in enumerate(batch):
            ids[row, : len(tokens)] = labels[row, : len(tokens)] = torch.tensor(tokens)
            mask[row, : len(tokens)] = 1
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    model.eval()
    return losses


def build_tiny_checkpoint(
    out: str | Path,
    texts: Iterable[str],
    config: TinyModelConfig = TinyModelConfig(),
    *,
    documents: Sequence[Document] = (),
    pretraining: Pretraining = Pretraining(),
) -> Path:
    """Train the tokenizer, build the model, pretrain it on `documents`, save both to `out`.

    The tokenizer learns `texts` and the documents; without documents the model stays as
    initialised. Writes `tiny_model.json` beside the weights with the config (and the
    pretraining, with its final loss), so a run can record exactly which embedded model
    it used. The directory is written atomically.
    """
    out = Path(out)
    tokenizer = train_tokenizer([*texts, *document_texts(documents)], vocab_size=config.vocab_size)
    model = build_tiny_model(tokenizer, config)
    info: dict[str, Any] = asdict(config)
    if documents:
        losses = pretrain(model, tokenizer, documents, pretraining)
        info["pretraining"] = {
            **asdict(pretraining),
            "documents": len(documents),
            "final_loss": losses[-1],
        }
    with atomic_directory(out) as tmp:
        model.save_pretrained(tmp)  # type: ignore[attr-defined]
        tokenizer.save_pretrained(tmp)  # type: ignore[attr-defined]
        write_json(tmp / "tiny_model.json", info)
    return out
