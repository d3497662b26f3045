"""clinical_reasoning: vignette questions asked without options, judged on the three axes."""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import pytest
from inspect_ai import eval
from inspect_ai.model import ChatMessage, GenerateConfig

from harness.core.errors import InputError
from rubrics.judge import questions_for
from rubrics.prompts import Material
from rubrics.schema import load_rubric
from tasks.clinical_reasoning import (
    case_sample,
    clinical_reasoning,
    open_question,
    option_dependent,
)
from tasks.items import MCQItem
from tasks.medqa import load_medqa
from tests.helpers import scripted_model
from tests.rubrics.judges import ScriptedJudge, question_of, rating_json, verdict_json

ROOT = Path(__file__).parents[2]
# a ```text block ends at a line holding only the fence (the prompt itself quotes ```json)
TEXT_BLOCK = re.compile(r"^```text\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def item(question: str) -> MCQItem:
    return MCQItem(
        id="1", question=question, choices=["a", "b"], answer=0, benchmark="b", split="t"
    )


def test_questions_are_reworded_without_options() -> None:
    assert open_question(
        item("A man has fever. Which of the following is the most likely diagnosis?")
    ) == ("A man has fever. What is the most likely diagnosis?")
    assert open_question(item("... which one of the following drugs?")) == "... what drugs?"
    assert option_dependent(item("All of the following are true EXCEPT:"))
    assert option_dependent(item("Which of the following statements is true about this condition?"))
    assert not option_dependent(item("What is the next best step in management?"))


def test_cases_from_real_benchmarks(data_dir: Path, tmp_path: Path) -> None:
    task = clinical_reasoning(source="medqa,medxpertqa", limit=5, seed=1)
    ids = [str(s.id) for s in task.dataset]
    assert len(ids) == 10 and all(i.startswith(("medqa:", "medxpertqa:")) for i in ids)
    assert ids == [
        str(s.id) for s in clinical_reasoning(source="medqa,medxpertqa", limit=5, seed=1).dataset
    ]
    assert ids != [
        str(s.id) for s in clinical_reasoning(source="medqa,medxpertqa", limit=5, seed=2).dataset
    ]
    sample = task.dataset[0]
    assert sample.choices is None and "Final answer:" in sample.input
    assert "Answer Choices" not in sample.input and "A) " not in sample.input
    assert sample.metadata["reference"] == sample.target  # MedQA has no explanation
    assert sample.metadata["case"] in sample.input
    medqa = task.metadata["sources"]["medqa"]
    assert medqa["items"] == 1273 and medqa["option_dependent_dropped"] > 0
    everything = clinical_reasoning(source="medqa", keep_option_dependent=True)
    assert len(everything.dataset) == 1273
    # exclusions: the benchmark's own ids (e.g. influence validation items) and this task's ids
    items, _ = load_medqa()
    kept = [i for i in items if not option_dependent(i)]
    rows = [
        {"task": "medqa", "sample_id": kept[0].id},
        {"task": "clinical_reasoning", "sample_id": f"medqa:{kept[1].id}"},
    ]
    exclude = tmp_path / "validation.jsonl"
    exclude.write_text("".join(json.dumps(r) + "\n" for r in rows))
    excluded = clinical_reasoning(source="medqa", exclude=str(exclude))
    remaining = {str(s.id) for s in excluded.dataset}
    assert len(remaining) == len(kept) - 2 and f"medqa:{kept[0].id}" not in remaining
    assert excluded.metadata["sources"]["medqa"]["excluded"] == 2


def test_reference_carries_the_explanation(tmp_path: Path) -> None:
    path = tmp_path / "medbullets_op4.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["question", "opa", "opb", "opc", "opd", "answer_idx", "answer", "explanation"]
        )
        writer.writerow(
            [
                "A 25-year-old has sudden pleuritic chest pain after a long flight. Which of the following is the best next step?",
                "CT pulmonary angiography",
                "Reassurance",
                "Echocardiography",
                "D-dimer only",
                "A",
                "CT pulmonary angiography",
                "High pretest probability warrants imaging.",
            ]
        )
    task = clinical_reasoning(source="medbullets", path=str(path))
    sample = task.dataset[0]
    assert str(sample.id).startswith("medbullets_op4:")
    assert sample.metadata["reference"] == (
        "CT pulmonary angiography\n\nExplanation: High pretest probability warrants imaging."
    )
    assert "What is the best next step?" in sample.input and "Reassurance" not in sample.input


def test_bad_options() -> None:
    with pytest.raises(InputError, match="unknown source"):
        clinical_reasoning(source="medqa,usmle")
    with pytest.raises(InputError, match="single -T source"):
        clinical_reasoning(source="medqa,medxpertqa", path="x.jsonl")


def judge_reply(messages: list[ChatMessage], config: GenerateConfig) -> str:
    key = question_of(messages)
    if key.startswith("rating:"):
        return rating_json(2)
    conditional = "Condition:" in messages[0].text
    return verdict_json("(negative points)" not in messages[0].text, False if conditional else None)


def test_end_to_end_with_scripted_models(data_dir: Path) -> None:
    task = clinical_reasoning(source="medqa,medxpertqa", limit=1, prompt="structured")
    judge = ScriptedJudge(judge_reply)
    log = eval(
        task,
        model=scripted_model(["Differential: A, B. Final answer: A"] * 2),
        model_roles={"grader": judge.model},
        display="none",
    )[0]
    assert log.status == "success", log.error
    metrics = {name: m.value for name, m in log.results.scores[0].metrics.items()}
    # every applicable positive criterion met, no harm -> 1 on each axis ; ratings 2
    assert metrics["ddx"] == metrics["safety"] == metrics["evidence"] == 1.0
    assert metrics["safety_rating"] == 2.0 and metrics["grader_failure_rate"] == 0.0
    assert math.isnan(metrics["length_spearman"])  # equal lengths: no correlation defined
    assert log.eval.metadata["rubric_versions"]["safety_check"] == "1.0.0"
    assert "Differential diagnosis: the diagnoses you considered" in log.samples[0].input
    assert len(judge.calls) == 2 * (10 + 11 + 10 + 3)


def test_the_evaluated_model_never_grades_itself(data_dir: Path) -> None:
    answers: list[str] = []

    def answer(messages: list[ChatMessage]) -> str:
        answers.append(messages[-1].text)
        return "Final answer: A"

    log = eval(
        clinical_reasoning(source="medqa", limit=1), model=scripted_model(answer), display="none"
    )[0]
    assert log.status == "error"
    assert "does not let the evaluated model grade itself" in log.error.message
    assert len(answers) == 1  # it answered the case, and was never asked to judge it


@pytest.mark.parametrize("document", ["docs/rubrics.md"])
def test_documented_judge_prompt_is_what_the_code_renders(data_dir: Path, document: str) -> None:
    """The real case's prompts shown in the docs, re-rendered (the documents are only read).

    The illustrative response is the document's own text; everything around it (the
    case as MedQA gives it, the reference, the rubric, the template) comes from the code.
    """
    blocks = TEXT_BLOCK.findall((ROOT / document).read_text(encoding="utf-8"))
    [item] = [i for i in load_medqa()[0] if i.id == "2cd0a4d69039"]
    sample = case_sample(item, "plain")
    assert sample.input + "\n" in blocks  # what the evaluated model sees
    [shown] = [block for block in blocks if "\n# Criterion\n" in block]
    response = re.search(r"<<<BEGIN RESPONSE>>>\n(.*)\n<<<END RESPONSE>>>", shown, re.DOTALL)
    assert response, "the documented prompt lost its response block"
    material = Material(
        case=sample.metadata["case"],
        response=response.group(1),
        reference=sample.metadata["reference"],
    )
    rubric = load_rubric("differential_diagnosis")
    [question] = [
        q
        for q in questions_for([rubric], material, "json", ratings=False)
        if q.key == "ddx.cant_miss"
    ]
    assert shown == question.prompt
