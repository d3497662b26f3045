"""`diq select` end to end on a tiny model, reruns, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from harness.cli import main
from tests.selection.util import make_records, write_jsonl

VALIDATION = [
    {
        "task": "medqa",
        "sample_id": f"q{i}",
        "id": f"medqa:q{i}",
        "question": f"Answer the following question.\n\nValidation vignette number {i}: "
        f"which electrolyte disturbance explains finding {i}?\n\nA) sodium\nB) potassium",
        "reasoning": "",
        "response": f"ANSWER: {'AB'[i % 2]}",
        "source": "medqa",
        "meta": {"target": "AB"[i % 2]},
    }
    for i in range(3)
]


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, Path]:
    pool = write_jsonl(tmp_path / "pool.jsonl", [r.to_dict() for r in make_records(16)])
    validation = write_jsonl(tmp_path / "validation.jsonl", VALIDATION)
    return {"pool": pool, "validation": validation, "out": tmp_path / "run"}


def _run(model: Path, inputs: dict[str, Path], *extra: str) -> object:
    args = [
        "select",
        "--pool",
        str(inputs["pool"]),
        "--validation",
        str(inputs["validation"]),
        "--model",
        str(model),
        "--out",
        str(inputs["out"]),
        "--batch-size",
        "4",
        "--max-length",
        "128",
        "--quiet",
        *extra,
    ]
    return CliRunner().invoke(main, args, catch_exceptions=False)


def test_select_end_to_end(tiny_checkpoint: Path, inputs: dict[str, Path]) -> None:
    result = _run(
        tiny_checkpoint,
        inputs,
        "--strategies",
        "diq,random,full,influence,ifd,q1,q2,q3,q4",
        "--ratios",
        "0.25,0.5",
        "--counts",
        "3",
    )
    assert result.exit_code == 0, result.output
    run = inputs["out"]
    scores = pd.read_parquet(run / "scores.parquet")
    assert len(scores) == 16
    assert {"id", "influence", "loss", "ifd", "difficulty", "difficulty_scorer", "quadrant"} <= set(
        scores
    )
    assert set(scores["difficulty_scorer"]) == {"ifd"}
    assert (scores["difficulty"] == scores["ifd"]).all()
    manifest = json.loads((run / "subsets" / "diq-0.25.manifest.json").read_text())
    assert manifest["selected"] == 4 and manifest["strategy"] == "diq"
    assert sum(manifest["quadrants"]["pool"].values()) == 16
    assert {"pool_sha256", "scores_sha256", "ids_sha256", "thresholds", "seed"} <= set(manifest)
    diq = [json.loads(line)["id"] for line in (run / "subsets" / "diq-0.25.jsonl").open()]
    by_id = scores.set_index("id")
    q1 = by_id[by_id["quadrant"] == "Q1"].sort_values("influence", ascending=False).index.tolist()
    assert diq == (q1 + diq[len(q1) :])[:4]  # Q1 first, by influence
    names = sorted(p.name for p in (run / "subsets").glob("*.jsonl"))
    assert "full.jsonl" in names and "random-n3.jsonl" in names and len(names) == 8 * 3 + 1
    assert (run / "quadrants.svg").read_text().startswith("<svg")
    assert (run / "plots" / "diq-0.25.svg").is_file()
    decontamination = json.loads((run / "decontamination.json").read_text())
    assert decontamination["kept"] == 16
    assert not (run / ".scores-parts").exists()

    again = _run(
        tiny_checkpoint,
        inputs,
        "--strategies",
        "diq,random,full,influence,ifd,q1,q2,q3,q4",
        "--ratios",
        "0.25,0.5",
        "--counts",
        "3",
    )
    assert "skipped: pool, influence, scores, subsets" in again.output
    # a new strategy reuses every score
    third = _run(tiny_checkpoint, inputs, "--strategies", "length", "--ratios", "0.25")
    assert "skipped: pool, influence, scores" in third.output
    assert sorted(p.name for p in (run / "subsets").glob("*.jsonl")) == ["length-0.25.jsonl"]
    # a different difficulty reuses the influence scores only
    fourth = _run(
        tiny_checkpoint, inputs, "--strategies", "diq", "--ratios", "0.25", "--difficulty", "length"
    )
    assert (
        "skipped: pool, influence" in fourth.output
        and "scores" not in fourth.output.split("skipped:")[1]
    )
    assert set(pd.read_parquet(run / "scores.parquet")["difficulty_scorer"]) == {"length"}


def test_decontamination_options(
    tiny_checkpoint: Path, inputs: dict[str, Path], tmp_path: Path, monkeypatch
) -> None:
    records = make_records(16)
    leaked = write_jsonl(tmp_path / "eval.jsonl", [{"id": "e1", "question": records[2].question}])
    import harness.study.stages.select as stage
    from selection.decontaminate import EvalText

    monkeypatch.setattr(
        stage,
        "suite_texts",
        lambda names: [EvalText("medqa", "x", records[5].question)] if names else [],
    )
    result = _run(
        tiny_checkpoint,
        inputs,
        "--eval-texts",
        str(leaked),
        "--decontaminate-suite",
        "standard",
        "--ratios",
        "0.5",
    )
    assert result.exit_code == 0, result.output
    report = json.loads((inputs["out"] / "decontamination.json").read_text())
    exact = {r["id"]: r["match_source"] for r in report["removed"] if r["reason"] == "exact"}
    assert exact == {"r002": "eval", "r005": "medqa"}
    assert report["eval_sources"] == {"eval": 1, "medqa": 1}
    kept = 16 - report["removed_total"]
    assert report["kept"] == kept and len(pd.read_parquet(inputs["out"] / "scores.parquet")) == kept


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--strategies", "diq,best"], "unknown strategy best"),
        (["--ratios", "0"], "outside (0, 1]"),
        (["--ratios", "1.5"], "outside (0, 1]"),
        (["--ratios", "0.1,0.1"], "ratio 0.1 is given twice"),
        (["--params", "lora"], "--adapter: params lora needs the PEFT adapter"),
        (["--difficulty", "classifier"], "--difficulty-labels: scorer classifier needs labels"),
    ],
)
def test_bad_options_write_nothing(
    tiny_checkpoint: Path, inputs: dict[str, Path], args: list[str], message: str
) -> None:
    result = _run(tiny_checkpoint, inputs, *args)
    assert result.exit_code == 2
    assert message in result.output
    assert not inputs["out"].exists()


def test_bad_inputs_write_nothing(
    tiny_checkpoint: Path, inputs: dict[str, Path], tmp_path: Path
) -> None:
    cases = []
    write_jsonl(inputs["pool"].with_name("empty.jsonl"), [])
    cases.append(({"pool": inputs["pool"].with_name("empty.jsonl")}, "the pool is empty"))
    no_response = [r.to_dict() for r in make_records(3)]
    no_response[1]["response"] = " "
    write_jsonl(tmp_path / "bad.jsonl", no_response)
    cases.append(
        (
            {"pool": tmp_path / "bad.jsonl"},
            "bad.jsonl:2: record 'r001': field 'response': empty response",
        )
    )
    overlapping = [*VALIDATION, {**make_records(3)[1].to_dict(), "id": "medqa:leak"}]
    write_jsonl(tmp_path / "overlap.jsonl", overlapping)
    cases.append(
        (
            {"validation": tmp_path / "overlap.jsonl"},
            "validation question overlaps pool record 'r001'",
        )
    )
    same_id = [*VALIDATION, {**VALIDATION[0], "id": "r004"}]
    write_jsonl(tmp_path / "same_id.jsonl", same_id)
    cases.append(
        (
            {"validation": tmp_path / "same_id.jsonl"},
            "record 'r004': field 'id': validation record is also a pool record",
        )
    )
    for changes, message in cases:
        result = _run(tiny_checkpoint, {**inputs, **changes})
        assert result.exit_code == 2, result.output
        assert message in result.output
        assert not inputs["out"].exists()


def test_model_without_the_parameter_set(
    gpt2_checkpoint: Path, inputs: dict[str, Path], tmp_path: Path
) -> None:
    adapterless = _run(gpt2_checkpoint, inputs, "--params", "lora", "--adapter", str(tmp_path))
    assert adapterless.exit_code == 2 and "cannot load the adapter" in adapterless.output
    assert not inputs["out"].exists()


def test_classifier_difficulty_from_labels(
    tiny_checkpoint: Path, tiny_encoder: Path, inputs: dict[str, Path], tmp_path: Path
) -> None:
    labels = write_jsonl(
        tmp_path / "labels.jsonl",
        [
            {"id": f"r{i:03d}", "overall": 1 + i % 5, "reasoning": 1 + (i * 2) % 5}
            for i in range(16)
        ],
    )
    result = _run(
        tiny_checkpoint,
        inputs,
        "--difficulty",
        "classifier",
        "--difficulty-axis",
        "reasoning",
        "--difficulty-labels",
        str(labels),
        "--classifier-encoder",
        str(tiny_encoder),
        "--classifier-epochs",
        "1",
        "--classifier-max-length",
        "64",
        "--ratios",
        "0.5",
    )
    assert result.exit_code == 0, result.output
    scores = pd.read_parquet(inputs["out"] / "scores.parquet")
    assert set(scores["difficulty_scorer"]) == {"classifier:reasoning"}
    assert (scores["difficulty"] == scores["difficulty_reasoning"]).all()
    assert scores["difficulty"].between(1, 5).all()
    assert (inputs["out"] / "difficulty_classifier" / "difficulty_classifier.json").is_file()


def test_classifier_axis_without_labels_is_an_error(
    tiny_checkpoint: Path, inputs: dict[str, Path], tmp_path: Path
) -> None:
    """An axis nobody labelled would keep a random head: refused, before anything is written."""
    labels = write_jsonl(
        tmp_path / "labels.jsonl", [{"id": f"r{i:03d}", "overall": 1 + i % 5} for i in range(16)]
    )
    trained = tmp_path / "classifier"
    trained.mkdir()
    (trained / "difficulty_classifier.json").write_text(
        json.dumps({"labelled_per_axis": {"knowledge": 0, "reasoning": 0, "overall": 16}}),
        encoding="utf-8",
    )
    for source in (["--difficulty-labels", str(labels)], ["--difficulty-classifier", str(trained)]):
        args = ["--difficulty", "classifier", "--difficulty-axis", "reasoning", *source]
        result = _run(tiny_checkpoint, inputs, *args)
        assert result.exit_code == 2, result.output
        assert "field 'reasoning': no record is labelled on the 'reasoning' axis" in result.output
        assert not inputs["out"].exists()


def test_suite_texts_carry_question_and_options(data_dir: Path) -> None:
    from harness.study.stages.select import suite_texts

    texts = suite_texts(("standard",))
    assert len(texts) == 1273 + 4183 + 500
    medmcqa = next(t for t in texts if t.id == "45258d3d-b974-44dd-a161-c3fccbdadd88")
    assert medmcqa.source == "medmcqa"
    assert medmcqa.text.startswith(
        "Which of the following is not true for myelinated nerve fibers:\n"
    )
    assert medmcqa.text.endswith(
        "\nLocal anesthesia is effective only when the nerve is not covered by myelin sheath"
    )
    assert suite_texts(()) == []


def test_library_entry_point_and_external_difficulty(
    tiny_checkpoint: Path, inputs: dict[str, Path], tmp_path: Path
) -> None:
    from selection.config import SelectConfig
    from selection.pipeline import run_select

    external = write_jsonl(
        tmp_path / "difficulty.jsonl", [{"id": f"r{i:03d}", "difficulty": i % 4} for i in range(16)]
    )
    config = SelectConfig.model_validate(
        {
            "pool": {"path": str(inputs["pool"])},
            "validation": {"path": str(inputs["validation"])},
            "scoring": {"model": str(tiny_checkpoint), "batch_size": 4, "max_length": 128},
            "strategies": ["diq", "difficulty"],
            "ratios": ["0.5"],
            "difficulty": {"scorer": "external", "scores": str(external), "percentile": 75},
        }
    )
    result = run_select(config, inputs["out"], progress=False)
    assert result is not None and result.pool_size == 16
    assert result.scores["difficulty"].tolist() == [i % 4 for i in range(16)]
    assert result.thresholds.difficulty == 2.25  # 75th percentile of 0..3, linear
    assert set(result.subsets) == {"diq-0.5", "difficulty-0.5"}
    top = result.scores.sort_values(["difficulty", "influence"], ascending=False)["id"].tolist()
    chosen = [
        json.loads(line)["id"]
        for line in (inputs["out"] / "subsets" / "difficulty-0.5.jsonl").open()
    ]
    assert chosen == top[:8]


def test_similarity_baseline_and_methods(tiny_checkpoint: Path, inputs: dict[str, Path]) -> None:
    result = _run(tiny_checkpoint, inputs, "--strategies", "diq,similarity", "--ratios", "0.25")
    assert result.exit_code == 0, result.output
    run = inputs["out"]
    scores = pd.read_parquet(run / "scores.parquet").set_index("id")
    chosen = [json.loads(line)["id"] for line in (run / "subsets" / "similarity-0.25.jsonl").open()]
    assert chosen == scores["similarity"].sort_values(ascending=False).index[:4].tolist()
    manifest = json.loads((run / "select_manifest.json").read_text())
    topics = [entry["topic"] for entry in manifest["methods"]]
    assert {"decontamination", "validation", "influence", "precision", "difficulty"} <= set(topics)
    influence = next(e["text"] for e in manifest["methods"] if e["topic"] == "influence")
    assert "exact dot product" in influence and "4096-dimensional" in influence
    difficulty = next(e["text"] for e in manifest["methods"] if e["topic"] == "difficulty")
    assert "IFD" in difficulty and "default" in difficulty
