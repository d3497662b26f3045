"""Scoring a pool: influence and the model-based proxies, checkpointed, resumable, sharded.

One pass per batch gives the influence score and the conditioned loss (the same forward);
IFD adds one no-grad forward of the response alone. Rows are flushed every
`checkpoint_every` samples to atomic parquet part files in a parts directory stamped with
the hash of every input, so an interrupted run resumes by skipping the ids already
scored, and a run with different inputs never mixes in stale parts.

Sharding: each of N processes (torch.distributed; gloo on CPU, NCCL on CUDA) scores a
strided shard of the remaining ids; the validation gradient is the all-reduced sum of
per-rank partial sums; rank 0 merges the parts by id.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
import torch
import torch.distributed as dist
from tqdm import tqdm

from harness.core.errors import ConfigError, DiqError, InputError
from harness.core.fingerprint import looks_like_hub_id
from harness.core.io import atomic_write, read_json, write_json
from harness.core.records import PoolRecord
from harness.core.render import RenderStyle
from selection.config import ScoringConfig
from selection.influence.batching import (
    EncodedRecord,
    collate_records,
    encode_record,
    length_batches,
    per_sample_loss,
)
from selection.influence.fast import ReverseContraction
from selection.influence.gradient import gradient_sum
from selection.influence.jvp import jvp_scores
from selection.influence.less import LessScorer
from selection.influence.model import Precision, load_model, load_tokenizer
from selection.influence.params import resolve_parameter_set
from selection.influence.projected import ProjectedScorer
from selection.influence.reference import per_sample_scores

SCORE_COLUMNS = (
    "id",
    "influence",
    "loss",
    "loss_alone",
    "ifd",
    "reasoning_tokens",
    "completion_tokens",
    "truncated",
)


class Scorer:
    """A loaded model, its parameter set and the validation direction, ready to score batches."""

    def __init__(
        self,
        config: ScoringConfig,
        style: RenderStyle,
        validation: Sequence[PoolRecord],
        *,
        rank: int = 0,
        world: int = 1,
    ) -> None:
        self.config = config
        self.style = style
        self.precision = Precision.resolve(config.precision, _device_for(config.device, rank))
        self.tokenizer = load_tokenizer(scoring_model(config))
        self.model = load_model(
            scoring_model(config),
            self.precision,
            adapter=config.adapter,
            keep_lora=config.params == "lora",
        )
        self.pset = resolve_parameter_set(self.model, config.params)
        self.validation = [
            self.encode(r, source="validation file", validation=True) for r in validation
        ]
        if config.method == "less":
            groups = [str(r.meta.get("task") or r.source or "validation") for r in validation]
            batches = [
                collate_records(chunk, self.pad_id)
                for chunk in _chunks(self.validation, config.batch_size)
            ]
            self.less = LessScorer(self.model, self.pset, batches, groups, config.less)
        else:
            self.gradient = self._validation_gradient(rank, world)
        self.projected = (
            ProjectedScorer(self.model, self.pset, self.gradient, config.project, config.less.seed)
            if config.project is not None
            else None
        )
        self.contraction = (
            ReverseContraction(self.model, self.pset, self.gradient).__enter__()
            if config.method == "fast" and self.projected is None
            else None
        )

    @property
    def pad_id(self) -> int:
        return int(self.tokenizer.pad_token_id)

    def encode(self, record: PoolRecord, source: str, *, validation: bool = False) -> EncodedRecord:
        length = self.config.validation_length if validation else self.config.max_length
        return encode_record(
            record, self.tokenizer, max_length=length, style=self.style, source=source
        )

    def _validation_gradient(self, rank: int, world: int) -> dict[str, torch.Tensor]:
        shard = self.validation[rank::world]
        batches = (
            collate_records(chunk, self.pad_id).to(self.precision.device)
            for chunk in _chunks(shard, self.config.batch_size)
        )
        total, count = gradient_sum(self.model, self.pset, batches)
        if world > 1:
            counter = torch.tensor([count], dtype=torch.float64, device=self.precision.device)
            dist.all_reduce(counter)
            count = int(counter.item())
            for value in total.values():
                dist.all_reduce(value)
        if count == 0:
            raise ConfigError("the validation file has no records")
        return {name: value / count for name, value in total.items()}

    def score(self, examples: Sequence[EncodedRecord]) -> dict[str, list[Any]]:
        """Score columns for a batch of encoded pool records."""
        batch = collate_records(examples, self.pad_id).to(self.precision.device)
        method = self.config.method
        if self.projected is not None:
            losses, influence = self.projected.scores(batch)
        elif method == "fast":
            assert self.contraction is not None
            losses, influence = self.contraction.scores(batch)
        elif method == "jvp":
            losses, influence = jvp_scores(self.model, self.pset, self.gradient, batch)
        elif method == "per-sample":
            losses, influence = per_sample_scores(self.model, self.pset, self.gradient, batch)
        else:
            losses, influence = self.less.scores(batch)
        columns: dict[str, list[Any]] = {
            "id": list(batch.ids),
            "influence": influence.double().cpu().tolist(),
            "loss": losses.double().cpu().tolist(),
            "reasoning_tokens": [e.reasoning_tokens for e in examples],
            "completion_tokens": [e.completion_tokens for e in examples],
            "truncated": [e.truncated for e in examples],
        }
        if self.config.ifd:
            alone = collate_records(examples, self.pad_id, alone=True).to(self.precision.device)
            with torch.no_grad():
                alone_losses = per_sample_loss(self.model, alone).double().cpu().tolist()
            columns["loss_alone"] = alone_losses
            columns["ifd"] = [c / a for c, a in zip(columns["loss"], alone_losses, strict=True)]
        else:
            columns["loss_alone"] = [float("nan")] * len(examples)
            columns["ifd"] = [float("nan")] * len(examples)
        return columns

    def close(self) -> None:
        if self.contraction is not None:
            self.contraction.__exit__(None, None, None)


def scoring_model(config: ScoringConfig) -> str:
    """The scoring model (a study fills it in from its base model), checked to exist."""
    if config.model is None:
        raise ConfigError("no scoring model: give the model (in a study, train.base is used)")
    if not Path(config.model).expanduser().exists() and not looks_like_hub_id(config.model):
        raise InputError("scoring model not found: no such file or directory", path=config.model)
    return config.model


def _device_for(device: str, rank: int) -> str:
    """One GPU per process (torchrun's LOCAL_RANK when set), else the given device."""
    if device in ("auto", "cuda") and torch.cuda.is_available():
        local = int(os.environ.get("LOCAL_RANK", rank))
        return f"cuda:{local % torch.cuda.device_count()}"
    return device


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class PartStore:
    """Checkpointed score rows: one atomic parquet file per flush, stamped with the input hash."""

    def __init__(self, directory: str | Path, inputs_hash: str) -> None:
        self.directory = Path(directory)
        self.inputs_hash = inputs_hash
        self.state = self.directory / "state.json"

    def prepare(self) -> None:
        """Drop parts written for other inputs; stamp the directory with this run's hash."""
        if self.state.is_file() and read_json(self.state).get("inputs") == self.inputs_hash:
            return
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory.mkdir(parents=True)
        write_json(self.state, {"inputs": self.inputs_hash})

    def parts(self) -> list[Path]:
        return sorted(self.directory.glob("part-*.parquet"))

    def done_ids(self) -> set[str]:
        done: set[str] = set()
        for part in self.parts():
            done.update(pd.read_parquet(part, columns=["id"])["id"].tolist())
        return done

    def write(self, rank: int, rows: dict[str, list[Any]]) -> None:
        frame = pd.DataFrame({name: rows[name] for name in SCORE_COLUMNS})
        path = self.directory / f"part-r{rank}-{uuid.uuid4().hex}.parquet"
        with atomic_write(path, "wb") as handle:
            frame.to_parquet(handle, index=False)

    def merge(self, ids: Sequence[str]) -> pd.DataFrame:
        """All rows, in `ids` order; every id exactly once."""
        frames = [pd.read_parquet(part) for part in self.parts()]
        merged = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        merged = merged.drop_duplicates("id", keep="first").set_index("id")
        missing = [i for i in ids if i not in merged.index]
        if missing:
            raise RuntimeError(f"{len(missing)} records were not scored (first: {missing[0]!r})")
        return merged.loc[list(ids)].reset_index()


def _barrier(world: int) -> None:
    if world > 1:
        dist.barrier()


@dataclass(frozen=True)
class ScoringJob:
    """What every scoring process needs: settings, rendering, records and the parts store."""

    config: ScoringConfig
    style: RenderStyle
    pool: Sequence[PoolRecord]
    validation: Sequence[PoolRecord]
    parts_dir: Path
    inputs_hash: str
    progress: bool = True


def score_records(job: ScoringJob, *, rank: int = 0, world: int = 1) -> pd.DataFrame | None:
    """Score every pool record (resuming from the parts); rank 0 returns the merged frame."""
    config = job.config
    store = PartStore(job.parts_dir, job.inputs_hash)
    if rank == 0:
        store.prepare()
    _barrier(world)
    done = store.done_ids()
    _barrier(world)  # nobody writes a part before every rank has read the done set
    remaining = sorted(r.id for r in job.pool if r.id not in done)
    mine = set(remaining[rank::world])
    scorer = Scorer(config, job.style, job.validation, rank=rank, world=world)
    try:
        records = [r for r in job.pool if r.id in mine]
        encoded = [
            scorer.encode(r, source="pool.jsonl")
            for r in tqdm(
                records, desc="tokenizing", unit="record", disable=not job.progress or rank
            )
        ]
        bar = tqdm(
            total=len(encoded),
            desc=f"scoring[{rank}]" if world > 1 else "scoring",
            unit="sample",
            position=rank,
            disable=not job.progress,
            postfix={"resumed": len(done)} if done else None,
        )
        pending: dict[str, list[Any]] = {name: [] for name in SCORE_COLUMNS}
        with bar:
            for examples in length_batches(encoded, config.batch_size):
                for name, values in scorer.score(examples).items():
                    pending[name].extend(values)
                bar.update(len(examples))
                if len(pending["id"]) >= config.checkpoint_every:
                    store.write(rank, pending)
                    pending = {name: [] for name in SCORE_COLUMNS}
            if pending["id"]:
                store.write(rank, pending)
    finally:
        scorer.close()
    _barrier(world)
    if rank != 0:
        return None
    return store.merge([r.id for r in job.pool])


def free_port() -> int:
    """An unused local TCP port for the process group rendezvous."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _worker(rank: int, world: int, port: int, job: ScoringJob, out_path: str) -> None:
    try:
        _run_worker(rank, world, port, job, out_path)
    except DiqError as error:
        # a user error travels to the parent as text, so it is shown as one line there
        Path(out_path).with_suffix(f".error{rank}").write_text(str(error), encoding="utf-8")
        raise


def _run_worker(rank: int, world: int, port: int, job: ScoringJob, out_path: str) -> None:
    backend = "nccl" if job.config.device != "cpu" and torch.cuda.is_available() else "gloo"
    if backend == "gloo":
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
    dist.init_process_group(
        backend, init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world
    )
    try:
        frame = score_records(job, rank=rank, world=world)
        if frame is not None:
            with atomic_write(out_path, "wb") as handle:
                frame.to_parquet(handle, index=False)
    finally:
        dist.destroy_process_group()


def score_records_spawned(nproc: int, job: ScoringJob) -> pd.DataFrame:
    """`score_records` over `nproc` spawned processes; returns the merged frame."""
    import torch.multiprocessing as mp

    merged = job.parts_dir.with_name(job.parts_dir.name + ".merged.parquet")
    portable = replace(job, pool=list(job.pool), validation=list(job.validation))
    try:
        mp.spawn(_worker, args=(nproc, free_port(), portable, str(merged)), nprocs=nproc, join=True)
    except (mp.ProcessRaisedException, mp.ProcessExitedException):
        errors = sorted(merged.parent.glob(merged.with_suffix("").name + ".error*"))
        if errors:
            message = errors[0].read_text(encoding="utf-8")
            for path in errors:
                path.unlink()
            raise DiqError(message) from None
        raise
    try:
        return pd.read_parquet(merged)
    finally:
        merged.unlink(missing_ok=True)


def distributed_from_env() -> tuple[int, int]:
    """(rank, world size) under `torchrun` (initialising the process group), else (0, 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        if backend == "gloo":
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
        dist.init_process_group(backend, init_method="env://")
    return dist.get_rank(), dist.get_world_size()
