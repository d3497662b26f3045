"""Training fixtures: a learnable toy subset and a fast configuration for the tiny model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.core.records import PoolRecord, write_records
from harness.training import TrainConfig

# Four question/answer pairs, each repeated: a random tiny model can memorize them,
# so the training loss must fall within a few dozen steps.
FACTS = [
    ("A child has a barking cough and stridor. Diagnosis?", "Stridor and barking cough.", "Croup"),
    ("Fever, dysuria and flank pain. Diagnosis?", "Leukocyte casts.", "Pyelonephritis"),
    ("Crushing chest pain to the left arm. Diagnosis?", "ST elevation.", "Myocardial infarction"),
    ("Metformin in severe renal failure?", "Lactic acidosis risk.", "Contraindicated"),
]


def toy_records(repeat: int = 6) -> list[PoolRecord]:
    return [
        PoolRecord(
            id=f"r{copy}-{index}",
            question=question,
            reasoning=reasoning,
            response=response,
            source="toy",
        )
        for copy in range(repeat)
        for index, (question, reasoning, response) in enumerate(FACTS)
    ]


@pytest.fixture
def subset_file(tmp_path: Path) -> Path:
    path = tmp_path / "subsets" / "toy.jsonl"
    write_records(path, toy_records())
    return path


@pytest.fixture
def fast_config(tiny_checkpoint: Path) -> Callable[..., TrainConfig]:
    """A config that trains the tiny model in a second or two; keyword overrides win."""

    def make(**overrides: Any) -> TrainConfig:
        values: dict[str, Any] = {
            "base": str(tiny_checkpoint),
            "epochs": 2,
            "learning_rate": 3e-3,
            "warmup_ratio": 0.0,
            "per_device_batch_size": 4,
            "gradient_accumulation_steps": 1,
            "max_length": 128,
            "save_steps": 1000,
        }
        values.update(overrides)
        return TrainConfig(**values)

    return make
