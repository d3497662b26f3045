"""`diq run`: the whole study as six stages over one run directory.

    select -> train -> eval -> judge -> review -> report

Each stage reads the files the earlier stages wrote and writes its own (see the README's
run-directory section), so any stage can be rerun alone or replaced by the user's own
tool. `run_manifest.json` records, per stage, the hash of its inputs (its config section
and the hashes of the upstream outputs it reads) and the hash of its outputs; a stage
whose inputs and outputs are unchanged is skipped. Within a stage the work is resumable
too: selection keeps its own ledger, training resumes from Trainer checkpoints and skips
finished models, and evaluation and judging use Inspect's `eval_set`, which skips
finished logs and reuses finished samples. So a rerun after an interruption picks up
where it stopped and produces the same report.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.config import ExperimentConfig, TaskSpec, dump_config
from harness.errors import ConfigError
from harness.io import read_json, sha256_file, sha256_json, write_json, write_text

logger = logging.getLogger(__name__)

STAGES = ("select", "train", "eval", "judge", "review", "report")
MANIFEST = "run_manifest.json"
DEFAULT_RUBRICS = ("differential_diagnosis", "safety_check", "evidence_citation")


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
    """Hash of what a stage produced, as later stages see it."""
    root = run.root
    if stage == "select":
        files = [
            root / "select_manifest.json",
            run.validation_items,
            *run.subsets.glob("*.manifest.json"),
        ]
        return _files_digest(files, root)
    if stage == "train":
        manifests = list(run.models.glob("*/train_manifest.json"))
        return sha256_json(
            [_files_digest(manifests, root), sorted(run.config.train.models.items())]
        )
    if stage == "eval":
        return _logs_digest(run.eval_logs)
    if stage == "judge":
        return _logs_digest(run.judge_logs)
    if stage == "review":
        return _files_digest([*run.review.glob("*.json"), *run.review.glob("ratings.jsonl")], root)
    return _files_digest([run.report / "report.json"], root)


UPSTREAM = {
    "select": (),
    "train": ("select",),
    "eval": ("select", "train"),
    "judge": ("select", "train"),
    "review": ("judge",),
    "report": ("select", "train", "eval", "judge", "review"),
}


def stage_inputs(run: Run, stage: str) -> str:
    """Hash of everything a stage reads: its config, the shared settings and upstream outputs."""
    config = run.config
    sections: dict[str, Any] = {
        "select": {
            "pool": config.pool,
            "validation": config.validation,
            "selection": config.selection,
            "eval": config.eval,
            "judge": config.judge,
        },
        "train": {"train": config.train},
        "eval": {"eval": config.eval},
        "judge": {"judge": config.judge, "train": config.train.models},
        "review": {"review": config.review},
        "report": {"report": config.report, "eval_logs": config.eval.logs},
    }
    upstream = {name: stage_outputs(run, name) for name in UPSTREAM[stage]}
    return sha256_json(
        {"seed": config.seed, "config": _jsonable(sections[stage]), "upstream": upstream}
    )


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
    from harness.errors import InputError
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
    from harness.io import write_jsonl
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
    from harness.evaluation import parse_model

    config = run.config
    args = dict(config.eval.model_args)
    names = [f.stem for f in subset_files(run)]
    specs = []
    for name in names:
        path = config.train.models.get(name) or str(run.models / name)
        specs.append(parse_model(f"{name}={path}", args, config.eval.provider))
    specs += [parse_model(extra, args, config.eval.provider) for extra in config.eval.extra_models]
    return specs


def _eval_set(tasks: list[Any], model: Any, log_dir: Path, **kwargs: Any) -> None:
    from inspect_ai import eval_set

    model.register()
    success, _ = eval_set(
        tasks,
        log_dir=str(log_dir),
        model=model.name,
        model_args=model.args,
        log_dir_allow_dirty=True,
        metadata=model.metadata(),
        **kwargs,
    )
    if not success:
        raise ConfigError(
            f"evaluation of {model.name} did not complete; rerun `diq run` to resume (logs in {log_dir})"
        )


def run_eval_stage(run: Run) -> None:
    """Every model on every benchmark task; one log per model x task (finished ones skipped)."""
    config = run.config
    overrides: dict[str, Any] = {"cot": config.eval.cot, "seed": config.seed}
    if config.eval.max_tokens:
        overrides["max_tokens"] = config.eval.max_tokens
    if run.excluded_items():
        overrides["exclude"] = run.excluded_items()
    tasks = build_tasks(eval_task_specs(config), overrides, _optional_in_suites(config))
    for model in model_specs(run):
        _eval_set(
            tasks,
            model,
            run.eval_logs,
            limit=config.eval.limit,
            max_connections=config.eval.max_connections,
            seed=config.seed,
            **model.greedy(),
        )
    external = run.root / "logs" / "external"
    for source in config.eval.logs:
        _copy_logs(Path(source), external)


def _copy_logs(source: Path, into: Path) -> None:
    """Bring the user's own Inspect logs into the run (the report reads `logs/`)."""
    from reports.logs import find_logs

    into.mkdir(parents=True, exist_ok=True)
    for log in find_logs([source]):
        target = into / log.name
        if not target.exists():
            shutil.copy2(log, target)


def graders(run: Run) -> Any:
    """The grader role: one model, or a list (a jury)."""
    from inspect_ai.model import get_model

    spec = run.config.judge
    models = [get_model(name, **spec.grader_args) for name in spec.graders]
    return models[0] if len(models) == 1 else models


def run_judge_stage(run: Run) -> None:
    """Open-ended cases answered by every model and judged; every subset judged as data."""
    import harness._registry  # noqa: F401  (registers the demo's reference grader)
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
    if tasks:
        for model in model_specs(run):
            _eval_set(tasks, model, run.judge_logs, model_roles=roles, seed=config.seed)
    if spec.data_quality:
        from inspect_ai import eval_set

        for subset in subset_files(run):
            task = data_quality(
                path=str(subset), limit=spec.data_quality_limit, seed=config.seed, mode=spec.mode
            )
            success, _ = eval_set(
                [task],
                log_dir=str(run.judge_logs / "data_quality" / subset.stem),
                model_roles=roles,
                metadata={"label": subset.stem},
            )
            if not success:
                raise ConfigError(
                    f"data-quality judging of {subset.stem} did not complete; rerun to resume"
                )


def run_review_stage(run: Run) -> None:
    """Blinded rater sheets from the judged open-ended answers."""
    from reports.build import load_frames, resolve_inputs
    from reports.review.export import ExportOptions, export_sheets

    spec = run.config.review
    if not spec.enabled or not run.judge_logs.is_dir():
        logger.info("review: nothing to export")
        return
    case_tasks = tuple(task.label or task.task for task in run.config.judge.tasks)
    frames = load_frames(resolve_inputs([run.judge_logs], None), {}, None)
    options = ExportOptions(
        raters=tuple(spec.raters),
        rubrics=DEFAULT_RUBRICS,
        seed=run.config.seed,
        calibration=spec.calibration,
        per_item=spec.raters_per_item,
        prompts=spec.items,
        tasks=case_tasks,
        format=spec.format,
    )
    export_sheets(frames, options, run.review)


def run_report_stage(run: Run) -> None:
    """The statistical comparison report over everything in the run directory."""
    from reports.build import ReportOptions, build_report
    from reports.compare import Settings

    spec = run.config.report
    ratings = run.review / "ratings.jsonl"
    settings = Settings(
        reference=spec.reference,
        correction=spec.correction,
        seed=run.config.seed,
        resamples=spec.resamples,
    )
    options = ReportOptions(
        settings=settings,
        labels=dict(spec.labels),
        ratings=ratings if ratings.is_file() else None,
        title=f"{run.config.name}: DIQ study report",
    )
    build_report([run.root], run.report, options)


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
    """The stages to consider, in order."""
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
    for stage in plan(start, only):
        inputs = stage_inputs(run, stage)
        previous = stages.get(stage, {})
        if (
            not force
            and previous.get("inputs") == inputs
            and previous.get("outputs") == stage_outputs(run, stage)
        ):
            echo(f"[{stage}] up to date, skipped")
            continue
        echo(f"[{stage}] running")
        started = time.monotonic()
        RUNNERS[stage](run)
        seconds = round(time.monotonic() - started, 1)
        stages[stage] = {
            "inputs": stage_inputs(run, stage),
            "outputs": stage_outputs(run, stage),
            "seconds": seconds,
        }
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
