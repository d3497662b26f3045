"""`diq train` and `diq tiny-model` from the command line, and Inspect on a trained model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from inspect_ai.log import list_eval_logs, read_eval_log

from harness.cli import main
from harness.core.records import PoolRecord, write_records
from harness.training import MANIFEST_NAME
from tests.harness.training.conftest import toy_records

FAST = ["--lr", "3e-3", "--batch-size", "4", "--grad-accum", "1", "--max-length", "128"]


def test_train_one_subset_then_skip_it(tiny_checkpoint: Path, subset_file: Path, tmp_path: Path):
    out = tmp_path / "model"
    args = ["train", "--subset", str(subset_file), "--base", str(tiny_checkpoint)]
    args += ["--out", str(out), "--max-steps", "3", "--no-progress", *FAST]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert f"{out}: 3 steps, loss " in result.output
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert manifest["hyperparameters"]["max_steps"] == 3
    assert manifest["hyperparameters"]["learning_rate"] == 3e-3

    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0 and f"{out}: up to date, skipped" in again.output


def test_train_a_run_directory(tiny_checkpoint: Path, tmp_path: Path) -> None:
    subsets = tmp_path / "run" / "subsets"
    for name in ("diq-0.1", "random-0.1"):
        write_records(subsets / f"{name}.jsonl", toy_records(1))
    args = ["train", "--subsets", str(subsets), "--base", str(tiny_checkpoint)]
    args += ["--max-steps", "1", "--no-progress", "--full", *FAST]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    for name in ("diq-0.1", "random-0.1"):
        manifest = json.loads((tmp_path / "run" / "models" / name / MANIFEST_NAME).read_text())
        assert manifest["mode"] == "full" and manifest["subset"]["name"] == name


def test_user_errors_are_one_line_with_exit_status_2(tiny_checkpoint: Path, tmp_path: Path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    cases = [
        (["--subset", str(empty), "--out", str(tmp_path / "o")], "subset has no records"),
        (["--subset", str(empty)], "--subset needs --out DIR"),
        (["--out", str(tmp_path / "o")], "give exactly one of --subset FILE and --subsets DIR"),
        (
            ["--subset", str(empty), "--out", str(tmp_path / "o"), "--warmup-ratio", "2"],
            "--warmup-ratio: Input should be less than 1",
        ),
    ]
    for extra, message in cases:
        result = CliRunner().invoke(main, ["train", "--base", str(tiny_checkpoint), *extra])
        assert result.exit_code == 2, result.output
        assert message in result.output
        assert "Traceback" not in result.output


def test_bad_inputs_of_the_issue_are_one_line_errors(tiny_checkpoint: Path, tmp_path: Path):
    """Issue 4's bad inputs: missing base, LoRA targets the model lacks, refused truncation."""
    subset = tmp_path / "long.jsonl"
    long_record = PoolRecord(id="long-1", question="Q?", reasoning="word " * 100, response="A")
    write_records(subset, [*toy_records(1), long_record])
    common = ["train", "--subset", str(subset), "--out", str(tmp_path / "o"), "--no-progress"]
    cases = [
        (["--base", str(tmp_path / "no-model")], "base model not found: no such directory"),
        (
            ["--base", str(tiny_checkpoint), "--lora-targets", "q_proj,c_attn"],
            "c_attn (no module of that name)",
        ),
        (
            ["--base", str(tiny_checkpoint), "--max-length", "96", "--fail-on-truncation"],
            "record 'long-1': 1 of 5 records exceed max_length=96",
        ),
    ]
    for extra, message in cases:
        result = CliRunner().invoke(main, [*common, *FAST, *extra])  # a later option wins
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        assert message in result.output.strip().splitlines()[-1]
    assert not (tmp_path / "o").exists()


def test_progress_bar_and_truncation_count(tiny_checkpoint: Path, tmp_path: Path) -> None:
    subset = tmp_path / "long.jsonl"
    long_record = PoolRecord(id="long-1", question="Q?", reasoning="word " * 100, response="A")
    write_records(subset, [*toy_records(1), long_record])
    args = ["train", "--subset", str(subset), "--base", str(tiny_checkpoint)]
    args += ["--out", str(tmp_path / "o"), "--max-steps", "2", *FAST[:-2], "--max-length", "96"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "1 of 5 records exceed max_length=96 tokens and are truncated" in result.output
    assert "train long: 100%" in result.output and "2/2 [" in result.output  # tqdm's bar
    manifest = json.loads((tmp_path / "o" / MANIFEST_NAME).read_text())
    assert manifest["truncation"]["truncated_ids"] == ["long-1"]


def test_tiny_model_from_a_pool(tmp_path: Path) -> None:
    pool = tmp_path / "pool.jsonl"
    write_records(pool, toy_records(3))
    out = tmp_path / "tiny"
    args = ["tiny-model", "--pool", str(pool), "--out", str(out), "--vocab-size", "400"]
    args += ["--hidden-size", "32", "--heads", "2", "--kv-heads", "1", "--layers", "1"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    assert config["hidden_size"] == 32 and config["num_hidden_layers"] == 1
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(out)
    # The tokenizer learned the assistant layout and the answers as whole pieces.
    assert len(tokenizer.tokenize("Pyelonephritis")) < len("Pyelonephritis") // 2

    both = CliRunner().invoke(main, ["tiny-model", "--pool", str(pool), "--texts", str(pool)])
    assert both.exit_code == 2


def test_inspect_evaluates_a_trained_checkpoint(
    data_dir: Path, tiny_checkpoint: Path, subset_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "models" / "toy"
    args = ["train", "--subset", str(subset_file), "--base", str(tiny_checkpoint)]
    args += ["--out", str(out), "--max-steps", "2", "--no-progress", *FAST]
    assert CliRunner().invoke(main, args).exit_code == 0

    command = [
        str(Path(sys.executable).with_name("inspect")), "eval", "tasks/medqa",
        "--model", "hf/toy", "-M", f"model_path={out}", "-M", "device=cpu",
        "-M", "do_sample=false", "-T", f"path={data_dir / 'medqa/phrases_no_exclude_test.jsonl'}",
        "--limit", "2", "--max-tokens", "8", "--log-dir", str(tmp_path / "logs"),
        "--display", "none",
    ]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    completed = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    [log_file] = list_eval_logs(str(tmp_path / "logs"))
    log = read_eval_log(log_file)
    assert log.status == "success"
    assert len(log.samples) == 2 and not [sample for sample in log.samples if sample.error]
    assert log.eval.model_args["model_path"] == str(out)


@pytest.mark.slow
def test_two_processes_train_one_model_together(
    tiny_checkpoint: Path, subset_file: Path, tmp_path: Path
) -> None:
    """The entry point under a distributed launcher (torchrun; gloo on CPU)."""
    out = tmp_path / "model"
    command = [
        str(Path(sys.executable).with_name("torchrun")), "--nproc_per_node", "2",
        "-m", "harness.cli.train", "--subset", str(subset_file), "--base", str(tiny_checkpoint),
        "--out", str(out), "--epochs", "2", "--batch-size", "2", "--grad-accum", "1",
        "--save-steps", "4",
        "--no-progress", *FAST[:2], *FAST[-2:],
    ]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    completed = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.count(f"{out}: 12 steps") == 1  # one report, from the main rank
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert manifest["hardware"]["num_processes"] == 2
    assert manifest["hardware"]["distributed_type"] == "MULTI_CPU"
    assert manifest["effective_batch_size"] == 4 and manifest["steps"] == 12


def test_tiny_model_from_an_upstream_pool_file(data_dir: Path, tmp_path: Path) -> None:
    """`--pool` takes every pool format `diq select` does, e.g. medical-o1's JSON array."""
    out = tmp_path / "tiny"
    pool = data_dir / "medical_o1_sft_demo" / "demo_data.json"
    args = ["tiny-model", "--pool", str(pool), "--out", str(out), "--vocab-size", "400"]
    args += ["--hidden-size", "32", "--heads", "2", "--kv-heads", "1", "--layers", "1"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "396 texts" in result.output  # a question and an answer per record
    assert (out / "config.json").is_file()
