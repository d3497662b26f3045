"""Rater sheets in any format: the columns, one rater's rows, and cells as read back.

Writers (`reports.review.xlsx`, `reports.review.csvsheet`, `reports.review.labelstudio`)
take a `SheetSpec` (one rater's rows plus the rubric axes); readers return a
`FilledSheet` holding every cell the import must check, with its address, so that every
problem can be reported as `file: Sheet!D7: message`. The reading is deliberately
lenient; all judgement about what is acceptable lives in `reports.review.importer`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reports.review.cells import clean_text, fit_cell

FORMAT = "diq-review/1"
RATINGS = "Ratings"
META = "_meta"
INSTRUCTIONS = "Instructions"
ANCHORS = "Anchors"
UNSURE = "Unsure"
CHOICES = ("1", "2", "3", "4", "5", UNSURE)


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


def short(value: Any) -> str:
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
