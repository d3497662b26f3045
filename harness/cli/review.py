"""`diq review`: blinded physician rater sheets out, validated ratings back in."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from harness.cli.report import parse_labels
from harness.core.errors import ConfigError

# Review settings by the flag that sets them, for errors found once the logs are read.
FLAGS = {"tasks": "--task", "rubrics": "--rubric", "labels": "--label"}


@click.group("review")
def review_group() -> None:
    """Physician rating: export blinded sheets, import the returned ones into a ledger."""


@review_group.command("export")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--rubric",
    "rubrics",
    multiple=True,
    required=True,
    help="Rubric name (differential_diagnosis, ...) or YAML path; its axes become the rating columns. Repeatable.",
)
@click.option(
    "--raters",
    required=True,
    help="Comma-separated rater ids, e.g. alice,bob,carol (at least two).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Export directory (default for a run directory: RUN_DIR/review).",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed for codes, sampling, assignment and order.",
)
@click.option(
    "--calibration",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="Prompts every rater rates, with every model's answer (stratified over tasks).",
)
@click.option(
    "--per-item",
    type=click.IntRange(min=2),
    default=2,
    show_default=True,
    help="Raters per prompt outside the calibration subset.",
)
@click.option(
    "--prompts",
    type=click.IntRange(min=1),
    help="Rate this many prompts (all models' answers to each); default: all.",
)
@click.option(
    "--task",
    "tasks",
    multiple=True,
    help="Only these tasks (repeatable); default: all in the logs.",
)
@click.option(
    "--label",
    "labels",
    multiple=True,
    metavar="LOG_OR_MODEL=LABEL",
    help="Model labels, as in `diq report` (kept in the key only).",
)
@click.option(
    "--format",
    "sheet_format",
    type=click.Choice(["xlsx", "csv", "labelstudio"]),
    default="xlsx",
    show_default=True,
    help="Sheet format.",
)
@click.option(
    "--show-reference/--hide-reference",
    default=False,
    show_default=True,
    help="Show raters the reference answer.",
)
@click.option(
    "--max-chars",
    type=int,
    default=32_767,
    show_default=True,
    help="Cut texts longer than this (full texts go to raters/full_texts.html).",
)
def export(
    inputs: tuple[Path, ...],
    rubrics: tuple[str, ...],
    raters: str,
    out: Path | None,
    seed: int,
    calibration: int,
    per_item: int,
    prompts: int | None,
    tasks: tuple[str, ...],
    labels: tuple[str, ...],
    sheet_format: str,
    show_reference: bool,
    max_chars: int,
) -> None:
    """Write one blinded, order-randomized sheet per rater from Inspect logs.

    INPUTS are log files or directories, or one run directory. Send raters only the
    files in OUT/raters/; OUT/key.json unblinds the codes and stays with you.

    \b
    Example:
      diq review export runs/demo --rubric differential_diagnosis --rubric safety_check \\
          --raters alice,bob,carol --prompts 40 --calibration 20
    """
    from harness.core.config import parse_section
    from reports.build import load_frames, resolve_inputs
    from reports.config import ReviewConfig, SettingError
    from reports.review.export import export_sheets
    from reports.rundir import is_run_dir

    if out is None:
        if len(inputs) == 1 and is_run_dir(inputs[0]):
            out = inputs[0] / "review"
        else:
            raise click.UsageError("--out is required unless the input is a run directory")
    config = parse_section(
        ReviewConfig,
        {
            "raters": raters.split(","),
            "rubrics": list(rubrics),
            "seed": seed,
            "calibration": calibration,
            "raters_per_item": per_item,
            "prompts": prompts,
            "tasks": list(tasks),
            "format": sheet_format,
            "show_reference": show_reference,
            "max_chars": max_chars,
        },
    )
    try:
        frames = load_frames(resolve_inputs(inputs, None), parse_labels(labels), None)
        manifest = export_sheets(frames, config, out)
    except SettingError as error:
        raise ConfigError(f"{FLAGS.get(error.field, error.field)}: {error.message}") from None
    sheets = manifest["sheets"]
    click.echo(
        f"export {manifest['export_id']}: {len(manifest['stimuli'])} responses, "
        f"{len(manifest['design']['calibration'])} rated by all, {len(manifest['axes'])} axes"
    )
    for rater, entry in sheets.items():
        click.echo(f"  {rater}: {len(entry['codes'])} responses -> {out / entry['file']}")
    if manifest["truncated"]:
        click.echo(
            f"  {len(manifest['truncated'])} responses cut to fit a cell; full texts in {out / 'raters'}"
        )
    click.echo(
        f"keep {out / 'key.json'} away from raters; import with: diq review import {out} FILES..."
    )


@review_group.command("import")
@click.argument("export_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--ledger",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Ratings ledger to write or update (default: EXPORT_DIR/ratings.jsonl).",
)
@click.option(
    "--inspect-scores",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write one precomputed_scores JSONL per rated log into this directory.",
)
def import_(
    export_dir: Path, files: tuple[Path, ...], ledger: Path | None, inspect_scores: Path | None
) -> None:
    """Validate returned sheets and add their ratings to the ledger.

    Every problem in every file is listed (file, cell, what is wrong); if there is
    any, nothing is imported. Re-importing a rater's corrected sheet replaces their
    earlier ratings.

    \b
    Example:
      diq review import runs/demo/review returned/alice.xlsx returned/bob.xlsx
    """
    from reports.review import LEDGER_FILE
    from reports.review.importer import import_sheets
    from reports.review.ledger import precomputed_scores, read_ledger

    ledger = ledger or export_dir / LEDGER_FILE
    rows = import_sheets(export_dir, files, ledger)
    per_rater = Counter(row["rater"] for row in rows)
    unsure = Counter(row["rater"] for row in rows if row["missing_reason"] == "unsure")
    for rater, count in sorted(per_rater.items()):
        click.echo(f"  {rater}: {count} ratings ({unsure[rater]} unsure)")
    click.echo(f"imported {len(rows)} ratings from {len(files)} file(s) into {ledger}")
    if inspect_scores is not None:
        written = precomputed_scores(read_ledger(ledger), inspect_scores)
        for path in written:
            click.echo(f"  {path}")
        click.echo(
            "attach with: inspect score LOG --scorer precomputed_scores -S scores=FILE --action append"
        )
