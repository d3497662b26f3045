"""The forward-mode exact path: one JVP of the per-sample loss vector along G.

<grad L_i, G> is the directional derivative of L_i along G, so a single forward-mode pass
with tangent G on the set's parameters yields every sample's score at once, with no
backward and no activation storage. Fused SDPA kernels have no forward-mode derivative,
so the model runs with eager attention for the duration of the call.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn
from torch.func import functional_call, jvp

from selection.influence.batching import Batch, losses_from_logits, model_logits
from selection.influence.params import ParameterSet


@contextlib.contextmanager
def eager_attention(model: nn.Module) -> Iterator[None]:
    """Switch an HF model to eager attention for the block, then back."""
    hf_model: Any = model  # transformers' PreTrainedModel, typed as a plain Module here
    config = getattr(model, "config", None)
    previous = getattr(config, "_attn_implementation", None)
    if previous in (None, "eager") or not hasattr(model, "set_attn_implementation"):
        yield
        return
    hf_model.set_attn_implementation("eager")
    try:
        yield
    finally:
        hf_model.set_attn_implementation(previous)


def jvp_scores(
    model: nn.Module,
    pset: ParameterSet,
    gradient: dict[str, torch.Tensor],
    batch: Batch,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample (loss, influence) for one batch by forward-mode differentiation."""
    names = list(pset.parameters)
    primals = tuple(pset.parameters[n].detach() for n in names)
    tangents = tuple(
        gradient[n].to(device=p.device, dtype=p.dtype) for n, p in zip(names, primals, strict=True)
    )

    def losses(*weights: torch.Tensor) -> torch.Tensor:
        bound = dict(zip(names, weights, strict=True))

        def forward(**kwargs: Any) -> Any:
            return functional_call(model, bound, (), kwargs)

        logits = model_logits(model, batch, forward=forward)
        return losses_from_logits(logits, batch)

    with torch.no_grad(), eager_attention(model):
        values, derivatives = jvp(losses, primals, tangents)[:2]
    return values, derivatives
