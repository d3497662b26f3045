"""The whole study through `diq demo --smoke`: every stage, the report, resume and skipping."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from inspect_ai.log import read_eval_log

from harness.cli import main
from harness.core.errors import ConfigError
from harness.demo.study import prepare_demo
from harness.study.run import plan
from harness.study.stages import NAMES as STAGES

DIQ = str(Path(sys.executable).with_name("diq"))


def demo_command(out: Path) -> list[str]:
    return [DIQ, "demo", "--smoke", "--out", str(out)]


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "smoke"
    completed = subprocess.run(demo_command(out), capture_output=True, text=True, timeout=900)
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
    assert set(manifest["ledger"]) == set(STAGES)  # JSON keys are written sorted
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
    # the planted-truth panel: from the world key, in report.json, the findings and the page
    planted = report["selection"]["planted"]
    assert {row["subset"] for row in planted["subsets"]} == {"pool", *subsets}
    assert report["findings"][0] == planted["findings"]
    assert "by construction" in planted["findings"]
    assert "Planted truth" in html
    [primary] = [family for family in report["families"] if family["name"] == "primary"]
    assert primary["tests"] == 1  # DIQ-10% against random-10%, the one pre-registered contrast


def test_rerun_skips_every_stage(smoke_run: Path) -> None:
    before = (smoke_run / "report" / "report.json").read_text()
    result = CliRunner().invoke(main, ["demo", "--smoke", "--out", str(smoke_run)])
    assert result.exit_code == 0, result.output
    assert all(f"[{stage}] up to date, skipped" in result.output for stage in STAGES)
    assert (smoke_run / "report" / "report.json").read_text() == before


def test_from_and_only_together_are_a_usage_error(tmp_path: Path) -> None:
    config = tmp_path / "experiment.yaml"
    config.write_text(
        "name: t\nselect: {pool: {path: p}, validation: {path: v}}\ntrain: {base: b}\n"
    )
    out = tmp_path / "run"
    args = ["run", str(config), "--out", str(out), "--from", "review", "--only", "report"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "--from and --only cannot be combined" in result.output
    assert len(result.output.strip().splitlines()) == 1 and not out.exists()
    with pytest.raises(ConfigError, match="cannot be combined"):
        plan("review", ["report"])


@pytest.fixture
def smoke_copy(smoke_run: Path, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """A copy of the smoke run and its config (as a mapping, to change) for that directory.

    Benchmark task arguments name files by absolute path, so in the copy a stage that
    evaluates runs afresh; the tests below run only stages that do not, or few models.
    """
    copy = tmp_path / "smoke"
    shutil.copytree(smoke_run, copy, symlinks=True)
    config = prepare_demo(copy, smoke=True, echo=lambda line: None)
    return copy, config.model_dump(mode="json")


def run_stages(root: Path, config: dict[str, Any], *options: str) -> str:
    """`diq run` on `config` in `root`; returns its output."""
    path = root.parent / "experiment.yaml"
    path.write_text(yaml.safe_dump(config))
    result = CliRunner().invoke(main, ["run", str(path), "--out", str(root), *options])
    assert result.exit_code == 0, result.output
    return result.output


def ran(output: str) -> set[str]:
    return {stage for stage in STAGES if f"[{stage}] running" in output}


def test_only_report_runs_the_report_alone(
    smoke_copy: tuple[Path, dict[str, Any]], smoke_run: Path
) -> None:
    root, config = smoke_copy
    output = run_stages(root, config, "--only", "report")
    assert ran(output) == set() and "[report] up to date, skipped" in output
    assert not any(f"[{stage}]" in output for stage in STAGES if stage != "report")
    shutil.rmtree(root / "report")
    assert ran(run_stages(root, config, "--only", "report")) == {"report"}
    report = json.loads((root / "report" / "report.json").read_text())
    assert numbers(report) == numbers(json.loads((smoke_run / "report/report.json").read_text()))


def test_from_review_reruns_review_and_report_only(smoke_copy: tuple[Path, dict[str, Any]]) -> None:
    root, config = smoke_copy
    before = {p.name: p.read_bytes() for p in (root / "review").glob("*.json")}
    config["review"]["prompts"] = 5
    output = run_stages(root, config, "--from", "review")
    assert ran(output) == {"review", "report"}
    assert not any(f"[{stage}]" in output for stage in ("select", "train", "eval", "judge"))
    after = {p.name: p.read_bytes() for p in (root / "review").glob("*.json")}
    assert after != before
    assert ran(run_stages(root, config, "--from", "review")) == set()


def test_a_hand_edited_subset_retrains(smoke_copy: tuple[Path, dict[str, Any]]) -> None:
    root, config = smoke_copy
    run_stages(root, config, "--only", "train")  # the copy's paths are new: record them
    assert ran(run_stages(root, config, "--only", "train")) == set()
    subset = root / "subsets" / "random-0.1.jsonl"
    lines = subset.read_text().splitlines(keepends=True)
    subset.write_text("".join(lines[:-1]))  # one record fewer
    models = {
        p.parent.name: p.read_bytes() for p in (root / "models").glob("*/train_manifest.json")
    }
    assert ran(run_stages(root, config, "--only", "train")) == {"train"}
    after = {p.parent.name: p.read_bytes() for p in (root / "models").glob("*/train_manifest.json")}
    assert {name for name in models if after[name] != models[name]} == {"random-0.1"}
    manifest = json.loads(after["random-0.1"])
    assert manifest["subset"]["records"] == len(lines) - 1


def test_given_checkpoint_and_logs_are_evaluated_and_refreshed(
    smoke_copy: tuple[Path, dict[str, Any]], smoke_run: Path, tmp_path: Path
) -> None:
    """`train.models` and `eval.logs`: used, re-evaluated when changed in place, refreshed."""
    root, config = smoke_copy
    checkpoint = tmp_path / "elsewhere" / "my-model"
    shutil.copytree(smoke_run / "models" / "diq-0.3", checkpoint)
    own_logs = sorted((smoke_run / "logs" / "eval").glob("*.eval"))
    label_of = {
        log: read_eval_log(str(log), header_only=True).eval.metadata["label"] for log in own_logs
    }
    [base_log] = [log for log in own_logs if label_of[log] == "base"]
    [full_log] = [log for log in own_logs if label_of[log] == "full"]
    given_log = tmp_path / "elsewhere" / "theirs.eval"
    shutil.copy(base_log, given_log)
    config["train"].update(subsets=["random-0.1"], models={"random-0.1": str(checkpoint)})
    config["eval"].update(models=[], logs=[str(given_log)])
    config["judge"]["graders"] = []
    config["report"]["primary_models"] = []  # diq-0.1 is no longer trained here

    def eval_logs() -> dict[str, Any]:
        headers = [
            read_eval_log(str(p), header_only=True) for p in (root / "logs/eval").glob("*.eval")
        ]
        return {h.eval.metadata["label"]: h.eval for h in headers}

    def report_labels() -> dict[str, str]:
        report = json.loads((root / "report" / "report.json").read_text())
        return {row["file"]: row["label"] for row in report["logs"]}

    stages = ["--only", "train,eval,report"]
    assert ran(run_stages(root, config, *stages)) == {"train", "eval", "report"}
    [first] = eval_logs().values()  # the old logs of models no longer asked for are gone
    assert first.metadata["label"] == "random-0.1"
    assert first.model_args["model_path"] == str(checkpoint)
    assert report_labels()["theirs.eval"] == "base"

    from safetensors.torch import load_file, save_file

    weights = checkpoint / "model.safetensors"
    tensors = load_file(weights)
    tensors = {name: tensor + 0.01 for name, tensor in tensors.items()}
    save_file(tensors, weights, metadata={"format": "pt"})  # the checkpoint changes in place
    assert ran(run_stages(root, config, *stages)) == {"train", "eval", "report"}
    [second] = eval_logs().values()
    assert second.eval_id != first.eval_id

    shutil.copy(full_log, given_log)  # their log changes
    assert ran(run_stages(root, config, *stages)) == {"eval", "report"}
    [third] = eval_logs().values()
    assert third.eval_id == second.eval_id  # not evaluated again
    assert (root / "logs/external/theirs.eval").read_bytes() == full_log.read_bytes()
    assert report_labels()["theirs.eval"] == "full"
    assert ran(run_stages(root, config, *stages)) == set()


def test_the_report_of_a_synthetic_pool_says_so(smoke_run: Path) -> None:
    html = (smoke_run / "report" / "index.html").read_text()
    assert "<title>smoke: DIQ study report (SYNTHETIC DATA)</title>" in html


def kill_when(command: list[str], ready: Callable[[], bool]) -> None:
    """Start `command` and SIGKILL its whole process group once `ready()` holds."""
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 600
    while not ready():
        assert process.poll() is None and time.monotonic() < deadline, (
            "the run ended before it could be interrupted"
        )
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@pytest.mark.slow
def test_interrupted_run_resumes_to_the_same_report(smoke_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "smoke"
    # mid-training: a Trainer checkpoint written
    kill_when(
        demo_command(out),
        lambda: bool(list((out / "models").glob(".*.work/checkpoints/checkpoint-*"))),
    )
    assert not (out / "report").exists()
    completed = subprocess.run(demo_command(out), capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    resumed = json.loads((out / "report" / "report.json").read_text())
    uninterrupted = json.loads((smoke_run / "report" / "report.json").read_text())
    assert numbers(resumed) == numbers(uninterrupted)


@pytest.mark.slow
def test_run_killed_during_eval_resumes_to_the_same_report(
    smoke_copy: tuple[Path, dict[str, Any]], smoke_run: Path
) -> None:
    """Killed after the first model's evaluation, during the second's; only eval and report run."""
    root, config = smoke_copy
    logs = root / "logs" / "eval"
    shutil.rmtree(logs)
    shutil.rmtree(root / "report")
    path = root.parent / "experiment.yaml"
    path.write_text(yaml.safe_dump(config))
    command = [DIQ, "run", str(path), "--out", str(root), "--only", "eval,report"]
    kill_when(command, lambda: len(list(logs.glob("*.eval"))) >= 2)  # models run in turn
    assert not (root / "report").exists()
    first = min(logs.glob("*.eval"))  # log names start with their time
    finished = first.read_bytes()
    completed = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert first.read_bytes() == finished  # the finished evaluation was kept, not redone
    assert len(list(logs.glob("*.eval"))) == 8
    resumed = json.loads((root / "report" / "report.json").read_text())
    uninterrupted = json.loads((smoke_run / "report" / "report.json").read_text())
    assert numbers(resumed) == numbers(uninterrupted)
