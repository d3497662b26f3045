"""`diq report`: a self-contained HTML comparison report (plus report.json) from Inspect logs."""

from __future__ import annotations

from pathlib import Path

import click

from harness.core.errors import ConfigError

# Report settings by the flag that sets them, for errors found once the logs are read.
FLAGS = {"reference": "--reference", "primary": "--primary", "labels": "--label"}


def parse_labels(values: tuple[str, ...]) -> dict[str, str]:
    """`LOG_OR_MODEL=LABEL` pairs (the label is what follows the last '=')."""
    labels: dict[str, str] = {}
    for value in values:
        target, sep, label = value.rpartition("=")
        if not sep or not target or not label.strip():
            raise ConfigError(f"--label expects LOG_OR_MODEL=LABEL, got {value!r}")
        if target in labels and labels[target] != label:
            raise ConfigError(
                f"--label gives {target!r} two labels: {labels[target]!r} and {label!r}"
            )
        labels[target] = label.strip()
    return labels


def parse_primary(values: tuple[str, ...]) -> tuple[str, ...]:
    """`--primary` names, comma-separated or repeated, in order, without repeats."""
    names = [name.strip() for value in values for name in value.split(",")]
    if any(not name for name in names):
        raise ConfigError(f"--primary expects MEASURE,... without empty names, got {values!r}")
    return tuple(dict.fromkeys(names))


@click.command("report")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output directory (default for a run directory: RUN_DIR/report).",
)
@click.option(
    "--reference",
    help="Model label every other model is compared with (default: the first label in sorted order).",
)
@click.option(
    "--label",
    "labels",
    multiple=True,
    metavar="LOG_OR_MODEL=LABEL",
    help="Name a model in the report; LOG is a log path, file name or eval id. Repeatable.",
)
@click.option(
    "--correction",
    type=click.Choice(["holm", "bh"]),
    default="holm",
    show_default=True,
    help="Multiple-comparison correction: Holm (family-wise) or Benjamini-Hochberg (false discovery rate).",
)
@click.option(
    "--primary",
    "primary",
    multiple=True,
    metavar="MEASURE,...",
    help="Declare the confirmatory family: measure keys (task/scorer/metric, as in report.json) "
    "or aggregates (AvgS, AvgC, AvgA). Holm over these, Benjamini-Hochberg over every other "
    "comparison with the reference. Repeatable or comma-separated; default: one family.",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed for every bootstrap and permutation.",
)
@click.option(
    "--resamples",
    type=click.IntRange(min=99),
    default=9999,
    show_default=True,
    help="Bootstrap and permutation resamples.",
)
@click.option(
    "--cluster-key",
    default="case_id",
    show_default=True,
    help="Sample metadata field naming the case an item belongs to (clustered SEs); '' for none.",
)
@click.option(
    "--ratings",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Ratings ledger from `diq review import` (found automatically in RUN_DIR/review).",
)
@click.option(
    "--max-chars",
    type=click.IntRange(min=200),
    default=4000,
    show_default=True,
    help="Cut texts in the sample browser to this many characters.",
)
@click.option("--title", default="Model comparison report", show_default=True, help="Report title.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Processes reading logs (default 1; more helps for .json logs).",
)
def report(
    inputs: tuple[Path, ...],
    out: Path | None,
    reference: str | None,
    labels: tuple[str, ...],
    correction: str,
    primary: tuple[str, ...],
    seed: int,
    resamples: int,
    cluster_key: str,
    ratings: Path | None,
    max_chars: int,
    title: str,
    workers: int | None,
) -> None:
    """Compare models from Inspect logs: paired statistics, charts, per-sample browser.

    INPUTS are log files or directories of logs, or one run directory (logs/, scores.parquet,
    subsets/, models/, review/ratings.jsonl), which adds the data-selection section.

    \b
    Examples:
      diq report logs/ --out report --reference random-0.1 --label logs/a.eval=diq-0.1
      diq report runs/demo
    """
    from harness.core.config import parse_section
    from reports.build import build_report
    from reports.config import ReportConfig, SettingError
    from reports.rundir import is_run_dir

    if out is None:
        if len(inputs) == 1 and is_run_dir(inputs[0]):
            out = inputs[0] / "report"
        else:
            raise click.UsageError("--out is required unless the input is a run directory")
    config = parse_section(
        ReportConfig,
        {
            "reference": reference,
            "correction": correction,
            "primary": list(parse_primary(primary)),
            "seed": seed,
            "resamples": resamples,
            "labels": parse_labels(labels),
            "cluster_key": cluster_key,
            "max_chars": max_chars,
            "title": title,
            "workers": workers,
        },
    )
    try:
        data = build_report(inputs, out, config, ratings=ratings)
    except SettingError as error:
        raise ConfigError(f"{FLAGS.get(error.field, error.field)}: {error.message}") from None
    for line in data["findings"]:
        click.echo(f"  {line}")
    for line in data["warnings"]:
        click.echo(f"warning: {line}", err=True)
    click.echo(
        f"wrote {out / 'index.html'} and {out / 'report.json'} ({len(data['models'])} models, {len(data['measures'])} measures)"
    )
