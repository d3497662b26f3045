"""LESS-compatible influence (princeton-nlp/LESS), for users who need LESS parity.

What LESS does, and what this reproduces:
- per-sample gradients (LESS: LoRA weights only; here any parameter set), one sample at a time;
- train features optionally Adam-preconditioned with the warm-up checkpoint's optimizer
  moments: m' = b1 m + (1 - b1) g, v' = b2 v + (1 - b2) g^2, feature = m' / sqrt(v' + eps)
  (eps inside the square root, no bias correction, as LESS); validation features are
  plain gradients (LESS hard-codes SGD for them);
- a Rademacher random projection to k dimensions (LESS default 8192), regenerated from a
  seed block by block on the gradients' device, never stored whole (see `project`);
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

from harness.core.errors import ConfigError
from selection.config import LessConfig
from selection.influence.batching import Batch
from selection.influence.params import ParameterSet
from selection.influence.reference import iter_per_sample_gradients

# elements of the sign matrix generated per block: cache-sized on CPU, large enough on a
# GPU that kernel launches do not dominate; the matrix does not depend on the block size
BLOCK_ELEMENTS = {"cpu": 1 << 20, "cuda": 1 << 26}
_MASK32 = 0xFFFFFFFF
_GOLDEN32 = 0x9E3779B9  # the Weyl increment of splitmix32
# bit k of an int32 word, as int32 (bit 31 is the sign bit)
_BITS = [1 << k if k < 31 else -(1 << 31) for k in range(32)]


@dataclass(frozen=True)
class AdamMoments:
    """First and second Adam moments for each parameter of the set."""

    exp_avg: dict[str, torch.Tensor]
    exp_avg_sq: dict[str, torch.Tensor]


def load_adam_moments(path: str | Path, pset: ParameterSet) -> AdamMoments:
    """Read an optimizer `state_dict` (HF Trainer `optimizer.pt`) and map it onto the set.

    As in LESS, the optimizer's parameters are taken to be the set's parameters in model
    order (a LoRA run optimises exactly the adapter weights); counts and shapes must match.
    The moments land in fp32 on each parameter's device, once, not once per sample.
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
        device = pset.parameters[name].device
        exp_avg[name] = entry["exp_avg"].to(device=device, dtype=torch.float32)
        exp_avg_sq[name] = entry["exp_avg_sq"].to(device=device, dtype=torch.float32)
    return AdamMoments(exp_avg, exp_avg_sq)


def adam_feature(
    grads: dict[str, torch.Tensor], moments: AdamMoments, config: LessConfig
) -> dict[str, torch.Tensor]:
    """LESS's Adam-preconditioned gradient feature."""
    out = {}
    for name, g in grads.items():
        g = g.float()
        m = config.beta1 * moments.exp_avg[name] + (1 - config.beta1) * g
        v = config.beta2 * moments.exp_avg_sq[name] + (1 - config.beta2) * g * g
        out[name] = m / torch.sqrt(v + config.eps)
    return out


def flatten(grads: dict[str, torch.Tensor], names: Sequence[str]) -> torch.Tensor:
    """One fp32 vector in the set's parameter order."""
    return torch.cat([grads[n].reshape(-1).float() for n in names])


def _mul32(x: torch.Tensor, c: int) -> torch.Tensor:
    """(x * c) mod 2^32 for x, c < 2^32, in int64 without overflow (16-bit halves)."""
    return ((x & 0xFFFF) * c + ((((x >> 16) * c) & 0xFFFF) << 16)) & _MASK32


def _fmix32(x: torch.Tensor) -> torch.Tensor:
    """MurmurHash3's 32-bit finalizer (a bijection with full avalanche), on int64 tensors."""
    x = x ^ (x >> 16)
    x = _mul32(x, 0x85EBCA6B)
    x = x ^ (x >> 13)
    x = _mul32(x, 0xC2B2AE35)
    return x ^ (x >> 16)


def sign_bits(start: int, stop: int, dim: int, seed: int, device: torch.device) -> torch.Tensor:
    """Rows `start:stop` of the projection's bit matrix, fp32 0/1 `[stop - start, dim]`.

    Entry (r, c) is bit c mod 32 of word c // 32 of row r's splitmix32 stream, whose
    state starts at a hash of (seed, r): a pure function of (seed, r, c) in integer
    arithmetic, so every device and every block size gives the same matrix, and no
    generator state has to be replayed to reach row r. The sign is 1 - 2 * bit.
    """
    rows = torch.arange(start, stop, dtype=torch.int64, device=device)[:, None]
    seed_key = _fmix32(torch.tensor(seed, dtype=torch.int64, device=device))
    row_key = _fmix32((_fmix32(seed_key ^ (rows >> 32)) + (rows & _MASK32)) & _MASK32)
    words = torch.arange((dim + 31) // 32, dtype=torch.int64, device=device)[None, :]
    hashed = _fmix32((row_key + _mul32(words, _GOLDEN32)) & _MASK32)
    # as int32 (values >= 2^31 wrap explicitly, not by an overflowing cast), then unpack
    hashed = torch.where(hashed > 0x7FFFFFFF, hashed - (1 << 32), hashed).to(torch.int32)
    masks = torch.tensor(_BITS, dtype=torch.int32, device=device)
    bits = ((hashed[:, :, None] & masks) != 0).reshape(stop - start, -1)[:, :dim]
    return bits.to(torch.float32)


def project(
    vectors: torch.Tensor, dim: int, seed: int, *, block_rows: int | None = None
) -> torch.Tensor:
    """Rademacher projection of rows `[n, P]` to `[n, dim]`, scaled by 1/sqrt(dim).

    The `[P, dim]` sign matrix is never held: it is generated on the vectors' device
    block by block over P (`sign_bits`), and each block multiplies every row at once.
    With signs 1 - 2 * bits, v @ signs = sum(v) - 2 * (v @ bits), so the GEMM takes the
    0/1 matrix as generated, without a pass to turn it into signs.
    """
    n, total = vectors.shape
    device = vectors.device
    if block_rows is None:
        block_rows = max(1, BLOCK_ELEMENTS.get(device.type, BLOCK_ELEMENTS["cuda"]) // dim)
    vectors = vectors.float()
    acc = torch.zeros(n, dim, dtype=torch.float32, device=device)
    for start in range(0, total, block_rows):
        stop = min(start + block_rows, total)
        acc.addmm_(vectors[:, start:stop], sign_bits(start, stop, dim, seed, device))
    return (vectors.sum(1, keepdim=True) - 2 * acc) / dim**0.5


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
        self.device = next(iter(pset.parameters.values())).device
        self.moments = (
            load_adam_moments(config.optimizer_state, pset) if config.optimizer_state else None
        )
        features = [self._features(batch, precondition=False)[1] for batch in validation]
        self.validation = torch.nn.functional.normalize(torch.cat(features), dim=1)
        labels = sorted(set(groups))
        self.groups = [
            torch.tensor([i for i, g in enumerate(groups) if g == label]) for label in labels
        ]
        if len(groups) != self.validation.shape[0]:
            raise ValueError("one group label per validation sample is required")

    def _features(self, batch: Batch, *, precondition: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-sample (loss, feature) of a batch.

        Gradients stream in one sample at a time and go straight into one `[B, P]` fp32
        buffer (Adam-preconditioned on the way when asked; LESS preconditions train
        gradients only), which is then projected block by block with all samples at
        once: B gradients are held once, and each block of the projection matrix is
        generated once per batch, not once per sample.
        """
        buffer = torch.empty(batch.size, self.pset.numel, dtype=torch.float32, device=self.device)
        losses = []
        per_sample = iter_per_sample_gradients(self.model, self.pset, batch)
        for row, (loss, grads) in enumerate(per_sample):
            if precondition and self.moments is not None:
                grads = adam_feature(grads, self.moments, self.config)
            buffer[row] = flatten(grads, self.names)
            losses.append(loss.float())
        if self.config.dim is not None:
            buffer = project(buffer, self.config.dim, self.config.seed)
        return torch.stack(losses), buffer

    def scores(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-sample (loss, LESS score) for a batch."""
        losses, features = self._features(batch, precondition=True)
        train = torch.nn.functional.normalize(features, dim=1)
        cosine = train @ self.validation.T
        per_group = torch.stack([cosine[:, idx].mean(dim=1) for idx in self.groups], dim=1)
        return losses, per_group.max(dim=1).values
