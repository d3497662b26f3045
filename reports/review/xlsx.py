"""Rater sheets as Excel workbooks: protected, with drop-downs, read back without evaluating.

A workbook is a zip of XML parts, and a returned one can unzip to far more than it
weighs (41 KB to 30 MB took openpyxl 43 s). Its parts' sizes and its cells are counted
from the zip's directory and a streaming scan before openpyxl parses anything, against
limits from the export (`XlsxLimits`).
"""

from __future__ import annotations

import math
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.errors import InputError
from harness.core.io import atomic_write
from reports.review.sheets import (
    ANCHORS,
    CHOICES,
    FORMAT,
    INSTRUCTIONS,
    META,
    RATINGS,
    UNSURE,
    AxisRef,
    Cell,
    Column,
    FilledSheet,
    SheetSpec,
    columns,
    instructions,
)

# Excel limits input-message prompts to 255 characters.
PROMPT_LIMIT = 255
# XML elements that cost openpyxl work: cells, rows, shared strings, with or without a
# namespace prefix (a stray ":c " in text only makes the count larger).
COSTLY_ELEMENT = re.compile(rb"[<:](?:c|row|si)[\s/>]")
SCAN_CHUNK = 1 << 20
# What a workbook holds besides its ratings table: instructions, anchors, meta, styles.
CELL_ALLOWANCE = 10_000
BYTE_ALLOWANCE = 4_000_000
# Unzipped bytes per character of text at worst: 4 in UTF-8, more once XML-escaped.
BYTES_PER_CHAR = 6


def _validation_prompt(axis: AxisRef) -> str:
    text = f"{axis.question} See the Anchors sheet."
    return text if len(text) <= PROMPT_LIMIT else text[: PROMPT_LIMIT - 1] + "…"


def _row_height(texts: list[tuple[str, int]]) -> float:
    """A row height (points) that shows wrapped text of the given column widths (max 409)."""
    lines = 1
    for text, width in texts:
        estimate = sum(
            max(1, math.ceil(len(part) / max(width * 1.1, 1))) for part in text.split("\n")
        )
        lines = max(lines, estimate)
    return float(min(409, 15 * lines + 4))


def _text_cell(sheet: Any, row: int, column: int, text: str) -> Any:
    """Write text that stays text: never a formula, whatever it starts with."""
    cell = sheet.cell(row=row, column=column)
    cell.value = text
    cell.data_type = "s"
    return cell


def write_xlsx(spec: SheetSpec, path: Path) -> None:
    """One rater's workbook: instructions, anchors, the protected ratings table, hidden meta."""
    from openpyxl import Workbook
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    wrap = Alignment(wrap_text=True, vertical="top")
    bold = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DDE4EE")
    editable_fill = PatternFill("solid", fgColor="FFFFFF")
    locked_fill = PatternFill("solid", fgColor="F3F3F3")

    guide = book.active
    guide.title = INSTRUCTIONS
    guide.column_dimensions["A"].width = 110
    for index, line in enumerate(instructions(spec), start=1):
        cell = _text_cell(guide, index, 1, line)
        cell.alignment = wrap
        if index == 1:
            cell.font = Font(bold=True, size=14)
    guide.protection.sheet = True

    anchors = book.create_sheet(ANCHORS)
    for letter, width in zip("ABC", (28, 8, 100), strict=True):
        anchors.column_dimensions[letter].width = width
    row = 1
    for axis in spec.axes:
        _text_cell(anchors, row, 1, axis.title).font = Font(bold=True, size=12)
        _text_cell(anchors, row, 3, axis.question).alignment = wrap
        row += 1
        for level in sorted(axis.anchors, reverse=True):
            _text_cell(anchors, row, 2, str(level)).font = bold
            _text_cell(anchors, row, 3, axis.anchors[level]).alignment = wrap
            anchors.row_dimensions[row].height = _row_height([(axis.anchors[level], 100)])
            row += 1
        _text_cell(anchors, row, 2, UNSURE).font = bold
        _text_cell(
            anchors, row, 3, "Cannot judge this dimension for this response (recorded as missing)."
        )
        row += 2
    anchors.protection.sheet = True

    table = book.create_sheet(RATINGS)
    cols = columns(spec.axes, spec.show_reference)
    for index, column in enumerate(cols, start=1):
        cell = _text_cell(table, 1, index, column.header)
        cell.font = bold
        cell.fill = header_fill
        cell.alignment = wrap
        table.column_dimensions[get_column_letter(index)].width = column.width
    table.row_dimensions[1].height = 32
    for offset, item in enumerate(spec.rows):
        row = offset + 2
        values = {
            "code": item.code,
            "prompt": item.prompt,
            "response": item.response,
            "reference": item.reference,
        }
        for index, column in enumerate(cols, start=1):
            if column.editable:
                cell = table.cell(row=row, column=index)
                cell.protection = Protection(locked=False)
                cell.fill = editable_fill
            else:
                cell = _text_cell(table, row, index, values[column.key])
                cell.fill = locked_fill
            cell.alignment = wrap
        table.row_dimensions[row].height = _row_height(
            [(values[c.key], c.width) for c in cols if c.key in ("prompt", "response", "reference")]
        )
    last = len(spec.rows) + 1
    for index, column in enumerate(cols, start=1):
        if not column.key.startswith("rating:") or not spec.rows:
            continue
        axis = next(a for a in spec.axes if f"rating:{a.axis}" == column.key)
        letter = get_column_letter(index)
        validation = DataValidation(
            type="list",
            formula1='"' + ",".join(CHOICES) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Rating",
            error="Choose 1, 2, 3, 4, 5 or Unsure.",
            showInputMessage=True,
            promptTitle=axis.title[:32],
            prompt=_validation_prompt(axis),
        )
        table.add_data_validation(validation)
        validation.add(f"{letter}2:{letter}{last}")
        table.conditional_formatting.add(
            f"{letter}2:{letter}{last}",
            FormulaRule(
                formula=[f"ISBLANK({letter}2)"], fill=PatternFill("solid", fgColor="FFF2B3")
            ),
        )
    table.freeze_panes = "B2"
    table.protection.sheet = True
    table.protection.formatRows = False
    table.protection.formatColumns = False

    meta = book.create_sheet(META)
    entries = [
        ("format", FORMAT),
        ("export_id", spec.export_id),
        ("sheet_id", spec.sheet_id),
        ("rater", spec.rater),
        ("seed", str(spec.seed)),
    ]
    for index, (key, value) in enumerate(entries, start=1):
        _text_cell(meta, index, 1, key)
        _text_cell(meta, index, 2, value)
    meta.sheet_state = "veryHidden"
    meta.protection.sheet = True

    book.active = 0
    book.security.lockStructure = True
    with atomic_write(path, "wb") as handle:
        book.save(handle)


@dataclass(frozen=True)
class XlsxLimits:
    """The most a returned workbook of one export may unzip to, and the most elements it may hold."""

    bytes: int
    elements: int

    @classmethod
    def for_export(cls, rows: int, width: int, text_chars: int) -> XlsxLimits:
        """Limits for a sheet of at most `rows` rows of `width` columns, texts of `text_chars`.

        Generous (every text at full length, four times the cells a rater could add by
        formatting), yet far below what makes a crafted workbook slow to parse.
        """
        texts = (rows + 1) * 3 * text_chars * BYTES_PER_CHAR
        return cls(texts + BYTE_ALLOWANCE, 4 * (rows + 1) * (width + 2) + CELL_ALLOWANCE)


def check_size(path: Path, limits: XlsxLimits) -> None:
    """Refuse a workbook that unzips to more than `limits` allow, before anything parses it.

    The declared sizes come from the zip's directory (zipfile never inflates a member
    past them); the elements are counted by a streaming scan of the XML members.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            total = sum(member.file_size for member in members)
            if total > limits.bytes:
                raise InputError(
                    f"the workbook unzips to {total / 1e6:,.1f} MB, more than a sheet of this "
                    f"export can hold ({limits.bytes / 1e6:,.1f} MB); it was not read",
                    path=path,
                )
            count = 0
            for member in members:
                if member.filename.endswith(".xml"):
                    count += _count_elements(archive, member, limits.elements - count)
                    if count > limits.elements:
                        raise InputError(
                            f"the workbook holds more than {limits.elements:,} cells, far more "
                            "than a sheet of this export; it was not read",
                            path=path,
                        )
    except (zipfile.BadZipFile, OSError, EOFError):
        return  # not a readable zip: openpyxl reports it as a problem of the file


def _count_elements(archive: zipfile.ZipFile, member: zipfile.ZipInfo, budget: int) -> int:
    """Costly elements in one XML member, read in chunks; stops once over `budget`."""
    count = 0
    tail = b""
    with archive.open(member) as stream:
        while chunk := stream.read(SCAN_CHUNK):
            data = tail + chunk
            # a tag starting in the last 64 bytes may be cut off: it is counted next time
            cut = max(0, len(data) - 64)
            count += sum(1 for match in COSTLY_ELEMENT.finditer(data) if match.start() < cut)
            tail = data[cut:]
            if count > budget:
                return count
    return count + len(COSTLY_ELEMENT.findall(tail))


def read_xlsx(path: Path, spec_columns: list[Column], limits: XlsxLimits) -> FilledSheet:
    """Cells of a returned workbook (formulas flagged, not evaluated), within `limits`."""
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    check_size(path, limits)
    sheet = FilledSheet(path, "xlsx", {}, [], [])
    try:
        book = load_workbook(path, data_only=False)
    except Exception as error:  # openpyxl raises zipfile, KeyError, XML errors...
        sheet.problems.append(
            ("file", f"cannot open as a workbook ({type(error).__name__}: {error})")
        )
        return sheet
    for name in (RATINGS, META):
        if name not in book.sheetnames:
            sheet.problems.append(
                (name, f"sheet {name!r} is missing (sheets: {', '.join(book.sheetnames)})")
            )
    if sheet.problems:
        return sheet
    meta = book[META]
    for row in meta.iter_rows(min_row=1, max_col=2):
        key, value = row[0], row[1]
        if isinstance(key.value, str):
            sheet.meta[key.value] = Cell(f"{META}!{value.coordinate}", value.value)
    table = book[RATINGS]
    width = max(table.max_column, len(spec_columns))
    sheet.header = [
        Cell(f"{RATINGS}!{get_column_letter(i)}1", table.cell(row=1, column=i).value)
        for i in range(1, width + 1)
    ]
    for row in table.iter_rows(min_row=2, max_col=width):
        if all(cell.value in (None, "") for cell in row):
            continue
        cells = {}
        for index, cell in enumerate(row):
            key = (
                spec_columns[index].key
                if index < len(spec_columns)
                else f"extra:{get_column_letter(index + 1)}"
            )
            cells[key] = Cell(f"{RATINGS}!{cell.coordinate}", cell.value, cell.data_type == "f")
        sheet.rows.append(cells)
    return sheet
