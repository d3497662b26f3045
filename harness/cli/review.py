"""`diq review`: blinded physician rater sheets out, validated ratings back in."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import click

from harness.cli.options import build_config, config_options, flag_for, parse_key_values
from harness.core.errors import ConfigError
from reports.config import ReviewConfig


@click.group("review")
def review_group() -> None:
    """Physician rating: export blinded sheets, import the returned ones into a ledger."""


@review_group.command("export")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Export directory (default for a run directory: RUN_DIR/review).",
)
@config_options(ReviewConfig)
@click.option(
    "--label",
    "labels",
    multiple=True,
    metavar="LOG_OR_MODEL=LABEL",
    help="Model labels, as in `diq report` (kept in the key only). Repeatable.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Write into a directory diq did not make (only the export's own files are replaced).",
)
def export(
    inputs: tuple[Path, ...],
    out: Path | None,
    labels: tuple[str, ...],
    force: bool,
    **options: Any,
) -> None:
    """Write one blinded, order-randomized sheet per rater from Inspect logs.

    INPUTS are log files or directories, or one run directory. Send raters only the
    files in OUT/raters/; OUT/key.json unblinds the codes and stays with you.

    \b
    Example:
      diq review export runs/demo --rubric differential_diagnosis --rubric safety_check \\
          --raters alice,bob,carol --prompts 40 --calibration 20
    """
    from reports.build import load_frames, resolve_inputs
    from reports.config import SettingError
    from reports.review.export import export_sheets
    from reports.rundir import is_run_dir

    if out is None:
        if len(inputs) == 1 and is_run_dir(inputs[0]):
            out = inputs[0] / "review"
        else:
            raise click.UsageError("--out is required unless the input is a run directory")
    config = build_config(ReviewConfig, options)
    try:
        named = parse_key_values(labels, "--label", typed=False)
        frames = load_frames(resolve_inputs(inputs, None), named, None)
        manifest = export_sheets(frames, config, out, force=force)
    except SettingError as error:
        raise ConfigError(f"{flag_for(ReviewConfig, (error.field,))}: {error.message}") from None
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
