"""Which label each log's model is reported under, and which logs a report keeps.

Every model is identified by a *label*: its Inspect model name unless the user maps a
log or model to a label, the log names one in its eval metadata, or a run directory's
`models/<name>` folder names it. Two complete logs of one task under one label are
ambiguous; an incomplete log shadowed by a complete one is skipped with a warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.core.errors import ConfigError
from reports.config import SettingError
from reports.logs import LogRecord


@dataclass
class LogInfo:
    """A log's header facts and the label its model is reported under."""

    record: LogRecord
    label: str


def assign_labels(
    records: Sequence[LogRecord],
    mapping: dict[str, str],
    models_dir: Path | None = None,
) -> list[str]:
    """The label of each log's model.

    Precedence: a `labels` entry naming the log (path, file name, eval id or task id),
    then one naming the model; the `label` in the log's eval metadata (`diq run` passes
    `metadata={"label": NAME}` to `eval_set`, which is how a `data_quality` log of a
    subset is named after it instead of `none/none`); in a run directory, the
    `models/<name>` folder the model was loaded from; then the Inspect model name. Two
    complete logs of one task under one label are ambiguous and raise an error that
    lists them.
    """
    used: set[str] = set()
    labels = []
    for record in records:
        path = Path(record.path)
        keys = [str(path), path.name, path.stem, record.eval_id, record.run_id]
        label = next((mapping[k] for k in keys if k in mapping), None)
        if label is not None:
            used.update(k for k in keys if k in mapping)
        elif record.model in mapping:
            label = mapping[record.model]
            used.add(record.model)
        else:
            label = record.label or _run_dir_label(record, models_dir) or record.model
        labels.append(label)
    unknown = sorted(set(mapping) - used)
    if unknown:
        raise SettingError(
            "labels",
            f"names no log or model: {', '.join(unknown)} "
            f"(models: {', '.join(sorted({r.model for r in records}))})",
        )
    seen: dict[tuple[str, str], str] = {}
    for record, label in zip(records, labels, strict=True):
        if record.status != "success":
            continue
        other = seen.setdefault((record.task, label), record.path)
        if other != record.path:
            raise ConfigError(
                f"two complete logs of task {record.task!r} are labelled {label!r}: "
                f"{other} and {record.path}; give each a distinct label (labels: LOG -> LABEL, "
                "or a `label` in its eval metadata)"
            )
    return labels


def _run_dir_label(record: LogRecord, models_dir: Path | None) -> str | None:
    """`<name>` when the model was loaded from `models_dir/<name>` (local hf/ or vLLM path)."""
    if models_dir is None:
        return None
    for value in (record.model_args.get("model_path"), record.model.split("/", 1)[-1]):
        if isinstance(value, str) and value:
            try:
                relative = Path(value).resolve().relative_to(models_dir.resolve())
            except (ValueError, OSError):
                continue
            if relative.parts:
                return relative.parts[0]
    return None


def select_logs(records: list[LogRecord], labels: list[str]) -> tuple[list[LogInfo], list[str]]:
    """Drop incomplete logs shadowed by a complete one of the same task and label."""
    complete = {
        (r.task, label) for r, label in zip(records, labels, strict=True) if r.status == "success"
    }
    kept, warnings = [], []
    for record, label in zip(records, labels, strict=True):
        if record.status != "success" and (record.task, label) in complete:
            warnings.append(
                f"skipped {record.path} (status {record.status}; a complete log exists)"
            )
            continue
        if record.status != "success":
            warnings.append(
                f"{record.path}: status {record.status}, {len(record.samples)} samples read"
                + (f" ({record.error})" if record.error else "")
            )
        kept.append(LogInfo(record, label))
    incomplete_duplicates = _duplicates([(i.record.task, i.label) for i in kept])
    if incomplete_duplicates:
        task, label = incomplete_duplicates[0]
        raise ConfigError(
            f"several incomplete logs of task {task!r} are labelled {label!r}; "
            "pass only one, or give each a distinct label (labels: LOG -> LABEL)"
        )
    return kept, warnings


def _duplicates(keys: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[tuple[str, str]] = set()
    repeated = []
    for key in keys:
        if key in seen:
            repeated.append(key)
        seen.add(key)
    return repeated
