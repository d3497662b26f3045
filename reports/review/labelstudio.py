"""Rater sheets as Label Studio tasks (JSON), and Label Studio's export of them read back."""

from __future__ import annotations

import html
import json
from pathlib import Path

from harness.core.io import atomic_write
from reports.review.sheets import CHOICES, AxisRef, Cell, Column, FilledSheet, SheetSpec, short


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
            sheet.problems.append((where, f"not a task object: {short(task)}"))
            continue
        data = task.get("data", {})
        if not isinstance(data, dict):
            sheet.problems.append((f"{where}.data", f"not an object: {short(data)}"))
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
            sheet.problems.append((f"{where}.annotations", f"not a list: {short(annotations)}"))
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
                        f"not a result object: {short(result)}",
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
