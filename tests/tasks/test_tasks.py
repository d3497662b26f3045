"""Every task end to end: scripted mockllm outputs (with usage set) and a tiny local model via hf/."""

from pathlib import Path

import pytest
from inspect_ai import eval

from tasks.items import MCQItem, choice_order, to_sample
from tasks.mcq import render_prompt
from tasks.medbullets import medbullets
from tasks.medcalc_bench import judge_value, medcalc_bench
from tasks.medmcqa import medmcqa
from tasks.medqa import medqa
from tasks.medxpertqa import medxpertqa
from tasks.mmlu_medical import mmlu_medical
from tasks.mmlu_pro_health import mmlu_pro_health
from tasks.pubmedqa import pubmedqa
from tests.helpers import scripted_model
from tests.tasks.test_loaders import OP5_HEADER, OP5_ROWS


@pytest.fixture
def all_tasks(data_dir: Path, tmp_path: Path) -> list:
    bullets = tmp_path / "medbullets_op5.csv"
    bullets.write_text("\n".join([OP5_HEADER, *OP5_ROWS]) + "\n")
    return [
        medqa(str(data_dir / "medqa/phrases_no_exclude_test.jsonl")),
        medmcqa(str(data_dir / "medmcqa/dev.json")),
        pubmedqa(str(data_dir / "pubmedqa/ori_pqal.json")),
        mmlu_medical(path=str(data_dir / "mmlu_medical")),
        medxpertqa("sampled-244", str(data_dir / "medxpertqa/medxpertqa_sampled_text_input.jsonl")),
        mmlu_pro_health(str(data_dir / "mmlu_pro_health/test_health.json")),
        medbullets(options=5, path=str(bullets)),
        medcalc_bench(str(data_dir / "medcalc_bench/test_data.csv")),
    ]


def test_every_task_is_named_after_the_benchmark_of_its_items(all_tasks: list) -> None:
    """Validation files name items by task; exclusions match them by the items' benchmark."""
    for task in all_tasks:
        assert {sample.metadata["benchmark"] for sample in task.dataset} == {task.name}


def test_every_task_scores_scripted_answers(all_tasks: list, tmp_path: Path) -> None:
    """A model that always answers A is right exactly on the items whose target is A."""
    logs = eval(
        all_tasks,
        model=scripted_model(lambda messages: "Reasoning...\nANSWER: A"),
        limit=20,
        display="none",
        log_dir=str(tmp_path),
    )
    for log in logs:
        assert log.status == "success", log.error
        assert not [s for s in log.samples if s.error]
        metrics = log.results.scores[0].metrics
        if log.eval.task.endswith("medcalc_bench"):
            assert (
                metrics["format_failure_rate"].value == 1.0
            )  # a letter is no number, date or duration
            continue
        expected = sum(s.target == "A" for s in log.samples) / len(log.samples)
        assert metrics["accuracy"].value == pytest.approx(expected), log.eval.task
        assert metrics["format_failure_rate"].value == 0


def test_unparseable_answers_are_incorrect_and_tagged(data_dir: Path, tmp_path: Path) -> None:
    task = medqa(str(data_dir / "medqa/phrases_no_exclude_test.jsonl"))
    [log] = eval(
        task,
        model=scripted_model(lambda m: "It could be A or B."),
        limit=3,
        display="none",
        log_dir=str(tmp_path),
    )
    scores = [s.scores["mcq_answer"] for s in log.samples]
    assert [s.value for s in scores] == ["I", "I", "I"]
    assert {s.reason for s in scores} == {"invalid_response_format"}
    assert log.results.scores[0].metrics["format_failure_rate"].value == 1.0


def test_accuracy_grouped_by_subject(data_dir: Path, tmp_path: Path) -> None:
    task = mmlu_medical(["anatomy", "medical_genetics"], str(data_dir / "mmlu_medical"))
    [log] = eval(
        task,
        model=scripted_model(lambda m: "ANSWER: B"),
        display="none",
        log_dir=str(tmp_path),
        limit=240,
    )
    metrics = log.results.scores[0].metrics
    assert {"accuracy_anatomy", "accuracy_medical_genetics"} <= set(metrics)
    anatomy = [s for s in log.samples if s.metadata["subject"] == "anatomy"]
    assert metrics["accuracy_anatomy"].value == pytest.approx(
        sum(s.target == "B" for s in anatomy) / len(anatomy)
    )


def test_medcalc_end_to_end(data_dir: Path, tmp_path: Path) -> None:
    answers = {
        "Creatinine Clearance": "CrCl = (140 - 87) x ... so\nANSWER: 24.1",  # inside [23.9761, 26.4999]
        "CHA2DS2-VASc": "ANSWER: 4",
        "due date": "ANSWER: 09/23/2014",
        "gestational age": "ANSWER: 0 weeks, 6 days",
    }

    def reply(messages) -> str:
        text = messages[-1].text
        return next(answer for key, answer in answers.items() if key in text)

    task = medcalc_bench(str(data_dir / "medcalc_bench/test_data.csv"))
    [log] = eval(
        task,
        model=scripted_model(reply),
        sample_id=["1", "41", "928", "1028"],
        display="none",
        log_dir=str(tmp_path),
    )
    assert log.status == "success", log.error
    assert {s.id: s.scores["medcalc_answer"].value for s in log.samples} == {
        "1": "C",
        "41": "C",
        "928": "C",
        "1028": "C",
    }


@pytest.mark.parametrize(
    ("completion", "metadata", "truth", "correct"),
    [
        (
            "ANSWER: 26.4999",
            {"output_type": "decimal", "lower": "23.9761", "upper": "26.4999"},
            "25.238",
            True,
        ),
        (
            "ANSWER: 26.6",
            {"output_type": "decimal", "lower": "23.9761", "upper": "26.4999"},
            "25.238",
            False,
        ),
        ("ANSWER: 4.4", {"output_type": "integer", "lower": "4", "upper": "4"}, "4", True),
        ("ANSWER: 5", {"output_type": "integer", "lower": "4", "upper": "4"}, "4", False),
        ("ANSWER: 09/24/2014", {"output_type": "date"}, "09/23/2014", False),
        ("ANSWER: 0 weeks, 5 days", {"output_type": "weeks_days"}, "('0 weeks', '6 days')", False),
        ("I don't know", {"output_type": "decimal", "lower": "1", "upper": "2"}, "1.5", None),
    ],
)
def test_medcalc_rules(completion: str, metadata: dict, truth: str, correct: bool | None) -> None:
    assert judge_value(completion, metadata, truth)[0] is correct


def test_shuffle_is_per_item_and_remaps_the_target() -> None:
    item = MCQItem(
        id="q1", question="Q?", choices=["w", "x", "y", "z"], answer=2, benchmark="t", split="test"
    )
    sample = to_sample(item, shuffle_seed=7)
    order = choice_order("q1", 4, 7)
    assert sample.choices == [item.choices[i] for i in order]
    assert sample.choices["ABCD".index(sample.target)] == "y"
    assert sample.metadata["original_target"] == "C"
    assert to_sample(item, shuffle_seed=7).choices == sample.choices  # stable
    # the order of one item does not depend on which other items are present
    other = MCQItem(
        id="q2", question="Q2?", choices=list("abcd"), answer=0, benchmark="t", split="test"
    )
    assert to_sample(item, 7).choices == [to_sample(i, 7) for i in (other, item)][1].choices


def test_shuffled_task_maps_answers_back(data_dir: Path, tmp_path: Path) -> None:
    task = medqa(str(data_dir / "medqa/phrases_no_exclude_test.jsonl"), shuffle=True, seed=3)
    [log] = eval(
        task,
        model=scripted_model(lambda m: "ANSWER: A"),
        limit=5,
        display="none",
        log_dir=str(tmp_path),
    )
    for sample in log.samples:
        score = sample.scores["mcq_answer"]
        order = sample.metadata["choice_order"]
        assert score.metadata["original_answer"] == order[0]  # the model's letter, upstream order
        assert (score.value == "C") == (order[0] == sample.metadata["original_target"])


def test_prompts(data_dir: Path) -> None:
    zero = render_prompt("What is X?", ["a", "b", "c"])
    assert zero.endswith("What is X?\n\nA) a\nB) b\nC) c")
    assert "one of A, B, C" in zero and "step by step" not in zero
    assert "Think step by step" in render_prompt("What is X?", ["a", "b"], cot=True)


def test_medxpertqa_default_subset_end_to_end(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`medxpertqa()` with DIQ_DATA_DIR reads the 1,449-question subset and says so."""
    monkeypatch.setenv("DIQ_DATA_DIR", str(data_dir))
    task = medxpertqa()
    assert len(task.dataset) == 1449
    [log] = eval(
        task,
        model=scripted_model(lambda m: "Reasoning over ten options...\nANSWER: B"),
        sample_id=["Text-1001", "Text-1002", "Text-1003", "Text-2449"],
        display="none",
        log_dir=str(tmp_path),
    )
    assert log.status == "success", log.error
    assert log.eval.metadata["subset"] == "subset-1449"
    assert log.eval.dataset.location.endswith("MedXpertQA_test.jsonl")
    assert {s.metadata["split"] for s in log.samples} == {"subset-1449"}
    assert all(len(s.choices) == 10 for s in log.samples)
    first = next(s for s in log.samples if s.id == "Text-1001")
    assert first.target == "B" and first.scores["mcq_answer"].value == "C"
    metrics = log.results.scores[0].metrics
    expected = sum(s.target == "B" for s in log.samples) / len(log.samples)
    assert metrics["accuracy"].value == pytest.approx(expected)
    assert {"accuracy_Reasoning", "accuracy_Understanding"} & set(metrics)


def test_every_task_runs_on_a_tiny_local_model(
    all_tasks: list, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    logs = eval(
        all_tasks,
        model="hf/tiny",
        model_args={"model_path": str(tiny_checkpoint), "device": "cpu", "do_sample": False},
        limit=2,
        max_tokens=4,
        display="none",
        log_dir=str(tmp_path),
    )
    assert len(logs) == len(all_tasks)
    for log in logs:
        assert log.status == "success", log.error
        assert not [s for s in log.samples if s.error]
        assert all(s.output.completion is not None for s in log.samples)
