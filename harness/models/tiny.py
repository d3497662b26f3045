"""The embedded default model: a tiny Llama-style causal LM and a tokenizer trained on the data.

Nothing is downloaded. The tokenizer is a byte-level BPE trained on the given texts
(so any text round-trips), with a Llama-3-style chat template; the model is a
randomly initialised `LlamaForCausalLM` of a few million parameters. Both are seeded,
and `save_pretrained` output loads with `AutoModelForCausalLM`/`AutoTokenizer`, so the
same checkpoint directory works for selection, training and Inspect's `hf/` provider.
Real runs pass any Hugging Face checkpoint instead and never touch this module.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

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


def build_tiny_checkpoint(
    out: str | Path, texts: Iterable[str], config: TinyModelConfig = TinyModelConfig()
) -> Path:
    """Train the tokenizer on `texts`, build the model and save both to `out` (atomically).

    Writes `tiny_model.json` beside the weights with the config, so a run can record
    exactly which embedded model it used.
    """
    out = Path(out)
    tokenizer = train_tokenizer(texts, vocab_size=config.vocab_size)
    model = build_tiny_model(tokenizer, config)
    with atomic_directory(out) as tmp:
        model.save_pretrained(tmp)  # type: ignore[attr-defined]
        tokenizer.save_pretrained(tmp)  # type: ignore[attr-defined]
        write_json(tmp / "tiny_model.json", asdict(config))
    return out
