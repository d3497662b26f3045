"""The review stage: blinded rater sheets from the judged open-ended answers."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from harness.core.errors import ConfigError, InputError
from harness.core.io import atomic_directory
from harness.study.stage import Stage, Study, files_digest

logger = logging.getLogger(__name__)


def _inputs(study: Study) -> Any:
    return {"review": study.config.review}


def _outputs(study: Study) -> str:
    """The export (imported ratings are the report's input, not this stage's output)."""
    layout = study.layout
    return files_digest(list(layout.review.glob("*.json")), layout.root)


def _run(study: Study) -> None:
    from reports.build import load_frames, resolve_inputs
    from reports.config import ReviewConfig, SettingError
    from reports.review.export import export_sheets

    stage = study.config.review
    layout = study.layout
    if not stage.enabled or not layout.judge_logs.is_dir():
        logger.info("review: nothing to export")
        return
    settings = stage.model_dump(exclude={"enabled"})
    if "tasks" not in stage.model_fields_set:  # the judged open-ended tasks, by default
        settings["tasks"] = [task.label or task.task for task in study.config.judge.tasks]
    config = ReviewConfig.model_validate(settings)
    frames = load_frames(resolve_inputs([layout.judge_logs], None), {}, None)
    _check_replaceable(layout.review)
    try:
        with atomic_directory(layout.review) as staging:
            export_sheets(frames, config, staging)
    except SettingError as error:
        raise ConfigError(f"review.{error.field}: {error.message}") from None


def _check_replaceable(review: Path) -> None:
    """A changed export replaces the old one as a whole, unless raters' work depends on it."""
    from reports.review.export import EXPORT_ENTRIES

    # anything beside the export (the ratings ledger above all) came later and rates it
    extra = sorted({p.name for p in review.iterdir()} - EXPORT_ENTRIES) if review.is_dir() else []
    if extra:
        raise InputError(
            "the judged answers or review settings changed since these sheets were exported, "
            f"and the folder holds more than the export ({', '.join(extra)}: imported ratings "
            "refer to the old sheets); move the folder aside to export afresh, or restore "
            "the settings",
            path=review,
        )


STAGE = Stage(name="review", upstream=("judge",), inputs=_inputs, outputs=_outputs, run=_run)
