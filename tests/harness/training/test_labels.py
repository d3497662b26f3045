"""The trainer's loss mask is exactly the completion tokens of the shared rendering."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from harness.core.records import PoolRecord
from harness.core.render import IGNORE_INDEX, RenderStyle, assistant_text, render
from harness.models.tiny import EOT
from harness.training import TrainConfig
from harness.training.base import load_model, load_tokenizer, resolve_base
from harness.training.data import measure_lengths, to_dataset
from harness.training.trainer import build_trainer, sft_config
from tests.harness.training.conftest import toy_records


def prepared_dataset(checkpoint: Path, records: list[PoolRecord], config: TrainConfig, tmp: Path):
    ref = resolve_base(checkpoint)
    tokenizer = load_tokenizer(ref)
    args = sft_config(config, tmp / "checkpoints", max_length=config.max_length, progress=False)
    model = load_model(ref, dtype=torch.float32)
    trainer = build_trainer(model, tokenizer, to_dataset(records, config.render), config, args)
    return trainer.train_dataset, tokenizer


def test_trainer_labels_equal_render_labels(tiny_checkpoint: Path, tmp_path: Path) -> None:
    records = toy_records(repeat=1)
    config = TrainConfig(
        base=str(tiny_checkpoint),
        max_length=512,
        render=RenderStyle(system_prompt="You are a careful physician."),
    )
    dataset, tokenizer = prepared_dataset(tiny_checkpoint, records, config, tmp_path)

    assert [row["id"] for row in dataset] == [record.id for record in records]
    for row, record in zip(dataset, records, strict=True):
        expected = render(record, tokenizer, max_length=512, style=config.render)
        assert row["input_ids"] == expected.input_ids
        assert row["labels"] == expected.labels

    # Decoded: the labelled tokens are the assistant turn and its end-of-turn, nothing else.
    row, record = dataset[0], records[0]
    labelled = [token for token in row["labels"] if token != IGNORE_INDEX]
    assert tokenizer.decode(labelled) == assistant_text(record) + EOT
    first = row["labels"].index(labelled[0])
    assert all(label == IGNORE_INDEX for label in row["labels"][:first])
    assert row["labels"][first:] == row["input_ids"][first:]
    prompt = tokenizer.decode(row["input_ids"][:first])
    assert "You are a careful physician." in prompt and record.question in prompt
    assert prompt.endswith("<|start_header_id|>assistant<|end_header_id|>")


def test_truncation_agrees_and_drops_records_without_completion(
    tiny_checkpoint: Path, tmp_path: Path
) -> None:
    long_reasoning = PoolRecord(
        id="long-answer", question="Short question?", reasoning="word " * 200, response="Yes"
    )
    long_question = PoolRecord(
        id="long-question", question="why " * 200, reasoning="", response="Because"
    )
    records = [*toy_records(repeat=1), long_reasoning, long_question]
    config = TrainConfig(base=str(tiny_checkpoint), max_length=48)
    dataset, tokenizer = prepared_dataset(tiny_checkpoint, records, config, tmp_path)

    report = measure_lengths(records, tokenizer, 48, config.render)
    assert "long-answer" in report.truncated_ids and "long-question" in report.truncated_ids
    assert report.dropped_ids == ("long-question",)

    kept = {row["id"]: row for row in dataset}
    assert set(kept) == {record.id for record in records} - {"long-question"}
    for record in records[:-1]:
        expected = render(record, tokenizer, max_length=48)
        assert kept[record.id]["input_ids"] == expected.input_ids
        assert kept[record.id]["labels"] == expected.labels
        assert len(expected.input_ids) <= 48


@pytest.mark.parametrize("full", [False, True])
def test_only_lora_parameters_train_in_lora_mode(
    tiny_checkpoint: Path, tmp_path: Path, full: bool
) -> None:
    config = TrainConfig(base=str(tiny_checkpoint), full=full, max_length=128)
    ref = resolve_base(tiny_checkpoint)
    args = sft_config(config, tmp_path / "checkpoints", max_length=128, progress=False)
    model = load_model(ref, dtype=torch.float32)
    trainer = build_trainer(
        model, load_tokenizer(ref), to_dataset(toy_records(1), config.render), config, args
    )
    trainable = [name for name, p in trainer.model.named_parameters() if p.requires_grad]
    if full:
        assert len(trainable) == len(list(trainer.model.parameters()))
    else:
        assert trainable and all("lora_" in name for name in trainable)
        assert {name.split(".")[-4] for name in trainable} == {"q_proj", "k_proj", "v_proj"}
