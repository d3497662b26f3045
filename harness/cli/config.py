"""`diq config`: the documented example config, and checking a config."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("config")
@click.option("--example", is_flag=True, help="Print a documented example config.")
@click.option(
    "--check",
    "check",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Validate a config and print it with every default filled in.",
)
def config(example: bool, check: Path | None) -> None:
    """Print the example experiment config, or validate one.

    \b
    Examples:
      diq config --example > experiment.yaml
      diq config --check experiment.yaml
    """
    from harness.study.checks import check_study
    from harness.study.config import dump_config, load_config
    from harness.study.example import example_text

    if example == (check is not None):
        raise click.UsageError("give exactly one of --example or --check FILE")
    if check is None:
        click.echo(example_text(), nl=False)
        return
    config = load_config(check)
    check_study(config, source=str(check))
    click.echo(dump_config(config), nl=False)
