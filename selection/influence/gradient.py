"""The validation gradient G: the mean over validation records of their per-sample-loss gradients.

G is what every influence method contracts against, so it is computed once, with the
same per-sample loss as the pool records, and kept in an accumulation dtype (fp32, or
fp64 for a fp64 model) whatever the model's own dtype.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from selection.influence.batching import Batch, per_sample_loss
from selection.influence.params import ParameterSet, freeze, restore, zeros_like_set


def accumulation_dtype(model: nn.Module) -> torch.dtype:
    """fp64 for fp64 models (reference runs), fp32 otherwise."""
    dtype = next(model.parameters()).dtype
    return torch.float64 if dtype == torch.float64 else torch.float32


def gradient_sum(
    model: nn.Module, pset: ParameterSet, batches: Iterable[Batch]
) -> tuple[dict[str, torch.Tensor], int]:
    """Sum over samples of per-sample-loss gradients over the set, and the sample count.

    Backpropagating the sum of per-sample losses of a padded batch gives exactly the sum
    of the per-sample gradients (padding carries no loss and is masked in attention).
    """
    dtype = accumulation_dtype(model)
    total = zeros_like_set(pset, dtype)
    names = list(pset.parameters)
    params = [pset.parameters[n] for n in names]
    previous = freeze(model)
    count = 0
    try:
        for param in params:
            param.requires_grad_(True)
        device = params[0].device
        for batch in batches:
            with torch.enable_grad():
                losses = per_sample_loss(model, batch.to(device))
                grads = torch.autograd.grad(losses.sum(), params, allow_unused=True)
            for name, grad in zip(names, grads, strict=True):
                if grad is not None:
                    total[name] += grad.to(dtype)
            count += batch.size
    finally:
        restore(model, previous)
    return total, count


def validation_gradient(
    model: nn.Module, pset: ParameterSet, batches: Iterable[Batch]
) -> dict[str, torch.Tensor]:
    """G = mean over validation samples of the per-sample-loss gradient, over `pset`."""
    total, count = gradient_sum(model, pset, batches)
    if count == 0:
        raise ValueError("no validation samples")
    return {name: value / count for name, value in total.items()}
