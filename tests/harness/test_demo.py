"""The embedded demo demonstrates the method: the goals, checked from a run's report.json.

The default world plants what DIQ's premises are about, so DIQ at 10% must beat random
at 10% on the primary comparison and recover the useful records; the adversarial world
turns the premises around, so DIQ must not come out ahead. The planted-truth figures
come from `reports.planted` over the run directory.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.demo.study import SYNTHETIC_MEASURE
from reports.planted import NOISY, REDUNDANT, USEFUL, planted_truth

MEDQA_MEASURE = "medqa/mcq_answer/mcq_answer"
DIQ = str(Path(sys.executable).with_name("diq"))


def run_demo(out: Path, *options: str) -> dict[str, Any]:
    """`diq demo` into `out`; returns its report.json."""
    completed = subprocess.run(
        [DIQ, "demo", "--out", str(out), *options],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return json.loads((out / "report" / "report.json").read_text())


def accuracy(report: dict[str, Any]) -> dict[str, float]:
    return {
        row["model"]: row["mean"]
        for row in report["summary"]
        if row["measure"] == SYNTHETIC_MEASURE
    }


def primary(report: dict[str, Any], model: str) -> dict[str, Any]:
    """The comparison of `model` with the reference on the synthetic items."""
    [row] = [
        row
        for row in report["comparisons"]
        if row["measure"] == SYNTHETIC_MEASURE and row["model"] == model
    ]
    return row


def planted(out: Path) -> dict[str, dict[str, Any]]:
    panel = planted_truth(out)
    assert panel is not None
    return {row["subset"]: row for row in panel["subsets"]}


@pytest.mark.slow
def test_the_default_world_meets_the_goals(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    report = run_demo(out)
    assert report["settings"]["reference"] == "random-0.1"
    assert report["settings"]["confirmatory"] == [SYNTHETIC_MEASURE]
    scores = accuracy(report)
    assert scores["full"] >= 0.6  # learning is real: chance is 20%
    [full_health] = [
        row for row in report["health"] if row["model"] == "full" and row["task"] == "synthetic_mcq"
    ]
    assert full_health["format_failure_rate"] <= 0.05
    diq = primary(report, "diq-0.1")
    assert diq["family"] == "primary" and diq["diff"] > 0 and diq["significant"]
    [family] = [f for f in report["families"] if f["name"] == "primary"]
    assert family["tests"] == 1  # the one pre-registered contrast
    assert scores["diq-0.1"] >= scores["full"] - 0.05
    # the panel as the report shows it, and the findings say the effect is by construction
    shown = {row["subset"]: row for row in report["selection"]["planted"]["subsets"]}
    assert shown.keys() == planted(out).keys()
    assert "by construction" in report["findings"][0]
    subsets = planted(out)
    assert subsets["diq-0.1"]["useful_recall"] >= 2 * subsets["random-0.1"]["useful_recall"]
    assert subsets["diq-0.1"]["shares"][NOISY] < subsets["difficulty-0.1"]["shares"][NOISY]
    assert subsets["diq-0.1"]["shares"][REDUNDANT] < subsets["influence-0.1"]["shares"][REDUNDANT]


def test_in_the_adversarial_world_diq_is_not_ahead(tmp_path: Path) -> None:
    out = tmp_path / "adversarial"
    report = run_demo(out, "--smoke", "--world", "adversarial")
    diq = primary(report, "diq-0.1")
    assert not (diq["diff"] > 0 and diq["significant"])
    subsets = planted(out)
    # the premise that fails: DIQ's hard, influential records are the mislabelled ones
    # (against the pool's shares, what random selection draws on average: a smoke-scale
    # random subset of a dozen records may by chance hold no useful record at all)
    assert subsets["diq-0.1"]["shares"][NOISY] > subsets["pool"]["shares"][NOISY]
    assert subsets["diq-0.1"]["shares"][USEFUL] < subsets["pool"]["shares"][USEFUL]


@pytest.mark.slow
def test_the_real_demo_compares_a_pretrained_model_on_medqa(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`diq demo --real --smoke`: SmolLM2 from its pinned wheel, the real pool, MedQA."""
    monkeypatch.setenv("DIQ_DATA_DIR", str(data_dir))
    out = tmp_path / "real"
    report = run_demo(out, "--real", "--smoke")
    rows = {row["model"]: row for row in report["summary"] if row["measure"] == MEDQA_MEASURE}
    assert set(rows) == {"base", "diq-0.1", "random-0.1", "full"}
    for row in rows.values():
        assert row["n"] >= 20
        assert row["low"] <= row["mean"] <= row["high"] and row["low"] < row["high"]
    comparisons = [row for row in report["comparisons"] if row["measure"] == MEDQA_MEASURE]
    assert {row["model"] for row in comparisons} == {"base", "diq-0.1", "full"}
    # validation items come from the benchmark files and are never evaluated
    drawn = [json.loads(line) for line in (out / "validation_items.jsonl").read_text().splitlines()]
    assert "medqa" in {item["task"] for item in drawn}
