"""Reference paths: explicit per-sample gradients dotted with G.

`per_sample_scores` is the oracle the fast and JVP paths are tested against (one
unpadded sample at a time, plain autograd; what LESS does). `vmap_scores` is the
`torch.func.vmap(grad)` formulation, kept for the benchmark: it materialises a
gradient per sample, so its memory grows with the batch.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from harness.core.render import IGNORE_INDEX
from selection.influence.batching import Batch, losses_from_logits, per_sample_loss
from selection.influence.params import ParameterSet, freeze, restore


def unpad(batch: Batch, row: int) -> Batch:
    """Row `row` of a batch as a batch of one, without padding."""
    length = int(batch.attention_mask[row].sum())
    return Batch(
        [batch.ids[row]],
        batch.input_ids[row : row + 1, :length],
        batch.attention_mask[row : row + 1, :length],
        batch.targets[row : row + 1, :length],
    )


def iter_per_sample_gradients(
    model: nn.Module, pset: ParameterSet, batch: Batch
) -> Iterator[tuple[torch.Tensor, dict[str, torch.Tensor]]]:
    """(loss, gradient over the set) for each sample of the batch, one backward each."""
    names = list(pset.parameters)
    params = [pset.parameters[n] for n in names]
    previous = freeze(model)
    try:
        for param in params:
            param.requires_grad_(True)
        for row in range(batch.size):
            with torch.enable_grad():
                loss = per_sample_loss(model, unpad(batch, row))[0]
                grads = torch.autograd.grad(loss, params, allow_unused=True)
            yield (
                loss.detach(),
                {
                    n: torch.zeros_like(p) if g is None else g
                    for n, p, g in zip(names, params, grads, strict=True)
                },
            )
    finally:
        restore(model, previous)


def per_sample_gradients(
    model: nn.Module, pset: ParameterSet, batch: Batch
) -> list[tuple[torch.Tensor, dict[str, torch.Tensor]]]:
    """Every sample's (loss, gradient), held at once (B x |set| memory)."""
    return list(iter_per_sample_gradients(model, pset, batch))


def dot(grads: dict[str, torch.Tensor], gradient: dict[str, torch.Tensor]) -> torch.Tensor:
    """<g, G> over the set, accumulated in G's dtype."""
    dtype = next(iter(gradient.values())).dtype
    return torch.stack(
        [(g.to(dtype) * gradient[n].to(g.device)).sum() for n, g in grads.items()]
    ).sum()


def per_sample_scores(
    model: nn.Module, pset: ParameterSet, gradient: dict[str, torch.Tensor], batch: Batch
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample (loss, influence) by explicit per-sample autograd gradients."""
    dtype = next(iter(gradient.values())).dtype
    losses, scores = [], []
    for loss, grads in iter_per_sample_gradients(model, pset, batch):
        losses.append(loss.to(dtype))
        scores.append(dot(grads, gradient))  # one gradient alive at a time
    return torch.stack(losses), torch.stack(scores)


def vmap_scores(
    model: nn.Module, pset: ParameterSet, gradient: dict[str, torch.Tensor], batch: Batch
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample (loss, influence) with `vmap(grad)` over the batch (materialises B gradients).

    vmap allows no data-dependent control flow, so the model gets no attention mask and
    full logits: with right padding and a causal model, padding sits after every real
    token and cannot change their outputs; the loss masks it out.
    """
    names = list(pset.parameters)
    params = {n: pset.parameters[n].detach() for n in names}

    def loss_one(
        weights: dict[str, torch.Tensor], input_ids: torch.Tensor, targets: torch.Tensor
    ) -> torch.Tensor:
        logits = functional_call(
            model, weights, (), {"input_ids": input_ids[None], "use_cache": False}
        ).logits[0]
        valid = (targets != IGNORE_INDEX).to(logits.dtype)
        safe = targets.clamp(min=0)
        token_loss = -torch.log_softmax(logits.float(), dim=-1).gather(-1, safe[:, None])[:, 0]
        return (token_loss * valid).sum() / valid.sum()

    grads = vmap(grad(loss_one), in_dims=(None, 0, 0))(params, batch.input_ids, batch.targets)
    dtype = next(iter(gradient.values())).dtype
    scores = torch.stack(
        [(grads[n].to(dtype) * gradient[n][None]).flatten(1).sum(1) for n in names]
    ).sum(0)
    with torch.no_grad():
        logits = functional_call(
            model,
            params,
            (),
            {
                "input_ids": batch.input_ids,
                "attention_mask": batch.attention_mask,
                "use_cache": False,
            },
        ).logits
        keep = batch.targets != IGNORE_INDEX
        losses = losses_from_logits(logits[keep], batch)
    return losses, scores
