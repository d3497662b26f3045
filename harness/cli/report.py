"""`diq report`: a self-contained HTML comparison report (plus report.json) from Inspect logs.

Its options are the fields of `reports.config.ReportConfig`, the experiment's `report:`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from harness.cli.options import build_config, config_options, flag_for
from harness.core.errors import ConfigError
from reports.config import ReportConfig


@click.command("report")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output directory (default for a run directory: RUN_DIR/report).",
)
@config_options(ReportConfig)
@click.option(
    "--ratings",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Ratings ledger from `diq review import` (found automatically in RUN_DIR/review).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Write into a directory diq did not make (only the report's own files are replaced).",
)
def report(
    inputs: tuple[Path, ...], out: Path | None, ratings: Path | None, force: bool, **options: Any
) -> None:
    """Compare models from Inspect logs: paired statistics, charts, per-sample browser.

    INPUTS are log files or directories of logs, or one run directory (logs/, scores.parquet,
    subsets/, models/, review/ratings.jsonl), which adds the data-selection section.

    \b
    Examples:
      diq report logs/ --out report --reference random-0.1 --label logs/a.eval=diq-0.1
      diq report runs/demo
    """
    from reports.build import build_report
    from reports.config import SettingError
    from reports.rundir import is_run_dir

    if out is None:
        if len(inputs) == 1 and is_run_dir(inputs[0]):
            out = inputs[0] / "report"
        else:
            raise click.UsageError("--out is required unless the input is a run directory")
    config = build_config(ReportConfig, options)
    try:
        data = build_report(inputs, out, config, ratings=ratings, force=force)
    except SettingError as error:
        raise ConfigError(f"{flag_for(ReportConfig, (error.field,))}: {error.message}") from None
    for line in data["findings"]:
        click.echo(f"  {line}")
    for line in data["warnings"]:
        click.echo(f"warning: {line}", err=True)
    click.echo(
        f"wrote {out / 'index.html'} and {out / 'report.json'} ({len(data['models'])} models, {len(data['measures'])} measures)"
    )
