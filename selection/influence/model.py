"""Loading the scoring model (any HF causal LM, optionally with a PEFT adapter) and its precision.

Precision policy: fp32 on CPU (bf16 GEMMs are unusably slow there); on CUDA the weights
are bf16 (GEMMs in bf16, as autocast would run them, without a second fp32 copy of the
weights) and every row dot, per-sample sum and validation-gradient accumulation is fp32.
`fp64` exists for reference runs and tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from harness.core.errors import ConfigError
from selection.options import PRECISIONS


@dataclass(frozen=True)
class Precision:
    """Weight dtype, GEMM operand dtype and accumulation dtype on one device."""

    device: torch.device
    weights: torch.dtype
    accumulate: torch.dtype

    @classmethod
    def resolve(cls, name: str, device: str = "auto") -> Precision:
        """`auto`: fp32 on CPU, bf16 weights with fp32 accumulation on CUDA."""
        if name not in PRECISIONS:
            raise ConfigError(f"unknown precision {name!r}; choose one of {', '.join(PRECISIONS)}")
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        dev = torch.device(device)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ConfigError("--device cuda was requested but CUDA is not available")
        if name == "auto":
            name = "bf16" if dev.type == "cuda" else "fp32"
        weights = {"fp32": torch.float32, "fp64": torch.float64, "bf16": torch.bfloat16}[name]
        accumulate = torch.float64 if weights == torch.float64 else torch.float32
        return cls(dev, weights, accumulate)

    @property
    def name(self) -> str:
        return {torch.float32: "fp32", torch.float64: "fp64", torch.bfloat16: "bf16"}[self.weights]


def load_tokenizer(reference: str) -> Any:
    """The tokenizer of a local checkpoint or HF id; pads with EOS when it has no pad token."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(reference)
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot load the tokenizer of {reference!r}: {error}") from None
    if tokenizer.pad_token_id is None:
        if tokenizer.eos_token_id is None:
            raise ConfigError(f"the tokenizer of {reference!r} has neither a pad nor an EOS token")
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(
    reference: str, precision: Precision, *, adapter: str | None = None, keep_lora: bool = False
) -> nn.Module:
    """Load a causal LM in eval mode on the precision's device.

    With an adapter: `keep_lora=True` keeps the LoRA weights separate (the `lora`
    parameter set scores them); otherwise the adapter is merged into the base weights,
    so the other sets see the adapted model.
    """
    from transformers import AutoModelForCausalLM

    try:
        model: nn.Module = AutoModelForCausalLM.from_pretrained(reference, dtype=precision.weights)
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot load the model {reference!r}: {error}") from None
    if adapter is not None:
        from peft import PeftModel

        try:
            peft_model = PeftModel.from_pretrained(model, adapter)
        except (OSError, ValueError) as error:
            raise ConfigError(f"cannot load the adapter {adapter!r}: {error}") from None
        model = peft_model.get_base_model() if keep_lora else peft_model.merge_and_unload()
    model.to(device=precision.device, dtype=precision.weights)
    model.eval()
    return model
