"""`diq select`: score a pool (influence, difficulty) and write DIQ and baseline subsets.

Also runs under torchrun, one process per GPU:

    torchrun --nproc-per-node 8 -m harness.cli.select --pool ... --out RUN_DIR
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import click

from harness.cli import UserError
from harness.core.errors import DiqError
from selection.options import (
    AXES,
    DEFAULT_ENCODER,
    DIFFICULTY_SCORERS,
    DIFFICULTY_TEXTS,
    METHODS,
    PARAMETER_SETS,
    POOL_FORMATS,
    PRECISIONS,
    STRATEGIES,
)

LABELS_FILE = "difficulty_labels.jsonl"


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


def _counts(text: str | None) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in _split(text))
    except ValueError:
        raise click.BadParameter(f"{text!r}: comma-separated integers expected") from None


def suite_texts(names: tuple[str, ...]) -> list[Any]:
    """Questions with their options (`EvalText`) of every benchmark in the named suites.

    The options count too: a pool record that folds them into its question then matches
    as a whole, and a bare stem still matches by n-gram containment.
    """
    if not names:
        return []
    from selection.decontaminate import EvalText
    from tasks import suites

    return [EvalText(*entry) for name in names for entry in suites.suite_texts(name)]


def _configure_logging(quiet: bool) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("diq select: %(message)s"))
    log = logging.getLogger("selection")
    log.handlers[:] = [handler]
    log.setLevel(logging.WARNING if quiet else logging.INFO)
    log.propagate = False
    import transformers

    transformers.utils.logging.disable_progress_bar()
    warnings.filterwarnings(
        "ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning
    )


@click.command("select")
@click.option(
    "--pool", required=True, help="Pool file (JSON, JSONL, Parquet) or a Hugging Face dataset id."
)
@click.option("--pool-format", type=click.Choice(POOL_FORMATS), default="auto", show_default=True)
@click.option(
    "--field-map", help="Columns for jsonl/parquet/hf rows: q=COL,r=COL,a=COL[,id=COL,source=COL]."
)
@click.option(
    "--hf-split", default="train", show_default=True, help="Split of a Hugging Face pool."
)
@click.option("--hf-config", help="Configuration name of a Hugging Face pool.")
@click.option(
    "--cop-base",
    type=click.IntRange(0, 1),
    help="What MedMCQA `cop` counts from (default: 1 in upstream files, 0 on the Hub).",
)
@click.option(
    "--validation",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Validation records for G: pool-format JSONL or `diq eval sample-validation` output.",
)
@click.option(
    "--model", required=True, help="Scoring model: checkpoint directory or Hugging Face id."
)
@click.option(
    "--adapter", type=click.Path(exists=True, file_okay=False), help="PEFT adapter directory."
)
@click.option(
    "--params", type=click.Choice(PARAMETER_SETS), default="all-linear", show_default=True
)
@click.option("--method", type=click.Choice(METHODS), default="fast", show_default=True)
@click.option(
    "--strategies",
    default="diq,random",
    show_default=True,
    help=f"Comma-separated: {', '.join(STRATEGIES)}.",
)
@click.option(
    "--ratios", default="0.01,0.1", show_default=True, help="Comma-separated ratios in (0, 1]."
)
@click.option("--counts", help="Comma-separated absolute subset sizes (in addition to --ratios).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--difficulty", type=click.Choice(DIFFICULTY_SCORERS), default="ifd", show_default=True
)
@click.option("--difficulty-axis", type=click.Choice(AXES), default="overall", show_default=True)
@click.option(
    "--difficulty-percentile",
    type=click.FloatRange(0, 100),
    default=50.0,
    show_default=True,
    help="High difficulty = at or above this percentile.",
)
@click.option(
    "--influence-threshold", type=float, help="Fixed influence threshold [default: the median]."
)
@click.option(
    "--difficulty-labels", type=click.Path(exists=True, dir_okay=False), help="Likert labels JSONL."
)
@click.option(
    "--difficulty-classifier",
    type=click.Path(exists=True, file_okay=False),
    help="A trained classifier.",
)
@click.option(
    "--difficulty-scores",
    type=click.Path(exists=True, dir_okay=False),
    help="External id,difficulty.",
)
@click.option(
    "--difficulty-encoder", default=DEFAULT_ENCODER, show_default=True, help="Encoder to fine-tune."
)
@click.option(
    "--difficulty-text", type=click.Choice(DIFFICULTY_TEXTS), default="question", show_default=True
)
@click.option("--classifier-epochs", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--classifier-lr", type=float, default=3e-5, show_default=True)
@click.option("--classifier-batch-size", type=click.IntRange(min=1), default=16, show_default=True)
@click.option("--classifier-max-length", type=click.IntRange(min=8), default=512, show_default=True)
@click.option(
    "--rater-model", help="Inspect model that writes Likert labels (e.g. openai/gpt-4o-mini)."
)
@click.option(
    "--rater-sample", type=click.IntRange(min=1), help="Rate a seeded sample of this many records."
)
@click.option("--rater-retries", type=click.IntRange(min=0), default=2, show_default=True)
@click.option(
    "--decontaminate-suite",
    multiple=True,
    help="Benchmark suite to decontaminate against (repeatable).",
)
@click.option(
    "--eval-texts",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="JSONL with a `question` field (repeatable).",
)
@click.option("--ngram", type=click.IntRange(min=1), default=8, show_default=True)
@click.option(
    "--ngram-threshold", type=click.FloatRange(0, 1, min_open=True), default=0.5, show_default=True
)
@click.option(
    "--near-dup-threshold",
    type=click.FloatRange(0, 1),
    default=0.8,
    show_default=True,
    help="Jaccard; 0 turns deduplication off.",
)
@click.option("--batch-size", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--max-length", type=click.IntRange(min=8), default=2048, show_default=True)
@click.option("--precision", type=click.Choice(PRECISIONS), default="auto", show_default=True)
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:N.")
@click.option(
    "--nproc", type=click.IntRange(min=1), default=1, show_default=True, help="Scoring processes."
)
@click.option("--checkpoint-every", type=click.IntRange(min=1), default=512, show_default=True)
@click.option("--no-ifd", is_flag=True, help="Skip the response-alone forward (no IFD column).")
@click.option("--system-prompt", help="System prompt used when rendering records.")
@click.option(
    "--less-dim",
    type=click.IntRange(min=0),
    default=8192,
    show_default=True,
    help="LESS projection size; 0 = none.",
)
@click.option("--less-seed", type=int, default=0, show_default=True)
@click.option(
    "--less-optimizer-state",
    type=click.Path(exists=True, dir_okay=False),
    help="optimizer.pt for Adam features.",
)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Run directory.")
@click.option("--quiet", is_flag=True, help="No progress bars or stage lines.")
def select(**options: Any) -> None:
    """Score a pool (influence, difficulty) and write DIQ and baseline subsets."""
    try:
        _select(options)
    except DiqError as error:  # also when run as a module (torchrun), outside the `diq` group
        raise UserError(str(error)) from error


def _select(options: dict[str, Any]) -> None:
    from selection.pipeline import execute_select, prepare_select

    _configure_logging(bool(options["quiet"]))
    config = build_config(options)
    rater = options["rater_model"]
    prepared = prepare_select(
        config, suite_texts(options["decontaminate_suite"]), labels_pending=bool(rater)
    )
    if rater:
        from harness.study.difficulty_rater import rate_difficulty

        stats = rate_difficulty(
            prepared.pool,
            rater,
            Path(config.out) / LABELS_FILE,
            sample=options["rater_sample"],
            seed=config.seed,
            retries=options["rater_retries"],
            progress=config.progress,
        )
        click.echo(
            f"rater {stats.model}: {stats.labelled} labelled, {stats.unlabelled} unlabelled "
            f"of {stats.requested}" + (" (labels from a previous run)" if stats.reused else ""),
            err=True,
        )
    result = execute_select(prepared)
    if result is None:
        return
    click.echo(f"{result.run_dir}: {result.pool_size} records scored")
    if result.skipped:
        click.echo(f"unchanged, skipped: {', '.join(result.skipped)}")
    for name, manifest in result.subsets.items():
        click.echo(f"  subsets/{name}.jsonl  {manifest['selected']} records")


def build_config(o: dict[str, Any]) -> Any:
    """The `SelectConfig` for a set of CLI options."""
    from selection.decontaminate import DecontaminationConfig
    from selection.difficulty import ClassifierConfig
    from selection.influence.less import LessConfig
    from selection.influence.runner import ScoringConfig
    from selection.pipeline import DifficultyConfig, SelectConfig

    labels = o["difficulty_labels"]
    if o["rater_model"]:
        if labels:
            raise click.UsageError("give --difficulty-labels or --rater-model, not both")
        labels = str(Path(str(o["out"])) / LABELS_FILE)
    difficulty = o["difficulty"]
    if o["rater_model"] and difficulty != "classifier":
        raise click.UsageError(
            "--rater-model labels train the classifier: add --difficulty classifier"
        )
    scoring = ScoringConfig(
        model=str(o["model"]),
        params=str(o["params"]),
        method=str(o["method"]),
        adapter=o["adapter"],
        batch_size=o["batch_size"],
        max_length=o["max_length"],
        precision=str(o["precision"]),
        device=str(o["device"]),
        ifd=not o["no_ifd"],
        checkpoint_every=o["checkpoint_every"],
        less=LessConfig(
            projection_dim=o["less_dim"] or None,
            seed=o["less_seed"],
            optimizer_state=o["less_optimizer_state"],
        ),
        system_prompt=o["system_prompt"],
    )
    near_dup = o["near_dup_threshold"]
    return SelectConfig(
        pool=str(o["pool"]),
        validation=str(o["validation"]),
        out=str(o["out"]),
        scoring=scoring,
        pool_format=str(o["pool_format"]),
        field_map=o["field_map"],
        hf_split=str(o["hf_split"]),
        hf_config=o["hf_config"],
        cop_base=o["cop_base"],
        strategies=_split(str(o["strategies"])),
        ratios=_split(o["ratios"]),
        counts=_counts(o["counts"]),
        seed=o["seed"],
        influence_threshold=o["influence_threshold"],
        difficulty=DifficultyConfig(
            scorer=str(difficulty),
            axis=str(o["difficulty_axis"]),
            percentile=o["difficulty_percentile"],
            labels=labels,
            classifier=o["difficulty_classifier"],
            scores=o["difficulty_scores"],
            training=ClassifierConfig(
                encoder=str(o["difficulty_encoder"]),
                epochs=o["classifier_epochs"],
                learning_rate=o["classifier_lr"],
                batch_size=o["classifier_batch_size"],
                max_length=o["classifier_max_length"],
                text=str(o["difficulty_text"]),
                seed=o["seed"],
            ),
        ),
        decontamination=DecontaminationConfig(
            ngram=o["ngram"],
            ngram_threshold=o["ngram_threshold"],
            near_duplicate_threshold=near_dup or None,
        ),
        eval_text_files=tuple(o["eval_texts"]),
        nproc=o["nproc"],
        progress=not o["quiet"],
    )


if __name__ == "__main__":
    select()
