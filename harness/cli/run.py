"""`diq run`: the whole study from one experiment config."""

from __future__ import annotations

from pathlib import Path

import click

from harness.study.stages import NAMES


@click.command("run")
@click.argument("config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Run directory (default: runs/<name>).",
)
@click.option(
    "--from",
    "start",
    type=click.Choice(NAMES),
    help="Start at this stage (earlier stages' outputs are reused); not with --only.",
)
@click.option(
    "--only", help=f"Run only these stages (comma list of {', '.join(NAMES)}); not with --from."
)
@click.option(
    "--force",
    is_flag=True,
    help="Rerun the chosen stages even if their inputs did not change, and write into a "
    "directory diq did not make.",
)
def run(
    config_file: Path, out: Path | None, start: str | None, only: str | None, force: bool
) -> None:
    """Run (or resume) the study that CONFIG_FILE describes.

    Stages: select -> train -> eval -> judge -> review -> report. A stage whose inputs
    did not change since its last run is skipped; an interrupted stage resumes.

    \b
    Examples:
      diq run experiment.yaml
      diq run experiment.yaml --only eval,report
      diq run experiment.yaml --from judge --force
    """
    from harness.core.errors import ConfigError
    from harness.core.outdir import check_output_dir
    from harness.study.config import load_config
    from harness.study.run import plan, run_study

    stages = [s.strip() for s in only.split(",") if s.strip()] if only is not None else None
    try:
        plan(start, stages)
    except ConfigError as error:
        raise click.UsageError(str(error)) from None
    config = load_config(config_file)
    root = out or Path("runs") / config.name
    check_output_dir(root, "run", force=force)
    run_study(config, root, start=start, only=stages, force=force, echo=click.echo)
    click.echo(f"report: {root / 'report' / 'index.html'}")
