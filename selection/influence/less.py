"""LESS-compatible influence (princeton-nlp/LESS), for users who need LESS parity.

What LESS does, and what this reproduces:
- per-sample gradients (LESS: LoRA weights only; here any parameter set), one sample at a time;
- train features optionally Adam-preconditioned with the warm-up checkpoint's optimizer
  moments: m' = b1 m + (1 - b1) g, v' = b2 v + (1 - b2) g^2, feature = m' / sqrt(v' + eps)
  (eps inside the square root, no bias correction, as LESS); validation features are
  plain gradients (LESS hard-codes SGD for them);
- a Rademacher random projection to k dimensions (LESS default 8192), regenerated from a
  seed block by block, never stored whole;
- cosine similarity: score = max over validation groups (LESS "subtasks") of the mean
  over the group's validation samples of cos(train feature, validation feature).

Unlike DIQ's dot product this is not linear in the gradient, so it needs real
per-sample gradients; it is a reproduction mode, not the fast path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from harness.errors import ConfigError
from selection.influence.batching import Batch
from selection.influence.params import ParameterSet
from selection.influence.reference import per_sample_gradients

# columns of the projection generated from one seed; fixed so results do not depend on
# the processing block size
PROJECTION_CHUNK = 4096


@dataclass(frozen=True)
class LessConfig:
    """Options of the LESS-compatible mode; `projection_dim=None` keeps full gradients."""

    projection_dim: int | None = 8192
    seed: int = 0
    optimizer_state: str | None = None
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8


@dataclass(frozen=True)
class AdamMoments:
    """First and second Adam moments for each parameter of the set."""

    exp_avg: dict[str, torch.Tensor]
    exp_avg_sq: dict[str, torch.Tensor]


def load_adam_moments(path: str | Path, pset: ParameterSet) -> AdamMoments:
    """Read an optimizer `state_dict` (HF Trainer `optimizer.pt`) and map it onto the set.

    As in LESS, the optimizer's parameters are taken to be the set's parameters in model
    order (a LoRA run optimises exactly the adapter weights); counts and shapes must match.
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, ValueError) as error:
        raise ConfigError(f"cannot read optimizer state {str(path)!r}: {error}") from None
    if not isinstance(state, dict) or "state" not in state or "param_groups" not in state:
        raise ConfigError(f"{path}: not an optimizer state_dict (no 'state'/'param_groups')")
    order = [index for group in state["param_groups"] for index in group["params"]]
    names = list(pset.parameters)
    if len(order) != len(names):
        raise ConfigError(
            f"{path}: the optimizer holds {len(order)} parameters, the set {pset.name!r} "
            f"has {len(names)}"
        )
    exp_avg, exp_avg_sq = {}, {}
    for index, name in zip(order, names, strict=True):
        entry = state["state"].get(index)
        if entry is None or "exp_avg" not in entry or "exp_avg_sq" not in entry:
            raise ConfigError(f"{path}: parameter {index} ({name}) has no Adam moments")
        shape = tuple(pset.parameters[name].shape)
        if tuple(entry["exp_avg"].shape) != shape:
            raise ConfigError(
                f"{path}: parameter {index} has shape {tuple(entry['exp_avg'].shape)}, "
                f"{name} has {shape}"
            )
        exp_avg[name] = entry["exp_avg"].float()
        exp_avg_sq[name] = entry["exp_avg_sq"].float()
    return AdamMoments(exp_avg, exp_avg_sq)


def adam_feature(
    grads: dict[str, torch.Tensor], moments: AdamMoments, config: LessConfig
) -> dict[str, torch.Tensor]:
    """LESS's Adam-preconditioned gradient feature."""
    out = {}
    for name, g in grads.items():
        g = g.float()
        m = config.beta1 * moments.exp_avg[name].to(g.device) + (1 - config.beta1) * g
        v = config.beta2 * moments.exp_avg_sq[name].to(g.device) + (1 - config.beta2) * g * g
        out[name] = m / torch.sqrt(v + config.eps)
    return out


def flatten(grads: dict[str, torch.Tensor], names: Sequence[str]) -> torch.Tensor:
    """One fp32 vector in the set's parameter order."""
    return torch.cat([grads[n].reshape(-1).float() for n in names])


def project(vectors: torch.Tensor, dim: int, seed: int) -> torch.Tensor:
    """Rademacher projection of rows `[n, P]` to `[n, dim]`, scaled by 1/sqrt(dim).

    Column chunk j of the matrix is drawn from a generator seeded with (seed, j), so the
    same seed always gives the same matrix whatever the batch.
    """
    n, total = vectors.shape
    out = torch.zeros(n, dim, dtype=torch.float32, device=vectors.device)
    for chunk, start in enumerate(range(0, total, PROJECTION_CHUNK)):
        stop = min(start + PROJECTION_CHUNK, total)
        generator = torch.Generator().manual_seed(seed * 1_000_003 + chunk)
        signs = torch.randint(0, 2, (stop - start, dim), generator=generator)
        matrix = (signs.to(torch.float32) * 2 - 1).to(vectors.device)
        out += vectors[:, start:stop].float() @ matrix
    return out / dim**0.5


class LessScorer:
    """Holds the normalised validation features; scores pool batches."""

    def __init__(
        self,
        model: torch.nn.Module,
        pset: ParameterSet,
        validation: Sequence[Batch],
        groups: Sequence[str],
        config: LessConfig,
    ) -> None:
        self.model = model
        self.pset = pset
        self.config = config
        self.names = list(pset.parameters)
        self.moments = (
            load_adam_moments(config.optimizer_state, pset) if config.optimizer_state else None
        )
        features = [
            self._features([grads for _, grads in per_sample_gradients(model, pset, batch)])
            for batch in validation
        ]
        self.validation = torch.nn.functional.normalize(torch.cat(features), dim=1)
        labels = sorted(set(groups))
        self.groups = [
            torch.tensor([i for i, g in enumerate(groups) if g == label]) for label in labels
        ]
        if len(groups) != self.validation.shape[0]:
            raise ValueError("one group label per validation sample is required")

    def _features(self, grads: list[dict[str, torch.Tensor]]) -> torch.Tensor:
        flat = torch.stack([flatten(g, self.names) for g in grads])
        if self.config.projection_dim is None:
            return flat
        return project(flat, self.config.projection_dim, self.config.seed)

    def scores(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-sample (loss, LESS score) for a batch."""
        results = per_sample_gradients(self.model, self.pset, batch)
        grads = [g for _, g in results]
        if self.moments is not None:
            grads = [adam_feature(g, self.moments, self.config) for g in grads]
        train = torch.nn.functional.normalize(self._features(grads), dim=1)
        cosine = train @ self.validation.to(train.device).T
        per_group = torch.stack([cosine[:, idx].mean(dim=1) for idx in self.groups], dim=1)
        losses = torch.stack([loss.float() for loss, _ in results])
        return losses, per_group.max(dim=1).values
