"""TRL's `SFTTrainer` set up from a `TrainConfig`: completion-only loss, LoRA or full.

No training loop of our own: `SFTTrainer` (transformers `Trainer` on `accelerate`)
does the steps, gradient accumulation, mixed precision, distributed wrapping
(DDP/FSDP/DeepSpeed from `accelerate launch`), checkpoints and resume.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm.auto import tqdm
from transformers import TrainerCallback

from harness.training.config import TrainConfig

if TYPE_CHECKING:
    from accelerate import PartialState
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import TrainerControl, TrainerState, TrainingArguments
    from trl import SFTConfig, SFTTrainer


def _launcher_flag(name: str) -> bool:
    return os.environ.get(name, "false").lower() in ("1", "true")


def fsdp_enabled() -> bool:
    """Whether `accelerate launch` runs this process under FSDP."""
    return _launcher_flag("ACCELERATE_USE_FSDP")


def fsdp_checkpoints_activations() -> bool:
    """Whether FSDP checkpoints activations itself (`fsdp_activation_checkpointing`)."""
    return fsdp_enabled() and _launcher_flag("FSDP_ACTIVATION_CHECKPOINTING")


def cpu_only() -> bool:
    """No CUDA or MPS device: train on the CPU (several processes talk over gloo)."""
    import torch

    return not (torch.cuda.is_available() or torch.backends.mps.is_available())


def distributed_state() -> PartialState:
    """This process's place among the `accelerate launch` / `torchrun` processes.

    Created here first, with `cpu` set on CPU-only machines, because accelerate's state
    is a process-wide singleton and only a CPU state joins several CPU processes.
    """
    from accelerate import PartialState

    return PartialState(cpu=cpu_only())


class LossProgressBar(TrainerCallback):
    """One tqdm bar over optimizer steps with the last logged loss, on the main process.

    Replaces transformers' own bar, which prints every log dict (a line per step
    with `logging_steps=1`).
    """

    def __init__(self, description: str) -> None:
        self.description = description
        self.bar: Any = None

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if state.is_world_process_zero:
            self.bar = tqdm(
                total=state.max_steps,
                initial=state.global_step,
                desc=self.description,
                unit="step",
                dynamic_ncols=True,
            )

    def on_step_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        if self.bar is not None and logs and "loss" in logs:
            self.bar.set_postfix(loss=f"{logs['loss']:.4f}", refresh=False)

    def on_train_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class NoFinalCheckpoint(TrainerCallback):
    """Skip the checkpoint the trainer writes when training ends between save steps.

    The finished model is published right away, so that checkpoint would only cost
    time and disk (for a full fine-tune, optimizer state twice the model's size).
    Runs after transformers' `DefaultFlowCallback`, which asks for it.
    """

    def on_step_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if state.global_step >= state.max_steps and state.global_step % state.save_steps:
            control.should_save = False


def sft_config(
    config: TrainConfig, output_dir: str | Path, *, max_length: int, progress: bool
) -> SFTConfig:
    """The trainer arguments; built before the model is loaded (DeepSpeed ZeRO-3 needs that)."""
    import torch
    from trl import SFTConfig

    precision = config.resolved_precision()
    return SFTConfig(
        output_dir=str(output_dir),
        num_train_epochs=config.epochs,
        max_steps=config.max_steps if config.max_steps is not None else -1,
        learning_rate=config.learning_rate,
        lr_scheduler_type=config.lr_scheduler,
        warmup_steps=config.warmup_ratio,
        per_device_train_batch_size=config.per_device_batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        weight_decay=config.weight_decay,
        max_grad_norm=config.max_grad_norm,
        seed=config.seed,
        data_seed=config.seed,
        bf16=precision == "bf16",
        fp16=False,
        use_cpu=cpu_only(),
        # Under FSDP's own activation checkpointing the trainer's would gather twice.
        activation_checkpointing=(
            config.resolved_gradient_checkpointing() and not fsdp_checkpoints_activations()
        ),
        max_length=max_length,
        truncation_mode="keep_start",
        completion_only_loss=True,
        assistant_only_loss=False,
        packing=False,
        shuffle_dataset=False,  # the sampler shuffles each epoch, seeded
        logging_steps=config.logging_steps,
        logging_first_step=True,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        report_to=list(config.report_to) or "none",
        disable_tqdm=not progress,
        dataloader_pin_memory=torch.cuda.is_available(),
        # Every trainable parameter (adapter or weight) is used in every forward pass.
        ddp_find_unused_parameters=False,
        dataset_num_proc=None,
        include_num_input_tokens_seen="non_padding",
    )


def lora_config(config: TrainConfig) -> LoraConfig:
    """The paper's adapter: rank `lora_r` on `lora_targets`."""
    from peft import LoraConfig

    targets: str | list[str] = (
        "all-linear" if config.lora_targets == ("all-linear",) else list(config.lora_targets)
    )
    return LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=targets,
        bias="none",
        task_type="CAUSAL_LM",
    )


def build_trainer(
    model: Any,
    tokenizer: Any,
    dataset: Dataset,
    config: TrainConfig,
    args: SFTConfig,
    *,
    progress_description: str | None = None,
    callbacks: list[TrainerCallback] | None = None,
) -> SFTTrainer:
    """An `SFTTrainer` on the prompt-completion dataset; LoRA unless `config.full`.

    Passing `progress_description` shows a progress bar; otherwise the trainer is quiet.
    """
    from transformers import PrinterCallback, ProgressCallback
    from trl import SFTTrainer

    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=None if config.full else lora_config(config),
        callbacks=[NoFinalCheckpoint(), *(callbacks or [])],
    )
    trainer.remove_callback(ProgressCallback)
    trainer.remove_callback(PrinterCallback)
    if progress_description is not None:
        trainer.add_callback(LossProgressBar(progress_description))
    return trainer
