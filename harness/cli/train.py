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

from harness.cli.options import build_config, config_options
from harness.core.io import read_yaml_mapping
from harness.training.config import TrainConfig


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
    "subsets_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A directory of subset files (RUN_DIR/subsets): one model per *.jsonl.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="With --subset: the model directory (required). With --subsets: the models "
    "directory [default: models/ beside the subsets directory].",
)
@config_options(TrainConfig)
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
    help="JSON or YAML file of `train:` settings (as `diq run` writes for accelerate); "
    "flags given on the command line override it.",
)
def train(
    subset: Path | None,
    subsets_dir: Path | None,
    out: Path | None,
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

    if (subset is None) == (subsets_dir is None):
        raise click.UsageError("give exactly one of --subset FILE and --subsets DIR")
    if subset is not None and out is None:
        raise click.UsageError("--subset needs --out DIR")
    base = read_yaml_mapping(config_file, "training config") if config_file else {}
    config = build_config(TrainConfig, options, base)
    _configure_logging()
    from harness.models.gguf import resolve_checkpoint

    echo = lambda line: click.echo(line, err=True)  # noqa: E731
    config = config.model_copy(update={"base": resolve_checkpoint(config.base, echo=echo)})
    run_options: dict[str, Any] = {
        "work_dir": work_dir,
        "resume": resume,
        "force": force,
        "progress": progress,
    }
    if subset is not None:
        assert out is not None
        results = [train_subset(subset, out, config, **run_options)]
    else:
        assert subsets_dir is not None
        results = train_all(subsets_dir, config, out, **run_options)
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
