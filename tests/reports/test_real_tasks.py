"""Reports of the real partial benchmarks, from models that answer alike.

Real Inspect logs of the benchmark tasks `medxpertqa` (subset-1449) and `mmlu_pro_health`
(filtered) on the shared data, whose tasks put `coverage` in their task metadata, and of
a two-case judged task, answered by scripted models: `a` (the reference), `same`, which
answers every item as `a` does (the four fine-tuned variants of a 135M model did), and
`better`, which gets a few more MMLU-Pro items right. The report must name the partial
sets as partial and give every difference a non-degenerate interval in step with its test.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from inspect_ai import Task
from inspect_ai import eval as inspect_eval
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessage
from inspect_ai.solver import generate

from reports import stats
from reports.build import build_report
from reports.config import ReportConfig
from tasks.items import LETTERS, MCQItem
from tasks.medxpertqa import load_medxpertqa, medxpertqa
from tasks.mmlu_pro_health import load_mmlu_pro_health, mmlu_pro_health
from tests.helpers import scripted_model
from tests.reports.conftest import toy_judge

ITEMS = 20  # items evaluated per benchmark (the coverage is the task's, not the run's)
CASES = 2  # judged cases, as in the run that gave [0, 0]
MODELS = ("mockllm/a", "mockllm/same", "mockllm/better")
CONFIG = ReportConfig(reference="mockllm/a", resamples=999, cluster_key=None)


def _mcq_reply(model: str, task: str, items: list[MCQItem]) -> Callable[[list[ChatMessage]], str]:
    """Right on about half the items (by a hash of the question); `better` on more of MMLU-Pro."""

    def reply(messages: list[ChatMessage]) -> str:
        prompt = messages[-1].text
        item = next(item for item in items if item.question[:200] in prompt)
        code = zlib.crc32(item.question.encode())
        right = code % 2 == 0 or (
            model == MODELS[2] and task == "mmlu_pro_health" and code % 3 == 0
        )
        answer = item.answer if right else (item.answer + 1) % len(item.choices)
        return f"Reasoning.\nANSWER: {LETTERS[answer]}"

    return reply


def _judged_reply(messages: list[ChatMessage]) -> str:
    """Quality 1 for case 0 (its `safety` score is -0.5: that measure has no known bounds)."""
    case = int(messages[-1].text.split()[1].rstrip(":"))
    return f"Differential for case {case} with quality {1 + 3 * case}."


@pytest.fixture(scope="module")
def real_logs(
    data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, str], Path]:
    """(model, task) -> log path: both benchmarks for every model, the judged task for two."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DIQ_DATA_DIR", str(data_dir))
        tasks = {"medxpertqa": medxpertqa(), "mmlu_pro_health": mmlu_pro_health()}
        items = {
            "medxpertqa": load_medxpertqa()[0][:ITEMS],
            "mmlu_pro_health": load_mmlu_pro_health()[0][:ITEMS],
        }
    judged = Task(
        name="clinical_cases",
        dataset=MemoryDataset(
            [Sample(id=f"case-{i}", input=f"Case {i}: chest pain.") for i in range(CASES)]
        ),
        solver=generate(),
        scorer=toy_judge(),
    )
    root = tmp_path_factory.mktemp("real-logs")
    logs = {}
    for model in MODELS:
        for name, task in tasks.items():
            [log] = inspect_eval(
                task,
                model=scripted_model(_mcq_reply(model, name, items[name]), name=model),
                sample_id=[item.id for item in items[name]],
                log_dir=str(root),
                display="none",
            )
            assert log.status == "success", log.error
            logs[(model, name)] = Path(log.location)
        if model != MODELS[2]:
            [log] = inspect_eval(
                judged,
                model=scripted_model(_judged_reply, name=model),
                log_dir=str(root),
                display="none",
            )
            assert log.status == "success", log.error
            logs[(model, "clinical_cases")] = Path(log.location)
    return logs


@pytest.fixture(scope="module")
def report(
    real_logs: dict[tuple[str, str], Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("real-report") / "report"
    return out, build_report(list(real_logs.values()), out, CONFIG)


def _comparison(data: dict[str, Any], name: str, model: str) -> dict[str, Any]:
    """`model`'s comparison on a measure named by its key, or by its task when it has one."""
    rows = [
        c
        for c in data["comparisons"]
        if name in (c["measure"], c["measure"].split("/")[0]) and c["model"] == model
    ]
    assert len(rows) == 1, [r["measure"] for r in rows]
    return rows[0]


def test_partial_sets_reach_the_json_findings_and_page(report: tuple[Path, dict[str, Any]]) -> None:
    out, data = report
    measures = {m["task"]: m for m in data["measures"] if not m["judged"]}
    assert {task: m["complete"] for task, m in measures.items()} == {
        "medxpertqa": False,
        "mmlu_pro_health": False,
    }
    expected = {"medxpertqa": (1449, 2450), "mmlu_pro_health": (553, 818)}
    for task, (items, full) in expected.items():
        coverage = measures[task]["coverage"]
        assert (coverage["items"], coverage["full_set"]) == (items, full)
        assert f"{items} of {full}" in coverage["note"]
    avgc = [a for a in data["aggregates"] if a["name"] == "AvgC"]
    assert len(avgc) == len(MODELS)
    for row in avgc:
        assert (row["sets"], row["sets_in_paper"], row["complete"]) == (2, 6, False)
        assert sorted(row["incomplete_members"]) == ["medxpertqa", "mmlu_pro_health"]
        assert row["coverage_note"].startswith("2 of the paper's 6 sets; ")
    findings = "\n".join(data["findings"])
    assert "on AvgC (2 of the paper's 6 sets; " in findings
    assert "medxpertqa uses 1,449 of 2,450 items" in findings
    assert "mmlu_pro_health uses 553 of 818 items" in findings
    page = (out / "index.html").read_text(encoding="utf-8")
    for text in (
        "medxpertqa · partial set",
        "mmlu_pro_health · partial set",
        "partial set, 1,449 of 2,450 items",
        "partial set, 553 of 818 items",
        "AvgC · partial",
        "AvgC (2 of 6 sets)",
        "medxpertqa (partial)",
    ):
        assert text in page, text


def test_models_that_answer_alike_get_non_degenerate_intervals(
    report: tuple[Path, dict[str, Any]],
) -> None:
    """Binary: Tango's +-16.1 points over 20 items; graded on a known scale over 2 cases:
    the same fraction of the scale; an unbounded score: no interval, and the row says why."""
    out, data = report
    reach = stats.z_quantile() ** 2 / (ITEMS + stats.z_quantile() ** 2)
    for task in ("medxpertqa", "mmlu_pro_health"):
        row = _comparison(data, task, "mockllm/same")
        assert (row["n10"], row["n01"], row["diff"], row["p_value"]) == (0, 0, 0, 1)
        assert (row["low"], row["high"]) == pytest.approx((-reach, reach))
        assert round(reach, 3) == 0.161 and row["mde"] > 0 and row["no_spread"]
    cases = stats.z_quantile() ** 2 / (CASES + stats.z_quantile() ** 2)
    ddx = _comparison(data, "clinical_cases/toy_judge/ddx", "mockllm/same")
    rating = _comparison(data, "clinical_cases/toy_judge/ddx_rating", "mockllm/same")
    for row, width in ((ddx, 1.0), (rating, 4.0)):
        assert (row["n"], row["diff"], row["p_value"], row["no_spread"]) == (CASES, 0, 1, True)
        assert row["interval"] == "bounded Wilson" and row["mde"] > 0
        assert (row["low"], row["high"]) == pytest.approx((-width * cases, width * cases))
    assert round(cases, 3) == 0.658
    safety = _comparison(data, "clinical_cases/toy_judge/safety", "mockllm/same")
    measures = {m["key"]: m for m in data["measures"]}
    assert measures[safety["measure"]]["bounds"] is None  # -0.5 for a poor answer
    assert safety["no_spread"] and safety["low"] is None and safety["high"] is None  # NaN
    assert safety["interval"] == "none: no spread, on a scale without known bounds"
    assert safety["se"] is None and safety["mde"] is None
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "no interval: no spread" in page
    assert "[+0.000, +0.000]" not in page and "[+0.0 pp, +0.0 pp]" not in page
    for row in data["comparisons"] + data["aggregate_comparisons"]:
        if row["p_value"] >= 0.05 and row["low"] is not None:
            assert row["low"] <= 0 <= row["high"], row


def test_averages_combine_their_members_intervals(report: tuple[Path, dict[str, Any]]) -> None:
    """AvgC of two members answered alike: MOVER of two Tango intervals, never [0, 0]."""
    _, data = report
    [avgc] = [
        a
        for a in data["aggregate_comparisons"]
        if a["name"] == "AvgC" and a["model"] == "mockllm/same"
    ]
    members = [_comparison(data, task, "mockllm/same") for task in avgc["benchmarks"]]
    _, low, high = stats.mover([(m["diff"], m["low"], m["high"]) for m in members], [0.5, 0.5])
    assert avgc["diff"] == 0 and avgc["p_value"] == 1
    assert (avgc["low"], avgc["high"]) == pytest.approx((low, high))
    assert avgc["low"] < -0.1 and avgc["high"] > 0.1  # +-11.4 points: sqrt(2) x 16.1 / 2
    assert avgc["interval"] == "MOVER of the 2 members' intervals (Tango score)"
    assert avgc["test"] == "stratified paired permutation"


@pytest.mark.parametrize("task", ["medxpertqa", "mmlu_pro_health"])
def test_an_average_of_one_member_is_that_member(
    task: str, real_logs: dict[tuple[str, str], Path], tmp_path: Path
) -> None:
    """A report of one benchmark: its AvgC rows are the benchmark's own rows, number for number."""
    logs = [path for (_, name), path in real_logs.items() if name == task]
    data = build_report(logs, tmp_path / "r", CONFIG)
    summary = {(s["measure"].split("/")[0], s["model"]): s for s in data["summary"]}
    for row in (a for a in data["aggregates"] if a["name"] == "AvgC"):
        member = summary[(task, row["model"])]
        assert (row["mean"], row["low"], row["high"]) == pytest.approx(
            (member["mean"], member["low"], member["high"]), abs=1e-12
        )
        assert row["interval"] == f"the member's interval ({member['method']})"
    rows = [a for a in data["aggregate_comparisons"] if a["name"] == "AvgC"]
    assert len(rows) == 2
    for row in rows:
        member = _comparison(data, task, row["model"])
        for key in ("diff", "low", "high", "se", "mde", "p_value"):
            assert row[key] == pytest.approx(member[key], abs=1e-12), key
        assert (row["test"], row["widened"]) == (member["test"], member["widened"])
        assert row["high"] > row["low"]
    if task == "mmlu_pro_health":  # `better` differs here: discordant pairs, a real test
        better = _comparison(data, task, "mockllm/better")
        assert better["n10"] > 0 and better["n01"] == 0 and better["p_value"] < 1
