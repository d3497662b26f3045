"""`train_manifest.json`: what a model was trained on, how, and what training logged.

`match_key` hashes the inputs that determine the weights (subset bytes, base model
fingerprint, hyperparameters, number of processes, which sets the effective batch);
the manifest's ledger entry (`harness.core.ledger`) pairs it with what the directory
holds, and a model directory whose entry matches both is up to date and is skipped.
"""

from __future__ import annotations

import importlib.metadata
import platform
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.core.errors import InputError
from harness.core.io import read_json, sha256_json
from harness.training.base import BaseModelRef
from harness.training.config import TrainConfig
from harness.training.data import LengthReport

if TYPE_CHECKING:
    from transformers import TrainerState

MANIFEST_NAME = "train_manifest.json"
MANIFEST_FORMAT = "diq-train-manifest/1"

LIBRARIES = (
    "diq-harness",
    "torch",
    "transformers",
    "trl",
    "peft",
    "accelerate",
    "datasets",
    "tokenizers",
    "deepspeed",
)


def match_key(
    subset_sha256: str, base: BaseModelRef, hyperparameters: dict[str, Any], num_processes: int
) -> str:
    """The identity of a trained model: equal keys mean equal training inputs."""
    return sha256_json(
        {
            "subset_sha256": subset_sha256,
            "base_fingerprint": base.fingerprint,
            "hyperparameters": hyperparameters,
            "num_processes": num_processes,
        }
    )


def read_manifest(model_dir: str | Path) -> dict[str, Any] | None:
    """The manifest of a published model, or None when there is none (or it is unreadable)."""
    path = Path(model_dir) / MANIFEST_NAME
    if not path.is_file():
        return None
    try:
        manifest = read_json(path)
    except InputError:
        return None
    return manifest if isinstance(manifest, dict) else None


def library_versions() -> dict[str, str | None]:
    """Installed versions of the libraries that shape training (None: not installed)."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def loss_curve(log_history: list[dict[str, Any]]) -> tuple[list[int], list[float]]:
    """Steps and training losses of the trainer's logs, in order."""
    entries = [entry for entry in log_history if "loss" in entry and "step" in entry]
    return [int(entry["step"]) for entry in entries], [float(entry["loss"]) for entry in entries]


def hardware() -> dict[str, Any]:
    """Where the run happened: device kind and name, and the number of processes."""
    import torch

    from harness.training.trainer import distributed_state

    state = distributed_state()
    cuda = torch.cuda.is_available()
    return {
        "device": state.device.type,
        "device_name": (
            torch.cuda.get_device_name(state.device)
            if cuda
            else platform.processor() or platform.machine()
        ),
        "num_processes": state.num_processes,
        "distributed_type": str(state.distributed_type.value),
    }


def build_manifest(
    *,
    key: str,
    subset: Path,
    subset_sha256: str,
    records: int,
    base: BaseModelRef,
    config: TrainConfig,
    max_length: int,
    lengths: LengthReport,
    trainer_state: TrainerState,
    resumed_from: str | None,
    started_at: datetime,
    train_runtime: float,
) -> dict[str, Any]:
    """The manifest of a finished run (`wall_time_s` is filled in when it is published)."""
    steps, losses = loss_curve(trainer_state.log_history)
    run_hardware = hardware()
    return {
        "format": MANIFEST_FORMAT,
        "match_key": key,
        "subset": {
            "name": subset.stem,
            "path": str(subset.resolve()),
            "sha256": subset_sha256,
            "records": records,
        },
        "base_model": base.to_dict(),
        "mode": config.mode,
        "merged": config.merge and not config.full,
        "hyperparameters": config.hyperparameters(),
        "seed": config.seed,
        "effective_max_length": max_length,
        "effective_batch_size": (
            config.per_device_batch_size
            * config.gradient_accumulation_steps
            * run_hardware["num_processes"]
        ),
        "steps": trainer_state.global_step,
        "epochs": trainer_state.epoch,
        "train_tokens": trainer_state.num_input_tokens_seen,
        "loss_curve": losses,
        "loss_curve_steps": steps,
        "truncation": lengths.to_dict(),
        "resumed_from": None if resumed_from is None else Path(resumed_from).name,
        "started_at": started_at.isoformat(),
        "train_runtime_s": round(train_runtime, 3),
        "wall_time_s": None,
        "hardware": run_hardware,
        "versions": library_versions(),
    }
