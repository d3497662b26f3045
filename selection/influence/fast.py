"""The fast exact path: per-sample <grad L_i, G> from one forward and one input-gradient backward.

For a site with output y = f(x; w), the per-sample directional derivative along G is

    <dL_i/dw, G> = sum over sample i's rows t of  <dL/dy_t, (d y_t/d w)[G]>,

and (d y/d w)[G] is the module's output tangent along G. For a linear layer that is
`x @ G.T` (one GEMM with the same cost as the forward GEMM, or `dL/dy @ G` dotted with x,
whichever output is narrower); for an embedding it is a row gather of G; for any other
leaf module (norms, ...) it is a `torch.func.jvp` of the module alone. Because the loss
that is backpropagated is the *sum* of per-sample losses, the output gradient of row t
belongs to its own sample only, so the row-wise dots reduce to per-sample scores with no
per-sample gradient ever formed, and no weight gradient either (weights are frozen).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, jvp

from harness.core.errors import ConfigError
from harness.core.render import IGNORE_INDEX
from selection.influence.batching import Batch, per_sample_loss
from selection.influence.params import ParameterSet, Site, freeze, is_linear, restore


class RowLayout:
    """Maps the rows of a module's output (tokens) to the samples of the batch.

    Module outputs come as `[B, T, ...]` (most layers), `[B * T, ...]` (layers that
    flatten tokens) or `[n_targets, ...]` (the vocabulary projection when the model keeps
    logits at target positions only).
    """

    def __init__(self, attention_mask: torch.Tensor, target_rows: torch.Tensor) -> None:
        self.batch, self.length = attention_mask.shape
        self.target_rows = target_rows

    def _token_major(self, a: torch.Tensor, site: str) -> bool:
        """True for `[B, T, ...]` / `[B * T, ...]` rows, False for `[n_targets, ...]`."""
        if (a.dim() >= 2 and tuple(a.shape[:2]) == (self.batch, self.length)) or (
            a.shape[0] == self.batch * self.length
        ):
            return True
        if a.shape[0] == self.target_rows.shape[0]:
            return False
        raise ConfigError(
            f"cannot attribute the output rows of {site} (shape {tuple(a.shape)}) "
            "to samples; use --method per-sample"
        )

    def dot(
        self, a: torch.Tensor, b: torch.Tensor, acc_dtype: torch.dtype, site: str
    ) -> torch.Tensor:
        """Per-sample sum of `a * b` over every non-sample dimension, shape `[B]`.

        Padded rows need no mask: their output gradients are exactly zero, because the
        loss reads no padded position and attention gives padding exactly zero weight.
        """
        a, b = a.to(acc_dtype), b.to(acc_dtype)
        if self._token_major(a, site):
            return torch.linalg.vecdot(a.reshape(self.batch, -1), b.reshape(self.batch, -1))
        rows = (a * b).flatten(1).sum(1) if a.dim() > 1 else a * b
        return torch.zeros(self.batch, dtype=acc_dtype, device=a.device).index_add(
            0, self.target_rows, rows
        )

    def row_sums(self, a: torch.Tensor, acc_dtype: torch.dtype, site: str) -> torch.Tensor:
        """Per-sample sum of the rows of `a` (features kept), shape `[B, features]`."""
        if self._token_major(a, site):
            return a.reshape(self.batch, -1, a.shape[-1]).sum(1, dtype=acc_dtype)
        return torch.zeros(self.batch, a.shape[-1], dtype=acc_dtype, device=a.device).index_add(
            0, self.target_rows, a.to(acc_dtype)
        )


def linear_contribution(
    layout: RowLayout,
    site: str,
    x: torch.Tensor,
    grad: torch.Tensor,
    weight: torch.Tensor | None,
    bias: torch.Tensor | None,
    acc_dtype: torch.dtype,
    *,
    transposed: bool,
) -> torch.Tensor:
    """Per-sample <grad, x @ W^T + b> with (W, b) = G's block; `transposed` for Conv1D ([in, out]).

    One GEMM against G, on whichever side gives the narrower product.
    """
    total = torch.zeros(layout.batch, dtype=acc_dtype, device=grad.device)
    if weight is not None:
        w_out_in = weight.t() if transposed else weight
        out_features, in_features = w_out_in.shape
        if out_features <= in_features:
            total += layout.dot(grad, F.linear(x, w_out_in), acc_dtype, site)
        else:
            total += layout.dot(grad @ w_out_in, x, acc_dtype, site)
    if bias is not None:
        # <grad, b broadcast over rows> = <per-sample sum of grad rows, b>: no row-sized tangent
        total += layout.row_sums(grad, acc_dtype, site) @ bias.to(acc_dtype)
    return total


class ReverseContraction:
    """Hooks that turn one backward of the summed per-sample losses into per-sample scores.

    Use as a context manager around `scores(batch)` calls. GEMM operands take the
    model's dtype (bf16 on CUDA); row dots and per-sample sums are accumulated in
    `acc_dtype` (fp32, or fp64 for fp64 models).
    """

    def __init__(
        self,
        model: nn.Module,
        pset: ParameterSet,
        gradient: dict[str, torch.Tensor],
        *,
        acc_dtype: torch.dtype | None = None,
    ) -> None:
        self.model = model
        self.pset = pset
        param_dtype = next(model.parameters()).dtype
        self.compute_dtype = param_dtype
        self.acc_dtype = acc_dtype or (
            torch.float64 if param_dtype == torch.float64 else torch.float32
        )
        self.tangents = {
            name: gradient[name].to(device=p.device, dtype=self.compute_dtype)
            for name, p in pset.parameters.items()
        }
        for site in pset.sites:
            module = site.module
            if isinstance(module, nn.Embedding) and module.scale_grad_by_freq:
                raise ConfigError(f"{site.name}: scale_grad_by_freq embeddings are not supported")
        self._handles: list[Any] = []
        self._suspended = 0
        self._layout: RowLayout | None = None
        self._scores: torch.Tensor | None = None

    def __enter__(self) -> ReverseContraction:
        for site in self.pset.sites:
            hook = functools.partial(self._forward_hook, site)
            self._handles.append(site.module.register_forward_hook(hook, with_kwargs=True))
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    @contextlib.contextmanager
    def _suspend(self) -> Iterator[None]:
        self._suspended += 1
        try:
            yield
        finally:
            self._suspended -= 1

    def _forward_hook(
        self, site: Site, module: nn.Module, args: tuple, kwargs: dict, output: Any
    ) -> Any:
        if self._layout is None or self._suspended:
            return None
        if not isinstance(output, torch.Tensor):
            raise ConfigError(
                f"{site.name} returns {type(output).__name__}, not a tensor: "
                "its parameters have no exact fast path (use --method per-sample)"
            )
        replaced = not output.requires_grad
        if replaced:
            # nothing upstream needs a gradient: start the backward graph here
            output = output.detach().requires_grad_(True)
        batch = self._layout.batch
        if batch > 1 and output.dim() >= 2 and output.shape[0] == 1:
            # shared across the batch (learned positions): expand, so that the gradient
            # reaching this output is per sample rather than summed over the batch
            output = output.expand(batch, *output.shape[1:])
            replaced = True
        output.register_hook(functools.partial(self._backward_hook, site, args, kwargs))
        return output if replaced else None

    def _backward_hook(self, site: Site, args: tuple, kwargs: dict, grad: torch.Tensor) -> None:
        assert self._layout is not None and self._scores is not None
        with self._suspend():
            self._scores += self._site_contribution(site, self._layout, args, kwargs, grad)

    def _site_contribution(
        self, site: Site, layout: RowLayout, args: tuple, kwargs: dict, grad: torch.Tensor
    ) -> torch.Tensor:
        """Per-sample <output gradient, output tangent along G> of one module call."""
        module = site.module
        tangent = dict(zip(site.local, (self.tangents[c] for c in site.canonical), strict=True))
        x = args[0] if args else next(iter(kwargs.values()))
        if is_linear(module):
            return linear_contribution(
                layout,
                site.name,
                x.to(self.compute_dtype),
                grad.to(self.compute_dtype),
                tangent.get("weight"),
                tangent.get("bias"),
                self.acc_dtype,
                transposed=not isinstance(module, nn.Linear),
            )
        if isinstance(module, nn.Embedding) and set(tangent) == {"weight"}:
            rows = F.embedding(x, tangent["weight"], module.padding_idx)
            return layout.dot(grad, rows.expand_as(grad), self.acc_dtype, site.name)
        own = dict(module.named_parameters(recurse=False))
        names = list(tangent)

        def call(*values: torch.Tensor) -> torch.Tensor:
            return functional_call(module, dict(zip(names, values, strict=True)), args, kwargs)

        primals = tuple(own[n].detach() for n in names)
        tangents = tuple(tangent[n].to(own[n].dtype) for n in names)
        with torch.no_grad():
            out_tangent = jvp(call, primals, tangents)[1]
        return layout.dot(grad, out_tangent.expand_as(grad), self.acc_dtype, site.name)

    def scores(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-sample (loss, influence) for one batch; both detached, in `acc_dtype`."""
        target_rows = (batch.targets != IGNORE_INDEX).nonzero()[:, 0]
        self._layout = RowLayout(batch.attention_mask, target_rows)
        self._scores = torch.zeros(batch.size, dtype=self.acc_dtype, device=target_rows.device)
        previous = freeze(self.model)
        try:
            with torch.enable_grad():
                losses = per_sample_loss(self.model, batch)
                losses.sum().backward()
            return losses.detach(), self._scores
        finally:
            restore(self.model, previous)
            self._layout = None
            self._scores = None
