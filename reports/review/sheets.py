"""Rater sheet files: write them (xlsx, CSV, Label Studio JSON) and read them back as cells.

Writers take a `SheetSpec` (one rater's rows plus the rubric axes); readers return a
`FilledSheet` holding every cell the import must check, with its address, so that every
problem can be reported as `file: Sheet!D7: message`. The reading is deliberately
lenient; all judgement about what is acceptable lives in `reports.review.importer`.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.core.io import atomic_write
from reports.review.cells import clean_text, csv_guard, csv_unguard, fit_cell

FORMAT = "diq-review/1"
RATINGS = "Ratings"
META = "_meta"
INSTRUCTIONS = "Instructions"
ANCHORS = "Anchors"
UNSURE = "Unsure"
CHOICES = ("1", "2", "3", "4", "5", UNSURE)
# Excel limits input-message prompts to 255 characters.
PROMPT_LIMIT = 255


@dataclass(frozen=True)
class AxisRef:
    """A rubric axis as it appears on a sheet."""

    rubric: str
    version: str
    axis: str
    title: str
    question: str
    anchors: dict[int, str]


@dataclass(frozen=True)
class Column:
    """One column of the ratings table."""

    key: str  # code | prompt | response | reference | rating:<axis> | comment | sheet_id
    header: str
    width: int
    editable: bool = False


@dataclass(frozen=True)
class SheetRow:
    """One response as written on a sheet (texts already cleaned and cut to fit)."""

    code: str
    prompt: str
    response: str
    reference: str


@dataclass(frozen=True)
class SheetSpec:
    """Everything needed to write one rater's sheet."""

    export_id: str
    sheet_id: str
    rater: str
    seed: int
    axes: list[AxisRef]
    rows: list[SheetRow]
    show_reference: bool
    companion: str | None = None  # file holding texts that were cut to fit a cell


@dataclass
class Cell:
    """A cell as read back: where it is and what it holds."""

    address: str
    value: Any
    formula: bool = False


@dataclass
class FilledSheet:
    """A returned sheet, read into addressable cells."""

    path: Path
    format: str
    meta: dict[str, Cell]  # export_id, sheet_id, rater (as the file states them)
    header: list[Cell]
    rows: list[dict[str, Cell]]  # column key -> cell
    problems: list[tuple[str, str]] = field(default_factory=list)  # (location, message)


def columns(
    axes: list[AxisRef], show_reference: bool, *, with_sheet_id: bool = False
) -> list[Column]:
    """The ratings table's columns, in order."""
    result = [Column("sheet_id", "Sheet", 14)] if with_sheet_id else []
    result += [
        Column("code", "Code", 11),
        Column("prompt", "Prompt", 60),
        Column("response", "Response", 80),
    ]
    if show_reference:
        result.append(Column("reference", "Reference answer", 30))
    result += [Column(f"rating:{a.axis}", f"{a.title} (1-5 or Unsure)", 16, True) for a in axes]
    result.append(Column("comment", "Comment", 40, True))
    return result


def instructions(spec: SheetSpec) -> list[str]:
    """The instructions sheet, one paragraph per row."""
    rubrics = sorted({f"{a.rubric} v{a.version}" for a in spec.axes})
    lines = [
        "Rating clinical responses",
        f"Rater: {spec.rater}    Sheet: {spec.sheet_id}    Responses: {len(spec.rows)}    Rubric: {', '.join(rubrics)}",
        "",
        "Each row of the 'Ratings' sheet is one response to one clinical prompt. The responses come "
        "from several systems, in a random order of their own for every rater; nothing on the sheet "
        "says which system wrote which response.",
        "For every response, rate each dimension from 1 to 5 using the level descriptions on the "
        "'Anchors' sheet (pick from the drop-down in each rating cell). Judge the response as written; "
        "do not reward length for its own sake.",
        "Choose 'Unsure' when you cannot judge a dimension (outside your expertise, or the response does "
        "not give enough to judge). 'Unsure' is recorded as missing, not as a middle rating, so please "
        "do not use 3 for 'unsure'.",
        "Use the Comment column for anything notable, especially anything unsafe.",
        "Only the rating and comment cells can be edited. Please do not add, remove, reorder or rename "
        "rows, columns or sheets, and do not edit the prompts or responses: the import checks every "
        "response against a fingerprint and rejects a sheet whose text changed.",
        "Every rating cell must be filled (a number or 'Unsure') before the sheet is returned; empty "
        "cells are highlighted.",
        "Save the file under the same name and return it.",
    ]
    if spec.companion:
        lines.append(
            f"Some responses were too long for a spreadsheet cell and end with a 'truncated' note; "
            f"their full text is in the companion file {spec.companion}."
        )
    lines.append(f"(export {spec.export_id}, seed {spec.seed})")
    return lines


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
    for column, width in zip("ABC", (28, 8, 100), strict=True):
        anchors.column_dimensions[column].width = width
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


def read_xlsx(path: Path, spec_columns: list[Column]) -> FilledSheet:
    """Cells of a returned workbook (formulas flagged, not evaluated)."""
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

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
    with atomic_write(path, encoding="utf-8-sig") as handle:
        handle.write(buffer.getvalue())


def read_csv(path: Path, spec_columns: list[Column]) -> FilledSheet:
    """Cells of a returned CSV sheet; the sheet id comes from its `Sheet` column."""
    from openpyxl.utils import get_column_letter

    sheet = FilledSheet(path, "csv", {}, [], [])
    try:
        text = path.read_text(encoding="utf-8-sig")
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


def label_studio_config(axes: list[AxisRef], show_reference: bool) -> str:
    """A Label Studio labeling config: the texts, one single-choice question per axis, a comment."""
    parts = ["<View>", '  <Header value="Prompt"/>', '  <Text name="prompt" value="$prompt"/>']
    parts += ['  <Header value="Response"/>', '  <Text name="response" value="$response"/>']
    if show_reference:
        parts += [
            '  <Header value="Reference answer"/>',
            '  <Text name="reference" value="$reference"/>',
        ]
    for axis in axes:
        parts.append(f'  <Header value="{html.escape(axis.title)}: {html.escape(axis.question)}"/>')
        parts.append(
            f'  <Choices name="{axis.axis}" toName="response" choice="single" required="true" showInline="true">'
        )
        parts += [f'    <Choice value="{choice}"/>' for choice in CHOICES]
        parts.append("  </Choices>")
    parts.append('  <TextArea name="comment" toName="response" placeholder="Comment (optional)"/>')
    parts.append("</View>")
    return "\n".join(parts) + "\n"


def write_label_studio(spec: SheetSpec, path: Path) -> None:
    """One rater's Label Studio tasks (data only: no predictions, so nothing to anchor on)."""
    tasks = [
        {
            "data": {
                "code": item.code,
                "prompt": item.prompt,
                "response": item.response,
                **({"reference": item.reference} if spec.show_reference else {}),
                "rater": spec.rater,
                "sheet_id": spec.sheet_id,
                "export_id": spec.export_id,
            }
        }
        for item in spec.rows
    ]
    with atomic_write(path) as handle:
        json.dump(tasks, handle, indent=1, ensure_ascii=False)
        handle.write("\n")


def read_label_studio(path: Path, spec_columns: list[Column]) -> FilledSheet:
    """A Label Studio JSON export (tasks with `annotations[].result[]`) as rows of cells.

    A file edited by hand or merged from two exports can hold anything; every part that
    is not the shape Label Studio writes is a located problem, never an exception.
    """
    sheet = FilledSheet(path, "labelstudio", {}, [], [])
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        sheet.problems.append(("file", f"cannot read as JSON ({error})"))
        return sheet
    if not isinstance(tasks, list):
        sheet.problems.append(
            ("file", "expected a JSON list of tasks (Label Studio's JSON export)")
        )
        return sheet
    sheet.header = [Cell(f"column {c.key}", c.header) for c in spec_columns]
    for index, task in enumerate(tasks):
        where = f"task[{index}]"
        if not isinstance(task, dict):
            sheet.problems.append((where, f"not a task object: {_short(task)}"))
            continue
        data = task.get("data", {})
        if not isinstance(data, dict):
            sheet.problems.append((f"{where}.data", f"not an object: {_short(data)}"))
            continue
        for key in ("export_id", "sheet_id", "rater"):
            if key not in data:
                continue
            if key not in sheet.meta:
                sheet.meta[key] = Cell(f"{where}.data.{key}", data[key])
            elif data[key] != sheet.meta[key].value:  # tasks of two sheets merged into one file
                sheet.problems.append(
                    (
                        f"{where}.data.{key}",
                        f"{key} is {data[key]!r}, but {sheet.meta[key].address} says "
                        f"{sheet.meta[key].value!r}",
                    )
                )
        cells = {
            key: Cell(f"{where}.data.{key}", data.get(key))
            for key in ("code", "prompt", "response", "reference")
            if key in data
        }
        annotations = task.get("annotations", [])
        if not isinstance(annotations, list):
            sheet.problems.append((f"{where}.annotations", f"not a list: {_short(annotations)}"))
            annotations = []
        annotations = [
            a for a in annotations if not (isinstance(a, dict) and a.get("was_cancelled"))
        ]
        if len(annotations) > 1:
            sheet.problems.append((where, f"{len(annotations)} annotations; expected one per task"))
        results = (
            annotations[0].get("result", [])
            if annotations and isinstance(annotations[0], dict)
            else []
        )
        for number, result in enumerate(results if isinstance(results, list) else []):
            value = result.get("value") if isinstance(result, dict) else None
            if not isinstance(value, dict):
                sheet.problems.append(
                    (
                        f"{where}.annotations[0].result[{number}]",
                        f"not a result object: {_short(result)}",
                    )
                )
                continue
            name = result.get("from_name")
            if "choices" in value:
                chosen = value["choices"]
                cells[f"rating:{name}"] = Cell(
                    f"{where}.annotations[0].{name}",
                    chosen[0] if isinstance(chosen, list) and len(chosen) == 1 else chosen,
                )
            elif "text" in value and name == "comment":
                text = value["text"]
                cells["comment"] = Cell(
                    f"{where}.annotations[0].comment",
                    "\n".join(map(str, text)) if isinstance(text, list) else text,
                )
        sheet.rows.append(cells)
    return sheet


def _short(value: Any) -> str:
    """A value for a problem message, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def companion_html(rater: str, texts: list[tuple[str, str, str]]) -> str:
    """A self-contained page with the full texts that were cut to fit a cell: (code, field, text)."""
    blocks = "\n".join(
        f"<h2>{html.escape(code)}: {html.escape(field_name)}</h2>\n<pre>{html.escape(text)}</pre>"
        for code, field_name, text in texts
    )
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>Full texts for {html.escape(rater)}</title>"
        "<style>body{font:14px/1.45 system-ui,sans-serif;max-width:60em;margin:2em auto}"
        "pre{white-space:pre-wrap;background:#f6f6f6;padding:1em}</style></head><body>"
        f"<h1>Full texts for rater {html.escape(rater)}</h1>\n{blocks}\n</body></html>\n"
    )


def prepare_text(
    text: str, code: str, field_name: str, companion: str, limit: int
) -> tuple[str, bool]:
    """Clean a stimulus and cut it to the cell limit; the marker names the companion file."""
    return fit_cell(clean_text(text), f"{companion} under {code} / {field_name}", limit)
