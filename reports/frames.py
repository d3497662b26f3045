"""Tidy frames from log records: one row per model x sample x metric, epochs reduced per item.

A *measure* is one number a scorer gives each sample: the value of a scalar scorer
(`mcq_answer`: C/I), or one key of a dict-valued scorer (a judge's `ddx`, `ddx_rating`,
`healthbench_score`, ...). Keys starting with `crit_` are per-criterion verdicts, kept
apart for criterion pass rates (see `reports.scores`). A binary measure stays binary
after epochs are averaged per item only if all epochs agreed.

A task's *design* says how its items relate across logs. By default every model answers
the same items, so comparisons pair them by sample id. A task whose logs each hold their
own items (`data_quality` judges the records of one subset per log; record ids overlap
only partly) declares `Task(metadata={"pairing": "independent"})`, and its measures are
compared as two independent samples. A task drawn from part of a published set says so
in `Task(metadata={"coverage": ...})` (`reports.logs.Coverage`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from harness.core.errors import InputError
from reports.labels import LogInfo
from reports.logs import Coverage, SampleRecord, is_missing
from reports.scores import (
    CRITERION_PREFIX,
    DIAGNOSTIC_KEYS,
    collect_judge,
    format_failure,
    judgement_failed,
    measure_bounds,
    output_view,
    response_length,
    score_to_float,
    track_kind,
)

Kind = Literal["binary", "graded"]
Design = Literal["paired", "independent"]


@dataclass(frozen=True, order=True)
class Measure:
    """One per-sample number: a scalar scorer's value or one key of a dict-valued score."""

    task: str
    scorer: str
    metric: str
    kind: Kind = "graded"
    judged: bool = False  # produced by a dict-valued (rubric/judge) scorer
    design: Design = "paired"
    # the scale its values live on (`reports.scores.measure_bounds`); None: unbounded
    bounds: tuple[float, float] | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        return f"{self.task}/{self.scorer}/{self.metric}"

    @property
    def label(self) -> str:
        """Short display name: the task, plus the metric when it is not the scorer itself."""
        return self.task if self.metric == self.scorer else f"{self.task} · {self.metric}"


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
    coverage: dict[str, Coverage]  # task -> part of a published set it draws from (partial sets)
    texts: dict[tuple[str, str], dict[str, Any]]  # paired tasks: (task, sample_id) -> input, ...
    # independent tasks: (label, task, sample_id) -> input, target, choices (one side's own item)
    side_texts: dict[tuple[str, str, str], dict[str, Any]]
    outputs: dict[tuple[str, str, str], dict[str, Any]]  # (label, task, sample_id) -> epoch 1
    judges: dict[str, dict[str, list[str]]]  # task/scorer -> rubric ids, versions, judges, prompts
    warnings: list[str] = field(default_factory=list)


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


def task_coverage(logs: Sequence[LogInfo]) -> tuple[dict[str, Coverage], list[str]]:
    """Each partial task's coverage, as its logs declare it; logs that disagree are named."""
    found: dict[str, dict[Coverage | None, list[str]]] = {}
    for info in logs:
        by_value = found.setdefault(info.record.task, {})
        by_value.setdefault(info.record.coverage, []).append(Path(info.record.path).name)
    coverage: dict[str, Coverage] = {}
    warnings = []
    for task, by_value in sorted(found.items()):
        declared = [value for value in by_value if value is not None]
        if declared:
            coverage[task] = declared[0]
        if len(by_value) > 1:
            shown = "; ".join(
                f"{', '.join(sorted(names))}: {value.describe() if value else 'complete'}"
                for value, names in by_value.items()
            )
            warnings.append(f"task {task}: logs disagree on the set they draw from ({shown})")
    return coverage, warnings


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
    coverage, coverage_warnings = task_coverage(logs)
    warnings += coverage_warnings
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
            sample_rows.append(
                {
                    "label": label,
                    "task": task,
                    "sample_id": sample.id,
                    "epoch": sample.epoch,
                    "subject": str(sample.metadata.get("subject", "")),
                    "error": sample.error is not None,
                    "format_failure": format_failure(sample.scores),
                    "response_length": response_length(sample),
                    "reasons": sorted({s.reason for s in sample.scores.values() if s.reason}),
                    "unscored": sorted(n for n, s in sample.scores.items() if judgement_failed(s)),
                }
            )
            if sample.epoch == 1 or (label, task, sample.id) not in outputs:
                outputs[(label, task, sample.id)] = output_view(sample)
            for scorer, score in sample.scores.items():
                collect_judge(judges, f"{task}/{scorer}", score)
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
                        track_kind(raw_kinds, (task, scorer, key), raw)
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
                    track_kind(raw_kinds, (task, scorer, scorer), value)
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
                measure_bounds(metric, values, binary),
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
        coverage=coverage,
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


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


def _cluster(sample: SampleRecord, cluster_key: str | None) -> str:
    """The sample's cluster id (its own id when it names no cluster)."""
    if cluster_key and not is_missing(sample.metadata.get(cluster_key)):
        return f"cluster:{sample.metadata[cluster_key]}"
    return f"item:{sample.id}"


def check_nonempty(frames: Frames) -> None:
    """Fail clearly when the logs hold no scored samples at all."""
    if frames.items.empty:
        paths = ", ".join(info.record.path for info in frames.logs)
        raise InputError("the logs contain no scored samples", path=paths)
