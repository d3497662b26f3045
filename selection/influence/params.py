"""Influence parameter sets: which weights the gradient dot product runs over.

- `all-linear` (default): every linear weight inside the transformer blocks; no
  embeddings, no norms, no biases, no `lm_head` (PEFT's "all-linear" convention).
- `attention` / `mlp`: the block linears under an attention / feed-forward submodule.
- `lora`: the `lora_A` / `lora_B` weights of a loaded PEFT adapter.
- `all`: every parameter of the model (embeddings, norms, biases, `lm_head`, ...).

A set is a list of *sites*: the modules that directly own parameters of the set, with
the names of those parameters. Tied parameters (an `lm_head` sharing the embedding
matrix) appear once in `parameters` and at every module that uses them, so each use
contributes to the directional derivative, as autograd would sum them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from harness.core.errors import ConfigError
from selection.options import PARAMETER_SETS

ATTENTION_MARKERS = ("attn", "attention")
MLP_MARKERS = ("mlp", "ffn", "feed_forward", "feedforward", "moe", "experts")
LORA_CONTAINERS = ("lora_A", "lora_B")


def is_linear(module: nn.Module) -> bool:
    """`nn.Linear`, or GPT-2's transposed `Conv1D` (a linear layer in disguise)."""
    if isinstance(module, nn.Linear):
        return True
    return type(module).__name__ == "Conv1D" and hasattr(module, "nf")


@dataclass(frozen=True)
class Site:
    """A module owning parameters of the set: `local` names its own parameters in the set."""

    name: str
    module: nn.Module
    local: tuple[str, ...]
    canonical: tuple[str, ...]


@dataclass(frozen=True)
class ParameterSet:
    """The resolved parameter set of one model."""

    name: str
    sites: tuple[Site, ...]
    parameters: dict[str, nn.Parameter]

    @property
    def numel(self) -> int:
        """Number of scalar parameters in the set (tied parameters counted once)."""
        return sum(p.numel() for p in self.parameters.values())

    def describe(self) -> dict[str, object]:
        """A JSON-ready summary for manifests."""
        return {
            "name": self.name,
            "parameters": len(self.parameters),
            "numel": self.numel,
            "modules": len(self.sites),
        }


def block_lists(model: nn.Module) -> list[str]:
    """Names of the outermost `ModuleList`s whose every element holds a linear layer.

    For HF decoders these are the transformer blocks (`model.layers`, `transformer.h`).
    """
    found: list[str] = []
    for name, module in model.named_modules():
        if not isinstance(module, nn.ModuleList) or len(module) == 0:
            continue
        if any(name == f or name.startswith(f + ".") for f in found):
            continue
        if all(any(is_linear(m) for m in block.modules()) for block in module):
            found.append(name)
    return found


def _inside(name: str, prefixes: list[str]) -> str | None:
    for prefix in prefixes:
        if name.startswith(prefix + "."):
            return name[len(prefix) + 1 :]
    return None


def _role(relative: str) -> str | None:
    """`attention` / `mlp` / None from a module path relative to its block list."""
    parts = relative.lower().split(".")[1:-1]  # drop the block index and the leaf name
    if any(marker in part for part in parts for marker in ATTENTION_MARKERS):
        return "attention"
    if any(marker in part for part in parts for marker in MLP_MARKERS):
        return "mlp"
    return None


def _is_lora_leaf(name: str) -> bool:
    parts = name.split(".")
    return len(parts) >= 2 and parts[-2] in LORA_CONTAINERS


def _selected_parameters(model: nn.Module, set_name: str) -> dict[int, str]:
    """id(weight) -> module name, for the linear weights of a set other than `all`."""
    lists = block_lists(model)
    chosen: dict[int, str] = {}
    for name, module in model.named_modules():
        if set_name == "lora":
            if _is_lora_leaf(name) and isinstance(module, nn.Linear):
                chosen[id(module.weight)] = name
            continue
        if _is_lora_leaf(name) or not is_linear(module):
            continue
        relative = _inside(name, lists)
        if relative is None:
            continue
        if set_name == "all-linear" or _role(relative) == set_name:
            chosen[id(module.weight)] = name
    return chosen


def resolve_parameter_set(model: nn.Module, set_name: str) -> ParameterSet:
    """Resolve `set_name` on `model`; a model lacking the set is a `ConfigError`."""
    if set_name not in PARAMETER_SETS:
        raise ConfigError(
            f"unknown parameter set {set_name!r}; choose one of {', '.join(PARAMETER_SETS)}"
        )
    canonical = {id(p): n for n, p in model.named_parameters()}
    wanted = set(canonical) if set_name == "all" else set(_selected_parameters(model, set_name))
    if not wanted:
        hint = (
            "load a PEFT adapter (--adapter DIR) to score LoRA weights"
            if set_name == "lora"
            else f"no linear layers under {set_name!r} submodules of the transformer blocks"
            if set_name in ("attention", "mlp")
            else "no transformer-block linear layers found"
        )
        raise ConfigError(
            f"the model ({type(model).__name__}) has no parameters in set {set_name!r}: {hint}"
        )
    if set_name == "lora":
        for name, param in model.named_parameters():
            if "lora_" in name and id(param) not in wanted:
                raise ConfigError(
                    f"unsupported LoRA parameter {name!r} (only lora_A/lora_B linear weights "
                    "have an exact fast path; use --method per-sample)"
                )
    sites: list[Site] = []
    for name, module in model.named_modules():
        local = tuple(n for n, p in module.named_parameters(recurse=False) if id(p) in wanted)
        if local:
            owned = dict(module.named_parameters(recurse=False))
            sites.append(Site(name, module, local, tuple(canonical[id(owned[n])] for n in local)))
    parameters = {n: p for n, p in model.named_parameters() if id(p) in wanted}
    for site in sites:
        has_children = any(True for _ in site.module.children())
        if has_children:
            raise ConfigError(
                f"parameter {site.canonical[0]!r} belongs to {site.name!r}, a module with "
                "submodules: the exact fast path cannot isolate it (use --method per-sample)"
            )
    return ParameterSet(set_name, tuple(sites), parameters)


def freeze(model: nn.Module) -> dict[str, bool]:
    """Set `requires_grad=False` everywhere; return the previous flags for `restore`."""
    previous = {n: p.requires_grad for n, p in model.named_parameters()}
    for param in model.parameters():
        param.requires_grad_(False)
    return previous


def restore(model: nn.Module, previous: dict[str, bool]) -> None:
    """Undo `freeze`."""
    for name, param in model.named_parameters():
        param.requires_grad_(previous.get(name, param.requires_grad))


def zeros_like_set(pset: ParameterSet, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """Zero tensors shaped like the set, for accumulating gradients."""
    return {n: torch.zeros_like(p, dtype=dtype) for n, p in pset.parameters.items()}
