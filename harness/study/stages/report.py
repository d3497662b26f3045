"""The report stage: paired statistics and the HTML report over the whole run directory."""

from __future__ import annotations

from typing import Any

from harness.core.fingerprint import fingerprint
from harness.core.io import iter_jsonl
from harness.study.stage import Stage, Study, files_digest


def pool_is_synthetic(study: Study) -> bool:
    """Whether every record of the normalized pool is marked `meta.synthetic` (the demo's).

    Stops at the first unmarked record, so a real pool costs one line.
    """
    pool = study.layout.pool
    if not pool.is_file():
        return False
    return all((row.get("meta") or {}).get("synthetic") is True for _, row in iter_jsonl(pool))


def _inputs(study: Study) -> Any:
    return {
        "report": study.config.report,
        "eval_logs": study.config.eval.logs,
        "ratings": fingerprint(study.layout.ratings) if study.layout.ratings.is_file() else None,
    }


def _outputs(study: Study) -> str:
    layout = study.layout
    return files_digest([layout.report / "report.json"], layout.root)


def _run(study: Study) -> None:
    from harness.core.errors import ConfigError
    from reports.build import build_report
    from reports.config import SettingError

    config = study.config.report
    layout = study.layout
    if "title" not in config.model_fields_set:
        synthetic = " (SYNTHETIC DATA)" if pool_is_synthetic(study) else ""
        title = f"{study.config.name}: DIQ study report{synthetic}"
        config = config.model_copy(update={"title": title})
    ratings = layout.ratings if layout.ratings.is_file() else None
    try:
        build_report([layout.root], layout.report, config, ratings=ratings)
    except SettingError as error:
        raise ConfigError(f"report.{error.field}: {error.message}") from None


STAGE = Stage(
    name="report",
    upstream=("select", "train", "eval", "judge", "review"),
    inputs=_inputs,
    outputs=_outputs,
    run=_run,
)
