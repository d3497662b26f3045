"""Rater sheets: design, blinding, xlsx safety, strict import, round trips, ledger, Inspect."""

from __future__ import annotations

import copy
import csv
import itertools
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.core.errors import InputError
from reports.build import load_frames, resolve_inputs
from reports.config import ReviewConfig
from reports.frames import Frames
from reports.review.cells import EXCEL_CELL_LIMIT, csv_guard, csv_unguard, fit_cell
from reports.review.design import assign, collect_responses
from reports.review.export import export_sheets
from reports.review.importer import ReviewImportError, coerce_rating, import_sheets
from reports.review.ledger import precomputed_scores, read_ledger
from tests.reports.conftest import FORMULA, PLANTED_SCRIPT
from tests.reports.report_keys import P_VALUE_KEYS, check_p_keys

RATERS = ("ann", "ben", "cas")


@pytest.fixture(scope="module")
def frames(scripted_logs: Path) -> Frames:
    return load_frames(resolve_inputs([scripted_logs], None), {}, None)


def _export(frames: Frames, out: Path, rubric: Path, **overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "raters": list(RATERS),
        "rubrics": [str(rubric)],
        "seed": 3,
        "calibration": 2,
        "raters_per_item": 2,
        "tasks": ["medqa"],
        "prompts": 8,
    }
    return export_sheets(frames, ReviewConfig(**(settings | overrides)), out)


def _fill_xlsx(path: Path, target: Path) -> None:
    """What a rater does: pick a rating for every axis (raters disagree now and then)."""
    book = openpyxl.load_workbook(path)
    sheet = book["Ratings"]
    quirk = sum(map(ord, path.stem))
    for row in range(2, sheet.max_row + 1):
        code = sheet.cell(row, 1).value
        level = 1 + (sum(map(ord, code)) + (quirk if row % 3 == 0 else 0)) % 5
        sheet.cell(row, 4).value = level
        sheet.cell(row, 5).value = "Unsure" if row == 2 else str(level)
        sheet.cell(row, 6).value = "fine"
    book.save(target)


def test_design_overlap_blinding_and_order(frames: Frames) -> None:
    config = ReviewConfig(
        raters=["a", "b", "c", "d"], tasks=["medqa"], prompts=20, calibration=4, seed=0
    )
    responses = collect_responses(frames, config)
    assert len(responses) == 60 and len({r.uid for r in responses}) == 60
    design = assign(responses, config)
    assert len(design.calibration) == 4 * 3  # four prompts, with each model's answer
    counts: dict[str, int] = {}
    for codes in design.sheets.values():
        assert set(design.calibration) <= set(codes)
        for code in codes:
            counts[code] = counts.get(code, 0) + 1
    assert all(counts[c] == 4 for c in design.calibration)
    assert all(n == 2 for c, n in counts.items() if c not in design.calibration)
    for a, b in itertools.combinations(design.sheets, 2):
        shared = set(design.sheets[a]) & set(design.sheets[b]) - set(design.calibration)
        assert shared, (a, b)
    # a prompt's answers travel together: whoever rates one model's answer rates them all
    prompt_of = {design.codes[r.uid]: (r.task, r.sample_id) for r in responses}
    for codes in design.sheets.values():
        prompts: dict[tuple[str, str], int] = {}
        for code in codes:
            prompts[prompt_of[code]] = prompts.get(prompt_of[code], 0) + 1
        assert set(prompts.values()) == {3}
    orders = [
        tuple(c for c in codes if c in design.calibration) for codes in design.sheets.values()
    ]
    assert len(set(orders)) > 1  # each rater has an order of their own
    assert all(c.startswith("R") and len(c) == 7 for c in design.codes.values())
    assert design == assign(responses, config)
    # calibration spans the models
    models = {r.label for r in responses if design.codes[r.uid] in design.calibration}
    assert len(models) == 3


def test_xlsx_export_structure(frames: Frames, rubric_file: Path, tmp_path: Path) -> None:
    manifest = _export(frames, tmp_path / "exp", rubric_file, prompts=None)
    key = json.loads((tmp_path / "exp" / "key.json").read_text())
    manifest_text = (tmp_path / "exp" / "manifest.json").read_text()
    assert "mockllm" not in manifest_text  # the manifest does not unblind
    assert {entry["label"] for entry in key["codes"].values()} == {
        "mockllm/random",
        "mockllm/diq",
        "mockllm/full",
    }
    book = openpyxl.load_workbook(tmp_path / "exp" / "raters" / "ann.xlsx")
    assert book.sheetnames == ["Instructions", "Anchors", "Ratings", "_meta"]
    assert book["_meta"].sheet_state == "veryHidden" and book.security.lockStructure
    sheet = book["Ratings"]
    assert sheet.protection.sheet
    assert [c.value for c in sheet[1]] == [
        "Code",
        "Prompt",
        "Response",
        "Differential diagnosis (1-5 or Unsure)",
        "Safety check (1-5 or Unsure)",
        "Comment",
    ]
    assert len(manifest["sheets"]["ann"]["codes"]) == sheet.max_row - 1
    validations = sheet.data_validations.dataValidation
    assert len(validations) == 2 and all(v.formula1 == '"1,2,3,4,5,Unsure"' for v in validations)
    assert not sheet.cell(2, 4).protection.locked and sheet.cell(2, 3).protection.locked
    anchors = [c.value for c in book["Anchors"]["C"] if c.value]
    assert "expert" in anchors and "dangerous" in anchors
    assert "mockllm" not in "".join(str(c.value) for row in sheet.iter_rows() for c in row)
    # model text is never a formula, whatever it starts with: every prompt is exported, so
    # the planted formula answer (medqa-007 of mockllm/full) is on some rater's sheet
    formulas = []
    for entry in manifest["sheets"].values():
        table = openpyxl.load_workbook(tmp_path / "exp" / entry["file"])["Ratings"]
        formulas += [
            c for row in table.iter_rows() for c in row if str(c.value).startswith(FORMULA)
        ]
    assert formulas and all(c.data_type == "s" for c in formulas)


def test_long_text_is_cut_with_a_companion(
    frames: Frames, rubric_file: Path, tmp_path: Path
) -> None:
    long_frames = copy.deepcopy(frames)
    record = next(
        i.record for i in long_frames.logs if i.record.task == "medqa" and i.label == "mockllm/diq"
    )
    for sample in record.samples:
        sample.output = f"{PLANTED_SCRIPT} " + "a long line of reasoning\n" * 120 + "ANSWER: A"
    manifest = _export(long_frames, tmp_path / "exp", rubric_file, max_chars=1000)
    key = json.loads((tmp_path / "exp" / "key.json").read_text())
    long_codes = {code for code, entry in key["codes"].items() if entry["label"] == "mockllm/diq"}
    assert set(manifest["truncated"]) == long_codes
    companion = (tmp_path / "exp" / "raters" / "full_texts.html").read_text()
    assert companion.count("ANSWER: A") == len(long_codes) and PLANTED_SCRIPT not in companion
    sheet = openpyxl.load_workbook(tmp_path / "exp" / "raters" / "ann.xlsx")["Ratings"]
    cut = [r[2].value for r in sheet.iter_rows(min_row=2) if r[0].value in long_codes]
    assert cut and all(len(text) == 1000 and "full_texts.html" in text for text in cut)
    # Excel's own limit: a 40,000-character text is cut to exactly 32,767 and survives a round trip
    text, was_cut = fit_cell("x" * 40_000, "raters/full_texts.html under R1 / response")
    assert was_cut and len(text) == EXCEL_CELL_LIMIT and text.endswith("/ response]")
    book = openpyxl.Workbook()
    book.active.cell(1, 1).value = text
    book.save(tmp_path / "long.xlsx")
    assert openpyxl.load_workbook(tmp_path / "long.xlsx").active.cell(1, 1).value == text


def test_xlsx_round_trip_and_precomputed_scores(
    frames: Frames, rubric_file: Path, tmp_path: Path, scripted_logs: Path
) -> None:
    manifest = _export(frames, tmp_path / "exp", rubric_file)
    returned = []
    for rater in RATERS:
        target = tmp_path / f"{rater}.xlsx"
        _fill_xlsx(tmp_path / "exp" / "raters" / f"{rater}.xlsx", target)
        returned.append(target)
    ledger_path = tmp_path / "exp" / "ratings.jsonl"
    rows = import_sheets(tmp_path / "exp", returned, ledger_path)
    total = sum(len(e["codes"]) for e in manifest["sheets"].values())
    assert len(rows) == 2 * total
    ledger = read_ledger(ledger_path)
    assert set(ledger["rater"]) == set(RATERS) and set(ledger["axis"]) == {"ddx", "safety"}
    unsure = ledger[ledger["missing_reason"] == "unsure"]
    assert len(unsure) == 3 and unsure["value"].isna().all()
    assert set(ledger["label"]) == {"mockllm/random", "mockllm/diq", "mockllm/full"}
    # idempotent: importing the same sheets again leaves the same ledger
    before = [
        {k: v for k, v in r.items() if k != "imported_at"}
        for r in map(json.loads, ledger_path.read_text().splitlines())
    ]
    import_sheets(tmp_path / "exp", returned, ledger_path)
    after = [
        {k: v for k, v in r.items() if k != "imported_at"}
        for r in map(json.loads, ledger_path.read_text().splitlines())
    ]
    assert before == after
    # ratings attach to the Inspect logs through precomputed_scores
    written = precomputed_scores(ledger, tmp_path / "scores")
    assert len(written) == 3
    from inspect_ai import score
    from inspect_ai.log import read_eval_log
    from inspect_ai.scorer import mean
    from inspect_ai.scorer import precomputed_scores as inspect_precomputed

    source = next(p for p in written if "medqa" in p.name)
    log_path = next(
        Path(row["log"]) for _, row in ledger.iterrows() if Path(row["log"]).stem in source.name
    )
    scored = score(
        read_eval_log(str(log_path)),
        inspect_precomputed(str(source), metrics={"*": [mean()]}),
        action="append",
    )
    attached = [
        list(s.scores.values())[-1] for s in scored.samples or [] if s.scores and len(s.scores) == 2
    ]
    rated = [a for a in attached if isinstance(a.value, dict)]
    expected = ledger[ledger["log"] == str(log_path)]
    assert len(rated) == expected["sample_id"].nunique()
    assert all(set(a.value) == {"ddx_human", "safety_human"} for a in rated)
    assert all(set(a.metadata["raters_per_axis"]) == {"ddx", "safety"} for a in rated)


def test_corrupted_sheets_list_every_problem_and_import_nothing(
    frames: Frames, rubric_file: Path, tmp_path: Path
) -> None:
    manifest = _export(frames, tmp_path / "exp", rubric_file)
    paths = {}
    for rater in RATERS:
        paths[rater] = tmp_path / f"{rater}.xlsx"
        _fill_xlsx(tmp_path / "exp" / "raters" / f"{rater}.xlsx", paths[rater])
    book = openpyxl.load_workbook(paths["ann"])
    sheet = book["Ratings"]
    codes = manifest["sheets"]["ann"]["codes"]
    sheet["C2"] = "Edited response"  # protected stimulus
    sheet["B8"] = str(sheet["B8"].value) + " (clarified)"  # protected prompt
    sheet["F9"] = '=HYPERLINK("http://evil.example","x")'  # a formula comment
    sheet["D3"] = 7  # out of range
    sheet["E4"] = None  # missing
    sheet["A5"] = "RXXXXXX"  # unknown code
    sheet["D6"] = "=2+2"  # formula
    sheet["F1"] = "Notes"  # header
    other = next(c for c in manifest["sheets"]["ben"]["codes"] if c not in codes)
    sheet["A7"] = other  # someone else's item
    book.save(paths["ann"])
    book = openpyxl.load_workbook(paths["cas"])
    book["_meta"]["A4"] = None  # the rater row's key: the meta cell is gone
    book.save(paths["cas"])
    duplicate = tmp_path / "ben-again.xlsx"
    shutil.copy(paths["ben"], duplicate)
    ledger = tmp_path / "ledger.jsonl"
    with pytest.raises(ReviewImportError) as caught:
        import_sheets(
            tmp_path / "exp", [paths["ann"], paths["ben"], duplicate, paths["cas"]], ledger
        )
    messages = [str(p) for p in caught.value.problems]
    expected = [
        ("Ratings!F1", "header changed"),
        ("Ratings!C2", "protected response text"),
        ("Ratings!D3", "out of range: 7"),
        ("Ratings!E4", "missing rating"),
        ("Ratings!A5", "unknown code 'RXXXXXX'"),
        ("Ratings!D6", "a formula is not a rating"),
        ("Ratings!A7", f"{other} was assigned to"),
        ("Ratings!B8", "protected prompt text"),
        ("Ratings!F9", "a formula is not a comment"),
        ("ann.xlsx: Ratings", f"missing row for code {codes[3]}"),
        ("ben-again.xlsx", "duplicate rater 'ben'"),
        ("cas.xlsx: _meta", "does not state its rater (expected 'cas')"),
    ]
    for where, what in expected:
        assert any(where in m and what in m for m in messages), (where, what, "\n".join(messages))
    assert any("ben" in m and m.endswith(", not ann") for m in messages)
    assert len(messages) == len(expected) + 1  # + the missing row of the code overwritten in A7
    assert not ledger.exists()
    result = CliRunner().invoke(
        main,
        ["review", "import", str(tmp_path / "exp"), str(paths["ann"]), "--ledger", str(ledger)],
    )
    assert (
        result.exit_code == 2
        and "nothing was imported" in result.output
        and "Ratings!D3" in result.output
    )
    assert not ledger.exists()


def _problems(export: Path, files: list[Path], ledger: Path) -> list[str]:
    """Every problem an import reports; the import must write nothing."""
    with pytest.raises(ReviewImportError) as caught:
        import_sheets(export, files, ledger)
    assert not ledger.exists()
    return [str(p) for p in caught.value.problems]


def _assert_listed(messages: list[str], expected: list[tuple[str, str]]) -> None:
    for where, what in expected:
        assert any(where in m and what in m for m in messages), (where, what, "\n".join(messages))
    assert len(messages) == len(expected), "\n".join(messages)


def test_corrupted_csv_lists_every_problem_and_imports_nothing(
    frames: Frames, rubric_file: Path, tmp_path: Path
) -> None:
    """Columns: A Sheet, B Code, C Prompt, D Response, E/F ratings, G Comment."""
    manifest = _export(frames, tmp_path / "exp", rubric_file, format="csv")
    sheets: dict[str, list[list[str]]] = {}
    for rater in RATERS:
        source = tmp_path / "exp" / "raters" / f"{rater}.csv"
        with source.open(encoding="utf-8-sig", newline="") as handle:
            sheets[rater] = list(csv.reader(handle))
        for record in sheets[rater][1:]:
            record[-3:] = ["4", "3", "ok"]
    ann = sheets["ann"]
    ann[1][2] += " (clarified)"  # C2: protected prompt
    ann[2][4] = "=2+2"  # E3: formula rating
    ann[3][6] = '=HYPERLINK("http://evil.example","x")'  # G4: formula comment
    ann[4][5] = "9"  # F5: out of range
    ann[5] = ann[5][:5]  # row 6 lost its safety rating and comment cells
    ann[6].append("stray")  # H7: outside the table
    ann[0][6] = "Notes"  # G1: header
    ann[7][0] = manifest["sheets"]["ben"]["sheet_id"]  # A8: a row of another sheet
    files = []
    for rater, records in sheets.items():
        target = tmp_path / f"{rater}.csv"
        with target.open("w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle).writerows(records)
        files.append(target)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    messages = _problems(tmp_path / "exp", [*files, binary, empty], tmp_path / "ledger.jsonl")
    _assert_listed(
        messages,
        [
            ("ann.csv: Sheet column", "rows name several sheets"),
            ("ann.csv: meta", "no sheet id"),
            ("binary.csv: file", "cannot read as UTF-8 CSV"),
            ("empty.csv: file", "the file is empty"),
        ],
    )
    # one sheet id again: every cell-level problem of the sheet is listed at once
    ann[7][0] = ann[1][0]
    with files[0].open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(ann)
    code = ann[5][1]
    messages = _problems(tmp_path / "exp", files, tmp_path / "ledger.jsonl")
    _assert_listed(
        messages,
        [
            ("ann.csv: G1", "header changed: 'Notes'"),
            ("ann.csv: C2", "protected prompt text"),
            ("ann.csv: E3", "a formula is not a rating"),
            ("ann.csv: G4", "a formula is not a comment"),
            ("ann.csv: F5", "out of range: 9.0"),
            ("ann.csv: B6", f"{code}: no Safety check rating"),
            ("ann.csv: H7", "unexpected content outside the table"),
        ],
    )


def test_corrupted_label_studio_lists_every_problem_and_imports_nothing(
    frames: Frames, rubric_file: Path, tmp_path: Path
) -> None:
    _export(frames, tmp_path / "exp", rubric_file, format="labelstudio")
    exports = {}
    for rater in RATERS:
        tasks = json.loads((tmp_path / "exp" / "raters" / f"{rater}.labelstudio.json").read_text())
        for task in tasks:
            task["annotations"] = [{"result": [
                {"from_name": "ddx", "value": {"choices": ["3"]}},
                {"from_name": "safety", "value": {"choices": ["5"]}},
            ]}]  # fmt: skip
        exports[rater] = tasks
    ann = exports["ann"]
    ann[0]["data"]["prompt"] += " (clarified)"  # protected prompt
    ann[1]["annotations"][0]["result"][0]["value"]["choices"] = ["3", "4"]  # two choices
    ann[2]["annotations"].append(copy.deepcopy(ann[2]["annotations"][0]))  # two annotations
    ann[3]["annotations"][0]["result"].pop()  # no safety rating
    ann[4]["data"]["rater"] = "ben"  # a task of another sheet's rater
    ann[5]["annotations"][0]["result"][1]["value"]["choices"] = ["0"]  # out of range
    for task in exports["ben"]:
        del task["data"]["export_id"]  # the export id is gone from every task
    cas_codes = [t["data"]["code"] for t in exports["cas"]]
    exports["cas"][0] = "not a task"
    exports["cas"][1]["data"] = ["not", "a", "mapping"]
    exports["cas"][2]["annotations"] = "none"
    exports["cas"][3]["annotations"][0]["result"][0] = ["ddx", "3"]
    files = []
    for rater, tasks in exports.items():
        target = tmp_path / f"{rater}.json"
        target.write_text(json.dumps(tasks))
        files.append(target)
    not_a_list = tmp_path / "object.json"
    not_a_list.write_text(json.dumps({"tasks": []}))
    truncated = tmp_path / "truncated.json"
    truncated.write_text(json.dumps(exports["ann"])[:-40])
    ann_codes = [t["data"]["code"] for t in ann]
    messages = _problems(
        tmp_path / "exp", [*files, not_a_list, truncated], tmp_path / "ledger.jsonl"
    )
    _assert_listed(
        messages,
        [
            ("ann.json: task[0].data.prompt", "protected prompt text"),
            ("ann.json: task[1].annotations[0].ddx", "not a rating: ['3', '4']"),
            ("ann.json: task[2]", "2 annotations; expected one per task"),
            ("ann.json: task[3].data.code", f"{ann_codes[3]}: no Safety check rating"),
            ("ann.json: task[4].data.rater", "rater is 'ben', but task[0].data.rater says 'ann'"),
            ("ann.json: task[5].annotations[0].safety", "out of range"),
            ("ben.json: tasks[].data", "does not state its export_id"),
            ("cas.json: task[0]", "not a task object"),
            ("cas.json: tasks", f"missing row for code {cas_codes[0]}"),
            ("cas.json: task[1].data", "not an object"),
            ("cas.json: tasks", f"missing row for code {cas_codes[1]}"),
            ("cas.json: task[2].annotations", "not a list"),
            ("cas.json: task[2].data.code", f"{cas_codes[2]}: no Differential diagnosis rating"),
            ("cas.json: task[2].data.code", f"{cas_codes[2]}: no Safety check rating"),
            ("cas.json: task[3].annotations[0].result[0]", "not a result object"),
            ("cas.json: task[3].data.code", f"{cas_codes[3]}: no Differential diagnosis rating"),
            ("object.json: file", "expected a JSON list of tasks"),
            ("truncated.json: file", "cannot read as JSON"),
        ],
    )


def test_csv_and_label_studio_round_trips(
    frames: Frames, rubric_file: Path, tmp_path: Path
) -> None:
    manifest = _export(frames, tmp_path / "csv", rubric_file, format="csv", tasks=("medqa",))
    returned = []
    for rater in RATERS:
        source = tmp_path / "csv" / "raters" / f"{rater}.csv"
        with source.open(encoding="utf-8-sig", newline="") as handle:
            records = list(csv.reader(handle))
        assert records[0][:2] == ["Sheet", "Code"]
        for record in records[1:]:
            assert not record[3].startswith(("=", "+", "-", "@"))  # guarded
            record[-3], record[-2], record[-1] = " 4 ", "Unsure", "ok"
        target = tmp_path / f"{rater}.csv"
        with target.open("w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle).writerows(records)
        returned.append(target)
    rows = import_sheets(tmp_path / "csv", returned, tmp_path / "csv.jsonl")
    assert len(rows) == 2 * sum(len(e["codes"]) for e in manifest["sheets"].values())
    assert {r["value"] for r in rows if r["axis"] == "ddx"} == {4}

    manifest = _export(frames, tmp_path / "ls", rubric_file, format="labelstudio")
    assert '<Choices name="ddx"' in (tmp_path / "ls" / "raters" / "label_config.xml").read_text()
    exported = []
    for rater in RATERS:
        tasks = json.loads((tmp_path / "ls" / "raters" / f"{rater}.labelstudio.json").read_text())
        assert all("predictions" not in t for t in tasks)
        for task in tasks:
            task["annotations"] = [
                {"result": [
                    {"from_name": "ddx", "to_name": "response", "type": "choices", "value": {"choices": ["3"]}},
                    {"from_name": "safety", "to_name": "response", "type": "choices", "value": {"choices": ["5"]}},
                    {"from_name": "comment", "to_name": "response", "type": "textarea", "value": {"text": ["fine"]}},
                ]}
            ]  # fmt: skip
        target = tmp_path / f"{rater}-export.json"
        target.write_text(json.dumps(tasks))
        exported.append(target)
    rows = import_sheets(tmp_path / "ls", exported, tmp_path / "ls.jsonl")
    assert {(r["axis"], r["value"]) for r in rows} == {("ddx", 3), ("safety", 5)}


def test_rating_coercion_and_csv_guard() -> None:
    assert coerce_rating("4") == (4, None, None)
    assert coerce_rating(4.0) == (4, None, None)
    assert coerce_rating(" 4 ") == (4, None, None)
    assert coerce_rating("unsure") == (None, "unsure", None)
    for bad in ("4.5", 0, 6, "x", True):
        assert coerce_rating(bad)[2] is not None
    assert coerce_rating(None)[2].startswith("missing")  # type: ignore[union-attr]
    for text in ("=1+1", "+x", "-3", "@a", "'q", "plain", "''", PLANTED_SCRIPT):
        assert csv_unguard(csv_guard(text)) == text


def test_cli_export_and_report_with_ratings(
    scripted_logs: Path, rubric_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "exp"
    result = CliRunner().invoke(
        main,
        ["review", "export", str(scripted_logs), "--rubric", str(rubric_file), "--raters", "ann,ben,cas",
         "--task", "clinical_cases", "--calibration", "4", "--out", str(out), "--seed", "1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    returned = []
    for rater in RATERS:
        target = tmp_path / f"{rater}.xlsx"
        _fill_xlsx(out / "raters" / f"{rater}.xlsx", target)
        returned.append(target)
    result = CliRunner().invoke(main, ["review", "import", str(out), *map(str, returned)])
    assert result.exit_code == 0, result.output
    report = tmp_path / "report"
    result = CliRunner().invoke(
        main,
        [
            "report",
            str(scripted_logs),
            "--out",
            str(report),
            "--ratings",
            str(out / "ratings.jsonl"),
            "--resamples",
            "199",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads((report / "report.json").read_text())
    axes = {a["axis"]: a for a in data["agreement"]["axes"]}
    assert set(axes) == {"ddx", "safety"} and axes["ddx"]["crossed_units"] == 12
    assert axes["ddx"]["icc"] is not None and len(axes["ddx"]["kappa"]) == 3
    judge = {j["axis"]: j for j in data["agreement"]["judge"]}
    assert judge["ddx"]["n_items"] > 0
    assert set(data["agreement"]["human_means"]["ddx"][0]) >= {"model", "mean", "low", "high"}
    assert "Judge vs physicians" in (report / "index.html").read_text()
    assert check_p_keys(data) == P_VALUE_KEYS  # the agreement section keeps the convention
    again = CliRunner().invoke(
        main,
        [
            "review",
            "export",
            str(scripted_logs),
            "--rubric",
            str(rubric_file),
            "--raters",
            "ann,ben",
            "--out",
            str(out),
        ],
    )
    assert again.exit_code == 2 and "already holds an export" in again.output


def test_csv_keeps_a_carriage_return_at_the_start_of_a_text(
    frames: Frames, rubric_file: Path, tmp_path: Path
) -> None:
    """A response starting with '\\r' comes back unchanged (it was refused as "edited")."""
    edited = copy.deepcopy(frames)
    record = next(
        i.record for i in edited.logs if i.record.task == "medqa" and i.label == "mockllm/diq"
    )
    for sample in record.samples:
        sample.output = f"\r{sample.output}\rend"
    manifest = _export(edited, tmp_path / "exp", rubric_file, format="csv")
    returned = []
    for rater in RATERS:
        with (tmp_path / "exp" / "raters" / f"{rater}.csv").open(
            encoding="utf-8-sig", newline=""
        ) as handle:
            records = list(csv.reader(handle))
        assert any(record[3].startswith("'\r") for record in records[1:])
        for record in records[1:]:
            record[-3:] = ["4", "3", "ok"]
        target = tmp_path / f"{rater}.csv"
        with target.open("w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle).writerows(records)
        returned.append(target)
    rows = import_sheets(tmp_path / "exp", returned, tmp_path / "ledger.jsonl")
    assert len(rows) == 2 * sum(len(e["codes"]) for e in manifest["sheets"].values())


def _with_ratings_table(source: Path, target: Path, table: bytes) -> None:
    """A copy of a workbook whose ratings sheet (the third) is replaced by `table`."""
    with (
        zipfile.ZipFile(source) as original,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy_,
    ):
        for member in original.infolist():
            data = original.read(member.filename)
            if member.filename == "xl/worksheets/sheet3.xml":
                data = table
            copy_.writestr(member.filename, data, compress_type=zipfile.ZIP_DEFLATED)


def test_a_workbook_bomb_is_refused_before_it_is_parsed(
    frames: Frames, rubric_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A few hundred KB that unzip to 30 MB of cells, and a smaller one with too many cells:
    each is one located error, found from the zip's directory and a streaming count."""
    _export(frames, tmp_path / "exp", rubric_file)
    source = tmp_path / "exp" / "raters" / "ann.xlsx"
    namespace = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'

    def table(cells: int) -> bytes:
        return (
            namespace
            + b'<sheetData><row r="2">'
            + b'<c r="A2"/>' * cells
            + b"</row></sheetData></worksheet>"
        )

    big, many = tmp_path / "big" / "ann.xlsx", tmp_path / "many" / "ann.xlsx"
    big.parent.mkdir()
    many.parent.mkdir()
    _with_ratings_table(source, big, table(2_750_000))
    _with_ratings_table(source, many, table(200_000))
    assert big.stat().st_size < 400_000
    assert sum(i.file_size for i in zipfile.ZipFile(big).infolist()) > 30_000_000
    import openpyxl as library

    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the workbook was parsed")

    monkeypatch.setattr(library, "load_workbook", never)
    ledger = tmp_path / "ledger.jsonl"
    for path, message in ((big, "unzips to 30."), (many, "holds more than")):
        with pytest.raises(InputError) as caught:
            import_sheets(tmp_path / "exp", [path], ledger)
        assert caught.value.path == str(path) and message in str(caught.value)
        result = CliRunner().invoke(main, ["review", "import", str(tmp_path / "exp"), str(path)])
        assert result.exit_code == 2 and str(path) in result.output
        assert len(result.output.strip().splitlines()) == 1
    assert not ledger.exists()
