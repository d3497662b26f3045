"""`diq review export`: blinded, order-randomized rater sheets with an overlap design.

Writes, into the output directory:

- `raters/<rater>.xlsx` (or `.csv`, or `.labelstudio.json` + `label_config.xml`): what
  goes to each physician, plus `raters/full_texts.html` when a text was too long for a
  cell;
- `manifest.json`: the design (raters, calibration codes, per-rater code lists), the
  rubric versions and a SHA-256 of every stimulus as written: what the import checks
  returned sheets against; it names no model;
- `key.json`: code -> task, sample, model and log. The unblinding key: keep it away from
  raters.

All files are written to a staging directory first and moved in at the end, so a
failed export leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from harness.core.errors import ConfigError
from harness.core.io import publish_into, sha256_file, sha256_json, write_json, write_text
from harness.core.outdir import MARKER, check_output_dir, claim_output_dir
from reports.config import ReviewConfig, SettingError
from reports.frames import Frames
from reports.review.cells import text_hash
from reports.review.csvsheet import write_csv
from reports.review.design import Response, assign, collect_responses
from reports.review.labelstudio import label_studio_config, write_label_studio
from reports.review.sheets import FORMAT, AxisRef, SheetRow, SheetSpec, companion_html, prepare_text
from reports.review.xlsx import write_xlsx

SUFFIX = {"xlsx": ".xlsx", "csv": ".csv", "labelstudio": ".labelstudio.json"}
COMPANION = "full_texts.html"
MANIFEST_FILE = "manifest.json"
KEY_FILE = "key.json"
RATERS_DIR = "raters"
# What `export_sheets` writes at the top of its folder; anything else came later.
EXPORT_ENTRIES = frozenset({MANIFEST_FILE, KEY_FILE, RATERS_DIR, MARKER})


def rubric_axes(names: Sequence[str]) -> tuple[list[AxisRef], list[dict[str, str]]]:
    """Axes of the named rubrics (ids must be unique across them) and their provenance."""
    from rubrics.schema import load_rubric, rubric_path

    axes: list[AxisRef] = []
    provenance = []
    for name in names:
        rubric = load_rubric(name)
        provenance.append(
            {"id": rubric.id, "version": rubric.version, "sha256": sha256_file(rubric_path(name))}
        )
        for axis in rubric.axes:
            if any(a.axis == axis.id for a in axes):
                raise SettingError(
                    "rubrics",
                    f"axis {axis.id!r} appears in more than one rubric; rate them in separate "
                    "exports",
                )
            axes.append(
                AxisRef(
                    rubric.id,
                    rubric.version,
                    axis.id,
                    axis.title,
                    axis.question,
                    dict(axis.anchors),
                )
            )
    return axes, provenance


def export_sheets(
    frames: Frames, config: ReviewConfig, out: Path, *, force: bool = False
) -> dict[str, Any]:
    """Write sheets, manifest and key for a study into `out`; return the manifest.

    `out` must be new, empty or a review folder diq wrote (`force`: any directory; only
    the export's own files are written).
    """
    check_output_dir(out, "review", force=force)
    if (out / MANIFEST_FILE).exists():
        raise ConfigError(
            f"{out} already holds an export (manifest.json); choose another directory or delete it"
        )
    axes, rubrics = rubric_axes(config.rubrics)
    responses = collect_responses(frames, config)
    assignment = assign(responses, config)
    by_code: dict[str, Response] = {assignment.codes[r.uid]: r for r in responses}
    rows: dict[str, SheetRow] = {}
    cut: list[tuple[str, str, str]] = []
    for code, response in sorted(by_code.items()):
        texts = {}
        for field_name, text in (
            ("prompt", response.prompt),
            ("response", response.response),
            ("reference", response.reference),
        ):
            if field_name == "reference" and not config.show_reference:
                texts[field_name] = ""
                continue
            texts[field_name], truncated = prepare_text(
                text, code, field_name, f"{RATERS_DIR}/{COMPANION}", config.max_chars
            )
            if truncated:
                cut.append((code, field_name, text))
        rows[code] = SheetRow(code, texts["prompt"], texts["response"], texts["reference"])
    stimuli = {
        code: {
            "prompt": text_hash(row.prompt),
            "response": text_hash(row.response),
            "reference": text_hash(row.reference),
        }
        for code, row in rows.items()
    }
    design = {
        "raters": list(assignment.sheets),
        "calibration": assignment.calibration,
        "unit": "prompt",  # a prompt's answers, one per model, go to the same raters
        "raters_per_item": config.raters_per_item,
        "prompts": config.prompts,
        "tasks": list(config.tasks),
    }
    export_id = sha256_json(
        {"seed": config.seed, "rubrics": rubrics, "design": design, "stimuli": stimuli}
    )[:16]
    sheets = {}
    specs = []
    for rater, codes in assignment.sheets.items():
        sheet_id = sha256_json([export_id, rater])[:12]
        file_name = f"{RATERS_DIR}/{rater}{SUFFIX[config.format]}"
        sheets[rater] = {"sheet_id": sheet_id, "file": file_name, "codes": codes}
        specs.append(
            (
                file_name,
                SheetSpec(
                    export_id=export_id,
                    sheet_id=sheet_id,
                    rater=rater,
                    seed=config.seed,
                    axes=axes,
                    rows=[rows[code] for code in codes],
                    show_reference=config.show_reference,
                    companion=COMPANION if cut else None,
                ),
            )
        )
    manifest = {
        "format": FORMAT,
        "export_id": export_id,
        "seed": config.seed,
        "sheet_format": config.format,
        "show_reference": config.show_reference,
        "max_chars": config.max_chars,
        "rubrics": rubrics,
        "axes": [
            {"rubric": a.rubric, "version": a.version, "axis": a.axis, "title": a.title}
            for a in axes
        ],
        "design": design,
        "sheets": sheets,
        "stimuli": stimuli,
        "truncated": sorted({code for code, _, _ in cut}),
        "key_file": KEY_FILE,
    }
    key = {
        "export_id": export_id,
        "codes": {
            code: {
                "task": r.task,
                "sample_id": r.sample_id,
                "epoch": r.epoch,
                "label": r.label,
                "model": r.model,
                "log": r.log,
                "eval_id": r.eval_id,
            }
            for code, r in sorted(by_code.items())
        },
    }
    with _staging(out) as stage:
        writer = {"xlsx": write_xlsx, "csv": write_csv, "labelstudio": write_label_studio}[
            config.format
        ]
        for file_name, spec in tqdm(specs, desc="writing sheets", unit="sheet", disable=None):
            writer(spec, stage / file_name)
        if config.format == "labelstudio":
            write_text(
                stage / RATERS_DIR / "label_config.xml",
                label_studio_config(axes, config.show_reference),
            )
        if cut:
            write_text(stage / RATERS_DIR / COMPANION, companion_html("all raters", cut))
        write_json(stage / MANIFEST_FILE, manifest)
        write_json(stage / KEY_FILE, key)
    return manifest


@contextlib.contextmanager
def _staging(out: Path) -> Iterator[Path]:
    """A temporary directory beside `out` whose files are moved into `out` on success."""
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        yield stage
        publish_into(stage, claim_output_dir(out, "review"))
    finally:
        shutil.rmtree(stage, ignore_errors=True)
