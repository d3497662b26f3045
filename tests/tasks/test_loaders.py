"""Every benchmark loader against the real upstream files: counts, one known item, bad input."""

import csv
import json
import logging
from pathlib import Path

import pytest

from harness.core.errors import InputError
from tasks import medcalc_bench, medmcqa, medqa, medxpertqa, mmlu_medical, mmlu_pro_health, pubmedqa
from tasks.items import content_id
from tasks.medbullets import load_medbullets
from tasks.medcalc_bench import load_medcalc
from tasks.medmcqa import load_medmcqa
from tasks.medqa import load_medqa
from tasks.medxpertqa import load_medxpertqa
from tasks.mmlu_medical import load_mmlu_medical
from tasks.mmlu_pro_health import load_mmlu_pro_health
from tasks.pubmedqa import load_pubmedqa


def by_id(items):
    return {item.id: item for item in items}


def test_medqa(data_dir: Path) -> None:
    items, location = load_medqa(str(data_dir / "medqa/phrases_no_exclude_test.jsonl"))
    assert len(items) == 1273
    first = items[0]
    assert first.question.startswith(
        "A junior orthopaedic surgery resident is completing a carpal tunnel repair"
    )
    assert first.choices[1] == "Tell the attending that he cannot fail to disclose this mistake"
    assert first.answer_letter == "B"
    assert first.subject == "step1"
    assert location.endswith("phrases_no_exclude_test.jsonl")


def test_medmcqa_cop_is_one_based(data_dir: Path) -> None:
    items, _ = load_medmcqa(str(data_dir / "medmcqa/dev.json"))
    assert len(items) == 4183
    item = by_id(items)["45258d3d-b974-44dd-a161-c3fccbdadd88"]
    assert item.question == "Which of the following is not true for myelinated nerve fibers:"
    assert item.answer_letter == "A"  # cop 1
    assert (
        item.choices[0] == "Impulse through myelinated fibers is slower than non-myelinated fibers"
    )
    assert item.subject == "Physiology"


def test_pubmedqa_official_test_split_with_abstract(data_dir: Path) -> None:
    items, _ = load_pubmedqa(str(data_dir / "pubmedqa/ori_pqal.json"))
    assert len(items) == 500
    item = by_id(items)["12377809"]
    assert item.question == "Is anorectal endosonography valuable in dyschesia?"
    assert item.choices == ["yes", "no", "maybe"]
    assert item.answer_letter == "A"
    assert item.context.startswith("AIMS: ")
    assert "Context: AIMS:" in item.prompt_text()


def test_mmlu_medical_all_subjects_and_selection(data_dir: Path) -> None:
    items, _ = load_mmlu_medical(path=str(data_dir / "mmlu_medical"))
    assert len(items) == 1089
    anatomy, _ = load_mmlu_medical("anatomy", str(data_dir / "mmlu_medical"))
    assert len(anatomy) == 135
    first = anatomy[0]
    assert first.question.startswith(
        "A lesion causing compression of the facial nerve at the stylomastoid foramen"
    )
    assert first.choices[0] == "paralysis of the facial muscles."
    assert first.answer_letter == "A"
    two, _ = load_mmlu_medical(["anatomy", "medical_genetics"], str(data_dir / "mmlu_medical"))
    assert len(two) == 235


def test_mmlu_medical_unknown_subject(data_dir: Path) -> None:
    with pytest.raises(InputError, match="unknown subject.*astrology"):
        load_mmlu_medical("anatomy,astrology", str(data_dir / "mmlu_medical"))


def test_medxpertqa_subsets(data_dir: Path) -> None:
    subset, _ = load_medxpertqa("subset-1449", str(data_dir / "medxpertqa/MedXpertQA_test.jsonl"))
    assert len(subset) == 1449
    first = by_id(subset)["Text-1001"]
    assert len(first.choices) == 10
    assert first.answer_letter == "B"
    assert first.choices[1] == "Carrying angle: decreased, distal ulna: adducted, wrist: abducted"
    assert first.subject == "Understanding"
    sampled, _ = load_medxpertqa(
        "sampled-244", str(data_dir / "medxpertqa/medxpertqa_sampled_text_input.jsonl")
    )
    assert len(sampled) == 244
    item = by_id(sampled)["Text-20"]
    assert item.answer_letter == "J"
    assert item.choices[9] == "Bacterial destruction"
    assert (
        "Answer Choices" not in item.question
    )  # the options are rendered by the prompt, not twice
    with pytest.raises(InputError, match="unknown subset"):
        load_medxpertqa("everything")


def test_mmlu_pro_health_drops_empty_trailing_options(data_dir: Path) -> None:
    items, _ = load_mmlu_pro_health(str(data_dir / "mmlu_pro_health/test_health.json"))
    assert len(items) == 553
    item = by_id(items)["6001"]
    assert item.question == "Polio can be eradicated by which of the following?"
    assert len(item.choices) == 7
    assert item.answer_letter == "E"
    assert item.choices[4] == "Attention to sewage control and hygiene"


def test_medcalc_bench(data_dir: Path) -> None:
    samples, _ = load_medcalc(str(data_dir / "medcalc_bench/test_data.csv"))
    assert len(samples) == 1047
    by = {s.id: s for s in samples}
    assert by["1"].metadata["output_type"] == "decimal"
    assert by["1"].input.startswith(
        "Patient note:\nAn 87-year-old man was admitted to our hospital for anorexia"
    )
    assert (
        "\n\nQuestion: What is the patient's Creatinine Clearance using the Cockroft-Gault "
        "Equation in terms of mL/min?"
    ) in by["1"].input
    assert by["1"].metadata["calculator"] == "Creatinine Clearance (Cockcroft-Gault Equation)"
    assert (by["1"].target, by["1"].metadata["lower"], by["1"].metadata["upper"]) == (
        "25.238",
        "23.9761",
        "26.4999",
    )
    assert by["928"].metadata["output_type"] == "date"
    assert by["1028"].metadata["output_type"] == "weeks_days"
    assert by["41"].metadata["output_type"] == "integer"


def test_data_dir_resolution(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIQ_DATA_DIR", str(data_dir))
    assert len(load_medqa()[0]) == 1273
    monkeypatch.setenv("DIQ_DATA_DIR", str(data_dir / "nowhere"))
    with pytest.raises(InputError, match="not found under DIQ_DATA_DIR") as error:
        load_medqa()
    assert "nowhere/medqa/phrases_no_exclude_test.jsonl" in str(error.value)
    assert "unset DIQ_DATA_DIR to use the pinned Hugging Face dataset hf:GBaker" in str(error.value)


@pytest.mark.parametrize(
    "load",
    [
        lambda: load_medbullets(4),
        lambda: load_medxpertqa("sampled-244"),
        lambda: load_medxpertqa("subset-1449"),
    ],
)
def test_data_dir_hint_offers_no_hub_copy_where_there_is_none(
    load, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIQ_DATA_DIR", str(tmp_path))
    with pytest.raises(InputError, match="not found under DIQ_DATA_DIR") as error:
        load()
    assert "no pinned Hugging Face copy" in str(error.value)
    assert "unset" not in str(error.value)


@pytest.mark.parametrize(
    ("subset", "file", "message"),
    [
        (
            "subset-1449",
            "medxpertqa_sampled_text_input.jsonl",
            "244 questions with options as a list, but subset 'subset-1449' has 1449 with options "
            "as a dict; pass -T subset=sampled-244",
        ),
        (
            "sampled-244",
            "MedXpertQA_test.jsonl",
            "1449 questions .* pass -T subset=subset-1449",
        ),
        ("full-2450", "MedXpertQA_test.jsonl", "subset 'full-2450' has 2450"),
    ],
)
def test_medxpertqa_file_must_be_the_named_subset(
    data_dir: Path, subset: str, file: str, message: str
) -> None:
    with pytest.raises(InputError, match=message) as error:
        load_medxpertqa(subset, str(data_dir / "medxpertqa" / file))
    assert file in str(error.value) and "field 'subset'" in str(error.value)


# ---- MedBullets: user-supplied CSV, tested with a fixture in the upstream format ----

OP5_HEADER = "question,opa,opb,opc,opd,ope,answer_idx,answer,explanation,link"
OP5_ROWS = [
    '"A 54-year-old man has crushing chest pain. Next step?",Aspirin,ECG,CT head,Discharge,Observe,B,ECG,"An ECG within 10 minutes.",https://example.org/1',
    '"A 30-year-old woman has a tender thyroid after a viral illness. Diagnosis?",Graves,Hashimoto,Subacute thyroiditis,Cancer,Goiter,C,Subacute thyroiditis,"Painful thyroid after URI.",https://example.org/2',
]


def write(path: Path, lines: list[str]) -> str:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_medbullets_op5_and_op4(tmp_path: Path) -> None:
    items, _ = load_medbullets(5, write(tmp_path / "op5.csv", [OP5_HEADER, *OP5_ROWS]))
    assert len(items) == 2
    assert items[1].choices == ["Graves", "Hashimoto", "Subacute thyroiditis", "Cancer", "Goiter"]
    assert items[1].answer_letter == "C"
    assert items[1].explanation == "Painful thyroid after URI."
    assert items[0].benchmark == "medbullets_op5"
    # op4 files carry trailing empty fields beyond the header upstream; they are ignored
    op4 = [
        "question,opa,opb,opc,opd,answer_idx,answer,explanation",
        '"Q?",a,b,c,d,D,d,"because",,,,',
    ]
    items4, _ = load_medbullets(4, write(tmp_path / "op4.csv", op4))
    assert items4[0].answer_letter == "D" and len(items4[0].choices) == 4
    # an op4 file may carry an empty ope column
    op4_with_ope = [
        "question,opa,opb,opc,opd,ope,answer_idx,answer,explanation",
        '"Q?",a,b,c,d,,A,a,x',
    ]
    assert len(load_medbullets(4, write(tmp_path / "op4e.csv", op4_with_ope))[0][0].choices) == 4


def test_medbullets_option_count_must_match_the_file(tmp_path: Path) -> None:
    op5 = write(tmp_path / "op5.csv", [OP5_HEADER, *OP5_ROWS])
    with pytest.raises(InputError, match=r"op5.csv:2: field 'ope': .*pass -T options=5"):
        load_medbullets(4, op5)
    op4 = write(tmp_path / "op4.csv", ["question,opa,opb,opc,opd,answer_idx,answer,explanation"])
    with pytest.raises(InputError, match=r"op4.csv:1: no 'ope' column.*pass -T options=4"):
        load_medbullets(5, op4)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            ["question,opa,opb,opc,opd,ope,answer_idx,answer", '"Q?",a,b,c,d,e,A,a'],
            r"bad.csv:1: missing column.*'explanation'",
        ),
        ([OP5_HEADER, '"Q?",a,b,,d,e,A,a,x,l'], r"bad.csv:2: field 'opc': empty value"),
        (
            [OP5_HEADER, '"Q?",a,b,c,d,e,F,a,x,l'],
            r"bad.csv:2: field 'answer_idx': answer_idx must be one of A-E",
        ),
        ([OP5_HEADER], "bad.csv: no questions in file"),
    ],
)
def test_medbullets_bad_input(tmp_path: Path, lines: list[str], message: str) -> None:
    path = write(tmp_path / "bad.csv", lines)
    with pytest.raises(InputError, match=message) as error:
        load_medbullets(5, path)
    assert "bad.csv" in str(error.value)


# The official files' layout (link first); a question repeated as in the official op5
# file, once with a medbullets.com and once with a bit.ly link, and a multi-line explanation.
OFFICIAL_HEADER = [
    "link",
    "question",
    "opa",
    "opb",
    "opc",
    "opd",
    "ope",
    "answer_idx",
    "answer",
    "explanation",
]
REPEATED = [
    "A 1-year-old girl has more frequent seizures. Next step?",
    "EEG",
    "MRI",
    "LP",
    "CT",
    "Wait",
    "B",
    "MRI",
]
OFFICIAL_ROWS = [
    [
        "https://step2.medbullets.com/testview?qid=217175",
        *REPEATED,
        "Answer B: MRI.\n\nIncorrect: A.",
    ],
    [
        "https://bit.ly/3N80FxZ",
        "A 40-year-old has a cough. Diagnosis?",
        "Asthma",
        "COPD",
        "GERD",
        "TB",
        "Cancer",
        "A",
        "Asthma",
        "x",
    ],
    ["https://bit.ly/47NX9Au", *REPEATED, "Answer B: MRI.\n\nIncorrect: A."],
]


def write_official(path: Path, rows: list[list[str]]) -> str:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([OFFICIAL_HEADER, *rows])
    return str(path)


def test_medbullets_official_repeats_are_kept_with_ids_of_their_own(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_official(tmp_path / "medbullets_op5.csv", OFFICIAL_ROWS)
    with caplog.at_level(logging.WARNING):
        items, _ = load_medbullets(5, path)
    first = content_id(REPEATED[0], *REPEATED[1:6])
    assert [item.id for item in items] == [items[0].id, items[1].id, f"{first}-2"]
    assert items[0].id == first  # the first copy keeps the plain content id
    assert [item.metadata["link"] for item in (items[0], items[2])] == [
        OFFICIAL_ROWS[0][0],
        OFFICIAL_ROWS[2][0],
    ]
    # the warning names the file and where both copies start (the explanation spans 3 lines)
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "medbullets_op5.csv: 1 question(s) appear more than once" in warning
    assert f"{first} at lines 2, 6" in warning
    # stable: the same file gives the same ids; a third copy is numbered 3
    assert [item.id for item in load_medbullets(5, path)[0]] == [item.id for item in items]
    thrice = write_official(tmp_path / "thrice.csv", [*OFFICIAL_ROWS, OFFICIAL_ROWS[0]])
    assert [item.id for item in load_medbullets(5, thrice)[0]][2:] == [f"{first}-2", f"{first}-3"]


def test_medbullets_without_data_says_how_to_supply_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIQ_DATA_DIR", raising=False)
    with pytest.raises(InputError, match="user-supplied"):
        load_medbullets(4)


# ---- bad input in upstream formats: the error names the file, line and field ----


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="data file not found") as error:
        load_medqa(str(tmp_path / "absent.jsonl"))
    assert "absent.jsonl" in str(error.value)


def test_wrong_format_names_line(tmp_path: Path) -> None:
    path = tmp_path / "medqa.jsonl"
    path.write_text(
        '{"question": "q", "options": {"A": "x", "B": "y"}, "answer_idx": "A"}\nnot json\n'
    )
    with pytest.raises(InputError, match=r"medqa.jsonl:2: invalid JSON"):
        load_medqa(str(path))


def test_missing_field_names_field(tmp_path: Path) -> None:
    path = tmp_path / "medqa.jsonl"
    path.write_text('{"question": "q", "options": {"A": "x", "B": "y"}}\n')
    with pytest.raises(InputError, match=r"medqa.jsonl:1: field 'answer_idx': missing field"):
        load_medqa(str(path))


def test_duplicate_ids_name_both_records(tmp_path: Path) -> None:
    row = {"id": "x1", "question": "q", "opa": "a", "opb": "b", "opc": "c", "opd": "d", "cop": 2}
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(row) + "\n\n" + json.dumps(row) + "\n")
    with pytest.raises(
        InputError, match=r"record 'x1'.*duplicate sample id \(first at line 1, again at line 3\)"
    ):
        load_medmcqa(str(path))


def first_medcalc_row(data_dir: Path) -> dict:
    with (data_dir / "medcalc_bench/test_data.csv").open(newline="", encoding="utf-8") as handle:
        return next(csv.DictReader(handle))


def test_medcalc_duplicate_row_numbers_name_both_lines(data_dir: Path, tmp_path: Path) -> None:
    row = {key: " ".join(value.split()) for key, value in first_medcalc_row(data_dir).items()}
    path = tmp_path / "medcalc.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        writer.writeheader()
        writer.writerows([row, row])
    with pytest.raises(
        InputError,
        match=r"medcalc.csv: record '1': field 'Row Number': duplicate sample id "
        r"\(first at line 2, again at line 3\)",
    ):
        load_medcalc(str(path))


@pytest.mark.parametrize(
    ("load", "name"),
    [
        (load_medqa, "medqa.jsonl"),
        (load_medmcqa, "dev.json"),
        (lambda path: load_medxpertqa("subset-1449", path), "test.jsonl"),
        (load_medcalc, "test_data.csv"),
    ],
)
def test_empty_file_is_an_error_naming_it(load, name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_text(
        "Row Number,Calculator Name,Category,Output Type,Patient Note,Question,"
        "Ground Truth Answer,Lower Limit,Upper Limit\n"
        if name.endswith(".csv")
        else "\n"
    )
    with pytest.raises(InputError, match="no questions in file") as error:
        load(str(path))
    assert str(error.value).startswith(str(path))


def test_bad_answer_index(tmp_path: Path) -> None:
    row = {"id": "x1", "question": "q", "opa": "a", "opb": "b", "opc": "c", "opd": "d", "cop": 5}
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(InputError, match="record 'x1': field 'cop'"):
        load_medmcqa(str(path))


def test_pubmedqa_test_ids_must_exist(tmp_path: Path) -> None:
    (tmp_path / "ori_pqal.json").write_text(
        json.dumps({"1": {"QUESTION": "q", "CONTEXTS": ["c"], "final_decision": "yes"}})
    )
    (tmp_path / "test_ground_truth.json").write_text(json.dumps({"1": "yes", "2": "no"}))
    with pytest.raises(InputError, match="1 test PMIDs are not in"):
        load_pubmedqa(str(tmp_path / "ori_pqal.json"))


def test_mmlu_pro_requires_a_list(tmp_path: Path) -> None:
    path = tmp_path / "test_health.json"
    path.write_text("{}")
    with pytest.raises(InputError, match="expected a JSON list"):
        load_mmlu_pro_health(str(path))


def mmlu_pro_row(options: object) -> dict:
    return {"question_id": 7, "question": "q", "options": options, "answer": "B", "src": "s"}


@pytest.mark.parametrize(
    "options",
    ["['first', 'second', 'third']", "{'A': 'first', 'B': 'second', 'C': 'third', 'D': ''}"],
)
def test_mmlu_pro_options_as_a_python_repr(options: str, tmp_path: Path) -> None:
    path = tmp_path / "test_health.json"
    path.write_text(json.dumps([mmlu_pro_row(options)]))
    [item], _ = load_mmlu_pro_health(str(path))
    assert item.choices == ["first", "second", "third"]
    assert item.answer_letter == "B"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("['first', 'second'", "options is a string that is not a list or dict literal"),
        ("__import__('os')", "options is a string that is not a list or dict literal"),
        (7, "expected options as a list or a dict keyed by letter, got int"),
    ],
)
def test_mmlu_pro_bad_options(options: object, message: str, tmp_path: Path) -> None:
    path = tmp_path / "test_health.json"
    path.write_text(json.dumps([mmlu_pro_row(options)]))
    with pytest.raises(InputError, match=message) as error:
        load_mmlu_pro_health(str(path))
    assert "record '7': field 'options'" in str(error.value)


# ---- the Hugging Face routes map the hub schemas (which differ from the raw files) ----


def fake_hub(monkeypatch: pytest.MonkeyPatch, module, rows) -> None:
    monkeypatch.delenv("DIQ_DATA_DIR", raising=False)
    monkeypatch.setattr(module, "hf_rows", lambda source, benchmark: rows)


def test_hf_medmcqa_cop_is_zero_based(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_hub(
        monkeypatch,
        medmcqa,
        [
            {
                "id": "h1",
                "question": "q",
                "opa": "a",
                "opb": "b",
                "opc": "c",
                "opd": "d",
                "cop": 0,
                "exp": None,
            }
        ],
    )
    items, location = load_medmcqa()
    assert items[0].answer_letter == "A"
    assert location.startswith("hf:openlifescienceai/medmcqa@91c6572c4540")


def test_hf_medqa_matches_local_ids(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    local, _ = load_medqa(str(data_dir / "medqa/phrases_no_exclude_test.jsonl"))
    row = json.loads((data_dir / "medqa/phrases_no_exclude_test.jsonl").read_text().splitlines()[0])
    fake_hub(monkeypatch, medqa, [row])
    hub, _ = load_medqa()
    assert hub[0].id == local[0].id  # paired across sources


def hub_pubmedqa_rows(data_dir: Path) -> list[dict]:
    """`qiaojin/PubMedQA` pqa_labeled rows as `datasets` yields them, built from ori_pqal.json."""
    records = json.loads((data_dir / "pubmedqa/ori_pqal.json").read_text())
    return [
        {
            "pubid": int(pmid),
            "question": record["QUESTION"],
            "context": {
                "contexts": record["CONTEXTS"],
                "labels": record["LABELS"],
                "meshes": record.get("MESHES", []),
                "reasoning_required_pred": record.get("reasoning_required_pred"),
                "reasoning_free_pred": record.get("reasoning_free_pred"),
            },
            "long_answer": record["LONG_ANSWER"],
            "final_decision": record["final_decision"],
        }
        for pmid, record in records.items()
    ]


@pytest.fixture
def pubmedqa_hub(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The hub route with the hub's rows and the upstream test-id bytes, all offline."""
    fake_hub(monkeypatch, pubmedqa, hub_pubmedqa_rows(data_dir))
    monkeypatch.setenv("DIQ_CACHE_DIR", str(tmp_path / "cache"))
    fetched: list[str] = []

    def download(url: str) -> bytes:
        fetched.append(url)
        return (data_dir / "pubmedqa/test_ground_truth.json").read_bytes()

    monkeypatch.setattr(pubmedqa, "_download", download)
    return fetched


def test_hf_pubmedqa_gives_the_local_items(data_dir: Path, pubmedqa_hub: list[str]) -> None:
    local, _ = load_pubmedqa(str(data_dir / "pubmedqa/ori_pqal.json"))
    hub, location = load_pubmedqa()
    assert location.startswith("hf:qiaojin/PubMedQA (pqa_labeled)@9001f2853fb8 split=train")
    assert len(hub) == 500
    assert [item.id for item in hub] == [item.id for item in local]
    for mine, theirs in zip(hub, local, strict=True):
        assert (mine.question, mine.context, mine.answer, mine.explanation) == (
            theirs.question,
            theirs.context,
            theirs.answer,
            theirs.explanation,
        )
    assert pubmedqa_hub == [pubmedqa.TEST_IDS_URL]
    load_pubmedqa()  # the verified ids are cached: no second fetch
    assert len(pubmedqa_hub) == 1


def test_hf_pubmedqa_rejects_test_ids_with_another_hash(
    pubmedqa_hub: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pubmedqa, "_download", lambda url: b'{"1": "yes"}')
    with pytest.raises(InputError, match="have SHA-256 .* expected 939fe566f090.*-T test_ids="):
        load_pubmedqa()


def test_hf_pubmedqa_with_a_test_ids_file(
    pubmedqa_hub: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = tmp_path / "ids.json"
    ids.write_text(json.dumps({"12377809": "yes", "26163474": "yes"}))
    items, _ = load_pubmedqa(test_ids=str(ids))
    assert [item.id for item in items] == ["12377809", "26163474"]
    assert pubmedqa_hub == []  # nothing fetched
    ids.write_text(json.dumps({"1": "yes"}))
    with pytest.raises(InputError, match=r"ids.json: record '1': 1 test PMIDs are not in hf:"):
        load_pubmedqa(test_ids=str(ids))


def test_hf_pubmedqa_never_fetches_when_offline(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_hub(monkeypatch, pubmedqa, hub_pubmedqa_rows(data_dir))
    monkeypatch.setenv("DIQ_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(InputError, match="could not fetch the official test ids.*offline"):
        load_pubmedqa()


def test_hf_medxpertqa_full(monkeypatch: pytest.MonkeyPatch) -> None:
    options = {letter: f"option {letter}" for letter in "ABCDEFGHIJ"}
    question = "A 50-year-old... What next?\nAnswer Choices: (A) option A (B) option B"
    fake_hub(
        monkeypatch,
        medxpertqa,
        [
            {
                "id": "Text-1",
                "question": question,
                "options": options,
                "label": "C",
                "question_type": "Reasoning",
            }
        ],
    )
    items, _ = load_medxpertqa("full-2450")
    assert items[0].question == "A 50-year-old... What next?"
    assert items[0].answer_letter == "C"


def test_hf_mmlu_medical_names_the_pinned_source(monkeypatch: pytest.MonkeyPatch) -> None:
    row = {"question": "q", "choices": ["a", "b", "c", "d"], "answer": 2}
    fake_hub(monkeypatch, mmlu_medical, [row])
    items, location = load_mmlu_medical("anatomy,anatomy")  # a subject named twice loads once
    assert [item.answer_letter for item in items] == ["C"]
    assert location == mmlu_medical._hf_source("anatomy").describe()


def test_hf_mmlu_pro_filters_health_and_says_unfiltered(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [
        {
            "question_id": 1,
            "question": "q",
            "options": ["a", "b", "c"],
            "answer": "B",
            "category": "health",
            "src": "x",
        },
        {
            "question_id": 2,
            "question": "q2",
            "options": ["a", "b"],
            "answer": "A",
            "category": "law",
            "src": "y",
        },
    ]
    fake_hub(monkeypatch, mmlu_pro_health, rows)
    items, _ = load_mmlu_pro_health()
    assert [item.id for item in items] == ["1"]
    assert items[0].split == "test-unfiltered"


def test_hf_medcalc_duplicate_row_numbers(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    row = first_medcalc_row(data_dir)
    fake_hub(monkeypatch, medcalc_bench, [row, row])
    with pytest.raises(InputError, match=r"first at record #1, again at record #2"):
        load_medcalc()


def test_hf_error_is_actionable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIQ_DATA_DIR", raising=False)
    with pytest.raises(
        InputError, match="could not load hf:GBaker/MedQA-USMLE-4-options.*DIQ_DATA_DIR"
    ):
        load_medqa()
