"""HealthBench: loading real records, grading with the grader contract, arithmetic by hand."""

from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from inspect_ai import eval
from inspect_ai.log import EvalLog
from inspect_ai.model import ChatMessage, GenerateConfig

from harness.core.errors import InputError
from rubrics.metrics import clipped_bootstrap
from rubrics.prompts import healthbench_template
from tasks.healthbench import healthbench, healthbench_meta_eval
from tasks.healthbench_records import load_healthbench
from tests.helpers import scripted_model
from tests.rubrics.judges import ScriptedJudge, verdict_json

RECORD = "healthbench/processed_data/2025-05-07-06-14-12_oss_eval_example_{}.json"
ITEM = re.compile(r"# Rubric item\n(?:\[(-?[\d.]+)\] )?(.*?)\n\n# Instructions", re.DOTALL)


def record(data_dir: Path, n: int) -> dict:
    return json.loads((data_dir / RECORD.format(n)).read_text())


def subset_dir(data_dir: Path, tmp_path: Path, numbers: tuple[int, ...]) -> Path:
    folder = tmp_path / "hb"
    folder.mkdir()
    for n in numbers:
        shutil.copy(data_dir / RECORD.format(n), folder)
    return folder


def hb_judge(met_by_criterion: dict[str, bool], garbage: set[str] = frozenset()) -> ScriptedJudge:
    """Answers the HealthBench grader prompt for a rubric item by its criterion text."""

    def reply(messages: list[ChatMessage], config: GenerateConfig) -> str:
        assert messages[0].role == "system" and messages[0].text == "You are a helpful assistant."
        criterion = ITEM.search(messages[1].text).group(2)
        if criterion in garbage:
            return "cannot say"
        met = met_by_criterion[criterion]
        return verdict_json(met, explanation="as scripted")

    return ScriptedJudge(reply)


def scores(log: EvalLog) -> dict[str, float]:
    return {name: m.value for name, m in log.results.scores[0].metrics.items()}


def test_loading_real_records(data_dir: Path, tmp_path: Path) -> None:
    samples, location, kind = load_healthbench(str(data_dir / "healthbench/processed_data"))
    assert kind == "rubric" and len(samples) == 30
    assert samples[0].id == "1f548d5b-cd00-49a0-b327-283a2e00debd"  # example_1 (natural order)
    multi = next(s for s in samples if s.id == "19ec4833-86e9-4166-8b82-d1da09f31fd7")
    assert [m.role for m in multi.input] == ["user", "assistant"] * 3 + ["user"]
    assert len(load_healthbench(str(data_dir / "healthbench/processed_data"), "ideal")[0]) == 24
    assert len(load_healthbench(str(data_dir / "healthbench/processed_data"), "reference")[0]) == 64
    # the same records as one JSONL file (OpenAI's layout)
    jsonl = tmp_path / "hb.jsonl"
    records = [record(data_dir, n) for n in range(1, 31)]
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert [s.id for s in load_healthbench(str(jsonl))[0]] == [s.id for s in samples]
    task = healthbench(str(jsonl), themes="emergency_referrals", limit=2, seed=1)
    themed = [s for s in samples if "emergency_referrals" in s.metadata["themes"]]
    assert len(themed) == 3 and len(task.dataset) == 2
    assert [s.id for s in task.dataset] == [
        s.id for s in healthbench(str(jsonl), themes="emergency_referrals", limit=2, seed=1).dataset
    ]
    excluded = tmp_path / "exclude.txt"
    excluded.write_text(f"healthbench:{samples[0].id}\n")
    assert len(healthbench(str(jsonl), exclude=str(excluded)).dataset) == 29


def test_bad_records_are_located(data_dir: Path, tmp_path: Path) -> None:
    bad = record(data_dir, 3)
    bad["rubrics"][1]["points"] = "5"
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(record(data_dir, 19)) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(
        InputError, match=r"bad.jsonl:2: record '6f7a2ee9.*rubrics\[1\].points.*number"
    ):
        load_healthbench(str(path))
    meta = {
        "prompt": bad["prompt"],
        "prompt_id": "m",
        "completion": "x",
        "rubric": "y",
        "binary_labels": [True],
    }
    path.write_text(json.dumps(record(data_dir, 19)) + "\n" + json.dumps(meta) + "\n")
    with pytest.raises(InputError, match="mixes rubric and meta-evaluation"):
        load_healthbench(str(path))
    with pytest.raises(InputError, match="not found"):
        load_healthbench(str(tmp_path / "missing.jsonl"))
    twice = json.dumps(record(data_dir, 19))
    path.write_text(f"{twice}\n{json.dumps(record(data_dir, 22))}\n{twice}\n")
    with pytest.raises(InputError, match=r"bad.jsonl.*prompt_id.*bad.jsonl:1.*bad.jsonl:3"):
        load_healthbench(str(path))


def test_scores_by_hand_on_real_records(data_dir: Path, tmp_path: Path) -> None:
    folder = subset_dir(data_dir, tmp_path, (19, 22, 24))
    r19, r22, r24 = (record(data_dir, n) for n in (19, 22, 24))
    met = {}
    met.update(zip([i["criterion"] for i in r19["rubrics"]], [True, False, True], strict=True))
    met.update({i["criterion"]: True for i in r22["rubrics"]})
    met.update(
        zip([i["criterion"] for i in r24["rubrics"]], [True, True, False, False], strict=True)
    )
    judge = hb_judge(met)
    log = eval(
        healthbench(str(folder)),
        model=scripted_model(lambda messages: "Reply to: " + messages[-1].text[:20]),
        model_roles={"grader": judge.model},
        display="none",
    )[0]
    assert log.status == "success", log.error
    value = {s.id: s.scores["healthbench_judge"].value for s in log.samples}
    # example 19: points [9, 4, -8], met [T, F, T] -> (9 - 8) / 13 = 1/13
    assert value[r19["prompt_id"]]["healthbench_score"] == pytest.approx(1 / 13)
    assert value[r19["prompt_id"]]["axis_communication_quality"] == pytest.approx(-8 / 4)
    assert value[r19["prompt_id"]]["crit_1"] == 0.0 and value[r19["prompt_id"]]["criteria_met"] == 2
    # example 22: all six met -> (7 - 5 - 6 - 7 - 9 - 9) / 7 = -29/7 (negative per sample)
    assert value[r22["prompt_id"]]["healthbench_score"] == pytest.approx(-29 / 7)
    assert "axis_accuracy" not in value[r22["prompt_id"]]  # only negative accuracy items
    # example 24: [8, 8, -5, -5] met [T, T, F, F] -> 16 / 16 = 1
    assert value[r24["prompt_id"]]["healthbench_score"] == 1.0
    # aggregate: mean(1/13, -29/7, 1) = -1.02198 -> clipped to 0 ; unclipped kept beside it
    metrics = scores(log)
    assert metrics["healthbench_score"] == 0.0
    assert metrics["healthbench_score_unclipped"] == pytest.approx((1 / 13 - 29 / 7 + 1) / 3)
    assert metrics["n_samples"] == 3
    # theme global_health: example 24 only -> 1.0 ; context_seeking: mean(1/13, -29/7) < 0 -> 0
    assert metrics["theme_global_health"] == 1.0 and metrics["theme_global_health_n"] == 1
    assert metrics["theme_context_seeking"] == 0.0 and metrics["theme_context_seeking_n"] == 2
    # axis completeness: 19 (9/9 = 1) ; accuracy: 24 only (16/16) since 22 has no positive accuracy item
    assert metrics["axis_completeness"] == 1.0 and metrics["axis_accuracy_n"] == 1
    # level:example tags every item of the three: its score is each sample's overall
    assert metrics["level_example_n"] == 3 and metrics["level_example"] == 0.0
    # the bootstrap is seeded: the std is the documented statistic for seed 0
    expected = np.std(clipped_bootstrap([1 / 13, -29 / 7, 1.0], 1000, seed=0))
    assert metrics["bootstrap_std"] == pytest.approx(expected)
    assert metrics["grader_failure_rate"] == 0.0
    # one judgment per rubric item, with the conversation rendered as simple-evals does
    assert len(judge.calls) == 3 + 6 + 4
    prompt = judge.calls[0][0][1].text
    assert "# Conversation\nuser: " in prompt and "\n\nassistant: Reply to: " in prompt
    assert "# Rubric item\n[" in prompt
    # simple-evals' grader settings, as sent and as recorded with every score
    assert {(c.max_tokens, c.temperature, c.seed) for _, c in judge.calls} == {(2048, 0.0, 42)}
    metadata = log.samples[0].scores["healthbench_judge"].metadata
    assert metadata["judge_settings"] == {
        "mockllm/model": {"temperature": 0.0, "seed": 42, "max_tokens": 2048}
    }
    digest = hashlib.sha256(json.dumps(healthbench_template(), ensure_ascii=False).encode())
    assert metadata["template_sha256"] == log.eval.metadata["grader_template_sha256"]
    assert metadata["template_sha256"] == digest.hexdigest()


def test_a_failed_item_leaves_the_sample_unscored(data_dir: Path, tmp_path: Path) -> None:
    folder = subset_dir(data_dir, tmp_path, (19, 24))
    r19, r24 = record(data_dir, 19), record(data_dir, 24)
    met = {i["criterion"]: True for i in r19["rubrics"] + r24["rubrics"]}
    judge = hb_judge(met, garbage={r19["rubrics"][1]["criterion"]})
    log = eval(
        healthbench(str(folder), judge_retries=1),
        model=scripted_model(["a", "b"]),
        model_roles={"grader": judge.model},
        display="none",
    )[0]
    failed = next(s for s in log.samples if s.id == r19["prompt_id"]).scores["healthbench_judge"]
    assert failed.reason == "grader_failed" and failed.value["grader_failed"] == 1.0
    assert math.isnan(failed.value["healthbench_score"]) and math.isnan(failed.value["crit_1"])
    assert "1" in failed.metadata["failures"]
    assert len(failed.metadata["judge_outputs"][1]["mockllm/model"]) == 2  # asked twice, bounded
    metrics = scores(log)
    assert metrics["grader_failure_rate"] == 0.5
    # example 24 all met: (8 + 8 - 5 - 5) / 16 = 6/16 ; the failed sample is not a zero
    assert metrics["healthbench_score"] == pytest.approx(6 / 16) and metrics["n_samples"] == 1


def test_a_grader_is_required(data_dir: Path, tmp_path: Path) -> None:
    log = eval(
        healthbench(str(subset_dir(data_dir, tmp_path, (19,)))),
        model=scripted_model(["a"]),
        display="none",
    )[0]
    assert log.status == "error"
    assert "does not let the evaluated model grade itself" in log.error.message


def test_ideal_completions_are_graded_without_a_model(data_dir: Path, tmp_path: Path) -> None:
    folder = subset_dir(data_dir, tmp_path, (2, 3))  # example 3 has no ideal completion
    r2 = record(data_dir, 2)
    judge = hb_judge({i["criterion"]: i["points"] > 0 for i in r2["rubrics"]})
    log = eval(
        healthbench(str(folder), completions="ideal"),
        model_roles={"grader": judge.model},
        display="none",
    )[0]
    assert log.status == "success", log.error
    assert [s.id for s in log.samples] == [r2["prompt_id"]]
    assert log.samples[0].output.completion == r2["ideal_completions_data"]["ideal_completion"]
    assert log.samples[0].scores["healthbench_judge"].value["healthbench_score"] == 1.0


def test_meta_evaluation_against_physicians(data_dir: Path, tmp_path: Path) -> None:
    prompt = record(data_dir, 3)["prompt"]
    rows = [
        ("r1", [True, True, False], ["p1", "p2", "p3"], True),
        ("r2", [False, False], ["p1", "p2"], True),
        ("r3", [True, False], ["p2", "p3"], False),
    ]
    path = tmp_path / "meta.jsonl"
    path.write_text(
        "".join(
            json.dumps(
                {
                    "prompt": prompt,
                    "prompt_id": "6f7a2ee9",
                    "completion_id": name,
                    "completion": f"completion {name}",
                    "rubric": f"Criterion for {name}",
                    "binary_labels": labels,
                    "anonymized_physician_ids": ids,
                    "category": "cluster:emergency",
                }
            )
            + "\n"
            for name, labels, ids, _ in rows
        )
    )
    grader_says = {f"Criterion for {name}": says for name, _, _, says in rows}
    judge = hb_judge(grader_says)
    log = eval(
        healthbench(str(path)),
        model_roles={"grader": judge.model},
        display="none",
    )[0]
    assert log.status == "success", log.error
    assert log.eval.task == "healthbench_meta_eval"
    metrics = scores(log)
    # judge vs every physician label, pair by pair (see test_agreement for the arithmetic):
    # precision_pos 2/5, recall_pos 2/3 -> F1 0.5 ; precision_neg 1/2, recall_neg 1/4 -> F1 1/3
    assert metrics["model_precision_pos"] == pytest.approx(2 / 5)
    assert metrics["model_recall_neg"] == pytest.approx(1 / 4)
    assert metrics["model_f1_balanced"] == pytest.approx(5 / 12)
    # physicians, leave one out: p1 2/3, p2 1/2, p3 undefined (never positive) -> mean 7/12
    assert metrics["physician_f1_balanced_mean"] == pytest.approx(7 / 12)
    assert metrics["model_vs_physicians_percentile"] == 0.0
    # majority [T, F, F(tie)] vs judge [T, T, F]: F1 of each class 2/3
    assert metrics["majority_macro_f1"] == pytest.approx(2 / 3)
    assert metrics["majority_accuracy"] == pytest.approx(2 / 3)
    explicit = healthbench_meta_eval(str(path))
    assert explicit.name == "healthbench_meta_eval" and len(explicit.dataset) == 3


def test_end_to_end_with_a_tiny_local_model(
    data_dir: Path, tmp_path: Path, tiny_checkpoint: Path
) -> None:
    folder = subset_dir(data_dir, tmp_path, (3, 26))
    met = {i["criterion"]: True for n in (3, 26) for i in record(data_dir, n)["rubrics"]}
    judge = hb_judge(met)
    log = eval(
        healthbench(str(folder)),
        model="hf/tiny",
        model_args={"model_path": str(tiny_checkpoint), "device": "cpu", "do_sample": False},
        max_tokens=8,
        model_roles={"grader": judge.model},
        display="none",
    )[0]
    assert log.status == "success", log.error
    assert log.eval.model == "hf/tiny" and len(judge.calls) == 2 + 2
    for sample in log.samples:
        score = sample.scores["healthbench_judge"]
        assert score.value["healthbench_score"] == 1.0
        assert score.value["response_length"] == len(sample.output.completion)
        # the judge graded what the local model wrote, as the last assistant turn
        assert (
            score.metadata["judge_prompts"][0]
            .split("# Rubric item")[0]
            .endswith(f"assistant: {sample.output.completion}\n\n")
        )
