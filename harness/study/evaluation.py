"""The eval and judge stages' settings, and running tasks for models with Inspect's `eval_set`.

One log per model x task lands in the log directory; rerunning skips what finished
(eval_set's own bookkeeping) and re-evaluates a checkpoint whose content changed. Models
run one after another, so a GPU only ever holds one local checkpoint; for throughput,
serve checkpoints with vLLM (`provider: vllm`) or pass `openai-api/<service>/...` names.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from harness.core.config import Section, TaskSpec, cli
from harness.core.errors import ConfigError, InputError
from harness.study.models import (
    ModelSpec,
    check_distinct,
    materialized,
    model_identity,
    parse_model,
)

logger = logging.getLogger(__name__)

IDENTITY_KEY = "diq_inputs_sha256"


class EvalConfig(Section):
    """Benchmarks every model answers: the `eval:` section and `diq eval`."""

    suites: list[str] = Field(
        ["standard"],
        description="benchmark suites (see `diq eval list`): standard (AvgS), challenging "
        "(AvgC), paper, all",
        json_schema_extra=cli("--suite", repeat=True),
        examples=[["paper"]],
    )
    tasks: list[TaskSpec] = Field(
        [],
        description="more tasks, e.g. {task: medbullets, args: {options: 5, path: op5.csv}}",
        json_schema_extra=cli("--task"),
    )
    models: list[str] = Field(
        [],
        description="models to evaluate (a study adds its fine-tuned ones): LABEL=DIR, "
        "LABEL=HF_ID, a checkpoint directory, or provider/model",
        json_schema_extra=cli("--model", repeat=True),
        examples=[["base=meta-llama/Llama-3.1-8B-Instruct"]],
    )
    model_args: dict[str, Any] = Field(
        {},
        description="arguments of every model (Inspect's -M), e.g. {gpu_memory_utilization: 0.85}",
        json_schema_extra=cli("--model-arg", short="-M"),
        examples=[{"gpu_memory_utilization": 0.85}],
    )
    task_args: dict[str, Any] = Field(
        {},
        description="arguments of every task that takes them (Inspect's -T)",
        json_schema_extra=cli("--task-arg", short="-T"),
    )
    provider: Literal["hf", "vllm"] = Field(
        "hf",
        description="how local checkpoints run: hf (in-process) or vllm (Inspect's vLLM server)",
        examples=["vllm"],
    )
    limit: int | None = Field(None, ge=1, description="samples per task (smoke runs)")
    max_tokens: int | None = Field(
        None, ge=1, description="generation limit (reasoning models need room)", examples=[4096]
    )
    cot: bool = Field(False, description="chain-of-thought prompt instead of zero-shot")
    shuffle: bool = Field(False, description="shuffle the choices of every item")
    seed: int = Field(0, description="seed of choice shuffling and decoding")
    max_connections: int | None = Field(
        None, ge=1, description="concurrent requests (hf: the batch size)"
    )
    exclude: str | None = Field(
        None,
        description="validation items (or ids) never to evaluate (a study adds its drawn ones)",
        json_schema_extra=cli(path=True),
    )
    logs: list[str] = Field(
        [],
        description="Inspect logs made elsewhere to include in the report",
        json_schema_extra=cli(hidden=True, path=True),
    )

    def task_specs(self) -> list[TaskSpec]:
        """The suites' tasks, then the listed ones."""
        from tasks.suites import get_suite

        specs = [
            TaskSpec(task=entry.task, args=dict(entry.args), label=entry.label)
            for name in self.suites
            for entry in get_suite(name).tasks
        ]
        return specs + list(self.tasks)

    def optional(self) -> Callable[[TaskSpec], bool]:
        """Which tasks may be missing their data (user-supplied sets of a suite)."""
        return optional_in(self.suites)

    def model_specs(self, names: Sequence[str] = ()) -> list[ModelSpec]:
        """`names` (a study's checkpoints, as LABEL=DIR) and the listed models."""
        args = dict(self.model_args)
        return [parse_model(name, args, self.provider) for name in [*names, *self.models]]


class JudgeConfig(Section):
    """Rubric judging of open-ended answers and of the subsets as training data."""

    graders: list[str] = Field(
        [],
        description="Inspect models bound to the grader role; several make a jury; [] = no judging",
        examples=[["openai/gpt-4.1"]],
    )
    grader_args: dict[str, Any] = Field(
        {}, description="model arguments of the graders, e.g. {base_url: http://gpu2:8000/v1}"
    )
    tasks: list[TaskSpec] = Field(
        [TaskSpec(task="clinical_reasoning", args={"limit": 50})],
        description="open-ended tasks every model answers, then the graders judge",
    )
    data_quality: bool = Field(True, description="also judge every subset as training data")
    data_quality_limit: int | None = Field(50, ge=1, description="records judged per subset")
    mode: Literal["json", "logprobs"] = Field(
        "json", description="json verdicts, or logprobs (graders that return log-probabilities)"
    )
    max_tokens: int | None = Field(
        None, ge=1, description="generation limit of the evaluated models on open-ended cases"
    )
    seed: int = Field(0, description="seed of sampling and decoding")


def optional_in(suites: Sequence[str]) -> Callable[[TaskSpec], bool]:
    """Whether a task spec is an optional (user-supplied) entry of one of these suites."""
    from tasks.suites import get_suite

    optional = {
        (entry.task, entry.label)
        for name in suites
        for entry in get_suite(name).tasks
        if entry.optional
    }
    return lambda spec: (spec.task, spec.label or spec.task) in optional


def build_tasks(
    specs: Sequence[TaskSpec],
    overrides: dict[str, Any],
    optional: Callable[[TaskSpec], bool] = lambda spec: False,
) -> list[Any]:
    """Inspect tasks for specs (overrides go to the tasks that take them).

    An optional task whose data is missing is skipped with a warning.
    """
    from tasks.suites import SuiteTask, build_task

    tasks = []
    for spec in specs:
        entry = SuiteTask(spec.task, spec.label or spec.task, dict(spec.args))
        try:
            tasks.append(build_task(entry, **overrides))
        except InputError as error:
            if not optional(spec):
                raise
            logger.warning("skipping %s: %s", entry.label, error)
    return tasks


def drop_stale_logs(log_dir: Path, identities: dict[str | None, str]) -> None:
    """Delete diq's logs in `log_dir` of each model (key None: any model) made from other inputs.

    One pass over the log headers, whatever the number of models. Logs diq did not write
    (no identity in their metadata) are never deleted.
    """
    if not identities or not log_dir.is_dir():
        return
    from inspect_ai.log import list_eval_logs, read_eval_log

    from harness.core.inspect_names import local_path

    for info in list_eval_logs(str(log_dir), recursive=False):
        header = read_eval_log(info.name, header_only=True)
        wanted = identities.get(header.eval.model, identities.get(None))
        made = (header.eval.metadata or {}).get(IDENTITY_KEY)  # None: not diq's log, kept
        if wanted is not None and made is not None and made != wanted:
            logger.info("removing %s: made from other inputs", info.name)
            local_path(info.name).unlink(missing_ok=True)


def evaluate(
    tasks: list[Any],
    models: list[ModelSpec] | None,
    log_dir: str | Path,
    *,
    identity: Callable[[ModelSpec | None], str | None] = model_identity,
    metadata: dict[str, Any] | None = None,
    greedy: bool = False,
    **eval_kwargs: Any,
) -> tuple[list[Any], list[str]]:
    """Run (or resume) `tasks` for each model, one Inspect `eval_set` per model, in turn.

    `models` None runs the tasks with no model of their own (a judged file). eval_set pairs
    a task with an existing log by task, model name and arguments, never by what a
    checkpoint directory or data file holds, so `identity` (a hash of those contents)
    travels in the eval metadata and a log made from other contents is deleted first: a
    checkpoint retrained or replaced in place is evaluated again. Two models sharing a
    name or label are refused (`check_distinct`) before anything runs. `greedy` adds each
    model's greedy-decoding settings. Returns the logs and the names of the models whose
    eval set did not complete.
    """
    from inspect_ai import eval_set

    runs: list[ModelSpec | None] = [None] if models is None else list(models)
    if models is not None:
        check_distinct(models)
    # identified as given (a .gguf file by its bytes), run as materialized (its conversion)
    given = [identity(m) for m in runs]
    runs = [None if m is None else materialized(m) for m in runs]
    identities = {(m.name if m else None): i for m, i in zip(runs, given, strict=True)}
    drop_stale_logs(Path(log_dir), {k: v for k, v in identities.items() if v is not None})
    logs: list[Any] = []
    failed: list[str] = []
    for model in runs:
        run_metadata = dict(metadata or {})
        kwargs = dict(eval_kwargs)
        if model is not None:
            model.register()
            kwargs.update(model=model.name, model_args=model.args)
            run_metadata.update(model.metadata() or {})
            if greedy:
                kwargs = {**model.greedy(), **kwargs}
        key = model.name if model else None
        if identities[key] is not None:
            run_metadata[IDENTITY_KEY] = identities[key]
        success, model_logs = eval_set(
            tasks,
            log_dir=str(log_dir),
            log_dir_allow_dirty=True,
            metadata=run_metadata or None,
            **kwargs,
        )
        logs.extend(model_logs)
        if not success:
            failed.append(key or "the tasks")
    return logs, failed


def run_eval(
    config: EvalConfig,
    log_dir: str | Path,
    *,
    models: Sequence[ModelSpec] | None = None,
    model_roles: dict[str, Any] | None = None,
    display: str | None = None,
) -> list[Any]:
    """Evaluate every model on every task of `config`; returns the eval logs (headers).

    `models` defaults to `config`'s. Raises `ConfigError` before anything runs when two
    models share a name or label, and when any model's eval set did not complete after
    Inspect's own retries; the logs written so far stay in `log_dir`, and a rerun resumes.
    """
    models = list(models) if models is not None else config.model_specs()
    if not models:
        raise ConfigError("models: give at least one model to evaluate")
    overrides: dict[str, Any] = {
        "cot": config.cot,
        "shuffle": config.shuffle,
        "seed": config.seed,
        **config.task_args,
    }
    if config.exclude:
        overrides["exclude"] = config.exclude
    if config.max_tokens:
        overrides["max_tokens"] = config.max_tokens
    tasks = build_tasks(config.task_specs(), overrides, config.optional())
    if not tasks:
        raise ConfigError("suites: no task with data available")
    logs, failed = evaluate(
        tasks,
        models,
        log_dir,
        greedy=True,
        model_roles=model_roles or None,
        limit=config.limit,
        max_connections=config.max_connections,
        display=display,
        seed=config.seed,
    )
    if failed:
        raise ConfigError(
            f"evaluation did not complete for {', '.join(failed)}; rerun to resume (logs in {log_dir})"
        )
    return logs
