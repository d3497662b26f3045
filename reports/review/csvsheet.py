"""Rater sheets as CSV: every text guarded against formula interpretation, read back byte-exact."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from harness.core.io import atomic_write
from reports.review.cells import csv_guard, csv_unguard
from reports.review.sheets import Cell, Column, FilledSheet, SheetSpec, columns


def write_csv(spec: SheetSpec, path: Path) -> None:
    """One rater's sheet as CSV (every text guarded against formula interpretation)."""
    cols = columns(spec.axes, spec.show_reference, with_sheet_id=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.header for c in cols])
    for item in spec.rows:
        values = {
            "sheet_id": spec.sheet_id,
            "code": item.code,
            "prompt": item.prompt,
            "response": item.response,
            "reference": item.reference,
        }
        writer.writerow([csv_guard(values.get(c.key, "")) for c in cols])
    # bytes, so that no newline translation touches a '\r' inside a text
    with atomic_write(path, "wb") as handle:
        handle.write(buffer.getvalue().encode("utf-8-sig"))


def read_csv(path: Path, spec_columns: list[Column]) -> FilledSheet:
    """Cells of a returned CSV sheet; the sheet id comes from its `Sheet` column."""
    from openpyxl.utils import get_column_letter

    sheet = FilledSheet(path, "csv", {}, [], [])
    try:
        # newline="": a text's own '\r' stays '\r' (universal newlines would make it '\n'
        # and the protected text would look edited)
        with path.open(encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        sheet.problems.append(("file", f"cannot read as UTF-8 CSV ({error})"))
        return sheet
    records = list(csv.reader(io.StringIO(text, newline="")))
    if not records:
        sheet.problems.append(("file", "the file is empty"))
        return sheet
    width = max(len(spec_columns), *(len(r) for r in records))
    sheet.header = [
        Cell(f"{get_column_letter(i + 1)}1", records[0][i] if i < len(records[0]) else None)
        for i in range(width)
    ]
    for number, record in enumerate(records[1:], start=2):
        if not any(value.strip() for value in record):
            continue
        cells = {}
        for index, value in enumerate(record):
            key = (
                spec_columns[index].key
                if index < len(spec_columns)
                else f"extra:{get_column_letter(index + 1)}"
            )
            # An unguarded leading "=" is a formula to every spreadsheet that opens the file.
            cells[key] = Cell(
                f"{get_column_letter(index + 1)}{number}",
                csv_unguard(value),
                value.startswith("="),
            )
        sheet.rows.append(cells)
    ids = {row["sheet_id"].value for row in sheet.rows if "sheet_id" in row}
    if len(ids) == 1:
        sheet.meta["sheet_id"] = next(iter(row["sheet_id"] for row in sheet.rows))
    elif len(ids) > 1:
        sheet.problems.append(
            ("Sheet column", f"rows name several sheets: {', '.join(sorted(map(str, ids)))}")
        )
    return sheet
