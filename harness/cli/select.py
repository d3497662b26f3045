"""`diq select`: score a pool (influence, difficulty) and write DIQ and baseline subsets.

Its options are the fields of `selection.config.SelectConfig` (the `select:` section of
an experiment), and it runs the study's select stage. Also runs under torchrun, one
process per GPU:

    torchrun --nproc-per-node 8 -m harness.cli.select --pool ... --out RUN_DIR
"""

from __future__ import annotations

import logging
import sys
import warnings
from pathlib import Path
from typing import Any

import click

from harness.cli.options import build_config, config_options
from selection.config import SelectConfig


def _configure_logging(quiet: bool) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("diq select: %(message)s"))
    log = logging.getLogger("selection")
    log.handlers[:] = [handler]
    log.setLevel(logging.WARNING if quiet else logging.INFO)
    log.propagate = False
    import transformers

    transformers.utils.logging.disable_progress_bar()
    warnings.filterwarnings(
        "ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning
    )


@click.command("select")
@config_options(SelectConfig)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Run directory.")
@click.option("--quiet", is_flag=True, help="No progress bars or stage lines.")
@click.option(
    "--force",
    is_flag=True,
    help="Write into a directory diq did not make (only selection's own files are replaced).",
)
def select(out: str, quiet: bool, force: bool, **options: Any) -> None:
    """Score a pool (influence, difficulty) and write DIQ and baseline subsets.

    \b
    Examples:
      diq select --pool pool.jsonl --validation validation.jsonl --model BASE --out runs/x
      diq select --pool pool.jsonl --validation-suites paper --model BASE \\
          --decontaminate-suite paper --strategies diq,random,ifd --ratios 0.01,0.1 --out runs/x
    """
    from harness.core.layout import RunLayout
    from harness.core.outdir import check_output_dir
    from harness.study.stages.select import select_subsets

    check_output_dir(out, "run", force=force)
    config = build_config(SelectConfig, options)
    if config.scoring.model is None:
        raise click.UsageError("give --model (the scoring model)")
    _configure_logging(quiet)
    result = select_subsets(
        config,
        RunLayout(Path(out)),
        progress=not quiet,
        echo=lambda line: click.echo(line, err=True),
    )
    if result is None:
        return
    click.echo(f"{result.run_dir}: {result.pool_size} records scored")
    if result.skipped:
        click.echo(f"unchanged, skipped: {', '.join(result.skipped)}")
    for name, manifest in result.subsets.items():
        click.echo(f"  subsets/{name}.jsonl  {manifest['selected']} records")


def main() -> None:
    """`python -m harness.cli.select` (for torchrun): `diq select` with its errors."""
    from harness.cli import main as diq

    diq(args=["select", *sys.argv[1:]], prog_name="diq")


if __name__ == "__main__":
    main()
