"""Selection fixtures: tiny models of several architectures, records of uneven lengths."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch


@pytest.fixture(scope="session")
def tokenizer(tiny_checkpoint: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_checkpoint)


def _save(model: torch.nn.Module, tokenizer, out: Path) -> Path:
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tied_checkpoint(tmp_path_factory: pytest.TempPathFactory, tokenizer) -> Path:
    """A tiny Llama whose lm_head shares the embedding matrix."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(1)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=64,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
    )
    return _save(LlamaForCausalLM(config), tokenizer, tmp_path_factory.mktemp("tied") / "m")


@pytest.fixture(scope="session")
def gpt2_checkpoint(tmp_path_factory: pytest.TempPathFactory, tokenizer) -> Path:
    """A tiny GPT-2: Conv1D linears, LayerNorm with bias, learned positions, tied head."""
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(2)
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_embd=32,
        n_layer=2,
        n_head=4,
        n_positions=512,
        pad_token_id=tokenizer.pad_token_id,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
    )
    return _save(GPT2LMHeadModel(config), tokenizer, tmp_path_factory.mktemp("gpt2") / "m")


@pytest.fixture(scope="session")
def lora_adapter(tmp_path_factory: pytest.TempPathFactory, tiny_checkpoint: Path) -> Path:
    """A LoRA adapter on q/v/down projections with non-zero B (so every gradient is non-zero)."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(3)
    base = AutoModelForCausalLM.from_pretrained(tiny_checkpoint)
    config = LoraConfig(
        r=4,
        lora_alpha=8,
        target_modules=["q_proj", "v_proj", "down_proj"],
        init_lora_weights=False,
        lora_dropout=0.0,
    )
    model = get_peft_model(base, config)
    out = tmp_path_factory.mktemp("lora") / "adapter"
    model.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny BERT with a word-level tokenizer over the test sentences (no download).

    The vocabulary is built from sorted words, not trained, so ids are the same in every
    process (trainers break ties differently from run to run).
    """
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    from tests.helpers import sample_texts

    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    splitter = pre_tokenizers.BertPreTokenizer()
    words = sorted(
        {w for text in sample_texts() for w, _ in splitter.pre_tokenize_str(text.lower())}
    )
    backend = Tokenizer(
        models.WordLevel({t: i for i, t in enumerate(special + words)}, unk_token="[UNK]")
    )
    backend.normalizer = normalizers.BertNormalizer(lowercase=True)
    backend.pre_tokenizer = splitter
    backend.post_processor = TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )
    torch.manual_seed(4)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=128,
        max_position_embeddings=128,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    return _save(
        BertForSequenceClassification(config), tokenizer, tmp_path_factory.mktemp("bert") / "m"
    )
