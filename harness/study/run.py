"""`diq run`: the study's stages over one run directory, each skipped when unchanged.

    select -> train -> eval -> judge -> review -> report

Each stage reads the files the earlier stages wrote and writes its own
(`harness.core.layout`), so any stage can be rerun alone or replaced by the user's own
tool. The run ledger (`run_manifest.json`, `harness.core.ledger`) records, per stage, the
hash of its inputs (its settings, the contents of the files and checkpoints it names, and
the hashes of its upstream stages' outputs) and the hash of its outputs; a stage whose
inputs and outputs are unchanged is skipped. Within a stage the work resumes too:
selection keeps its own ledger, training resumes from Trainer checkpoints and skips
finished models, evaluation and judging use Inspect's `eval_set`. So a rerun after an
interruption picks up where it stopped and produces the same report.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from harness.core.errors import ConfigError
from harness.core.io import sha256_json, write_text
from harness.core.layout import RunLayout
from harness.core.ledger import Ledger
from harness.core.outdir import claim_output_dir
from harness.study.checks import check_study
from harness.study.config import ExperimentConfig, dump_config
from harness.study.stage import Study
from harness.study.stages import BY_NAME, NAMES


def plan(start: str | None, only: Sequence[str] | None) -> list[str]:
    """The stages to consider, in order (`start` and `only` exclude each other)."""
    if start and only is not None:
        raise ConfigError(
            "--from and --only cannot be combined: --from runs a stage and every later one, "
            "--only runs exactly the stages listed"
        )
    if only is not None and not only:
        raise ConfigError(f"--only needs at least one stage of {', '.join(NAMES)}")
    for name in [*(only or []), *([start] if start else [])]:
        if name not in NAMES:
            raise ConfigError(f"unknown stage {name!r}; stages are {', '.join(NAMES)}")
    if only:
        return [name for name in NAMES if name in only]
    return list(NAMES[NAMES.index(start) :] if start else NAMES)


def _jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def stage_inputs(study: Study, name: str, outputs: dict[str, str]) -> str:
    """Hash of everything a stage reads: its settings and its upstream stages' outputs.

    `outputs` caches each stage's output hash across calls (hashing subsets and
    checkpoints is the expensive part); it is filled with whatever is computed here.
    """
    stage = BY_NAME[name]
    for upstream in stage.upstream:
        if upstream not in outputs:
            outputs[upstream] = BY_NAME[upstream].outputs(study)
    return sha256_json(
        {
            "inputs": _jsonable(stage.inputs(study)),
            "upstream": {upstream: outputs[upstream] for upstream in stage.upstream},
        }
    )


def run_study(
    config: ExperimentConfig,
    root: str | Path,
    *,
    start: str | None = None,
    only: Sequence[str] | None = None,
    force: bool = False,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run (or resume) the study in `root`; returns the ledger's entries.

    The whole study is checked first (`harness.study.checks`). A run directory this call
    creates is removed again if the first stage fails, so a bad start leaves nothing.
    """
    stages = plan(start, only)
    check_study(config)
    study = Study(config, RunLayout(Path(root).resolve()))
    layout = study.layout
    created = not layout.root.exists()
    claim_output_dir(layout.root, "run")
    try:
        return _run_stages(study, stages, force=force, echo=echo)
    except BaseException:
        if created and not layout.run_manifest.is_file():
            shutil.rmtree(layout.root, ignore_errors=True)
        raise


def _run_stages(
    study: Study, stages: Sequence[str], *, force: bool, echo: Callable[[str], None]
) -> dict[str, Any]:
    config, layout = study.config, study.layout
    write_text(layout.config, dump_config(config))
    ledger = Ledger(layout.run_manifest)
    outputs: dict[str, str] = {}  # output hash by stage; a stage that runs replaces its own
    for name in stages:
        stage = BY_NAME[name]
        inputs = stage_inputs(study, name, outputs)
        if not force and ledger.inputs(name) == inputs:
            outputs.setdefault(name, stage.outputs(study))
            if ledger.fresh(name, inputs, {"outputs": outputs[name]}):
                echo(f"[{name}] up to date, skipped")
                continue
        echo(f"[{name}] running")
        started = time.monotonic()
        stage.run(study)
        seconds = round(time.monotonic() - started, 1)
        outputs[name] = stage.outputs(study)
        ledger.record(name, inputs, {"outputs": outputs[name]}, seconds=seconds)
        ledger.save(name=config.name, config_sha256=sha256_json(config.model_dump(mode="json")))
        echo(f"[{name}] done in {seconds:.0f}s")
    return ledger.entries
