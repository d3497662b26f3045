"""The judge stage: open-ended cases answered by every model and judged; subsets judged as data."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from harness.core.fingerprint import file_hash
from harness.study.evaluation import build_tasks
from harness.study.stage import Stage, Study, logs_digest
from harness.study.stages.common import (
    evaluate_or_fail,
    excluded_items,
    model_specs,
    prune_logs,
    subset_files,
)
from harness.study.stages.evaluate import evaluated_models

logger = logging.getLogger(__name__)


def graders(study: Study) -> Any:
    """The grader role: one model, or a list (a jury)."""
    from inspect_ai.model import get_model

    import rubrics.reference_grader  # noqa: F401  (registers the reference-grader provider)

    config = study.config.judge
    models = [get_model(name, **config.grader_args) for name in config.graders]
    return models[0] if len(models) == 1 else models


def _inputs(study: Study) -> Any:
    return {"judge": study.config.judge, "models": evaluated_models(study)}


def _outputs(study: Study) -> str:
    return logs_digest(study.layout.judge_logs)


def _run(study: Study) -> None:
    from tasks.data_quality import data_quality

    config = study.config.judge
    layout = study.layout
    if not config.graders:
        logger.info("judge: no graders configured, skipping")
        return
    roles = {"grader": graders(study)}
    overrides: dict[str, Any] = {"seed": config.seed, "mode": config.mode}
    if config.max_tokens:
        overrides["max_tokens"] = config.max_tokens
    exclude = excluded_items(study)
    if exclude:
        overrides["exclude"] = exclude
    tasks = build_tasks(config.tasks, overrides)
    logs: list[Path] = []
    if tasks:
        logs += evaluate_or_fail(
            tasks, model_specs(study), layout.judge_logs, model_roles=roles, seed=config.seed
        )
    if config.data_quality:
        for subset in subset_files(study):
            task = data_quality(
                path=str(subset),
                limit=config.data_quality_limit,
                seed=config.seed,
                mode=config.mode,
            )
            digest = file_hash(subset)
            logs += evaluate_or_fail(
                [task],
                None,
                layout.judge_logs / "data_quality" / subset.stem,
                identity=lambda _, digest=digest: digest,
                model_roles=roles,
                metadata={"label": subset.stem},
            )
    prune_logs(layout.judge_logs, logs)


STAGE = Stage(
    name="judge", upstream=("select", "train"), inputs=_inputs, outputs=_outputs, run=_run
)
