"""What several stages share: the subsets a study trains, its models, and its log folders."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.core.errors import ConfigError
from harness.core.inspect_names import local_path
from harness.study.evaluation import evaluate
from harness.study.models import ModelSpec
from harness.study.stage import Study

logger = logging.getLogger(__name__)


def subset_files(study: Study) -> list[Path]:
    """The subsets to train on: all that selection wrote, or those `train.subsets` names."""
    files = sorted(study.layout.subsets.glob("*.jsonl"))
    wanted = study.config.train.subsets
    if wanted is not None:
        missing = sorted(set(wanted) - {f.stem for f in files})
        if missing:
            raise ConfigError(
                f"train.subsets names subsets that selection did not write: {', '.join(missing)}"
            )
        files = [f for f in files if f.stem in wanted]
    return files


def checkpoints(study: Study) -> dict[str, str]:
    """Every fine-tuned model of the study, by subset name: trained here or given."""
    given = study.config.train.models
    return {
        subset.stem: given.get(subset.stem) or str(study.layout.model(subset.stem))
        for subset in subset_files(study)
    }


def model_specs(study: Study) -> list[ModelSpec]:
    """Every model to evaluate: the fine-tuned ones, then `eval.models`."""
    names = [f"{name}={path}" for name, path in checkpoints(study).items()]
    return study.config.eval.model_specs(names)


def excluded_items(study: Study) -> str | None:
    """Items never to evaluate: the drawn validation items, else `eval.exclude`."""
    drawn = study.layout.validation_items
    return str(drawn) if drawn.is_file() else study.config.eval.exclude


def evaluate_or_fail(
    tasks: list[Any], models: list[ModelSpec] | None, log_dir: Path, **kwargs: Any
) -> list[Path]:
    """`harness.study.evaluation.evaluate`, failing when an eval set did not complete."""
    logs, failed = evaluate(tasks, models, log_dir, **kwargs)
    if failed:
        raise ConfigError(
            f"evaluation of {', '.join(failed)} did not complete; rerun `diq run` to resume "
            f"(logs in {log_dir})"
        )
    return [local_path(log.location) for log in logs]


def prune_logs(log_dir: Path, keep: Sequence[Path]) -> None:
    """Delete every log under `log_dir` that the stage's eval sets did not return.

    eval_set leaves the logs of tasks no longer asked for (an older `limit`, grader,
    checkpoint path or subset) beside the current ones, and the report would read both.
    """
    if not log_dir.is_dir():
        return
    from inspect_ai.log import list_eval_logs

    current = set(keep)
    for info in list_eval_logs(str(log_dir), recursive=True):
        path = local_path(info.name)
        if path not in current:
            logger.info("removing %s: no longer part of the study", path)
            path.unlink(missing_ok=True)
