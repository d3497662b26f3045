"""`diq train`: fine-tune one model per subset (TRL `SFTTrainer`, LoRA or full).

Runs as a `diq` subcommand, or under `accelerate launch` for several GPUs:

    accelerate launch --config_file configs/accelerate/fsdp.yaml -m harness.cli.train \\
        --subsets runs/demo/subsets --base meta-llama/Llama-3.1-8B-Instruct
"""

from __future__ import annotations

import logging
import sys
import warnings
from pathlib import Path
from typing import Any

import click

from harness.core.io import read_json
from harness.training.config import PAPER_LORA_TARGETS, TrainConfig

DEFAULTS = TrainConfig.model_fields


def _default(name: str) -> Any:
    return DEFAULTS[name].default


def _configure_logging() -> None:
    """Progress lines from the main process on stderr; warnings only from the other ranks.

    Also silences what a user cannot act on: the per-step dataset preparation bars (the
    length measurement has its own) and a transformers deprecation that peft and TRL
    trigger, not the user.
    """
    import datasets

    from harness.training.trainer import distributed_state

    datasets.disable_progress_bars()
    warnings.filterwarnings(
        "ignore", message=".*is_gradient_checkpointing.*is deprecated", category=FutureWarning
    )

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("diq train: %(message)s"))
    log = logging.getLogger("harness.training")
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO if distributed_state().is_main_process else logging.WARNING)
    log.propagate = False


@click.command("train")
@click.option(
    "--subset",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="One subset JSONL file (normalized pool records).",
)
@click.option(
    "--subsets",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A directory of subset files (RUN_DIR/subsets): one model per *.jsonl.",
)
@click.option(
    "--base",
    required=True,
    help="Base model: a checkpoint directory (e.g. from `diq tiny-model`) or a Hugging Face id.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="With --subset: the model directory (required). With --subsets: the models "
    "directory [default: models/ beside the subsets directory].",
)
@click.option(
    "--epochs",
    type=click.FloatRange(min=0, min_open=True),
    default=_default("epochs"),
    show_default=True,
)
@click.option(
    "--lr",
    "learning_rate",
    type=float,
    default=_default("learning_rate"),
    show_default=True,
    help="Peak learning rate.",
)
@click.option(
    "--scheduler",
    "lr_scheduler",
    default=_default("lr_scheduler"),
    show_default=True,
    help="Learning-rate schedule (a transformers SchedulerType).",
)
@click.option(
    "--warmup-ratio",
    type=float,
    default=_default("warmup_ratio"),
    show_default=True,
    help="Fraction of steps with linear warm-up.",
)
@click.option(
    "--batch-size",
    "per_device_batch_size",
    type=click.IntRange(min=1),
    default=_default("per_device_batch_size"),
    show_default=True,
    help="Sequences per device per micro-step.",
)
@click.option(
    "--grad-accum",
    "gradient_accumulation_steps",
    type=click.IntRange(min=1),
    default=_default("gradient_accumulation_steps"),
    show_default=True,
    help="Micro-steps per optimizer step.",
)
@click.option("--weight-decay", type=float, default=_default("weight_decay"), show_default=True)
@click.option(
    "--max-grad-norm",
    type=float,
    default=_default("max_grad_norm"),
    show_default=True,
    help="Gradient clipping norm.",
)
@click.option(
    "--max-length",
    type=click.IntRange(min=8),
    default=_default("max_length"),
    show_default=True,
    help="Tokens per sequence; longer records keep their start (counted in the manifest).",
)
@click.option(
    "--fail-on-truncation",
    is_flag=True,
    help="Refuse a subset with any record longer than --max-length.",
)
@click.option(
    "--max-steps",
    type=click.IntRange(min=1),
    help="Stop after this many optimizer steps (smoke runs); overrides --epochs.",
)
@click.option(
    "--full",
    is_flag=True,
    help="Full fine-tuning instead of LoRA (consider a lower --lr, e.g. 1e-5).",
)
@click.option(
    "--lora-r",
    type=click.IntRange(min=1),
    default=_default("lora_r"),
    show_default=True,
    help="LoRA rank.",
)
@click.option(
    "--lora-alpha",
    type=click.IntRange(min=1),
    default=_default("lora_alpha"),
    show_default=True,
    help="LoRA scaling numerator (scale = alpha / r).",
)
@click.option(
    "--lora-dropout",
    type=click.FloatRange(min=0, max=1, max_open=True),
    default=_default("lora_dropout"),
    show_default=True,
)
@click.option(
    "--lora-targets",
    default=",".join(PAPER_LORA_TARGETS),
    show_default=True,
    help="Comma-separated module names (or dotted suffixes, e.g. self_attn.q_proj) to adapt, "
    "or all-linear.",
)
@click.option(
    "--merge/--no-merge",
    default=_default("merge"),
    show_default=True,
    help="Publish LoRA merged into the base (adapter kept in adapter/), or the adapter alone.",
)
@click.option("--seed", type=int, default=_default("seed"), show_default=True)
@click.option(
    "--precision",
    type=click.Choice(["auto", "bf16", "fp32"]),
    default=_default("precision"),
    show_default=True,
    help="auto: bf16 on a GPU that supports it, fp32 on CPU.",
)
@click.option(
    "--system-prompt", help="System turn prepended to every record (must match evaluation)."
)
@click.option(
    "--gradient-checkpointing/--no-gradient-checkpointing",
    default=None,
    help="Recompute activations in backward [default: on with CUDA].",
)
@click.option(
    "--save-steps",
    type=click.IntRange(min=1),
    default=_default("save_steps"),
    show_default=True,
    help="Optimizer steps between resumable checkpoints.",
)
@click.option(
    "--logging-steps",
    type=click.IntRange(min=1),
    default=_default("logging_steps"),
    show_default=True,
    help="Steps between logged losses (the manifest's loss_curve).",
)
@click.option(
    "--report-to", multiple=True, help="Experiment tracker (wandb, tensorboard, ...); repeatable."
)
@click.option(
    "--work-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where checkpoints live while training: each model's in .<name>.work/ here "
    "(e.g. fast scratch disk) [default: beside the model directory].",
)
@click.option(
    "--resume/--no-resume",
    default=True,
    show_default=True,
    help="Continue an interrupted identical run from its last checkpoint.",
)
@click.option(
    "--force", is_flag=True, help="Retrain even when the model's manifest matches its inputs."
)
@click.option("--progress/--no-progress", default=True, show_default=True, help="Progress bars.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON file of hyperparameters (TrainConfig fields, as `diq run` writes); "
    "flags given on the command line override it.",
)
@click.pass_context
def train(
    ctx: click.Context,
    subset: Path | None,
    subsets: Path | None,
    base: str,
    out: Path | None,
    lora_targets: str,
    work_dir: Path | None,
    resume: bool,
    force: bool,
    progress: bool,
    config_file: Path | None,
    **options: Any,
) -> None:
    """Fine-tune BASE on each subset: LoRA (paper defaults) or full, loss on the answer only.

    Each model directory holds merged weights and tokenizer that Inspect's hf/ provider
    loads (`--model hf/NAME -M model_path=DIR`), the LoRA adapter in adapter/, and
    train_manifest.json (subset hash, base model, hyperparameters, loss curve, ...).
    A model whose manifest matches its inputs is skipped; an interrupted run resumes.

    \b
    Examples:
      diq train --subset runs/demo/subsets/diq-0.1.jsonl --base runs/demo/base-model \\
          --out runs/demo/models/diq-0.1 --max-steps 20
      diq train --subsets runs/demo/subsets --base meta-llama/Llama-3.1-8B-Instruct
      accelerate launch --config_file configs/accelerate/fsdp.yaml -m harness.cli.train \\
          --subsets runs/demo/subsets --base meta-llama/Llama-3.1-8B-Instruct
    """
    from harness.training import train_all, train_subset

    if (subset is None) == (subsets is None):
        raise click.UsageError("give exactly one of --subset FILE and --subsets DIR")
    if subset is not None and out is None:
        raise click.UsageError("--subset needs --out DIR")
    targets = tuple(target.strip() for target in lora_targets.split(",") if target.strip())
    options["lora_targets"] = targets
    if config_file is not None:
        given = {
            name: value
            for name, value in options.items()
            if ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
        }
        options = {**read_json(config_file), **given}
    config = TrainConfig.from_options(**options)
    _configure_logging()
    run_options: dict[str, Any] = {
        "work_dir": work_dir,
        "resume": resume,
        "force": force,
        "progress": progress,
    }
    if subset is not None:
        assert out is not None
        results = [train_subset(subset, base, out, config, **run_options)]
    else:
        assert subsets is not None
        results = train_all(subsets, base, out, config, **run_options)
    from harness.training.trainer import distributed_state

    if not distributed_state().is_main_process:
        return
    for result in results:
        manifest = result.manifest
        if result.skipped:
            click.echo(f"{result.output_dir}: up to date, skipped")
        else:
            losses = manifest["loss_curve"]
            click.echo(
                f"{result.output_dir}: {manifest['steps']} steps, loss "
                f"{losses[0]:.4f} -> {losses[-1]:.4f}, {manifest['wall_time_s']:.1f} s"
            )


def main() -> None:
    """`python -m harness.cli.train` (for `accelerate launch -m`): `diq train` with its errors."""
    from harness.cli import main as diq

    diq(args=["train", *sys.argv[1:]], prog_name="diq")


if __name__ == "__main__":
    main()
