"""Tidy frames from log records: one row per model x sample x metric, epochs reduced per item.

Every model is identified by a *label* (its Inspect model name unless the user maps a
log or model to a label). A *measure* is one number a scorer gives each sample: the
value of a scalar scorer (`mcq_answer`: C/I), or one key of a dict-valued scorer (a
judge's `ddx`, `ddx_rating`, `healthbench_score`, ...). Keys starting with `crit_` are
per-criterion verdicts, kept apart for criterion pass rates.

A measure is *binary* when every value is C/I/N, a bool, or an integer 0/1; after
epochs are averaged per item it stays binary only if all epochs agreed.

A task's *design* says how its items relate across logs. By default every model answers
the same items, so comparisons pair them by sample id. A task whose logs each hold their
own items (`data_quality` judges the records of one subset per log; record ids overlap
only partly) declares `Task(metadata={"pairing": "independent"})`, and its measures are
compared as two independent samples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from harness.core.errors import ConfigError, InputError
from reports.logs import LogRecord, SampleRecord, ScoreRecord, is_missing

Kind = Literal["binary", "graded"]
Design = Literal["paired", "independent"]

INVALID_FORMAT = "invalid_response_format"
CRITERION_PREFIX = "crit_"
GRADER_FAILED = "grader_failed"
# Dict keys that describe the judging rather than the answer: reported under judge
# health (failures, length, jury agreement), never compared as measures.
DIAGNOSTIC_KEYS = frozenset({GRADER_FAILED, "response_length", "jury_agreement"})
LETTER_VALUES = {"C": 1.0, "I": 0.0, "N": 0.0, "P": 0.5}
BINARY_LETTERS = {"C", "I", "N"}
# Score metadata keys that describe the judge (collected for provenance). Per-sample
# prompts are not among them: they differ for every sample.
JUDGE_KEYS = ("rubric_ids", "rubric_versions", "rubric_hashes", "judges", "mode")


@dataclass(frozen=True, order=True)
class Measure:
    """One per-sample number: a scalar scorer's value or one key of a dict-valued score."""

    task: str
    scorer: str
    metric: str
    kind: Kind = "graded"
    judged: bool = False  # produced by a dict-valued (rubric/judge) scorer
    design: Design = "paired"

    @property
    def key(self) -> str:
        return f"{self.task}/{self.scorer}/{self.metric}"

    @property
    def label(self) -> str:
        """Short display name: the task, plus the metric when it is not the scorer itself."""
        return self.task if self.metric == self.scorer else f"{self.task} · {self.metric}"


@dataclass
class LogInfo:
    """A log's header facts and the label its model is reported under."""

    record: LogRecord
    label: str


@dataclass
class Frames:
    """Everything the statistics and the report read, in tidy form."""

    logs: list[LogInfo]
    labels: list[str]
    measures: list[Measure]
    items: pd.DataFrame  # label, task, scorer, metric, sample_id, cluster, value, epochs, epoch_sd
    samples: pd.DataFrame  # label, task, benchmark, sample_id, epoch, error, format_failure, ...
    criteria: pd.DataFrame  # label, task, scorer, criterion, sample_id, value
    benchmarks: dict[str, str]  # task -> benchmark name (sample metadata `benchmark`)
    designs: dict[str, Design]  # task -> how its items relate across logs
    texts: dict[tuple[str, str], dict[str, Any]]  # paired tasks: (task, sample_id) -> input, ...
    # independent tasks: (label, task, sample_id) -> input, target, choices (one side's own item)
    side_texts: dict[tuple[str, str, str], dict[str, Any]]
    outputs: dict[tuple[str, str, str], dict[str, Any]]  # (label, task, sample_id) -> epoch 1
    judges: dict[str, dict[str, list[str]]]  # task/scorer -> rubric ids, versions, judges, prompts
    warnings: list[str] = field(default_factory=list)


def assign_labels(
    records: Sequence[LogRecord],
    mapping: dict[str, str],
    models_dir: Path | None = None,
) -> list[str]:
    """The label of each log's model.

    Precedence: a `--label` entry naming the log (path, file name, eval id or task id),
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
        raise ConfigError(
            f"--label names no log or model: {', '.join(unknown)} "
            f"(models: {', '.join(sorted({r.model for r in records}))})"
        )
    seen: dict[tuple[str, str], str] = {}
    for record, label in zip(records, labels, strict=True):
        if record.status != "success":
            continue
        other = seen.setdefault((record.task, label), record.path)
        if other != record.path:
            raise ConfigError(
                f"two complete logs of task {record.task!r} are labelled {label!r}: "
                f"{other} and {record.path}; give each a distinct --label LOG=LABEL "
                "(or a `label` in its eval metadata)"
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
            "pass only one, or give each a distinct --label LOG=LABEL"
        )
    return kept, warnings


def _duplicates(keys: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[tuple[str, str]] = set()
    return [k for k in keys if k in seen or seen.add(k)]  # type: ignore[func-returns-value]


def task_designs(logs: Sequence[LogInfo]) -> tuple[dict[str, Design], list[str]]:
    """Each task's design, as its logs declare it (task metadata `pairing`).

    Logs of one task that disagree (say, an older `data_quality` log written before the
    task declared its design) are analysed as independent samples, with a warning:
    pairing items that are not the same would be wrong, treating paired items as
    independent only loses power.
    """
    declared: dict[str, dict[str, list[str]]] = {}
    for info in logs:
        by_design = declared.setdefault(info.record.task, {})
        by_design.setdefault(info.record.pairing, []).append(Path(info.record.path).name)
    designs: dict[str, Design] = {}
    warnings = []
    for task, by_design in sorted(declared.items()):
        designs[task] = "independent" if "independent" in by_design else "paired"
        if len(by_design) > 1:
            warnings.append(
                f"task {task}: logs {', '.join(sorted(by_design['independent']))} declare "
                f"independent samples, logs {', '.join(sorted(by_design['paired']))} do not; "
                "analysed as independent samples"
            )
    return designs, warnings


def score_to_float(value: Any) -> float | None:
    """C/I/P/N to 1/0/0.5/0 (Inspect's convention), bools and numbers as floats, else None."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        if value in LETTER_VALUES:
            return LETTER_VALUES[value]
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _is_binary_raw(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return value in (0, 1)
    return isinstance(value, str) and value in BINARY_LETTERS


def format_failure(scores: dict[str, ScoreRecord]) -> bool:
    """True when any scorer says the answer could not be parsed (`invalid_response_format`)."""
    for score in scores.values():
        reasons = (
            score.reason,
            score.metadata.get("reason"),
            score.metadata.get("unscored_reason"),
        )
        if INVALID_FORMAT in reasons:
            return True
    return False


def judgement_failed(score: ScoreRecord) -> bool:
    """True when a scorer gave no usable verdict: unscored (NaN), or its grader failed.

    A rubric judge whose judgments partly failed keeps its other keys but sets
    `reason="grader_failed"` (and `grader_failed: 1` in the value); the failed keys
    are NaN and drop out of means like an unscored sample.
    """
    if is_missing(score.value) or score.reason == GRADER_FAILED:
        return True
    return (
        isinstance(score.value, dict) and score_to_float(score.value.get(GRADER_FAILED, 0)) == 1.0
    )


def build_frames(logs: list[LogInfo], cluster_key: str | None = "case_id") -> Frames:
    """Tidy frames for a set of labelled logs (epochs reduced per item)."""
    score_rows: list[tuple[Any, ...]] = []
    criterion_rows: list[tuple[Any, ...]] = []
    sample_rows: list[dict[str, Any]] = []
    texts: dict[tuple[str, str], dict[str, Any]] = {}
    outputs: dict[tuple[str, str, str], dict[str, Any]] = {}
    judges: dict[str, dict[str, set[str]]] = {}
    benchmarks: dict[str, str] = {}
    designs, warnings = task_designs(logs)
    side_texts: dict[tuple[str, str, str], dict[str, Any]] = {}
    raw_kinds: dict[tuple[str, str, str], bool] = {}  # measure -> every raw value binary
    dict_scorers: set[tuple[str, str]] = set()
    unscored_scorers: list[tuple[str, str, str, str, int, str, str | None]] = []
    non_numeric: set[str] = set()

    for info in logs:
        record, label = info.record, info.label
        for sample in record.samples:
            task = record.task
            benchmarks.setdefault(task, str(sample.metadata.get("benchmark") or task))
            cluster = _cluster(sample, cluster_key)
            text = {"input": sample.input, "target": sample.target, "choices": sample.choices}
            if designs[task] == "independent":
                side_texts.setdefault((label, task, sample.id), text)
            else:
                texts.setdefault((task, sample.id), text)
            response_length = _response_length(sample)
            sample_rows.append(
                {
                    "label": label,
                    "task": task,
                    "sample_id": sample.id,
                    "epoch": sample.epoch,
                    "subject": str(sample.metadata.get("subject", "")),
                    "error": sample.error is not None,
                    "format_failure": format_failure(sample.scores),
                    "response_length": response_length,
                    "reasons": sorted({s.reason for s in sample.scores.values() if s.reason}),
                    "unscored": sorted(n for n, s in sample.scores.items() if judgement_failed(s)),
                }
            )
            if sample.epoch == 1 or (label, task, sample.id) not in outputs:
                outputs[(label, task, sample.id)] = _output_view(sample)
            for scorer, score in sample.scores.items():
                _collect_judge(judges, f"{task}/{scorer}", score)
                value = score.value
                if isinstance(value, dict):
                    dict_scorers.add((task, scorer))
                    for key, raw in value.items():
                        number = None if raw is None else score_to_float(raw)
                        if raw is not None and number is None:
                            non_numeric.add(f"{task}/{scorer}/{key}")
                            continue
                        if key in DIAGNOSTIC_KEYS:
                            continue
                        if key.startswith(CRITERION_PREFIX):
                            criterion_rows.append(
                                (
                                    label,
                                    task,
                                    scorer,
                                    key.removeprefix(CRITERION_PREFIX),
                                    sample.id,
                                    sample.epoch,
                                    _nan(number),
                                )
                            )
                            continue
                        _track_kind(raw_kinds, (task, scorer, key), raw)
                        score_rows.append(
                            (
                                label,
                                task,
                                scorer,
                                key,
                                sample.id,
                                sample.epoch,
                                cluster,
                                _nan(number),
                                score.reason,
                            )
                        )
                elif is_missing(value):
                    unscored_scorers.append(
                        (label, task, scorer, sample.id, sample.epoch, cluster, score.reason)
                    )
                elif isinstance(value, list):
                    non_numeric.add(f"{task}/{scorer}")
                else:
                    number = score_to_float(value)
                    if number is None:
                        non_numeric.add(f"{task}/{scorer}")
                        continue
                    _track_kind(raw_kinds, (task, scorer, scorer), value)
                    score_rows.append(
                        (
                            label,
                            task,
                            scorer,
                            scorer,
                            sample.id,
                            sample.epoch,
                            cluster,
                            number,
                            score.reason,
                        )
                    )

    # An unscored sample (NaN value) counts as missing on every metric its scorer has.
    metrics_of: dict[tuple[str, str], list[str]] = {}
    for task, scorer, metric in raw_kinds:
        metrics_of.setdefault((task, scorer), []).append(metric)
    for label, task, scorer, sample_id, epoch, cluster, reason in unscored_scorers:
        for metric in metrics_of.get((task, scorer), [scorer]):
            score_rows.append(
                (label, task, scorer, metric, sample_id, epoch, cluster, math.nan, reason)
            )
            raw_kinds.setdefault((task, scorer, metric), True)

    if non_numeric:
        warnings.append(f"ignored non-numeric score values: {', '.join(sorted(non_numeric))}")

    scores = pd.DataFrame(
        score_rows,
        columns=[
            "label",
            "task",
            "scorer",
            "metric",
            "sample_id",
            "epoch",
            "cluster",
            "value",
            "reason",
        ],
    )
    items = reduce_epochs(scores)
    measures = []
    for task, scorer, metric in sorted(raw_kinds):
        values = items.loc[
            (items.task == task) & (items.scorer == scorer) & (items.metric == metric), "value"
        ].dropna()
        binary = raw_kinds[(task, scorer, metric)] and bool(np.isin(values, (0.0, 1.0)).all())
        measures.append(
            Measure(
                task,
                scorer,
                metric,
                "binary" if binary else "graded",
                (task, scorer) in dict_scorers,
                designs[task],
            )
        )
    # Benchmarks before judge scores, then by task and name.
    measures.sort(key=lambda m: (m.judged, m.task, m.scorer, m.metric))
    criteria = pd.DataFrame(
        criterion_rows,
        columns=["label", "task", "scorer", "criterion", "sample_id", "epoch", "value"],
    )
    if not criteria.empty:
        criteria = (
            criteria.groupby(["label", "task", "scorer", "criterion", "sample_id"], sort=True)[
                "value"
            ]
            .mean()
            .reset_index()
        )
    labels = sorted({info.label for info in logs})
    return Frames(
        logs=logs,
        labels=labels,
        measures=measures,
        items=items,
        samples=pd.DataFrame(sample_rows),
        criteria=criteria,
        benchmarks=benchmarks,
        designs=designs,
        texts=texts,
        side_texts=side_texts,
        outputs=outputs,
        judges={
            key: {k: sorted(v) for k, v in found.items()} for key, found in sorted(judges.items())
        },
        warnings=warnings,
    )


def reduce_epochs(scores: pd.DataFrame) -> pd.DataFrame:
    """One value per item: the mean over scored epochs, with the epoch count and spread.

    An item whose every epoch is unscored keeps a NaN value (it is counted as unscored
    and left out of means and pairings).
    """
    keys = ["label", "task", "scorer", "metric", "sample_id"]
    if scores.empty:
        return pd.DataFrame(columns=[*keys, "cluster", "value", "epochs", "epoch_sd"])
    grouped = scores.groupby(keys, sort=True, observed=True)
    items = grouped.agg(
        cluster=("cluster", "first"),
        value=("value", "mean"),
        epochs=("value", "count"),
        epoch_sd=("value", "std"),
    ).reset_index()
    return items


def _track_kind(
    kinds: dict[tuple[str, str, str], bool], key: tuple[str, str, str], raw: Any
) -> None:
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        kinds.setdefault(key, True)
        return
    kinds[key] = kinds.get(key, True) and _is_binary_raw(raw)


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


def _cluster(sample: SampleRecord, cluster_key: str | None) -> str:
    """The sample's cluster id (its own id when it names no cluster)."""
    if cluster_key and not is_missing(sample.metadata.get(cluster_key)):
        return f"cluster:{sample.metadata[cluster_key]}"
    return f"item:{sample.id}"


def _response_length(sample: SampleRecord) -> int:
    """Characters in the response (a judge's recorded `response_length` when it has one)."""
    for score in sample.scores.values():
        length = score.metadata.get("response_length")
        if isinstance(length, int | float) and not isinstance(length, bool):
            return int(length)
    return len(sample.output)


def _output_view(sample: SampleRecord) -> dict[str, Any]:
    """What the drill-down shows of one model's answer to one sample (first epoch)."""
    rationales: dict[str, Any] = {}
    for scorer, score in sample.scores.items():
        found = False
        for field_name, prefix in (("rating_rationales", "rating "), ("rationales", "")):
            entries = score.metadata.get(field_name)
            if isinstance(entries, dict):
                rationales.update({f"{scorer}/{prefix}{k}": v for k, v in entries.items()})
                found = True
        if not found and score.explanation and score.explanation != sample.output:
            rationales[scorer] = score.explanation
    return {
        "output": sample.output,
        "error": sample.error,
        "answers": {s: sc.answer for s, sc in sample.scores.items() if sc.answer is not None},
        "reasons": {s: sc.reason for s, sc in sample.scores.items() if sc.reason},
        "rationales": {k: v if isinstance(v, str) else str(v) for k, v in rationales.items()},
    }


def _collect_judge(found: dict[str, dict[str, set[str]]], key: str, score: ScoreRecord) -> None:
    for field_name in JUDGE_KEYS:
        value = score.metadata.get(field_name)
        if value is None:
            continue
        entry = found.setdefault(key, {})
        bucket = entry.setdefault(field_name, set())
        if isinstance(value, dict):
            bucket.update(f"{k}={_short(v)}" for k, v in value.items())
        elif isinstance(value, list):
            bucket.update(_short(v) for v in value)
        else:
            bucket.add(_short(value))


def _short(value: Any) -> str:
    """A provenance value; anything long is recorded by its hash."""
    from harness.core.io import sha256_json

    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= 80 else f"sha256:{sha256_json(text)[:16]}"


def check_nonempty(frames: Frames) -> None:
    """Fail clearly when the logs hold no scored samples at all."""
    if frames.items.empty:
        paths = ", ".join(info.record.path for info in frames.logs)
        raise InputError("the logs contain no scored samples", path=paths)
