"""Exclusion files: validation items never count, in the benchmark's task or in judged tasks."""

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from inspect_ai import Task

from harness.core.errors import InputError
from tasks.clinical_reasoning import clinical_reasoning
from tasks.exclusions import Exclusions
from tasks.healthbench import healthbench
from tasks.medbullets import medbullets
from tasks.medcalc_bench import medcalc_bench
from tasks.medqa import medqa
from tasks.medxpertqa import medxpertqa
from tasks.pubmedqa import pubmedqa
from tasks.synthetic import synthetic_mcq
from tasks.validation import draw_validation
from tests.tasks.test_loaders import OFFICIAL_ROWS, write_official


def write_lines(path: Path, lines: list[str]) -> str:
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def synthetic_file(tmp_path: Path) -> str:
    rows = [
        {
            "id": f"syn-{n}",
            "question": f"A patient has finding {n}. What is the diagnosis?",
            "options": {"A": f"Condition {n}", "B": "Other", "C": "Neither"},
            "answer_idx": "A",
            "meta_info": "level-1",
            "synthetic": True,
        }
        for n in range(8)
    ]
    return write_lines(tmp_path / "synthetic_mcq.jsonl", [json.dumps(row) for row in rows])


Builder = Callable[[str | None], Task]  # the benchmark's own task, given an exclusion file


def sources(data: Path, tmp: Path) -> dict[str, tuple[Builder, dict[str, Any]]]:
    """Per clinical_reasoning source: its benchmark task, and the arguments reading the same file."""
    medqa_file = str(data / "medqa/phrases_no_exclude_test.jsonl")
    medxpertqa_file = str(data / "medxpertqa/MedXpertQA_test.jsonl")
    bullets = write_official(tmp / "medbullets_op5.csv", OFFICIAL_ROWS)
    synthetic = synthetic_file(tmp)
    return {
        "medqa": (lambda exclude: medqa(medqa_file, exclude=exclude), {"path": medqa_file}),
        "medxpertqa": (
            lambda exclude: medxpertqa("subset-1449", medxpertqa_file, exclude=exclude),
            {"path": medxpertqa_file},
        ),
        "medbullets": (
            lambda exclude: medbullets(options=5, path=bullets, exclude=exclude),
            {"path": bullets, "medbullets_options": 5},
        ),
        "synthetic": (
            lambda exclude: synthetic_mcq(synthetic, exclude=exclude),
            {"path": synthetic},
        ),
    }


@pytest.mark.parametrize("source", ["medqa", "medxpertqa", "medbullets", "synthetic"])
def test_validation_items_are_never_evaluated_nor_judged(
    source: str, data_dir: Path, tmp_path: Path
) -> None:
    """The influence step's validation file, as drawn, keeps its items out of both tasks."""
    benchmark, case_args = sources(data_dir, tmp_path)[source]
    everything = benchmark(None)
    rows = draw_validation({everything.name: list(everything.dataset)}, 2, seed=1)
    validation = tmp_path / "validation_items.jsonl"
    validation.write_text("".join(json.dumps(row) + "\n" for row in rows))
    drawn = {row["sample_id"] for row in rows}
    assert {row["task"] for row in rows} == {everything.name}  # e.g. synthetic_mcq, medbullets_op5

    evaluated = {str(s.id) for s in benchmark(str(validation)).dataset}
    assert evaluated == {str(s.id) for s in everything.dataset} - drawn
    assert len(evaluated) == len(everything.dataset) - 2

    all_cases = clinical_reasoning(source=source, keep_option_dependent=True, **case_args)
    judged = clinical_reasoning(
        source=source, keep_option_dependent=True, exclude=str(validation), **case_args
    )
    assert not {s.metadata["upstream_id"] for s in judged.dataset} & drawn
    assert len(judged.dataset) == len(all_cases.dataset) - 2
    assert judged.metadata["sources"][source]["excluded"] == 2


def test_a_repeated_medbullets_question_is_excluded_copy_by_copy(tmp_path: Path) -> None:
    bullets = write_official(tmp_path / "medbullets_op5.csv", OFFICIAL_ROWS)
    first, other, copy = [str(s.id) for s in medbullets(options=5, path=bullets).dataset]
    assert copy == f"{first}-2"
    validation = write_lines(
        tmp_path / "validation.jsonl", [json.dumps({"task": "medbullets_op5", "sample_id": copy})]
    )
    assert [str(s.id) for s in medbullets(options=5, path=bullets, exclude=validation).dataset] == [
        first,
        other,
    ]
    judged = clinical_reasoning(
        source="medbullets", path=bullets, medbullets_options=5, exclude=validation
    )
    assert [str(s.id) for s in judged.dataset] == [
        f"medbullets_op5:{first}",
        f"medbullets_op5:{other}",
    ]


def test_exclude_validation_items(data_dir: Path, tmp_path: Path) -> None:
    path = str(data_dir / "pubmedqa/ori_pqal.json")
    validation = tmp_path / "validation.jsonl"
    rows = [{"task": "pubmedqa", "sample_id": "12377809"}, {"task": "medqa", "sample_id": "12345"}]
    validation.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    task = pubmedqa(path, exclude=str(validation))
    ids = {sample.id for sample in task.dataset}
    assert len(ids) == 499 and "12377809" not in ids
    plain = tmp_path / "ids.txt"
    plain.write_text("# ids\npubmedqa:12377809\nmedqa:zzz\n")
    assert len(pubmedqa(path, exclude=str(plain)).dataset) == 499


@pytest.mark.parametrize(
    ("name", "lines", "message"),
    [
        (
            "validation.jsonl",
            ['{"task": "pubmedqa", "sample_id": "12377809"}', "12377809"],
            r"validation.jsonl:2: expected an object with fields 'task' and 'sample_id'",
        ),
        ("validation.jsonl", ['{"task": "pubmedqa"}'], r"validation.jsonl:1: expected an object"),
        ("validation.jsonl", ["", '{"task": "pubmedqa",'], r"validation.jsonl:2: invalid JSON"),
        ("ids.json", ['["12377809", "26163474"]'], r"ids.json:1: looks like JSON"),
        ("ids.txt", ["# ids", "12377809", '"26163474"'], r"ids.txt:3: looks like JSON"),
        (
            "ids.txt",
            ['{"task": "pubmedqa", "sample_id": "1"}', "26163474"],
            r"ids.txt:2: expected an object",
        ),
    ],
)
def test_malformed_exclusion_file_names_file_and_line(
    data_dir: Path, tmp_path: Path, name: str, lines: list[str], message: str
) -> None:
    path = write_lines(tmp_path / name, lines)
    with pytest.raises(InputError, match=message):
        pubmedqa(str(data_dir / "pubmedqa/ori_pqal.json"), exclude=path)


def test_jsonl_exclusion_file_under_another_name_is_read_as_jsonl(
    data_dir: Path, tmp_path: Path
) -> None:
    path = write_lines(
        tmp_path / "validation.txt", ['{"task": "pubmedqa", "sample_id": "12377809"}']
    )
    assert len(pubmedqa(str(data_dir / "pubmedqa/ori_pqal.json"), exclude=path).dataset) == 499


@pytest.mark.parametrize(
    ("lines", "found"),
    [
        (['{"task": "pubmedqa", "sample_id": "no-such-id"}'], "none of the 1 ids it lists"),
        (['{"task": "medqa", "sample_id": "12377809"}'], "it lists no ids for pubmedqa"),
    ],
)
def test_exclusion_file_matching_nothing_warns(
    data_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, lines: list[str], found: str
) -> None:
    path = write_lines(tmp_path / "validation.jsonl", lines)
    with caplog.at_level(logging.WARNING, logger="tasks.exclusions"):
        task = pubmedqa(str(data_dir / "pubmedqa/ori_pqal.json"), exclude=path)
    assert len(task.dataset) == 500
    assert f"validation.jsonl: {found}" in caplog.text and "nothing excluded" in caplog.text


def test_excluding_everything_is_an_error_for_medcalc_too(data_dir: Path, tmp_path: Path) -> None:
    csv_path = data_dir / "medcalc_bench/test_data.csv"
    ids = [f"medcalc_bench:{n}" for n in range(1, 1048)]
    path = write_lines(tmp_path / "all.txt", ids)
    with pytest.raises(InputError, match=r"all.txt: medcalc_bench: no samples left"):
        medcalc_bench(str(csv_path), exclude=path)
    kept = medcalc_bench(str(csv_path), exclude=write_lines(tmp_path / "one.txt", ids[:1]))
    assert len(kept.dataset) == 1046 and kept.metadata["excluded"] == 1


def test_scoped_and_bare_ids(tmp_path: Path) -> None:
    exclusions = Exclusions.read(
        write_lines(
            tmp_path / "ids.txt", ["# ids", "medqa:abc", "clinical_reasoning:medqa:def", "xyz"]
        )
    )
    assert exclusions.names([("medqa", "abc")]) and not exclusions.names([("medmcqa", "abc")])
    assert exclusions.names([("clinical_reasoning", "medqa:def")])
    assert exclusions.names([("anything", "xyz")])  # a bare id names that id in every scope
    assert not Exclusions.read(None).names([("medqa", "abc")])


def test_a_file_for_other_benchmarks_warns_in_judged_tasks_too(
    data_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_lines(tmp_path / "validation.jsonl", ['{"task": "pubmedqa", "sample_id": "1"}'])
    with caplog.at_level(logging.WARNING, logger="tasks.exclusions"):
        task = clinical_reasoning(source="medqa", exclude=path, limit=3)
    assert len(task.dataset) == 3
    assert "it lists no ids for clinical_reasoning, medqa; nothing excluded" in caplog.text


def test_a_healthbench_prompt_id_drops_every_sample_of_the_prompt(
    data_dir: Path, tmp_path: Path
) -> None:
    folder = data_dir / "healthbench/processed_data"
    references = healthbench(str(folder), completions="reference")
    prompt_id = references.dataset[0].metadata["prompt_id"]
    of_prompt = [s for s in references.dataset if s.metadata["prompt_id"] == prompt_id]
    assert len(of_prompt) == 4  # four reference completions per prompt
    by_prompt = write_lines(tmp_path / "prompt.txt", [f"healthbench:{prompt_id}"])
    left = healthbench(str(folder), completions="reference", exclude=by_prompt)
    assert len(left.dataset) == len(references.dataset) - 4
    assert prompt_id not in {s.metadata["prompt_id"] for s in left.dataset}
    one = write_lines(tmp_path / "one.txt", [f"healthbench:{of_prompt[1].id}"])
    assert len(healthbench(str(folder), completions="reference", exclude=one).dataset) == (
        len(references.dataset) - 1
    )
