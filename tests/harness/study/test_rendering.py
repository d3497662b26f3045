"""`render` is set once: `diq run` scores exactly the tokens it trains on, system prompt included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from harness.cli import main
from harness.core.records import PoolRecord, write_records
from selection.influence import runner
from tests.selection.util import make_records

SYSTEM = "You are a cautious emergency physician."
FORMAT = "<reasoning>\n{reasoning}\n</reasoning>\n<answer>{response}</answer>"


def test_scored_rendering_is_trained_rendering(
    tiny_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import harness.training.trainer as training

    pool = tmp_path / "pool.jsonl"
    write_records(pool, make_records(12))
    validation = tmp_path / "validation.jsonl"
    write_records(
        validation,
        [
            PoolRecord(
                id=f"medqa:v{i}",
                question=f"Validation vignette {i}: which electrolyte explains finding {i}?",
                reasoning="",
                response=f"ANSWER: {'AB'[i % 2]}",
            )
            for i in range(3)
        ],
    )
    scored: dict[str, list[int]] = {}
    trained: dict[str, list[int]] = {}

    encode = runner.Scorer.encode

    def spy_encode(self: Any, record: Any, source: str, **options: Any) -> Any:
        encoded = encode(self, record, source, **options)
        scored[record.id] = list(encoded.input_ids)
        return encoded

    build = training.build_trainer

    def spy_build(*args: Any, **kwargs: Any) -> Any:
        trainer = build(*args, **kwargs)
        trained.update({row["id"]: list(row["input_ids"]) for row in trainer.train_dataset})
        return trainer

    monkeypatch.setattr(runner.Scorer, "encode", spy_encode)
    monkeypatch.setattr(training, "build_trainer", spy_build)
    config = {
        "name": "render",
        "render": {"system_prompt": SYSTEM, "assistant_format": FORMAT},
        "select": {
            "pool": {"path": str(pool)},
            "validation": {"path": str(validation)},
            "scoring": {"batch_size": 4, "max_length": 256},
            "strategies": ["full"],
            "ratios": [1],
        },
        "train": {"base": str(tiny_checkpoint), "max_steps": 1, "max_length": 256},
        "eval": {"suites": []},
        "judge": {"graders": []},
    }
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(config))
    args = ["run", str(path), "--out", str(tmp_path / "run"), "--only", "select,train"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output

    pool_ids = {record.id for record in make_records(12)}
    assert set(trained) == pool_ids and pool_ids <= set(scored)
    for record_id in pool_ids:
        assert scored[record_id] == trained[record_id], record_id
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_checkpoint)
    with_reasoning = next(r for r in make_records(12) if r.reasoning)
    text = tokenizer.decode(trained[with_reasoning.id])
    assert SYSTEM in text and "<answer>" in text and "## Thinking" not in text
