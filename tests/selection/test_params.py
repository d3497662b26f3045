from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from harness.core.errors import ConfigError
from selection.influence.model import Precision, load_model
from selection.influence.params import block_lists, resolve_parameter_set

CPU = Precision(torch.device("cpu"), torch.float32, torch.float32)


def test_llama_sets(tiny_checkpoint: Path) -> None:
    model = load_model(str(tiny_checkpoint), CPU)
    layers = model.config.num_hidden_layers
    assert block_lists(model) == ["model.layers"]
    linear = resolve_parameter_set(model, "all-linear")
    attention = resolve_parameter_set(model, "attention")
    mlp = resolve_parameter_set(model, "mlp")
    assert len(linear.parameters) == 7 * layers
    assert len(attention.parameters) == 4 * layers
    assert len(mlp.parameters) == 3 * layers
    assert set(attention.parameters) | set(mlp.parameters) == set(linear.parameters)
    assert not any("embed" in n or "lm_head" in n or "norm" in n for n in linear.parameters)
    everything = resolve_parameter_set(model, "all")
    assert everything.numel == sum(p.numel() for p in model.parameters())


def test_gpt2_conv1d_sets(gpt2_checkpoint: Path) -> None:
    model = load_model(str(gpt2_checkpoint), CPU)
    assert set(resolve_parameter_set(model, "attention").parameters) == {
        f"transformer.h.{i}.attn.{name}.weight" for i in range(2) for name in ("c_attn", "c_proj")
    }
    assert set(resolve_parameter_set(model, "mlp").parameters) == {
        f"transformer.h.{i}.mlp.{name}.weight" for i in range(2) for name in ("c_fc", "c_proj")
    }


def test_tied_parameter_is_counted_once_and_used_twice(tied_checkpoint: Path) -> None:
    model = load_model(str(tied_checkpoint), CPU)
    everything = resolve_parameter_set(model, "all")
    users = [s.name for s in everything.sites if "model.embed_tokens.weight" in s.canonical]
    assert users == ["model.embed_tokens", "lm_head"]
    assert "lm_head.weight" not in everything.parameters


def test_lora_set_needs_an_adapter(tiny_checkpoint: Path, lora_adapter: Path) -> None:
    with pytest.raises(ConfigError, match="no parameters in set 'lora'.*--adapter"):
        resolve_parameter_set(load_model(str(tiny_checkpoint), CPU), "lora")
    model = load_model(str(tiny_checkpoint), CPU, adapter=str(lora_adapter), keep_lora=True)
    lora = resolve_parameter_set(model, "lora")
    assert len(lora.parameters) == 2 * 3 * model.config.num_hidden_layers


class _Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(4, 4)


class _Toy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([_Block(), _Block()])
        self.head = nn.Linear(4, 2)


def test_model_without_the_set_is_a_clear_error() -> None:
    toy = _Toy()
    assert len(resolve_parameter_set(toy, "all-linear").parameters) == 2
    with pytest.raises(ConfigError, match="no parameters in set 'attention'"):
        resolve_parameter_set(toy, "attention")
    with pytest.raises(ConfigError, match="unknown parameter set"):
        resolve_parameter_set(toy, "everything")


def test_parameter_owned_by_a_composite_module_is_refused() -> None:
    toy = _Toy()
    toy.scale = nn.Parameter(torch.ones(1))  # owned by the root, which has submodules
    with pytest.raises(ConfigError, match="per-sample"):
        resolve_parameter_set(toy, "all")
