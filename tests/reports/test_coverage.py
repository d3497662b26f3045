"""What a report's numbers cover: partial sets named as partial, non-degenerate intervals on
identical models, and key findings that say why they are empty.

Real Inspect logs of two scripted models on two challenging benchmarks whose tasks declare
`coverage` in their task metadata, as the benchmark tasks do for a partial set.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from inspect_ai import Task
from inspect_ai import eval as inspect_eval
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.solver import generate

from harness.cli import main
from harness.core.errors import InputError
from reports.build import build_report
from reports.config import ReportConfig
from reports.logs import read_log
from tasks.mcq import mcq_answer
from tests.helpers import scripted_model

# Items per task (no case clusters): medxpertqa's models answer alike on every item.
SIZES = {"medxpertqa": 125, "mmlu_pro_health": 40}
COVERAGE = {
    "medxpertqa": {"items": 1449, "published": 2450, "note": "subset-1449 of the text set"},
    "mmlu_pro_health": {"items": 553, "published": 818, "note": "health items, filtered"},
}
MODELS = ("mockllm/a", "mockllm/b")


def _reply(model: str, task: str):  # type: ignore[no-untyped-def]
    def reply(messages):  # type: ignore[no-untyped-def]
        i = int(re.search(r"Item (\d+)", messages[-1].text).group(1))  # type: ignore[union-attr]
        right = "ABCD"[i % 4]
        # medxpertqa: both models right on the same 100 items, wrong on the same 25
        wrong = i % 5 == 0 if task == "medxpertqa" else (i % 3 == 0) == (model == MODELS[0])
        return f"ANSWER: {'ABCD'[(i + 1) % 4] if wrong else right}"

    return reply


@pytest.fixture(scope="module")
def partial_logs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """One log per model and task: (model, task) -> log path."""
    root = tmp_path_factory.mktemp("partial")
    logs = {}
    for task_name, size in SIZES.items():
        dataset = MemoryDataset(
            [
                Sample(
                    id=f"{task_name}-{i:03d}",
                    input=f"Item {i}: which option?",
                    choices=["one", "two", "three", "four"],
                    target="ABCD"[i % 4],
                )
                for i in range(size)
            ]
        )
        task = Task(
            name=task_name,
            dataset=dataset,
            solver=generate(),
            scorer=mcq_answer(),
            metadata={"coverage": COVERAGE[task_name]},
        )
        for model in MODELS:
            [log] = inspect_eval(
                task,
                model=scripted_model(_reply(model, task_name), name=model),
                log_dir=str(root / model.split("/")[1]),
                display="none",
            )
            assert log.status == "success", log.error
            logs[(model, task_name)] = Path(log.location)
    return logs


@pytest.fixture(scope="module")
def report(
    partial_logs: dict[tuple[str, str], Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("partial-report") / "report"
    config = ReportConfig(reference="mockllm/a", resamples=999, cluster_key=None)
    return out, build_report(list(partial_logs.values()), out, config)


def test_coverage_is_read_from_the_task_metadata(partial_logs: dict[tuple[str, str], Path]) -> None:
    record = read_log(partial_logs[("mockllm/a", "medxpertqa")])
    assert record.coverage is not None
    assert (record.coverage.items, record.coverage.published) == (1449, 2450)
    assert record.coverage.describe() == "1,449 of 2,450 items (subset-1449 of the text set)"


def test_partial_sets_are_named_in_tables_findings_and_json(
    report: tuple[Path, dict[str, Any]],
) -> None:
    out, data = report
    measures = {m["task"]: m for m in data["measures"]}
    assert measures["medxpertqa"]["complete"] is False
    assert measures["medxpertqa"]["coverage"] == {
        "items": 1449,
        "full_set": 2450,
        "note": "subset-1449 of the text set",
    }
    [avgc] = [a for a in data["aggregates"] if a["name"] == "AvgC" and a["model"] == "mockllm/a"]
    assert (avgc["sets"], avgc["sets_in_paper"], avgc["complete"]) == (2, 6, False)
    assert avgc["incomplete_members"] == ["mmlu_pro_health", "medxpertqa"]
    assert avgc["coverage_note"].startswith("2 of the paper's 6 sets; mmlu_pro_health: 553 of")
    findings = " ".join(data["findings"])
    assert "on AvgC (2 of the paper's 6 sets" in findings
    assert "Partial sets, not the published ones: medxpertqa uses 1,449 of 2,450 items" in findings
    methods = {m["topic"]: m["text"] for m in data["methods"]["statistics"]}
    assert "mmlu_pro_health uses 553 of 818 items" in methods["Partial sets"]
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "medxpertqa · partial set" in page and "AvgC · partial" in page
    assert "AvgC (2 of 6 sets)" in page  # the forest plot's row label


def test_identical_models_get_a_non_degenerate_interval(
    report: tuple[Path, dict[str, Any]],
) -> None:
    """No discordant pairs among 125 items: about +-3 points, and an MDE above 0."""
    _, data = report
    [row] = [c for c in data["comparisons"] if c["measure"].startswith("medxpertqa/")]
    assert (row["n"], row["n10"], row["n01"], row["diff"], row["p_value"]) == (125, 0, 0, 0, 1)
    assert row["low"] == pytest.approx(-0.0298, abs=5e-4)
    assert row["high"] == pytest.approx(0.0298, abs=5e-4)
    assert row["interval"] == "Tango score" and row["mde"] > 0.03
    assert data["intervals"]["adjusted_for_multiplicity"] is False


def test_no_difference_interval_excludes_zero_where_the_test_does_not_reject(
    report: tuple[Path, dict[str, Any]],
) -> None:
    _, data = report
    rows = data["comparisons"] + data["aggregate_comparisons"]
    assert rows
    for row in rows:
        if row["p_value"] >= 0.05:
            assert row["low"] <= 0 <= row["high"], row


def test_tasks_that_share_no_model_say_why_there_are_no_findings(
    partial_logs: dict[tuple[str, str], Path], tmp_path: Path
) -> None:
    logs = [
        partial_logs[("mockllm/a", "medxpertqa")],
        partial_logs[("mockllm/b", "mmlu_pro_health")],
    ]
    data = build_report(logs, tmp_path / "r", ReportConfig(resamples=99))
    assert data["comparisons"] == [] or all(c["n"] == 0 for c in data["comparisons"])
    [line] = data["findings"]
    assert line.startswith("No key findings: no task was evaluated for both the reference")
    assert "mockllm/a: medxpertqa; mockllm/b: mmlu_pro_health" in line
    page = (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
    assert "No key findings" in page
    single = build_report(logs[:1], tmp_path / "one", ReportConfig(resamples=99))
    assert single["findings"] == [
        "No key findings: the logs hold one model (mockllm/a), and a comparison needs two."
    ]


def test_a_malformed_coverage_is_located(partial_logs: dict[tuple[str, str], Path]) -> None:
    from inspect_ai.log import read_eval_log, write_eval_log

    log = read_eval_log(str(partial_logs[("mockllm/a", "medxpertqa")]))
    for value, field in (
        ({"items": "many", "published": 2450, "note": "x"}, "eval.metadata.coverage.items"),
        ({"items": 3000, "published": 2450, "note": "x"}, "eval.metadata.coverage"),
        ({"items": 10, "published": 20}, "eval.metadata.coverage.note"),
    ):
        log.eval.metadata = {"coverage": value}
        path = partial_logs[("mockllm/a", "medxpertqa")].with_name(f"bad-{field[-4:]}.eval")
        write_eval_log(log, str(path))
        with pytest.raises(InputError) as caught:
            read_log(path)
        assert caught.value.field == field and caught.value.path == str(path)
        path.unlink()


def test_library_errors_name_the_field_and_the_cli_its_flag(
    partial_logs: dict[tuple[str, str], Path], tmp_path: Path
) -> None:
    from reports.config import SettingError

    logs = list(partial_logs.values())
    with pytest.raises(SettingError) as caught:
        build_report(logs, tmp_path / "r", ReportConfig(reference="nobody"))
    assert caught.value.field == "reference" and "--" not in str(caught.value)
    result = CliRunner().invoke(
        main, ["report", *map(str, logs), "--out", str(tmp_path / "c"), "--reference", "nobody"]
    )
    assert result.exit_code == 2
    assert "--reference: 'nobody' is not a model in the logs" in result.output
