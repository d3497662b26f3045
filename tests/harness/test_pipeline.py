"""The whole study through `diq demo --smoke`: every stage, the report, resume and skipping."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.pipeline import STAGES

DEMO_ENV = {k: v for k, v in os.environ.items() if k != "DIQ_DATA_DIR"}  # synthetic evaluation


def demo_command(out: Path) -> list[str]:
    return [str(Path(sys.executable).with_name("diq")), "demo", "--smoke", "--out", str(out)]


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "smoke"
    completed = subprocess.run(
        demo_command(out), env=DEMO_ENV, capture_output=True, text=True, timeout=900
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return out


def numbers(report: dict) -> dict:
    """The report's statistics, without paths, timestamps and versions."""
    keep = (
        "measure",
        "model",
        "reference",
        "n",
        "mean",
        "low",
        "high",
        "diff",
        "p_value",
        "p_adjusted",
    )
    return {
        section: [{k: row.get(k) for k in keep if k in row} for row in report[section]]
        for section in ("summary", "comparisons", "aggregates")
    }


def test_demo_runs_every_stage_and_writes_the_report(smoke_run: Path) -> None:
    manifest = json.loads((smoke_run / "run_manifest.json").read_text())
    assert set(manifest["stages"]) == set(STAGES)  # JSON keys are written sorted
    assert "SYNTHETIC DATA" in (smoke_run / "data" / "README.txt").read_text()
    subsets = {p.stem for p in (smoke_run / "subsets").glob("*.jsonl")}
    assert {"diq-0.1", "random-0.1", "diq-0.3", "random-0.3", "full"} <= subsets
    trained = {p.parent.name for p in (smoke_run / "models").glob("*/train_manifest.json")}
    assert trained == {
        "diq-0.1",
        "random-0.1",
        "diq-0.3",
        "random-0.3",
        "influence-0.1",
        "difficulty-0.1",
        "full",
    }
    assert len(list((smoke_run / "review" / "raters").glob("*.xlsx"))) == 3
    html = (smoke_run / "report" / "index.html").read_text()
    assert "Content-Security-Policy" in html and "http://" not in html.replace(
        "http://www.w3.org/2000/svg", ""
    )
    report = json.loads((smoke_run / "report" / "report.json").read_text())
    models = set(report["models"])
    assert trained | {"base"} == models
    measures = {row["measure"] for row in report["summary"]}
    assert "synthetic_mcq/mcq_answer/mcq_answer" in measures
    assert {
        "clinical_reasoning/rubric_judge/ddx",
        "data_quality/rubric_judge/correctness",
    } <= measures
    assert report["settings"]["reference"] == "random-0.1"
    assert any(row["model"] == "diq-0.1" for row in report["comparisons"])
    assert report["selection"]  # quadrant plot, subset sizes and overlaps from the run directory


def test_rerun_skips_every_stage(smoke_run: Path) -> None:
    before = (smoke_run / "report" / "report.json").read_text()
    result = CliRunner(env={"DIQ_DATA_DIR": None}).invoke(
        main, ["demo", "--smoke", "--out", str(smoke_run)]
    )
    assert result.exit_code == 0, result.output
    assert all(f"[{stage}] up to date, skipped" in result.output for stage in STAGES)
    assert (smoke_run / "report" / "report.json").read_text() == before


@pytest.mark.slow
def test_interrupted_run_resumes_to_the_same_report(smoke_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "smoke"
    process = subprocess.Popen(
        demo_command(out),
        env=DEMO_ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 600
    while not list(
        (out / "models").glob(".*.work/checkpoints/checkpoint-*")
    ):  # mid-training, a checkpoint written
        assert process.poll() is None and time.monotonic() < deadline, (
            "the run ended before it could be interrupted"
        )
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not (out / "report").exists()
    completed = subprocess.run(
        demo_command(out), env=DEMO_ENV, capture_output=True, text=True, timeout=900
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    resumed = json.loads((out / "report" / "report.json").read_text())
    uninterrupted = json.loads((smoke_run / "report" / "report.json").read_text())
    assert numbers(resumed) == numbers(uninterrupted)


@pytest.mark.slow
def test_with_data_dir_the_demo_evaluates_the_real_benchmarks(
    data_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "real"
    env = {**DEMO_ENV, "DIQ_DATA_DIR": str(data_dir)}
    completed = subprocess.run(
        demo_command(out), env=env, capture_output=True, text=True, timeout=900
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    validation_tasks = {
        json.loads(line)["task"]
        for line in (out / "validation_items.jsonl").read_text().splitlines()
    }
    assert validation_tasks == {"medqa", "medmcqa", "pubmedqa"}
    report = json.loads((out / "report" / "report.json").read_text())
    measures = {row["measure"] for row in report["summary"]}
    assert {f"{task}/mcq_answer/mcq_answer" for task in validation_tasks} <= measures
    assert not any(measure.startswith("synthetic_mcq") for measure in measures)
