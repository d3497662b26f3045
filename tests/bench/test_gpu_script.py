"""bench/gpu.sh: the tiny preset end to end on the CPU, and how its summary reads sections."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def summarise(logs: Path, *sections: str) -> dict:
    command = [sys.executable, "bench/gpu_summary.py", "--mode", "gpu", "--logs", str(logs)]
    command += ["--peak-tflops", "790", *sections]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_the_summary_keeps_figures_failures_time_outs_and_skips(tmp_path: Path) -> None:
    result = {"samples_per_s": {"fast": 12.5}, "fast_fraction_of_flop_floor": 0.43}
    (tmp_path / "influence.log").write_text(f"table\n{json.dumps(result)}\n")
    (tmp_path / "influence.status").write_text("0 61 120")
    (tmp_path / "train_lora.log").write_text("Traceback\nCUDA out of memory\n")
    (tmp_path / "train_lora.status").write_text("1 12 90")
    (tmp_path / "train_full.log").write_text("step 1\n")
    (tmp_path / "train_full.status").write_text("124 120 120")
    (tmp_path / "real_study.skipped").write_text("skipped: set DIQ_GPU_REAL_STUDY=1\n")
    document = summarise(tmp_path, "influence", "train_lora", "train_full", "real_study")
    sections = document["sections"]
    assert sections["influence"] == {"status": "ok", "exit": 0, "seconds": 61, "result": result}
    assert sections["train_lora"]["status"] == "failed"
    assert sections["train_lora"]["log_tail"] == ["Traceback", "CUDA out of memory"]
    assert sections["train_full"]["status"] == "timed out after 120 s"
    assert sections["real_study"] == {
        "status": "skipped",
        "reason": "skipped: set DIQ_GPU_REAL_STUDY=1",
    }
    figures = document["figures"]
    assert figures["influence_samples_per_s"] == 12.5
    assert figures["goal_flop_floor_fraction_ge_0.4"] is True
    assert figures["lora_tokens_per_s"] is None


@pytest.mark.slow
def test_the_tiny_preset_runs_every_section_on_the_cpu(tmp_path: Path) -> None:
    """About a minute on 2 cores."""
    out = tmp_path / "out"
    env = {**os.environ, "PYTHON": sys.executable}
    env.pop("DIQ_GPU_REAL_STUDY", None)
    done = subprocess.run(
        ["bash", "bench/gpu.sh", "--tiny", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # what comes back from a device run: at most 8 plainly named files
    names = sorted(p.name for p in out.iterdir())
    assert names == ["gpu.json", "gpu.log", "pip.log"]
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", name) for name in names)
    document = json.loads((out / "gpu.json").read_text())
    sections = document["sections"]
    for name in ("influence", "train_lora", "train_full"):
        assert sections[name]["status"] == "ok", sections[name]
    assert sections["real_study"]["status"] == "skipped"
    figures = document["figures"]
    for key in ("influence_samples_per_s", "lora_tokens_per_s", "full_tokens_per_s"):
        assert figures[key] > 0, key
    assert figures["fast_speedup_vs_per_sample_loop"] > 0 and figures["fast_speedup_vs_vmap"] > 0
    assert max(figures["max_relative_error_vs_loop"].values()) < 1e-4
    assert figures["influence_fraction_of_flop_floor"] is None  # no GPU, no peak to reach
    assert document["environment"]["device"] == "cpu"
