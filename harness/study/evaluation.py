"""Run a benchmark suite for one or more models with Inspect's `eval_set`.

One log per model x task lands in the log directory; rerunning the same command skips
what finished (eval_set's own bookkeeping). Models run one after another, so a GPU only
ever holds one local checkpoint; for throughput, serve checkpoints with vLLM and pass
`vllm/...` or `openai-api/<service>/...` model names instead.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.core.errors import ConfigError, InputError
from harness.core.io import sha256_file
from tasks.suites import Suite, build_task

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelSpec:
    """A model as Inspect names it, its model arguments, and where its weights live.

    `checkpoint` is set for a model served on this machine (in-process `hf/` or Inspect's
    vLLM server): a directory or a Hugging Face id. `label` is the name reports show; it
    travels in the eval's metadata because `vllm/` names carry the checkpoint path.
    """

    name: str
    args: dict[str, Any] = field(default_factory=dict)
    label: str | None = None
    checkpoint: str | None = None

    def greedy(self) -> dict[str, Any]:
        """Generation settings for greedy decoding (`hf/` takes `do_sample=False` instead)."""
        return {} if self.name.startswith("hf/") else {"temperature": 0.0}

    def metadata(self) -> dict[str, Any] | None:
        """Eval metadata naming the model for reports (see `reports.frames.assign_labels`)."""
        return {"label": self.label} if self.label else None

    def register(self) -> None:
        """Tell Inspect what a local checkpoint is, so it never asks the Hub about its name.

        Inspect looks up model info (context window) by model name after generating; for
        `hf/<label>` that instantiates a provider for the Hub repo `<label>`, which
        offline costs ~50 s of connection retries per model. A registered entry answers
        the lookup instead.
        """
        if self.checkpoint is None:
            return
        from inspect_ai.model import ModelInfo, set_model_info

        config = Path(self.checkpoint) / "config.json"
        context = (
            json.loads(config.read_text()).get("max_position_embeddings")
            if config.is_file()
            else None
        )
        set_model_info(
            self.name, ModelInfo(organization="local checkpoint", context_length=context)
        )


def parse_key_values(pairs: tuple[str, ...] | list[str], option: str) -> dict[str, Any]:
    """`key=value` strings to a dict; values parsed like Inspect's `-M`/`-T` (YAML scalars)."""
    import yaml

    result: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"{option} expects key=value, got {pair!r}")
        result[key.replace("-", "_")] = yaml.safe_load(value)
    return result


def parse_model(
    spec: str, model_args: dict[str, Any] | None = None, provider: str = "hf"
) -> ModelSpec:
    """A model from the command line or a config.

    Accepted forms: an Inspect model name (`openai/gpt-4o`, `vllm/...`, `hf/name`); a
    checkpoint directory (`runs/x/models/diq-0.01`), labelled with the directory's name;
    or `LABEL=CHECKPOINT`, where CHECKPOINT is a directory or a Hugging Face id
    (`base=meta-llama/Llama-3.1-8B-Instruct`). Checkpoints are served on this machine by
    `provider`: `hf` loads them in-process as `hf/<label>` and decodes greedily unless
    `do_sample` is given; `vllm` starts Inspect's vLLM server on `vllm/<checkpoint>`.
    """
    if provider not in ("hf", "vllm"):
        raise ConfigError(f"local checkpoints run with provider hf or vllm, not {provider!r}")
    label, sep, target = spec.partition("=")
    raw = target if sep else spec
    path = Path(raw).expanduser()
    looks_like_path = raw.startswith(("/", ".", "~")) or (
        len(path.parts) > 1 and path.parent.is_dir()
    )
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise InputError("not a transformers checkpoint (no config.json)", path=path)
        checkpoint = str(path.resolve())
    elif sep and label and "/" in target and not looks_like_path:
        checkpoint = target  # a Hugging Face id
    elif sep or looks_like_path or "/" not in spec:
        raise InputError(
            "neither a checkpoint directory, LABEL=CHECKPOINT, nor a provider/model name",
            path=path,
        )
    else:
        args = dict(model_args or {})
        if spec.startswith("hf/"):
            args.setdefault("do_sample", False)
        return ModelSpec(name=spec, args=args)
    label = label if sep else path.name
    if provider == "vllm":
        return ModelSpec(
            name=f"vllm/{checkpoint}", args=dict(model_args or {}), label=label,
            checkpoint=checkpoint,
        )  # fmt: skip
    args = {"model_path": checkpoint, "do_sample": False, **(model_args or {})}
    return ModelSpec(name=f"hf/{label}", args=args, label=label, checkpoint=checkpoint)


def check_distinct(models: list[ModelSpec]) -> None:
    """Fail when two models would share an Inspect model name or a report label.

    Logs are told apart by model name and reports by label, so two checkpoints that
    both become `hf/<basename>` (or share a label) would resume each other's eval set
    and be pooled into one row of every comparison.
    """
    keys: list[tuple[str, Callable[[ModelSpec], str]]] = [
        ("model name", lambda model: model.name),
        ("label", lambda model: model.label or model.name),
    ]
    for what, key_of in keys:
        seen: dict[str, ModelSpec] = {}
        for model in models:
            value = key_of(model)
            if value in seen:
                first = seen[value].checkpoint or seen[value].name
                raise ConfigError(
                    f"two models share the {what} {value!r} ({first} and "
                    f"{model.checkpoint or model.name}); give them distinct labels, e.g. "
                    "--model LABEL=CHECKPOINT"
                )
            seen[value] = model


IDENTITY_KEY = "diq_inputs_sha256"


def content_identity(value: str) -> str:
    """What a path holds: a directory's `checkpoint_fingerprint`, a file's sha256.

    Anything else (a hub id) is returned as given. Stage inputs and logs name files by
    path, and a file edited or replaced in place keeps its path, so they hash this instead.
    """
    from harness.training.base import checkpoint_fingerprint

    path = Path(value).expanduser()
    if path.is_dir():
        return checkpoint_fingerprint(path)
    return sha256_file(path) if path.is_file() else value


def model_identity(model: ModelSpec | None) -> str | None:
    """Content identity of a model served here; None for API models and for no model."""
    return None if model is None or model.checkpoint is None else content_identity(model.checkpoint)


def drop_stale_logs(log_dir: Path, identities: dict[str | None, str]) -> None:
    """Delete the logs in `log_dir` of each model (key None: any model) made from other inputs.

    One pass over the log headers, whatever the number of models.
    """
    if not identities or not log_dir.is_dir():
        return
    from inspect_ai.log import list_eval_logs, read_eval_log

    from harness.core.inspect_names import local_path

    for info in list_eval_logs(str(log_dir), recursive=False):
        header = read_eval_log(info.name, header_only=True)
        wanted = identities.get(header.eval.model, identities.get(None))
        if wanted is not None and (header.eval.metadata or {}).get(IDENTITY_KEY) != wanted:
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
    identities = {(m.name if m else None): identity(m) for m in runs}
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


def suite_tasks(suite: Suite, task_overrides: dict[str, Any]) -> list[Any]:
    """Inspect tasks of a suite; optional tasks without data are skipped with a warning."""
    tasks = []
    for entry in suite.tasks:
        try:
            tasks.append(build_task(entry, **task_overrides))
        except InputError as error:
            if not entry.optional:
                raise
            logger.warning("skipping %s: %s", entry.label, error)
    if not tasks:
        raise ConfigError(f"suite {suite.name!r} has no task with data available")
    return tasks


def run_suite(
    suite: Suite,
    models: list[ModelSpec],
    log_dir: str | Path,
    *,
    task_overrides: dict[str, Any] | None = None,
    model_roles: dict[str, str] | None = None,
    limit: int | None = None,
    max_connections: int | None = None,
    display: str | None = None,
    generate_config: dict[str, Any] | None = None,
) -> list[Any]:
    """Evaluate every model on every task of `suite`; returns the eval logs (headers).

    Raises `ConfigError` before running anything when two models share a name or label
    (`check_distinct`), and when any model's eval set did not complete, after Inspect's
    own retries; the logs written so far stay in `log_dir`, and a rerun resumes.
    """
    if not models:
        raise ConfigError("give at least one --model")
    tasks = suite_tasks(suite, task_overrides or {})
    logs, failed = evaluate(
        tasks,
        models,
        log_dir,
        greedy=True,
        model_roles=model_roles or None,
        limit=limit,
        max_connections=max_connections,
        display=display,
        **(generate_config or {}),
    )
    if failed:
        raise ConfigError(
            f"evaluation did not complete for {', '.join(failed)}; rerun to resume (logs in {log_dir})"
        )
    return logs
