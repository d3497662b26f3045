"""Bad input fails early with an error that names the file, record or setting."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.core.config import parse_section
from harness.core.errors import ConfigError, InputError
from harness.core.records import PoolRecord, write_records
from harness.training import TrainConfig, train_all, train_subset
from harness.training.run import work_dir_for
from tests.harness.training.conftest import toy_records


def test_empty_subset(fast_config: Callable[..., TrainConfig], tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(InputError, match="subset has no records") as caught:
        train_subset(empty, tmp_path / "out", fast_config(), progress=False)
    assert str(empty) in str(caught.value)
    assert not (tmp_path / "out").exists()


def test_bad_subset_record_is_located(
    fast_config: Callable[..., TrainConfig], tmp_path: Path
) -> None:
    subset = tmp_path / "bad.jsonl"
    subset.write_text(json.dumps({"id": "x1", "question": "Q?", "response": ""}) + "\n")
    with pytest.raises(InputError) as caught:
        train_subset(subset, tmp_path / "out", fast_config(), progress=False)
    assert str(caught.value).startswith(f"{subset}:1: record 'x1': field 'response'")


@pytest.mark.parametrize(
    ("base", "message"),
    [
        ("./no/such/model", "base model not found: no such directory"),
        ("/definitely/not/here", "base model not found: no such directory"),
        ("nobody-org/no-such-model-xyz", "is not a local directory, and as a Hugging Face"),
    ],
)
def test_missing_base_model(subset_file: Path, tmp_path: Path, base: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        train_subset(subset_file, tmp_path / "out", TrainConfig(base=base), progress=False)
    assert base.lstrip("./") in str(caught.value)


def test_base_directory_without_config(subset_file: Path, tmp_path: Path) -> None:
    not_a_model = tmp_path / "weights"
    not_a_model.mkdir()
    with pytest.raises(InputError, match="has no config.json"):
        train_subset(
            subset_file, tmp_path / "out", TrainConfig(base=str(not_a_model)), progress=False
        )


def test_lora_targets_the_model_lacks(
    tiny_checkpoint: Path,
    subset_file: Path,
    tmp_path: Path,
    fast_config: Callable[..., TrainConfig],
) -> None:
    config = fast_config(lora_targets=("q_proj", "query_key_value"))
    with pytest.raises(ConfigError) as caught:
        train_subset(subset_file, tmp_path / "out", config, progress=False)
    message = str(caught.value)
    assert "query_key_value" in message and "q_proj (" not in message
    assert "o_proj" in message  # the layers it does have
    assert not (tmp_path / "out").exists()


def _gpt2() -> Any:
    """A tiny GPT-2 (attention and MLP in transformers' Conv1D), built without a download."""
    from transformers import GPT2Config, GPT2LMHeadModel

    return GPT2LMHeadModel(
        GPT2Config(
            n_layer=1,
            n_embd=16,
            n_head=2,
            vocab_size=64,
            n_positions=32,
            bos_token_id=0,
            eos_token_id=0,
        )
    )


def _llama(checkpoint: Path) -> Any:
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(checkpoint)


@pytest.mark.parametrize(
    ("model", "targets", "accepted"),
    [
        ("gpt2", ("c_attn",), True),  # Conv1D, not nn.Linear
        ("gpt2", ("attn.c_attn", "mlp.c_fc"), True),
        ("gpt2", ("h.0.attn.c_proj",), True),
        ("gpt2", ("q_proj",), False),
        ("gpt2", ("mlp",), False),  # a block, not a layer LoRA can wrap
        ("llama", ("self_attn.q_proj", "v_proj"), True),  # a dotted suffix
        ("llama", ("model.layers.0.self_attn.k_proj",), True),  # a full name
        ("llama", ("attn.q_proj",), False),  # suffixes match whole name parts only
        ("llama", ("self_attn",), False),
    ],
)
def test_lora_targets_follow_peft_matching(
    tiny_checkpoint: Path, model: str, targets: tuple[str, ...], accepted: bool
) -> None:
    from peft import LoraConfig, get_peft_model

    from harness.training.base import check_lora_targets

    def build() -> Any:
        return _gpt2() if model == "gpt2" else _llama(tiny_checkpoint)

    try:
        get_peft_model(build(), LoraConfig(r=2, target_modules=list(targets)))
        peft_accepts = True
    except ValueError:
        peft_accepts = False
    assert peft_accepts == accepted  # the table above is peft's own behaviour
    if accepted:
        check_lora_targets(build(), targets, model)
    else:
        with pytest.raises(ConfigError, match=f"base model '{model}'") as caught:
            check_lora_targets(build(), targets, model)
        assert targets[0] in str(caught.value)
        assert ("c_attn" if model == "gpt2" else "q_proj") in str(caught.value).split(":")[-1]


def test_truncation_counted_or_refused(
    tiny_checkpoint: Path, tmp_path: Path, fast_config: Callable[..., TrainConfig]
) -> None:
    long_record = PoolRecord(id="long-1", question="Q?", reasoning="word " * 100, response="A")
    subset = tmp_path / "long.jsonl"
    write_records(subset, [*toy_records(1), long_record])

    refused = fast_config(max_length=96, fail_on_truncation=True, max_steps=1)
    with pytest.raises(InputError, match="exceed max_length=96") as caught:
        train_subset(subset, tmp_path / "refused", refused, progress=False)
    assert caught.value.record == "long-1"
    assert not (tmp_path / "refused").exists()

    counted = fast_config(max_length=96, max_steps=1)
    manifest = train_subset(subset, tmp_path / "counted", counted, progress=False).manifest
    assert manifest["truncation"]["truncated"] == 1
    assert manifest["truncation"]["truncated_ids"] == ["long-1"]
    assert manifest["truncation"]["dropped"] == 0


def test_max_length_that_leaves_no_completion(
    tiny_checkpoint: Path,
    subset_file: Path,
    tmp_path: Path,
    fast_config: Callable[..., TrainConfig],
) -> None:
    with pytest.raises(InputError, match="every record's completion starts beyond"):
        train_subset(
            subset_file,
            tmp_path / "out",
            fast_config(max_length=8),
            progress=False,
        )
    assert not work_dir_for(tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"learning_rate": 0}, "train.learning_rate"),
        ({"lr_scheduler": "cosine-ish"}, "train.lr_scheduler"),
        ({"warmup_ratio": 1.5}, "train.warmup_ratio"),
        ({"render": {"assistant_format": "{response}"}}, "train.render.assistant_format"),
        ({"lora_targets": ()}, "train.lora_targets"),
        ({"epochs": 3, "unknown": 1}, "train.unknown"),
    ],
)
def test_invalid_configuration(options: dict, field: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_section(TrainConfig, {"base": "x", **options}, prefix="train")
    assert caught.value.field == field


def test_subsets_directory_without_subsets(tiny_checkpoint: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no subset files \(\*.jsonl\)"):
        train_all(tmp_path, TrainConfig(base=str(tiny_checkpoint)), progress=False)
    with pytest.raises(InputError, match="subsets directory not found"):
        train_all(tmp_path / "missing", TrainConfig(base=str(tiny_checkpoint)), progress=False)


def test_refuses_to_replace_a_directory_it_did_not_write(
    tiny_checkpoint: Path,
    subset_file: Path,
    tmp_path: Path,
    fast_config: Callable[..., TrainConfig],
) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="holds no train_manifest.json"):
        train_subset(subset_file, precious, fast_config(), progress=False)
    assert (precious / "notes.txt").read_text() == "keep me"
