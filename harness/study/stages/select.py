"""The select stage: validation items, decontamination, scores and subsets.

`diq select` runs the same function as `diq run`'s select stage (`select_subsets`), so
the two cannot drift: drawing validation items from suites, gathering the texts to
decontaminate against, an optional LLM difficulty rater, then `selection.run`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from harness.core.config import TaskSpec
from harness.core.fingerprint import fingerprint
from harness.core.io import write_jsonl
from harness.core.layout import RunLayout
from harness.study.evaluation import build_tasks, optional_in
from harness.study.stage import Stage, Study, files_digest
from selection.config import SelectConfig
from selection.decontaminate import EvalText

if TYPE_CHECKING:
    from selection.pipeline import SelectResult


def draw_validation_items(config: SelectConfig, layout: RunLayout) -> str:
    """The validation file: the given one, or k items per task drawn into the run directory."""
    spec = config.validation
    if spec.path:
        return spec.path
    from tasks.suites import get_suite
    from tasks.validation import draw_validation

    specs = [
        TaskSpec(task=entry.task, args=dict(entry.args), label=entry.label)
        for name in spec.suites
        for entry in get_suite(name).tasks
    ] + list(spec.tasks)
    tasks = build_tasks(specs, {}, optional_in(spec.suites))
    rows = draw_validation(
        {task.name: list(task.dataset) for task in tasks}, spec.per_task, spec.seed
    )
    write_jsonl(layout.validation_items, rows)
    return str(layout.validation_items)


def task_texts(specs: Sequence[TaskSpec], suites: Sequence[str] = ()) -> list[EvalText]:
    """Every question (with its options) of these tasks, for decontamination."""
    from tasks.suites import sample_text

    tasks = build_tasks(specs, {}, optional_in(suites))
    return [
        EvalText(task.name, str(sample.id), sample_text(sample))
        for task in tasks
        for sample in task.dataset
    ]


def suite_texts(names: Sequence[str]) -> list[EvalText]:
    """Every question of every task in the named suites."""
    from tasks import suites

    return [EvalText(*entry) for name in names for entry in suites.suite_texts(name)]


def select_subsets(
    config: SelectConfig,
    layout: RunLayout,
    eval_texts: Sequence[EvalText] = (),
    *,
    progress: bool = True,
    echo: Any = print,
) -> SelectResult | None:
    """Check everything, then score the pool and write the subsets (rank 0 gets the result)."""
    from harness.models.gguf import resolve_checkpoint
    from harness.study.contamination_judge import build_judge
    from selection.pipeline import execute_select
    from selection.prepare import prepare_select

    if config.scoring.model is not None:  # a .gguf file scores as its converted checkpoint
        model = resolve_checkpoint(config.scoring.model, echo=echo)
        config = config.model_copy(
            update={"scoring": config.scoring.model_copy(update={"model": model})}
        )
    validation = draw_validation_items(config, layout)
    texts = [*eval_texts, *suite_texts(config.decontaminate_suites)]
    rater = config.difficulty.rater
    labels = str(layout.difficulty_labels) if rater.model else None
    judge = build_judge(config.decontamination, layout.decontamination_judge)
    prepared = prepare_select(
        config, layout.root, texts, validation_path=validation, labels_path=labels, judge=judge
    )
    if rater.model:
        from harness.study.difficulty_rater import rate_difficulty

        stats = rate_difficulty(
            prepared.pool,
            rater.model,
            layout.difficulty_labels,
            sample=rater.sample,
            seed=config.seed,
            retries=rater.retries,
            progress=progress,
        )
        echo(
            f"rater {stats.model}: {stats.labelled} labelled, {stats.unlabelled} unlabelled "
            f"of {stats.requested}" + (" (labels from a previous run)" if stats.reused else "")
        )
    return execute_select(prepared, progress=progress)


def _inputs(study: Study) -> Any:
    config = study.config
    select = config.select
    return {
        "select": select,
        # every evaluated and judged question is decontaminated against
        "eval_tasks": [spec.model_dump(mode="json") for spec in config.eval.task_specs()],
        "judge_tasks": [t.model_dump(mode="json") for t in config.judge.tasks]
        if config.judge.graders
        else [],
        "pool": fingerprint(select.pool.path),
        "validation": fingerprint(select.validation.path),
        "model": fingerprint(select.scoring.model),
    }


def _outputs(study: Study) -> str:
    layout = study.layout
    files = [
        layout.select_manifest,
        layout.validation_items,
        *layout.subsets.glob("*.manifest.json"),
        *layout.subsets.glob("*.jsonl"),
    ]
    return files_digest(files, layout.root)


def _run(study: Study) -> None:
    config = study.config
    specs = config.eval.task_specs() + (list(config.judge.tasks) if config.judge.graders else [])
    texts = task_texts(specs, config.eval.suites) if config.select.decontamination.enabled else []
    select_subsets(config.select, study.layout, texts)


STAGE = Stage(name="select", upstream=(), inputs=_inputs, outputs=_outputs, run=_run)
