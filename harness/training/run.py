"""Train one model per subset: resumable, skipped when up to date, published atomically.

A run trains inside a work directory (by default `.<name>.work` beside the output)
that holds the trainer's checkpoints and the key of the request; rerunning the same
request resumes from the last checkpoint, a different request starts afresh. Only a
finished model is published: merged weights, tokenizer, adapter and
`train_manifest.json` appear in the output directory together, in one rename.

Under `accelerate launch` every rank runs these functions; ranks load the model and
train together, the main process alone writes files, and they meet at barriers.
"""

from __future__ import annotations

import gc
import logging
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.core.errors import InputError
from harness.core.fingerprint import fingerprint
from harness.core.io import atomic_directory, read_json, sha256_file, write_json
from harness.core.ledger import Ledger
from harness.training.base import (
    BaseModelRef,
    check_lora_targets,
    load_model,
    load_tokenizer,
    max_positions,
    resolve_base,
)
from harness.training.config import TrainConfig
from harness.training.data import check_lengths, load_subset, measure_lengths, to_dataset
from harness.training.export import publish_files, save_trained
from harness.training.manifest import MANIFEST_NAME, build_manifest, match_key, read_manifest

if TYPE_CHECKING:
    import torch
    from transformers import TrainerCallback

logger = logging.getLogger(__name__)

LEDGER_ENTRY = "train"
REQUEST_NAME = "request.json"
CHECKPOINTS_DIR = "checkpoints"
SAVED_DIR = "saved"


@dataclass(frozen=True)
class TrainResult:
    """One subset's model: where it is, whether it was already up to date, its manifest."""

    subset: Path
    output_dir: Path
    skipped: bool
    manifest: dict[str, Any]


def work_dir_for(out: Path, work_root: str | Path | None = None) -> Path:
    """Where `out`'s checkpoints live while it trains: `.<name>.work` in `work_root`.

    `work_root` defaults to the output's parent directory (a hidden sibling of `out`).
    """
    out = out.resolve()
    return Path(work_root or out.parent) / f".{out.name}.work"


def train_subset(
    subset: str | Path,
    out: str | Path,
    config: TrainConfig,
    *,
    base: BaseModelRef | None = None,
    work_dir: str | Path | None = None,
    resume: bool = True,
    force: bool = False,
    progress: bool = True,
    callbacks: Sequence[TrainerCallback] = (),
) -> TrainResult:
    """Fine-tune `config.base` on the records of `subset` and publish the model to `out`.

    Args:
        subset: normalized JSONL subset file (`harness.core.records`).
        out: output directory; replaced as a whole when a new model is published.
        config: the base model, hyperparameters, rendering and run options.
        base: `config.base` already resolved (saves fingerprinting it once per subset).
        work_dir: directory for checkpoints while training (default: beside `out`); this
            model's are in its `.<out name>.work/`, removed once the model is published.
        resume: continue from the last checkpoint of an interrupted identical run.
        force: train even if `out` already holds a model with the same inputs.
        progress: show progress bars.
        callbacks: extra `transformers.TrainerCallback`s (trackers, tests).

    Returns:
        The result; `skipped` is true when `out` was already up to date.
    """
    from harness.training.trainer import distributed_state

    started = time.monotonic()
    started_at = datetime.now(UTC)
    state = distributed_state()
    subset, out = Path(subset), Path(out)
    records = load_subset(subset)
    ref = base or resolve_base(config.base)
    subset_sha256 = sha256_file(subset)
    hyperparameters = config.hyperparameters()
    key = match_key(subset_sha256, ref, hyperparameters, state.num_processes)
    if not force and Ledger(out / MANIFEST_NAME).fresh(LEDGER_ENTRY, key, _published(out)):
        logger.info("%s: up to date (%s), skipped", out, MANIFEST_NAME)
        return TrainResult(subset, out, skipped=True, manifest=read_manifest(out) or {})
    _check_replaceable(out)

    tokenizer = load_tokenizer(ref)
    max_length = _effective_max_length(config, ref)
    lengths = measure_lengths(records, tokenizer, max_length, config.render, progress=progress)
    check_lengths(lengths, subset, fail_on_truncation=config.fail_on_truncation)
    if lengths.truncated:
        logger.warning("%s: %s", subset.name, lengths.summary())

    work = work_dir_for(out, work_dir)
    checkpoint = _prepare_work_dir(work, key, resume=resume)
    if checkpoint is not None:
        logger.info("%s: resuming from %s", subset.name, checkpoint)

    import torch

    from harness.training.trainer import build_trainer, sft_config

    args = sft_config(config, work / CHECKPOINTS_DIR, max_length=max_length, progress=progress)
    dtype = _load_dtype(config, bf16=bool(args.bf16))
    model = load_model(ref, dtype)
    if not config.full:
        check_lora_targets(model, config.lora_targets, ref.name_or_path)
    trainer = build_trainer(
        model,
        tokenizer,
        to_dataset(records, config.render),
        config,
        args,
        progress_description=f"train {subset.stem}" if progress else None,
        callbacks=list(callbacks),
    )
    train_started = time.monotonic()
    trainer.train(resume_from_checkpoint=checkpoint)
    train_runtime = time.monotonic() - train_started
    saved = work / SAVED_DIR
    save_trained(trainer, saved)

    manifest: dict[str, Any] = {}
    if state.is_main_process:
        manifest = build_manifest(
            key=key,
            subset=subset,
            subset_sha256=subset_sha256,
            records=len(records),
            base=ref,
            config=config,
            max_length=max_length,
            lengths=lengths,
            trainer_state=trainer.state,
            resumed_from=checkpoint,
            started_at=started_at,
            train_runtime=train_runtime,
        )
        losses = manifest["loss_curve"]
        with atomic_directory(out) as staging:
            publish_files(saved, staging, config=config, base=ref, tokenizer=tokenizer)
            manifest["wall_time_s"] = round(time.monotonic() - started, 3)
            ledger = Ledger(staging / MANIFEST_NAME)
            ledger.record(LEDGER_ENTRY, key, _published(staging))
            ledger.save(**manifest)
        manifest = read_manifest(out) or {}
        shutil.rmtree(work, ignore_errors=True)
        logger.info(
            "%s: %d steps, loss %s -> %s, %.1f s -> %s",
            subset.name,
            manifest["steps"],
            f"{losses[0]:.4f}" if losses else "n/a",
            f"{losses[-1]:.4f}" if losses else "n/a",
            manifest["wall_time_s"],
            out,
        )
    del trainer, model
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    state.wait_for_everyone()
    return TrainResult(subset, out, skipped=False, manifest=manifest)


def train_all(
    subsets_dir: str | Path,
    config: TrainConfig,
    models_dir: str | Path | None = None,
    **options: Any,
) -> list[TrainResult]:
    """Train one model per `*.jsonl` subset into `models_dir/<subset name>/`.

    `models_dir` defaults to `models/` beside `subsets_dir` (the run directory layout).
    Models whose manifest matches their inputs are skipped, so an interrupted pipeline
    resumes where it stopped. `options` are passed to `train_subset`.
    """
    subsets_dir = Path(subsets_dir)
    if not subsets_dir.is_dir():
        raise InputError("subsets directory not found", path=subsets_dir)
    subsets = sorted(subsets_dir.glob("*.jsonl"))
    if not subsets:
        raise InputError("no subset files (*.jsonl) in the subsets directory", path=subsets_dir)
    models = Path(models_dir) if models_dir is not None else subsets_dir.parent / "models"
    for subset in subsets:  # every file is checked before the first model trains
        load_subset(subset)
    ref = resolve_base(config.base)
    results = []
    for number, subset in enumerate(subsets, start=1):
        logger.info("[%d/%d] %s", number, len(subsets), subset.name)
        results.append(train_subset(subset, models / subset.stem, config, base=ref, **options))
    return results


def _published(model_dir: Path) -> dict[str, str | None]:
    """What a published model directory holds, its manifest aside."""
    return {
        "model": fingerprint(model_dir, exclude={MANIFEST_NAME}) if model_dir.is_dir() else None
    }


def _load_dtype(config: TrainConfig, *, bf16: bool) -> torch.dtype:
    """bf16 for a frozen LoRA base; fp32 master weights for full fine-tuning and under FSDP.

    FSDP shards and casts whole parameter groups, and a bf16 base with fp32 adapters
    in one group is a mixed-dtype group; FSDP's mixed-precision policy computes in bf16
    from fp32 shards instead.
    """
    import torch

    from harness.training.trainer import fsdp_enabled

    return torch.bfloat16 if bf16 and not config.full and not fsdp_enabled() else torch.float32


def _check_replaceable(out: Path) -> None:
    """Publishing replaces `out` as a whole: only ever an earlier model, or nothing."""
    if out.exists() and not (out / MANIFEST_NAME).is_file():
        if not out.is_dir():
            raise InputError("output path exists and is not a directory", path=out)
        if any(out.iterdir()):
            raise InputError(
                f"output directory exists and holds no {MANIFEST_NAME}, so it is not a model "
                "this command wrote; choose another output or empty it",
                path=out,
            )


def _effective_max_length(config: TrainConfig, ref: BaseModelRef) -> int:
    limit = max_positions(ref)
    if limit is not None and config.max_length > limit:
        logger.warning(
            "max_length=%d exceeds the %d positions base model %s was built for; using %d",
            config.max_length,
            limit,
            ref.name_or_path,
            limit,
        )
        return limit
    return config.max_length


def _prepare_work_dir(work: Path, key: str, *, resume: bool) -> str | None:
    """Keep the work directory of an identical request, clear any other; the checkpoint to resume."""
    from transformers.trainer_utils import get_last_checkpoint

    from harness.training.trainer import distributed_state

    state = distributed_state()
    if state.is_main_process:
        request = work / REQUEST_NAME
        if work.is_dir() and not request.is_file() and any(work.iterdir()):
            raise InputError(
                f"work directory holds no {REQUEST_NAME}, so this command did not make it; "
                "remove it or choose another work directory",
                path=work,
            )
        same = resume and request.is_file() and _request_key(request) == key
        if work.exists() and not same:
            shutil.rmtree(work)
        write_json(request, {"match_key": key})
        shutil.rmtree(work / SAVED_DIR, ignore_errors=True)
        _remove_incomplete_checkpoints(work / CHECKPOINTS_DIR)
    state.wait_for_everyone()
    checkpoints = work / CHECKPOINTS_DIR
    return get_last_checkpoint(str(checkpoints)) if checkpoints.is_dir() else None


def _remove_incomplete_checkpoints(checkpoints: Path) -> None:
    """Delete checkpoints a kill cut short, so resuming takes the last complete one.

    The Trainer writes `trainer_state.json` last, so a checkpoint without a readable one
    was interrupted while it was being saved (its weights or optimizer may be partial).
    """
    if not checkpoints.is_dir():
        return
    for checkpoint in checkpoints.glob("checkpoint-*"):
        try:
            complete = isinstance(read_json(checkpoint / "trainer_state.json"), dict)
        except InputError:
            complete = False
        if not complete:
            logger.warning("removing %s: it was interrupted while being saved", checkpoint)
            shutil.rmtree(checkpoint)


def _request_key(path: Path) -> str | None:
    try:
        request = read_json(path)
    except InputError:
        return None
    return request.get("match_key") if isinstance(request, dict) else None
