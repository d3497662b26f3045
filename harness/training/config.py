"""Hyperparameters of one fine-tuning run, with the DIQ paper's defaults.

The paper (arXiv 2508.01450) reports LoRA with r=8 on the q/k/v projections, learning
rate 1e-4, a cosine schedule, 3 epochs and an 8192-token context. It does not report
the batch size, warm-up, LoRA alpha/dropout or precision; the defaults here for those
are common choices (alpha = 2r, dropout 0.05, warm-up 3% as in LESS, 4 x 4 = 16
sequences per optimizer step on one device) and are written into every manifest.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness.core.errors import ConfigError
from harness.core.render import DEFAULT_ASSISTANT_FORMAT, RenderStyle

Precision = Literal["bf16", "fp32"]

PAPER_LORA_TARGETS = ("q_proj", "k_proj", "v_proj")


class TrainConfig(BaseModel):
    """Everything that decides how a subset is fine-tuned.

    Fields in `RUNTIME_FIELDS` change how the run is carried out (memory, logging,
    checkpoint cadence) but not the trained weights; all other fields, with the
    resolved precision, identify a model in the train manifest.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    epochs: float = Field(3.0, gt=0, description="passes over the subset")
    learning_rate: float = Field(1e-4, gt=0)
    lr_scheduler: str = Field("cosine", description="a transformers SchedulerType name")
    warmup_ratio: float = Field(0.03, ge=0, lt=1, description="fraction of steps warming up")
    per_device_batch_size: int = Field(4, ge=1)
    gradient_accumulation_steps: int = Field(4, ge=1)
    weight_decay: float = Field(0.0, ge=0)
    max_grad_norm: float = Field(1.0, gt=0)
    max_length: int = Field(
        8192, ge=8, description="tokens per sequence; longer ones keep their start"
    )
    max_steps: int | None = Field(None, ge=1, description="stop after this many optimizer steps")
    full: bool = Field(False, description="full fine-tuning instead of LoRA")
    lora_r: int = Field(8, ge=1)
    lora_alpha: int = Field(16, ge=1)
    lora_dropout: float = Field(0.05, ge=0, lt=1)
    lora_targets: tuple[str, ...] = Field(PAPER_LORA_TARGETS, min_length=1)
    merge: bool = Field(True, description="merge the LoRA adapter into the published weights")
    seed: int = 0
    precision: Literal["auto", "bf16", "fp32"] = Field(
        "auto", description="auto: bf16 on a GPU that supports it, fp32 otherwise"
    )
    system_prompt: str | None = None
    assistant_format: str = DEFAULT_ASSISTANT_FORMAT

    # How the run is carried out; none of these changes the trained weights.
    gradient_checkpointing: bool | None = Field(
        None, description="recompute activations in backward; auto: on with CUDA"
    )
    save_steps: int = Field(200, ge=1, description="steps between resumable checkpoints")
    save_total_limit: int = Field(2, ge=1)
    logging_steps: int = Field(1, ge=1)
    fail_on_truncation: bool = False
    report_to: tuple[str, ...] = ()

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

    @field_validator("lr_scheduler")
    @classmethod
    def _known_scheduler(cls, value: str) -> str:
        from transformers.trainer_utils import SchedulerType

        known = [member.value for member in SchedulerType]
        if value not in known:
            raise ValueError(f"unknown scheduler {value!r}; choose one of {', '.join(known)}")
        return value

    @field_validator("assistant_format")
    @classmethod
    def _format_has_fields(cls, value: str) -> str:
        for name in ("{reasoning}", "{response}"):
            if name not in value:
                raise ValueError(f"the assistant format must contain {name}")
        return value

    @classmethod
    def from_options(cls, **values: Any) -> TrainConfig:
        """Build a config from keyword options, turning validation errors into `ConfigError`."""
        try:
            return cls(**values)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in item['loc']) or 'config'}: {item['msg']}"
                for item in error.errors()
            )
            raise ConfigError(f"invalid training configuration: {problems}") from None

    @property
    def mode(self) -> Literal["lora", "full"]:
        return "full" if self.full else "lora"

    def style(self) -> RenderStyle:
        """The chat rendering shared with selection."""
        return RenderStyle(system_prompt=self.system_prompt, assistant_format=self.assistant_format)

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
        """The fields that determine the trained weights (LoRA fields only in LoRA mode)."""
        values = self.model_dump(mode="json", exclude=set(self.RUNTIME_FIELDS))
        values["precision"] = self.resolved_precision()
        if self.full:
            for name in ("lora_r", "lora_alpha", "lora_dropout", "lora_targets", "merge"):
                values.pop(name)
        return values
