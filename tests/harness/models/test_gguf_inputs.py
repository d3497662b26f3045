"""A `.gguf` file is accepted wherever a base, scoring or evaluated model is."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from inspect_ai.log import list_eval_logs, read_eval_log

from harness.cli import main
from harness.core.records import PoolRecord, write_records
from tests.selection.util import make_records


def test_train_select_and_eval_take_a_gguf_file(
    tiny_gguf: Path, data_dir: Path, tmp_path: Path
) -> None:
    subset = tmp_path / "subset.jsonl"
    write_records(subset, make_records(4))
    trained = tmp_path / "model"
    args = ["train", "--subset", str(subset), "--base", str(tiny_gguf), "--out", str(trained)]
    result = CliRunner().invoke(
        main, [*args, "--max-steps", "1", "--max-length", "96", "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((trained / "train_manifest.json").read_text())
    assert "gguf" in manifest["base_model"]["local_dir"]  # the cached conversion

    validation = tmp_path / "validation.jsonl"
    write_records(
        validation,
        [
            PoolRecord(f"medqa:v{i}", f"Vignette {i}: which electrolyte?", "", "ANSWER: A")
            for i in range(2)
        ],
    )
    select = [
        "select", "--pool", str(subset), "--validation", str(validation), "--model",
        str(tiny_gguf), "--max-length", "96", "--ratios", "0.5", "--quiet",
        "--out", str(tmp_path / "run"),
    ]  # fmt: skip
    result = CliRunner().invoke(main, select)
    assert result.exit_code == 0, result.output

    logs = tmp_path / "logs"
    evaluate = ["eval", "--suite", "smoke", "--model", str(tiny_gguf), "--limit", "1"]
    result = CliRunner().invoke(main, [*evaluate, "--max-tokens", "2", "--log-dir", str(logs)])
    assert result.exit_code == 0, result.output
    headers = [read_eval_log(log, header_only=True) for log in list_eval_logs(str(logs))]
    assert {h.eval.model for h in headers} == {"hf/tiny"}
    assert all("gguf" in h.eval.model_args["model_path"] for h in headers)
