"""The eval stage: every model on every benchmark task, one log per model x task."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.core.errors import InputError
from harness.core.fingerprint import file_hash
from harness.core.io import atomic_write, sha256_json
from harness.study.evaluation import build_tasks
from harness.study.models import model_identity
from harness.study.stage import Stage, Study, files_digest, logs_digest
from harness.study.stages.common import evaluate_or_fail, excluded_items, model_specs, prune_logs


def evaluated_models(study: Study) -> dict[str, Any]:
    """What decides how eval and judge run the models besides the trained ones."""
    config = study.config.eval
    return {
        "provider": config.provider,
        "model_args": config.model_args,
        "models": {spec.name: model_identity(spec) or spec.name for spec in config.model_specs()},
    }


def _inputs(study: Study) -> Any:
    from reports.logs import find_logs

    logs = study.config.eval.logs
    given = {str(log): file_hash(log) for log in find_logs(logs)} if logs else {}
    return {"eval": study.config.eval, "models": evaluated_models(study), "logs": given}


def _outputs(study: Study) -> str:
    layout = study.layout
    external = files_digest(list(layout.external_logs.glob("*")), layout.root)
    return sha256_json([logs_digest(layout.eval_logs), external])


def _run(study: Study) -> None:
    config = study.config.eval
    layout = study.layout
    overrides: dict[str, Any] = {"cot": config.cot, "shuffle": config.shuffle, "seed": config.seed}
    overrides.update(config.task_args)
    if config.max_tokens:
        overrides["max_tokens"] = config.max_tokens
    exclude = excluded_items(study)
    if exclude:
        overrides["exclude"] = exclude
    tasks = build_tasks(config.task_specs(), overrides, config.optional())
    logs = evaluate_or_fail(
        tasks,
        model_specs(study),
        layout.eval_logs,
        greedy=True,
        limit=config.limit,
        max_connections=config.max_connections,
        seed=config.seed,
    )
    prune_logs(layout.eval_logs, logs)
    sync_logs(config.logs, layout.external_logs)


def sync_logs(sources: Sequence[str], into: Path) -> None:
    """Make `into` hold exactly a copy of each log that `sources` name (the report reads it).

    A source log that changed is copied again and one no longer named is removed, so
    the report always reads the logs the config names, as they are now.
    """
    from reports.logs import find_logs

    wanted: dict[str, Path] = {}
    for log in find_logs(sources) if sources else []:
        other = wanted.setdefault(log.name, log)
        if other != log:
            raise InputError(
                f"two logs given in eval.logs share the file name {log.name!r} "
                f"({other} and {log}); rename one",
                field="eval.logs",
            )
    for existing in list(into.glob("*")):
        if existing.name not in wanted:
            existing.unlink()
    for name, log in wanted.items():
        target = into / name
        if not target.is_file() or file_hash(target) != file_hash(log):
            with log.open("rb") as source, atomic_write(target, "wb") as handle:
                shutil.copyfileobj(source, handle)


STAGE = Stage(name="eval", upstream=("select", "train"), inputs=_inputs, outputs=_outputs, run=_run)
