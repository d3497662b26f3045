"""`diq review import`: strict validation of returned sheets into the ratings ledger.

Every returned file is checked against the export manifest, and *every* problem is
reported with its file and cell, so a physician can fix a sheet in one pass:

- the file is one of this export's sheets (export id, sheet id and rater agree), and
  no rater's sheet is imported twice;
- the header, the set of codes (none unknown, missing, duplicated, or assigned to
  someone else) and the text of every prompt and response (by SHA-256) are unchanged;
- each rating is 1-5 (`"4"`, `4.0` and `" 4 "` all read as 4) or "Unsure" (recorded as
  missing); an empty cell, a formula, or anything else is an error;
- a comment is text: a formula there is an error too (the ledger keeps comments, and a
  live formula carried into a later spreadsheet is an injection);
- a format that states its export and rater (xlsx's hidden meta sheet, Label Studio's
  task data) must state both: a deleted cell is an error, not a pass.

If anything is wrong nothing is written. Otherwise the ratings join the ledger
(`reports.review.ledger`), one row per response x rater x axis; re-importing a sheet
replaces its earlier rows, so imports are idempotent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.errors import DiqError, InputError
from harness.core.io import read_json, write_jsonl
from reports.review.cells import EXCEL_CELL_LIMIT, text_hash
from reports.review.csvsheet import read_csv
from reports.review.labelstudio import read_label_studio
from reports.review.ledger import Rating, ledger_rows, read_ledger_rows
from reports.review.sheets import FORMAT, META, UNSURE, AxisRef, FilledSheet, columns
from reports.review.xlsx import XlsxLimits, read_xlsx

STIMULI = ("prompt", "response", "reference")
# Where a missing row is reported, per sheet format.
TABLE_NAME = {"xlsx": "Ratings", "csv": "rows", "labelstudio": "tasks"}
# Formats that state which export and rater a sheet belongs to, and where; a CSV sheet
# only names its sheet id (in its Sheet column), which the manifest maps to both.
STATED_META = {"xlsx": META, "labelstudio": "tasks[].data"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a returned sheet."""

    file: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.where}: {self.message}"


class ReviewImportError(DiqError):
    """Returned sheets failed validation; holds every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        files = len({p.file for p in self.problems})
        lines = [f"{len(self.problems)} problem(s) in {files} file(s); nothing was imported:"]
        lines += [f"  {problem}" for problem in self.problems]
        super().__init__("\n".join(lines))


def read_export(export_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The manifest and unblinding key of an export directory."""
    manifest = read_json(export_dir / "manifest.json")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError(
            f"not a diq review manifest (expected format {FORMAT!r})",
            path=export_dir / "manifest.json",
        )
    key = read_json(export_dir / manifest.get("key_file", "key.json"))
    if key.get("export_id") != manifest["export_id"]:
        raise InputError(
            "the key belongs to another export", path=export_dir / "key.json", field="export_id"
        )
    return manifest, key


def coerce_rating(value: Any) -> tuple[int | None, str | None, str | None]:
    """(rating, missing reason, error): "4", 4.0, " 4 " -> 4; "Unsure" -> missing."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None, "missing rating (choose 1-5, or Unsure)"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None, None, f"not a rating: {value!r} (choose 1-5, or Unsure)"
    if isinstance(value, str):
        text = value.strip()
        if text.lower() == UNSURE.lower():
            return None, "unsure", None
        try:
            value = float(text)
        except ValueError:
            return None, None, f"not a rating: {value!r} (choose 1-5, or Unsure)"
    if (
        isinstance(value, int | float)
        and math.isfinite(value)
        and float(value).is_integer()
        and 1 <= value <= 5
    ):
        return int(value), None, None
    return None, None, f"out of range: {value!r} (choose 1-5, or Unsure)"


def _read(path: Path, manifest: dict[str, Any], axes: list[AxisRef]) -> FilledSheet:
    show_reference = bool(manifest["show_reference"])
    if path.suffix == ".xlsx":
        table = columns(axes, show_reference)
        limits = XlsxLimits.for_export(
            rows=max((len(entry["codes"]) for entry in manifest["sheets"].values()), default=0),
            width=len(table),
            text_chars=int(manifest.get("max_chars", EXCEL_CELL_LIMIT)),
        )
        return read_xlsx(path, table, limits)
    if path.suffix == ".csv":
        return read_csv(path, columns(axes, show_reference, with_sheet_id=True))
    if path.suffix == ".json":
        return read_label_studio(path, columns(axes, show_reference))
    sheet = FilledSheet(path, "unknown", {}, [], [])
    sheet.problems.append(
        ("file", "unknown sheet format (expected .xlsx, .csv or Label Studio .json)")
    )
    return sheet


def validate(files: Sequence[Path], manifest: dict[str, Any]) -> tuple[list[Rating], list[Problem]]:
    """Every rating in `files`, and every problem with them."""
    axes = [
        AxisRef(a["rubric"], a["version"], a["axis"], a["title"], "", {}) for a in manifest["axes"]
    ]
    by_sheet_id = {entry["sheet_id"]: rater for rater, entry in manifest["sheets"].items()}
    problems: list[Problem] = []
    ratings: list[Rating] = []
    claimed: dict[str, Path] = {}
    for path in files:
        name = str(path)
        sheet = _read(path, manifest, axes)
        problems += [Problem(name, where, message) for where, message in sheet.problems]
        if sheet.problems and not sheet.rows and not sheet.meta:
            continue
        sheet_id_cell = sheet.meta.get("sheet_id")
        if sheet_id_cell is None:
            problems.append(
                Problem(
                    name, "meta", "the sheet does not say which rater it belongs to (no sheet id)"
                )
            )
            continue
        rater = by_sheet_id.get(str(sheet_id_cell.value))
        if rater is None:
            problems.append(
                Problem(
                    name,
                    sheet_id_cell.address,
                    f"sheet id {sheet_id_cell.value!r} is not part of export {manifest['export_id']}",
                )
            )
            continue
        for field_name, expected in (("export_id", manifest["export_id"]), ("rater", rater)):
            if sheet.format not in STATED_META:
                continue
            cell = sheet.meta.get(field_name)
            if cell is None:
                problems.append(
                    Problem(
                        name,
                        STATED_META[sheet.format],
                        f"the sheet does not state its {field_name} (expected {expected!r})",
                    )
                )
            elif str(cell.value) != expected:
                problems.append(
                    Problem(
                        name, cell.address, f"{field_name} is {cell.value!r}, expected {expected!r}"
                    )
                )
        if rater in claimed:
            problems.append(
                Problem(
                    name,
                    "file",
                    f"duplicate rater {rater!r}: already imported from {claimed[rater]}",
                )
            )
            continue
        claimed[rater] = path
        problems += _check_header(name, sheet, manifest, axes)
        sheet_ratings, row_problems = _check_rows(name, sheet, rater, manifest, axes)
        problems += row_problems
        ratings += [Rating(str(sheet_id_cell.value), rater, *r, source=path) for r in sheet_ratings]
    return ratings, problems


def _check_header(
    name: str, sheet: FilledSheet, manifest: dict[str, Any], axes: list[AxisRef]
) -> list[Problem]:
    if sheet.format == "labelstudio":
        return []
    expected = columns(axes, bool(manifest["show_reference"]), with_sheet_id=sheet.format == "csv")
    problems = []
    for index, cell in enumerate(sheet.header):
        want = expected[index].header if index < len(expected) else None
        got = None if cell.value in (None, "") else str(cell.value)
        if got != want:
            problems.append(
                Problem(name, cell.address, f"header changed: {got!r}, expected {want!r}")
            )
    return problems


def _check_rows(
    name: str, sheet: FilledSheet, rater: str, manifest: dict[str, Any], axes: list[AxisRef]
) -> tuple[list[tuple[str, str, int | None, str | None, str]], list[Problem]]:
    assigned = manifest["sheets"][rater]["codes"]
    owners: dict[str, list[str]] = {}
    for other, entry in manifest["sheets"].items():
        for code in entry["codes"]:
            owners.setdefault(code, []).append(other)
    stimuli = manifest["stimuli"]
    problems: list[Problem] = []
    found: list[tuple[str, str, int | None, str | None, str]] = []
    seen: dict[str, str] = {}
    for row in sheet.rows:
        code_cell = row.get("code")
        code = "" if code_cell is None or code_cell.value is None else str(code_cell.value).strip()
        where = code_cell.address if code_cell else "row"
        for key, extra in row.items():
            if key.startswith("extra:") and extra.value not in (None, ""):
                problems.append(
                    Problem(name, extra.address, "unexpected content outside the table")
                )
        if code not in stimuli:
            problems.append(Problem(name, where, f"unknown code {code!r}"))
            continue
        if code not in assigned:
            problems.append(
                Problem(
                    name,
                    where,
                    f"code {code} was assigned to {', '.join(owners[code])}, not {rater}",
                )
            )
            continue
        if code in seen:
            problems.append(
                Problem(name, where, f"duplicate row for code {code} (also {seen[code]})")
            )
            continue
        seen[code] = where
        for field_name in STIMULI:
            if field_name == "reference" and not manifest["show_reference"]:
                continue
            stimulus = row.get(field_name)
            text = "" if stimulus is None or stimulus.value is None else str(stimulus.value)
            if text_hash(text) != stimuli[code][field_name]:
                problems.append(
                    Problem(
                        name,
                        stimulus.address if stimulus else where,
                        f"protected {field_name} text of {code} was edited",
                    )
                )
        comment_cell = row.get("comment")
        comment = (
            "" if comment_cell is None or comment_cell.value is None else str(comment_cell.value)
        )
        if comment_cell is not None and comment_cell.formula:
            problems.append(
                Problem(
                    name,
                    comment_cell.address,
                    f"{code}: a formula is not a comment ({comment!r}); type it without the '='",
                )
            )
        for axis in axes:
            rating = row.get(f"rating:{axis.axis}")
            if rating is None:
                problems.append(Problem(name, where, f"{code}: no {axis.title} rating"))
                continue
            if rating.formula:
                problems.append(
                    Problem(
                        name,
                        rating.address,
                        f"{code}: a formula is not a rating ({rating.value!r})",
                    )
                )
                continue
            value, missing, error = coerce_rating(rating.value)
            if error:
                problems.append(Problem(name, rating.address, f"{code}: {axis.title}: {error}"))
                continue
            found.append((code, axis.axis, value, missing, comment))
    for code in assigned:
        if code not in seen:
            problems.append(
                Problem(name, TABLE_NAME.get(sheet.format, "sheet"), f"missing row for code {code}")
            )
    return found, problems


def import_sheets(export_dir: Path, files: Sequence[Path], ledger: Path) -> list[dict[str, Any]]:
    """Validate `files`; if all is well, merge their ratings into `ledger` and return them."""
    manifest, key = read_export(export_dir)
    ratings, problems = validate(files, manifest)
    if problems:
        raise ReviewImportError(problems)
    rows = ledger_rows(ratings, manifest, key)
    imported = {row["sheet_id"] for row in rows}
    kept = [
        row
        for row in (read_ledger_rows(ledger) if ledger.exists() else [])
        if row["sheet_id"] not in imported
    ]
    merged = sorted(kept + rows, key=lambda r: (r["export_id"], r["rater"], r["code"], r["axis"]))
    write_jsonl(ledger, merged)
    return rows
