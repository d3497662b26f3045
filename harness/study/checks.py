"""Checks across a whole study, run by `diq config --check` and before `diq run` starts a stage.

A section validates itself; these checks relate sections to each other and to the disk:
the names the report and training refer to against the subsets and models the study
will produce, the task names and arguments against the registered tasks, and every path
the config names. Each problem is an `InputError` naming the config field, found in a
second rather than after hours of scoring and training.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from pathlib import Path

from harness.core.config import TaskSpec
from harness.core.errors import DiqError, InputError
from harness.core.fingerprint import looks_like_hub_id
from harness.study.config import ExperimentConfig
from harness.study.models import parse_model
from selection.config import ratio_label
from selection.subsets import subset_name

AGGREGATES = ("AvgS", "AvgC", "AvgA")
POOL_SUFFIXES = (".json", ".jsonl", ".parquet")


def subset_names(config: ExperimentConfig) -> list[str]:
    """The subsets selection will write: every strategy at every budget, `full` once."""
    select = config.select
    labels = [ratio_label(r) for r in select.ratios] + [f"n{c}" for c in select.counts]
    names: list[str] = []
    for strategy in select.strategies:
        for label in labels if strategy != "full" else labels[:1]:
            names.append(subset_name(strategy, label))
    return names


def model_labels(config: ExperimentConfig) -> set[str]:
    """The labels the report will know the study's models by."""
    wanted = config.train.subsets
    trained = [name for name in subset_names(config) if wanted is None or name in wanted]
    labels = set(trained)
    for spec in config.eval.models:
        try:
            model = parse_model(spec, {}, config.eval.provider)
        except DiqError:
            continue  # reported by the path checks below
        labels.add(model.label or model.name)
    return labels | set(config.report.labels.values())


def _names_check(config: ExperimentConfig) -> None:
    produced = subset_names(config)
    for name in config.train.subsets or []:
        if name not in produced:
            raise InputError(
                f"{name!r} is not a subset this study selects ({', '.join(produced)})",
                field="train.subsets",
            )
    for name in config.train.models:
        if name not in produced:
            raise InputError(
                f"{name!r} is not a subset this study selects ({', '.join(produced)})",
                field="train.models",
            )
    labels = model_labels(config)
    reference = config.report.reference
    if reference is not None and reference not in labels:
        raise InputError(
            f"{reference!r} is not a model of this study; its models are "
            f"{', '.join(sorted(labels))}",
            field="report.reference",
        )
    for model in config.report.primary_models:
        if model not in labels or model == reference:
            raise InputError(
                f"{model!r} is not a model of this study compared with the reference; its "
                f"models are {', '.join(sorted(labels))}",
                field="report.primary_models",
            )
    if config.report.primary_models and not config.report.primary:
        raise InputError(
            "needs report.primary (the measures they are tested on)", field="report.primary_models"
        )
    tasks = {spec.label or spec.task for spec in _all_tasks(config)}
    for measure in config.report.primary:
        if measure not in AGGREGATES and measure.split("/")[0] not in tasks:
            raise InputError(
                f"{measure!r} is neither an aggregate ({', '.join(AGGREGATES)}) nor a measure "
                f"of a task of this study (TASK/scorer/metric; tasks: {', '.join(sorted(tasks))})",
                field="report.primary",
            )


def _all_tasks(config: ExperimentConfig) -> list[TaskSpec]:
    from tasks.suites import get_suite

    specs = list(config.eval.task_specs())
    specs += config.judge.tasks if config.judge.graders else []
    specs += config.select.validation.tasks
    for name in config.select.validation.suites:
        specs += [TaskSpec(task=e.task, args=e.args, label=e.label) for e in get_suite(name).tasks]
    return specs


def _tasks_check(config: ExperimentConfig) -> None:
    """Every task exists and takes the arguments given to it."""
    import importlib

    from tasks.suites import SUITES

    registry = importlib.import_module("tasks._registry")
    fields = (
        [("eval.suites", name) for name in config.eval.suites]
        + [("select.validation.suites", name) for name in config.select.validation.suites]
        + [("select.decontaminate_suites", name) for name in config.select.decontaminate_suites]
    )
    for field, name in fields:
        if name not in SUITES:
            raise InputError(
                f"unknown suite {name!r}; choose from {', '.join(SUITES)}", field=field
            )
    sections = (
        ("eval.tasks", config.eval.tasks),
        ("judge.tasks", config.judge.tasks),
        ("select.validation.tasks", config.select.validation.tasks),
    )
    for field, specs in sections:
        for index, spec in enumerate(specs):
            function = getattr(registry, spec.task, None)
            if function is None:
                raise InputError(f"unknown task {spec.task!r}", field=f"{field}.{index}.task")
            accepted = inspect.signature(function).parameters
            for argument in spec.args:
                if argument not in accepted:
                    raise InputError(
                        f"task {spec.task} takes no argument {argument!r} (it takes "
                        f"{', '.join(accepted)})",
                        field=f"{field}.{index}.args",
                    )


def _named_paths(config: ExperimentConfig) -> Iterator[tuple[str, str | None, str]]:
    """(field, value, kind) of every local path the config names (kind: file, dir, any)."""
    select = config.select
    yield "select.validation.path", select.validation.path, "file"
    yield "select.scoring.adapter", select.scoring.adapter, "dir"
    yield "select.scoring.less.optimizer_state", select.scoring.less.optimizer_state, "file"
    yield "select.difficulty.labels", select.difficulty.labels, "file"
    yield "select.difficulty.classifier", select.difficulty.classifier, "dir"
    yield "select.difficulty.scores", select.difficulty.scores, "file"
    for index, path in enumerate(select.eval_texts):
        yield f"select.eval_texts.{index}", path, "file"
    yield "train.accelerate_config", config.train.accelerate_config, "file"
    for name, path in config.train.models.items():
        yield f"train.models.{name}", path, "any"
    yield "eval.exclude", config.eval.exclude, "file"
    for index, path in enumerate(config.eval.logs):
        yield f"eval.logs.{index}", path, "any"


def _paths_check(config: ExperimentConfig) -> None:
    _pool_check(config)
    for field, value, kind in _named_paths(config):
        if value is None:
            continue
        path = Path(value).expanduser()
        if not path.exists():
            raise InputError("no such file or directory", path=value, field=field)
        if kind == "file" and not path.is_file():
            raise InputError("not a file", path=value, field=field)
        if kind == "dir" and not path.is_dir():
            raise InputError("not a directory", path=value, field=field)
    for field, value in (
        ("train.base", config.train.base),
        ("select.scoring.model", config.select.scoring.model),
    ):
        if (
            value is not None
            and not looks_like_hub_id(value)
            and not Path(value).expanduser().exists()
        ):
            raise InputError("no such file or directory", path=value, field=field)
    for index, spec in enumerate(config.eval.models):
        try:
            parse_model(spec, {}, config.eval.provider)
        except DiqError as error:
            raise InputError(str(error), field=f"eval.models.{index}") from None


def _pool_check(config: ExperimentConfig) -> None:
    """A local pool must be a file of a pool format; its first record must parse as JSON."""
    pool = config.select.pool
    path = Path(pool.path).expanduser()
    if pool.format == "hf" or (not path.exists() and looks_like_hub_id(pool.path)):
        return  # a Hugging Face dataset id
    field = "select.pool.path"
    if not path.exists():
        raise InputError("no such file or directory", path=pool.path, field=field)
    if path.is_dir():
        return  # a saved Hugging Face dataset
    if path.suffix not in POOL_SUFFIXES:
        raise InputError(
            f"not a pool file (expected {', '.join(POOL_SUFFIXES)})", path=pool.path, field=field
        )
    if path.suffix == ".parquet":
        return
    try:
        with path.open(encoding="utf-8") as handle:
            first = handle.read(1 << 16).lstrip()
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", path=pool.path, field=field) from None
    if not first:
        raise InputError("the pool is empty", path=pool.path, field=field)
    if first[0] not in "[{":
        raise InputError("not JSON or JSON lines", path=pool.path, line=1, field=field)
    if path.suffix == ".jsonl" or first[0] == "{":
        line = first.split("\n", 1)[0]
        try:
            json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(
                f"not JSON lines ({error.msg})", path=pool.path, line=1, field=field
            ) from None


def check_study(config: ExperimentConfig, source: str | None = None) -> None:
    """Every study-level check; the first problem is raised (see the module docstring).

    `source`: the config file, named in errors about a field of it.
    """
    try:
        _tasks_check(config)
        _names_check(config)
        _paths_check(config)
    except InputError as error:
        if error.path is not None or source is None:
            raise
        raise InputError(error.message, path=source, field=error.field) from None
