"""`diq run`: the whole study as six stages over one run directory.

    select -> train -> eval -> judge -> review -> report

Each stage reads the files the earlier stages wrote and writes its own (see the README's
run-directory section), so any stage can be rerun alone or replaced by the user's own
tool. `run_manifest.json` records, per stage, the hash of its inputs (its config section,
the contents of the files and checkpoints it names by path, and the hashes of the
upstream outputs it reads) and the hash of its outputs; a stage whose inputs and outputs
are unchanged is skipped. Within a stage the work is resumable too: selection keeps its
own ledger, training resumes from Trainer checkpoints and skips finished models, and
evaluation and judging use Inspect's `eval_set`, which skips finished logs and reuses
finished samples. So a rerun after an interruption picks up where it stopped and
produces the same report. The log folders hold exactly the current study: a log whose
checkpoint or data changed since is deleted before `eval_set` runs, and logs of tasks no
longer asked for are deleted after.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.errors import ConfigError, InputError
from harness.core.io import (
    atomic_directory,
    atomic_write,
    iter_jsonl,
    read_json,
    sha256_file,
    sha256_json,
    write_json,
    write_text,
)
from harness.study.config import ExperimentConfig, TaskSpec, dump_config
from harness.study.evaluation import content_identity, evaluate, model_identity, parse_model
from reports.review import LEDGER_FILE

logger = logging.getLogger(__name__)

STAGES = ("select", "train", "eval", "judge", "review", "report")
MANIFEST = "run_manifest.json"


@dataclass(frozen=True)
class Run:
    """A config and the run directory it writes, with the layout of every stage's files."""

    config: ExperimentConfig
    root: Path

    @property
    def validation_items(self) -> Path:
        """Validation items drawn from the evaluation tasks (also their exclusion list)."""
        return self.root / "validation_items.jsonl"

    @property
    def subsets(self) -> Path:
        return self.root / "subsets"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def eval_logs(self) -> Path:
        return self.root / "logs" / "eval"

    @property
    def external_logs(self) -> Path:
        """Copies of the logs `eval.logs` names (the report reads the run directory)."""
        return self.root / "logs" / "external"

    @property
    def judge_logs(self) -> Path:
        return self.root / "logs" / "judge"

    @property
    def review(self) -> Path:
        return self.root / "review"

    @property
    def report(self) -> Path:
        return self.root / "report"

    def validation_file(self) -> Path:
        """The validation file used for influence: the given one, or the drawn items."""
        return (
            Path(self.config.validation.path)
            if self.config.validation.path
            else self.validation_items
        )

    def excluded_items(self) -> str | None:
        """Ids never to evaluate: the drawn validation items (a given file may be pool records)."""
        return str(self.validation_items) if self.validation_items.is_file() else None


# ---- stage inputs and outputs --------------------------------------------------------------


def _files_digest(paths: Sequence[Path], root: Path) -> str:
    return sha256_json(
        {str(p.relative_to(root)): sha256_file(p) for p in sorted(paths) if p.is_file()}
    )


def _logs_digest(folder: Path) -> str:
    """Which logs exist and how they ended (log files are rewritten as they stream)."""
    if not folder.is_dir():
        return sha256_json([])
    from inspect_ai.log import list_eval_logs, read_eval_log

    entries = []
    for info in list_eval_logs(str(folder), recursive=True):
        header = read_eval_log(info.name, header_only=True)
        entries.append((header.eval.eval_id, header.eval.task, header.eval.model, header.status))
    return sha256_json(sorted(entries))


def stage_outputs(run: Run, stage: str) -> str:
    """Hash of what a stage produced, as later stages see it.

    Subset files and given checkpoints are hashed by content, so that a hand-edited
    subset retrains (`--from train`; a plain rerun first restores selection's file) and
    a checkpoint replaced in place is evaluated again.
    """
    root = run.root
    if stage == "select":
        files = [
            root / "select_manifest.json",
            run.validation_items,
            *run.subsets.glob("*.manifest.json"),
            *run.subsets.glob("*.jsonl"),
        ]
        return _files_digest(files, root)
    if stage == "train":
        manifests = list(run.models.glob("*/train_manifest.json"))
        given = {name: content_identity(path) for name, path in run.config.train.models.items()}
        return sha256_json([_files_digest(manifests, root), given])
    if stage == "eval":
        return sha256_json(
            [_logs_digest(run.eval_logs), _files_digest(list(run.external_logs.glob("*")), root)]
        )
    if stage == "judge":
        return _logs_digest(run.judge_logs)
    if stage == "review":  # the export; imported ratings are the report's input, not its output
        return _files_digest(list(run.review.glob("*.json")), root)
    return _files_digest([run.report / "report.json"], root)


UPSTREAM = {
    "select": (),
    "train": ("select",),
    "eval": ("select", "train"),
    "judge": ("select", "train"),
    "review": ("judge",),
    "report": ("select", "train", "eval", "judge", "review"),
}


def stage_inputs(run: Run, stage: str, outputs: dict[str, str] | None = None) -> str:
    """Hash of everything a stage reads: its config, the shared settings and upstream outputs.

    `outputs` caches `stage_outputs` by stage across calls (hashing subsets and
    checkpoints is the expensive part); it is filled with whatever is computed here.
    """
    known = {} if outputs is None else outputs
    for name in UPSTREAM[stage]:
        if name not in known:
            known[name] = stage_outputs(run, name)
    upstream = {name: known[name] for name in UPSTREAM[stage]}
    return sha256_json(
        {
            "seed": run.config.seed,
            "config": _jsonable(_stage_config(run, stage)),
            "upstream": upstream,
        }
    )


def _stage_config(run: Run, stage: str) -> dict[str, Any]:
    """The settings a stage reads, with the contents of the files it reads by path."""
    config = run.config
    if stage == "select":
        scoring_model = config.selection.model or config.train.base
        validation = config.validation.path
        return {
            "pool": config.pool,
            "validation": config.validation,
            "selection": config.selection,
            "eval": config.eval,
            "judge": config.judge,
            "contents": {
                "pool": content_identity(config.pool.path),
                "validation": validation and content_identity(validation),
                "scoring_model": content_identity(scoring_model),
            },
        }
    if stage == "train":
        return {"train": config.train, "base": content_identity(config.train.base)}
    if stage == "eval":
        return {"eval": config.eval, "models": _evaluated_models(config), "logs": _given_logs(run)}
    if stage == "judge":
        return {"judge": config.judge, "models": _evaluated_models(config)}
    if stage == "review":
        return {"review": config.review}
    ratings = run.review / LEDGER_FILE
    return {
        "report": config.report,
        "eval_logs": config.eval.logs,
        "ratings": sha256_file(ratings) if ratings.is_file() else None,
    }


def _evaluated_models(config: ExperimentConfig) -> dict[str, Any]:
    """What decides how eval and judge run the models besides the trained ones."""
    return {
        "provider": config.eval.provider,
        "model_args": config.eval.model_args,
        "extra_models": {
            spec: model_identity(parse_model(spec, {}, config.eval.provider)) or spec
            for spec in config.eval.extra_models
        },
    }


def _given_logs(run: Run) -> dict[str, str]:
    """The content hash of every log `eval.logs` brings in, so that an edited log is copied."""
    if not run.config.eval.logs:
        return {}
    from reports.logs import find_logs

    return {str(log): sha256_file(log) for log in find_logs(run.config.eval.logs)}


def _jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


# ---- the stages ----------------------------------------------------------------------------


def eval_task_specs(config: ExperimentConfig) -> list[TaskSpec]:
    """The benchmark tasks of the eval section: the suites' tasks, then the listed ones."""
    from tasks.suites import get_suite

    specs = [
        TaskSpec(task=entry.task, args=dict(entry.args), label=entry.label)
        for name in config.eval.suites
        for entry in get_suite(name).tasks
    ]
    return specs + list(config.eval.tasks)


def build_tasks(
    specs: Sequence[TaskSpec],
    overrides: dict[str, Any],
    optional: Callable[[TaskSpec], bool] = lambda s: False,
) -> list[Any]:
    """Inspect tasks for specs (overrides go to the tasks that take them); optional ones may be missing."""
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


def _optional_in_suites(config: ExperimentConfig) -> Callable[[TaskSpec], bool]:
    from tasks.suites import get_suite

    optional = {
        (e.task, e.label)
        for name in config.eval.suites
        for e in get_suite(name).tasks
        if e.optional
    }
    return lambda spec: (spec.task, spec.label) in optional


def draw_validation_items(run: Run) -> None:
    """Write k validation items per evaluation task (the paper's influence validation set)."""
    from harness.core.io import write_jsonl
    from tasks.validation import draw_validation

    spec = run.config.validation
    specs = [
        TaskSpec(task=e.task, args=e.args, label=e.label) for e in _suite_specs(spec.suites)
    ] + list(spec.tasks)
    tasks = build_tasks(specs, {}, _optional_in_suites(run.config))
    rows = draw_validation(
        {task.name: list(task.dataset) for task in tasks}, spec.per_task, spec.seed
    )
    write_jsonl(run.validation_items, rows)


def _suite_specs(names: Sequence[str]) -> list[Any]:
    from tasks.suites import get_suite

    return [entry for name in names for entry in get_suite(name).tasks]


def evaluation_texts(run: Run) -> list[Any]:
    """Every question the models will be evaluated or judged on, for decontamination."""
    from selection.decontaminate import EvalText
    from tasks.suites import sample_text

    config = run.config
    specs = eval_task_specs(config) + list(config.judge.tasks if config.judge.graders else [])
    tasks = build_tasks(specs, {}, _optional_in_suites(config))
    return [
        EvalText(task.name, str(sample.id), sample_text(sample))
        for task in tasks
        for sample in task.dataset
    ]


def run_select_stage(run: Run) -> None:
    """Score the pool and write the subsets (selection's own ledger skips unchanged work)."""
    from selection.decontaminate import DecontaminationConfig
    from selection.difficulty import ClassifierConfig
    from selection.influence.runner import ScoringConfig
    from selection.pipeline import DifficultyConfig, SelectConfig, run_select

    config = run.config
    spec = config.selection
    if not config.validation.path:
        draw_validation_items(run)
    difficulty = spec.difficulty
    classifier = ClassifierConfig(
        seed=config.seed, **({"encoder": difficulty.encoder} if difficulty.encoder else {})
    )
    decontamination = spec.decontamination
    select_config = SelectConfig(
        pool=config.pool.path,
        validation=str(run.validation_file()),
        out=str(run.root),
        scoring=ScoringConfig(
            model=spec.model or config.train.base,
            params=spec.params,
            method=spec.method,
            adapter=spec.adapter,
            batch_size=spec.batch_size,
            max_length=spec.max_length,
            precision=spec.precision,
        ),
        pool_format=config.pool.format,
        field_map=",".join(f"{k}={v}" for k, v in config.pool.field_map.items()) or None,
        hf_split=config.pool.hf_split,
        hf_config=config.pool.hf_config,
        cop_base=config.pool.cop_base,
        strategies=tuple(spec.strategies),
        ratios=tuple(str(r) for r in spec.ratios),
        counts=tuple(spec.counts),
        seed=config.seed,
        influence_threshold=spec.influence_threshold,
        difficulty=DifficultyConfig(
            scorer=difficulty.scorer,
            axis=difficulty.axis,
            percentile=difficulty.percentile,
            labels=difficulty.labels,
            classifier=difficulty.classifier,
            scores=difficulty.scores,
            training=classifier,
        ),
        decontamination=DecontaminationConfig(
            ngram=decontamination.ngram,
            ngram_threshold=decontamination.ngram_threshold,
            near_duplicate_threshold=decontamination.near_duplicate_threshold,
            seed=config.seed,
        ),
        nproc=spec.nproc,
    )
    texts = evaluation_texts(run) if decontamination.enabled else []
    run_select(select_config, texts)


def subset_files(run: Run) -> list[Path]:
    """The subsets to train on: all, or those the config names."""
    files = sorted(run.subsets.glob("*.jsonl"))
    wanted = run.config.train.subsets
    if wanted is not None:
        missing = sorted(set(wanted) - {f.stem for f in files})
        if missing:
            raise ConfigError(
                f"train.subsets names subsets that selection did not write: {', '.join(missing)}"
            )
        files = [f for f in files if f.stem in wanted]
    return files


def run_train_stage(run: Run) -> None:
    """Fine-tune one model per subset (finished models with the same inputs are skipped).

    With `train.accelerate_config`, each model trains in `accelerate launch` (several
    GPUs, FSDP or DeepSpeed) running `diq train` on the same hyperparameters.
    """
    from harness.training.config import TrainConfig
    from harness.training.run import train_subset

    spec = run.config.train
    values = spec.model_dump(include=set(TrainConfig.model_fields))
    hyperparameters = TrainConfig(
        **{**values, "seed": run.config.seed if spec.seed is None else spec.seed}
    )
    for subset in subset_files(run):
        if subset.stem in spec.models:
            logger.info(
                "using the given checkpoint for %s: %s", subset.stem, spec.models[subset.stem]
            )
            continue
        if spec.accelerate_config:
            _launch_training(run, subset, hyperparameters)
        else:
            train_subset(subset, spec.base, run.models / subset.stem, hyperparameters)


def _launch_training(run: Run, subset: Path, hyperparameters: Any) -> None:
    import subprocess
    import sys

    config_file = run.root / "train_config.json"
    write_json(config_file, hyperparameters.model_dump(mode="json"))
    command = [
        sys.executable, "-m", "accelerate.commands.launch",
        "--config_file", str(run.config.train.accelerate_config),
        "-m", "harness.cli.train",
        "--subset", str(subset), "--base", run.config.train.base,
        "--out", str(run.models / subset.stem), "--config", str(config_file),
    ]  # fmt: skip
    if subprocess.run(command, check=False).returncode != 0:
        raise ConfigError(
            f"training {subset.stem} under accelerate failed (command: {' '.join(command)})"
        )


def model_specs(run: Run) -> list[Any]:
    """Every model to evaluate: trained subsets, given checkpoints, and extra models."""
    config = run.config
    args = dict(config.eval.model_args)
    names = [f.stem for f in subset_files(run)]
    specs = []
    for name in names:
        path = config.train.models.get(name) or str(run.models / name)
        specs.append(parse_model(f"{name}={path}", args, config.eval.provider))
    specs += [parse_model(extra, args, config.eval.provider) for extra in config.eval.extra_models]
    return specs


def _evaluate(
    tasks: list[Any], models: list[Any] | None, log_dir: Path, **kwargs: Any
) -> list[Path]:
    """`harness.study.evaluation.evaluate`, failing when an eval set did not complete."""
    from harness.core.inspect_names import local_path

    logs, failed = evaluate(tasks, models, log_dir, **kwargs)
    if failed:
        raise ConfigError(
            f"evaluation of {', '.join(failed)} did not complete; rerun `diq run` to resume "
            f"(logs in {log_dir})"
        )
    return [local_path(log.location) for log in logs]


def _prune_logs(log_dir: Path, keep: Sequence[Path]) -> None:
    """Delete every log under `log_dir` that the stage's eval sets did not return.

    eval_set leaves the logs of tasks no longer asked for (an older `limit`, grader,
    checkpoint path or subset) beside the current ones, and the report would read both.
    """
    if not log_dir.is_dir():
        return
    from inspect_ai.log import list_eval_logs

    from harness.core.inspect_names import local_path

    current = set(keep)
    for info in list_eval_logs(str(log_dir), recursive=True):
        path = local_path(info.name)
        if path not in current:
            logger.info("removing %s: no longer part of the study", path)
            path.unlink(missing_ok=True)


def run_eval_stage(run: Run) -> None:
    """Every model on every benchmark task; one log per model x task (finished ones skipped)."""
    config = run.config
    overrides: dict[str, Any] = {"cot": config.eval.cot, "seed": config.seed}
    if config.eval.max_tokens:
        overrides["max_tokens"] = config.eval.max_tokens
    if run.excluded_items():
        overrides["exclude"] = run.excluded_items()
    tasks = build_tasks(eval_task_specs(config), overrides, _optional_in_suites(config))
    logs = _evaluate(
        tasks,
        model_specs(run),
        run.eval_logs,
        greedy=True,
        limit=config.eval.limit,
        max_connections=config.eval.max_connections,
        seed=config.seed,
    )
    _prune_logs(run.eval_logs, logs)
    _sync_logs(config.eval.logs, run.external_logs)


def _sync_logs(sources: Sequence[str], into: Path) -> None:
    """Make `into` hold exactly a copy of each log that `sources` name (the report reads it).

    A source log that changed is copied again and one no longer named is removed, so
    the report always reads the logs the config names, as they are now.
    """
    from reports.logs import find_logs

    wanted: dict[str, Path] = {}
    logs = find_logs(sources) if sources else []
    for log in logs:
        other = wanted.setdefault(log.name, log)
        if other != log:
            raise InputError(
                f"two logs given in eval.logs share the file name {log.name!r} "
                f"({other} and {log}); rename one",
                field="eval.logs",
            )
    for existing in list(into.glob("*")):
        if existing.name not in wanted:
            existing.unlink()
    for name, log in wanted.items():
        target = into / name
        if not target.is_file() or sha256_file(target) != sha256_file(log):
            with log.open("rb") as source, atomic_write(target, "wb") as handle:
                shutil.copyfileobj(source, handle)


def graders(run: Run) -> Any:
    """The grader role: one model, or a list (a jury)."""
    from inspect_ai.model import get_model

    spec = run.config.judge
    models = [get_model(name, **spec.grader_args) for name in spec.graders]
    return models[0] if len(models) == 1 else models


def run_judge_stage(run: Run) -> None:
    """Open-ended cases answered by every model and judged; every subset judged as data."""
    import rubrics.reference_grader  # noqa: F401  (registers the reference-grader provider)
    from tasks.data_quality import data_quality

    config = run.config
    spec = config.judge
    if not spec.graders:
        logger.info("judge: no graders configured, skipping")
        return
    roles = {"grader": graders(run)}
    overrides: dict[str, Any] = {"seed": config.seed, "mode": spec.mode}
    if spec.max_tokens:
        overrides["max_tokens"] = spec.max_tokens
    if run.excluded_items():
        overrides["exclude"] = run.excluded_items()
    tasks = build_tasks(spec.tasks, overrides)
    logs: list[Path] = []
    if tasks:
        logs += _evaluate(
            tasks, model_specs(run), run.judge_logs, model_roles=roles, seed=config.seed
        )
    if spec.data_quality:
        for subset in subset_files(run):
            task = data_quality(
                path=str(subset), limit=spec.data_quality_limit, seed=config.seed, mode=spec.mode
            )
            digest = sha256_file(subset)
            logs += _evaluate(
                [task],
                None,
                run.judge_logs / "data_quality" / subset.stem,
                identity=lambda _, digest=digest: digest,
                model_roles=roles,
                metadata={"label": subset.stem},
            )
    _prune_logs(run.judge_logs, logs)


def run_review_stage(run: Run) -> None:
    """Blinded rater sheets from the judged open-ended answers."""
    from harness.core.config import parse_section
    from reports.build import load_frames, resolve_inputs
    from reports.config import ReviewConfig, SettingError
    from reports.review.export import export_sheets

    spec = run.config.review
    if not spec.enabled or not run.judge_logs.is_dir():
        logger.info("review: nothing to export")
        return
    case_tasks = [task.label or task.task for task in run.config.judge.tasks]
    config = parse_section(
        ReviewConfig,
        {
            "raters": list(spec.raters),
            "seed": run.config.seed,
            "calibration": spec.calibration,
            "raters_per_item": spec.raters_per_item,
            "prompts": spec.items,
            "tasks": case_tasks,
            "format": spec.format,
        },
        prefix="review",
    )
    frames = load_frames(resolve_inputs([run.judge_logs], None), {}, None)
    _check_review_replaceable(run.review)
    try:
        with atomic_directory(run.review) as staging:
            export_sheets(frames, config, staging)
    except SettingError as error:
        raise ConfigError(f"review.{error.field}: {error.message}") from None


def _check_review_replaceable(review: Path) -> None:
    """A changed export replaces the old one as a whole, unless raters' work depends on it."""
    from reports.review.export import EXPORT_ENTRIES

    # anything beside the export (the ratings ledger above all) came later and rates it
    extra = sorted({p.name for p in review.iterdir()} - EXPORT_ENTRIES) if review.is_dir() else []
    if extra:
        raise InputError(
            f"the judged answers or review settings changed since these sheets were exported, "
            f"and the folder holds more than the export ({', '.join(extra)}: imported ratings "
            "refer to the old sheets); move the folder aside to export afresh, or restore "
            "the settings",
            path=review,
        )


def run_report_stage(run: Run) -> None:
    """The statistical comparison report over everything in the run directory."""
    from harness.core.config import parse_section
    from reports.build import build_report
    from reports.config import ReportConfig, SettingError

    spec = run.config.report
    ratings = run.review / LEDGER_FILE
    config = parse_section(
        ReportConfig,
        {
            "reference": spec.reference,
            "correction": spec.correction,
            "seed": run.config.seed,
            "resamples": spec.resamples,
            "primary": list(spec.primary),
            "labels": dict(spec.labels),
            "title": f"{run.config.name}: DIQ study report"
            + (" (SYNTHETIC DATA)" if pool_is_synthetic(run) else ""),
        },
        prefix="report",
    )
    try:
        build_report([run.root], run.report, config, ratings=ratings if ratings.is_file() else None)
    except SettingError as error:
        raise ConfigError(f"report.{error.field}: {error.message}") from None


def pool_is_synthetic(run: Run) -> bool:
    """Whether every record of the normalized pool is marked `meta.synthetic` (the demo's).

    Stops at the first unmarked record, so a real pool costs one line.
    """
    pool = run.root / "pool.jsonl"
    if not pool.is_file():
        return False
    return all((row.get("meta") or {}).get("synthetic") is True for _, row in iter_jsonl(pool))


RUNNERS: dict[str, Callable[[Run], None]] = {
    "select": run_select_stage,
    "train": run_train_stage,
    "eval": run_eval_stage,
    "judge": run_judge_stage,
    "review": run_review_stage,
    "report": run_report_stage,
}


# ---- orchestration -------------------------------------------------------------------------


def plan(start: str | None, only: Sequence[str] | None) -> list[str]:
    """The stages to consider, in order (`start` and `only` exclude each other)."""
    if start and only:
        raise ConfigError(
            "--from and --only cannot be combined: --from runs a stage and every later one, "
            "--only runs exactly the stages listed"
        )
    for name in [*(only or []), *([start] if start else [])]:
        if name not in STAGES:
            raise ConfigError(f"unknown stage {name!r}; stages are {', '.join(STAGES)}")
    if only:
        return [stage for stage in STAGES if stage in only]
    return list(STAGES[STAGES.index(start) :] if start else STAGES)


def run_study(
    config: ExperimentConfig,
    root: str | Path,
    *,
    start: str | None = None,
    only: Sequence[str] | None = None,
    force: bool = False,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run (or resume) the study in `root`; returns the run manifest."""
    run = Run(config, Path(root).resolve())
    run.root.mkdir(parents=True, exist_ok=True)
    write_text(run.root / "config.yaml", dump_config(config))
    manifest_path = run.root / MANIFEST
    manifest = read_json(manifest_path) if manifest_path.is_file() else {}
    stages: dict[str, Any] = dict(manifest.get("stages", {}))
    outputs: dict[str, str] = {}  # stage_outputs by stage; a stage that runs replaces its own
    for stage in plan(start, only):
        inputs = stage_inputs(run, stage, outputs)
        previous = stages.get(stage, {})
        if not force and previous.get("inputs") == inputs:
            outputs.setdefault(stage, stage_outputs(run, stage))
            if previous.get("outputs") == outputs[stage]:
                echo(f"[{stage}] up to date, skipped")
                continue
        echo(f"[{stage}] running")
        started = time.monotonic()
        RUNNERS[stage](run)
        seconds = round(time.monotonic() - started, 1)
        outputs[stage] = stage_outputs(run, stage)
        stages[stage] = {"inputs": inputs, "outputs": outputs[stage], "seconds": seconds}
        write_json(
            manifest_path,
            {
                "name": config.name,
                "config_sha256": sha256_json(config.model_dump(mode="json")),
                "stages": stages,
            },
        )
        echo(f"[{stage}] done in {seconds:.0f}s")
    return {"stages": stages}
