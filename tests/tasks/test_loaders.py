"""Every benchmark loader against the real upstream files: counts, one known item, bad input."""

import json
from pathlib import Path

import pytest

from harness.errors import InputError
from tasks import medmcqa, medqa, medxpertqa, mmlu_pro_health, pubmedqa
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


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            ["question,opa,opb,opc,opd,answer_idx,answer", '"Q?",a,b,c,d,A,a'],
            r"bad.csv:1: missing column.*'explanation', 'ope'",
        ),
        ([OP5_HEADER, '"Q?",a,b,,d,e,A,a,x,l'], r"bad.csv:2: field 'opc': empty value"),
        (
            [OP5_HEADER, '"Q?",a,b,c,d,e,F,a,x,l'],
            r"bad.csv:2: field 'answer_idx': answer_idx must be one of A-E",
        ),
        ([OP5_HEADER, OP5_ROWS[0], OP5_ROWS[0]], "duplicate sample id"),
        ([OP5_HEADER], "no questions"),
    ],
)
def test_medbullets_bad_input(tmp_path: Path, lines: list[str], message: str) -> None:
    path = write(tmp_path / "bad.csv", lines)
    with pytest.raises(InputError, match=message) as error:
        load_medbullets(5, path)
    assert "bad.csv" in str(error.value)


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


def test_duplicate_ids_name_the_record(tmp_path: Path) -> None:
    row = {"id": "x1", "question": "q", "opa": "a", "opb": "b", "opc": "c", "opd": "d", "cop": 2}
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(row) + "\n" + json.dumps(row) + "\n")
    with pytest.raises(InputError, match="record 'x1'.*duplicate sample id"):
        load_medmcqa(str(path))


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


def test_hf_pubmedqa_bigbio_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_hub(
        monkeypatch,
        pubmedqa,
        [
            {
                "id": "123",
                "question": "q?",
                "context": "abstract",
                "answer": ["maybe"],
                "choices": ["yes", "no", "maybe"],
            }
        ],
    )
    items, _ = load_pubmedqa()
    assert (items[0].id, items[0].answer_letter, items[0].context) == ("123", "C", "abstract")


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


def test_hf_error_is_actionable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIQ_DATA_DIR", raising=False)
    with pytest.raises(
        InputError, match="could not load hf:GBaker/MedQA-USMLE-4-options.*DIQ_DATA_DIR"
    ):
        load_medqa()
