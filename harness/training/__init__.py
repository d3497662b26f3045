"""Fine-tuning one model per subset with TRL's `SFTTrainer`, LoRA (peft) or full.

`train_subset` trains and publishes one model; `train_all` does every subset of a run
directory, skipping models that are up to date. See `docs/training.md`.
"""

from harness.training.config import TrainConfig
from harness.training.manifest import MANIFEST_NAME, read_manifest
from harness.training.run import TrainResult, train_all, train_subset

__all__ = [
    "MANIFEST_NAME",
    "TrainConfig",
    "TrainResult",
    "read_manifest",
    "train_all",
    "train_subset",
]
