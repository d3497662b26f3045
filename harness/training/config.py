"""Hyperparameters of one fine-tuning run, with the DIQ paper's defaults.

The paper (arXiv 2508.01450) reports LoRA with r=8 on the q/k/v projections, learning
rate 1e-4, a cosine schedule, 3 epochs and an 8192-token context. It does not report
the batch size, warm-up, LoRA alpha/dropout or precision; the defaults here for those
are common choices (alpha = 2r, dropout 0.05, warm-up 3% as in LESS, 4 x 4 = 16
sequences per optimizer step on one device) and are written into every manifest.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from harness.core.config import Section, cli
from harness.core.render import RenderStyle

Precision = Literal["bf16", "fp32"]

PAPER_LORA_TARGETS = ("q_proj", "k_proj", "v_proj")


class TrainConfig(Section):
    """Everything that decides how a subset is fine-tuned: the `train:` section and `diq train`.

    Fields in `RUNTIME_FIELDS` change how the run is carried out (memory, logging,
    checkpoint cadence) and `STUDY_FIELDS` what a study trains; neither changes the weights.
    All other fields, with the resolved precision and the rendering, identify a model in
    the train manifest.
    """

    base: str = Field(
        description="base model: a checkpoint directory, a .gguf file or a Hugging Face id",
        json_schema_extra=cli(path=True),
        examples=["meta-llama/Llama-3.1-8B-Instruct"],
    )
    subsets: list[str] | None = Field(
        None,
        description="which subsets a study trains (null: all), e.g. [diq-0.01, random-0.01, full]",
        json_schema_extra=cli(hidden=True),
    )
    models: dict[str, str] = Field(
        {},
        description="checkpoints trained elsewhere, by subset name: {full: /ckpt/full-sft}",
        json_schema_extra=cli(hidden=True, path=True),
    )
    accelerate_config: str | None = Field(
        None,
        description="train each model of a study under `accelerate launch` with this config "
        "(e.g. configs/accelerate/fsdp.yaml)",
        json_schema_extra=cli(hidden=True, path=True),
    )
    epochs: float = Field(3.0, gt=0, description="passes over the subset")
    learning_rate: float = Field(
        1e-4, gt=0, description="peak learning rate", json_schema_extra=cli("--lr")
    )
    lr_scheduler: str = Field(
        "cosine",
        description="learning-rate schedule (a transformers SchedulerType)",
        json_schema_extra=cli("--scheduler"),
    )
    warmup_ratio: float = Field(0.03, ge=0, lt=1, description="fraction of steps warming up")
    per_device_batch_size: int = Field(
        4,
        ge=1,
        description="sequences per device per micro-step",
        json_schema_extra=cli("--batch-size"),
    )
    gradient_accumulation_steps: int = Field(
        4, ge=1, description="micro-steps per optimizer step", json_schema_extra=cli("--grad-accum")
    )
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay")
    max_grad_norm: float = Field(1.0, gt=0, description="gradient clipping norm")
    max_length: int = Field(
        8192, ge=8, description="tokens per sequence; longer ones keep their start (counted)"
    )
    max_steps: int | None = Field(
        None,
        ge=1,
        description="stop after this many optimizer steps (smoke runs; overrides epochs)",
    )
    full: bool = Field(
        False, description="full fine-tuning instead of LoRA (consider a lower learning rate)"
    )
    lora_r: int = Field(8, ge=1, description="LoRA rank (paper: 8)")
    lora_alpha: int = Field(16, ge=1, description="LoRA scaling numerator (scale = alpha / r)")
    lora_dropout: float = Field(0.05, ge=0, lt=1, description="LoRA dropout")
    lora_targets: tuple[str, ...] = Field(
        PAPER_LORA_TARGETS,
        min_length=1,
        description="module names or dotted suffixes to adapt (paper: q/k/v), or all-linear",
    )
    merge: bool = Field(
        True, description="publish LoRA merged into the base (the adapter kept in adapter/)"
    )
    seed: int = Field(0, description="seed of initialisation, data order and dropout")
    precision: Literal["auto", "bf16", "fp32"] = Field(
        "auto", description="auto: bf16 on a GPU that supports it, fp32 otherwise"
    )
    render: RenderStyle = Field(
        RenderStyle(), description="how records become chat turns (shared with selection)"
    )

    # How the run is carried out; none of these changes the trained weights.
    gradient_checkpointing: bool | None = Field(
        None, description="recompute activations in backward (null: on with CUDA)"
    )
    save_steps: int = Field(200, ge=1, description="optimizer steps between resumable checkpoints")
    save_total_limit: int = Field(2, ge=1, description="resumable checkpoints kept")
    logging_steps: int = Field(1, ge=1, description="steps between logged losses (the loss curve)")
    fail_on_truncation: bool = Field(
        False, description="refuse a subset with any record longer than max_length"
    )
    report_to: tuple[str, ...] = Field(
        (), description="experiment trackers (wandb, tensorboard, ...)"
    )

    RUNTIME_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {
            "gradient_checkpointing",
            "save_steps",
            "save_total_limit",
            "logging_steps",
            "fail_on_truncation",
            "report_to",
        }
    )
    STUDY_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"base", "subsets", "models", "accelerate_config"}
    )

    @field_validator("lr_scheduler")
    @classmethod
    def _known_scheduler(cls, value: str) -> str:
        from transformers.trainer_utils import SchedulerType

        known = [member.value for member in SchedulerType]
        if value not in known:
            raise ValueError(f"unknown scheduler {value!r}; choose one of {', '.join(known)}")
        return value

    @property
    def mode(self) -> Literal["lora", "full"]:
        return "full" if self.full else "lora"

    def resolved_precision(self) -> Precision:
        """bf16 on a CUDA device with bf16 support when `precision` is auto; fp32 on a CPU."""
        if self.precision != "auto":
            return self.precision
        import torch

        cuda_bf16 = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
        return "bf16" if cuda_bf16 else "fp32"

    def resolved_gradient_checkpointing(self) -> bool:
        """Checkpoint activations on GPUs (long sequences), not on CPUs (small models, speed)."""
        if self.gradient_checkpointing is not None:
            return self.gradient_checkpointing
        import torch

        return torch.cuda.is_available()

    def hyperparameters(self) -> dict[str, Any]:
        """The fields that determine the trained weights (LoRA fields only in LoRA mode).

        The base model is not among them: the manifest identifies it by content.
        """
        values = self.model_dump(mode="json", exclude=set(self.RUNTIME_FIELDS | self.STUDY_FIELDS))
        values["precision"] = self.resolved_precision()
        if self.full:
            for name in ("lora_r", "lora_alpha", "lora_dropout", "lora_targets", "merge"):
                values.pop(name)
        return values
