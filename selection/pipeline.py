"""`diq select` as a library: pool -> decontamination -> scores -> difficulty -> subsets -> plot.

Everything that can be wrong with the input (strategies, ratios, pool records, the
validation file and its overlap with the pool, the parameter set of the model, the
difficulty sources) is checked before the first file is written, so bad input leaves
the run directory untouched. Outputs are written atomically, stage by stage; each stage
records the hash of its inputs in `select_manifest.json`, and a rerun skips a stage whose
inputs and outputs are unchanged (changing only the difficulty scorer reuses the
influence scores; changing only the strategies reuses all scores).

Run directory:

    pool.jsonl              the pool after decontamination and deduplication
    decontamination.json    counts and the removed ids, with reasons
    validation.jsonl        the validation records used for G
    scores.parquet          one row per pool record (see SCORE_COLUMNS + difficulty columns)
    difficulty_classifier/  the fine-tuned Likert classifier (difficulty=classifier, trained here)
    subsets/<strategy>-<budget>.jsonl + .manifest.json
    plots/<subset>.svg      one quadrant plot per subset
    quadrants.svg           the plot of the first DIQ subset (or the first subset)
    select_manifest.json    configuration, stage hashes, summary
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

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
from harness.core.records import PoolRecord, write_records
from selection.decontaminate import DecontaminationConfig, EvalText, contamination, decontaminate
from selection.difficulty import (
    CLASSIFIER_FILE,
    PROXY_COLUMNS,
    ClassifierConfig,
    check_axis_labelled,
    classifier_info,
    classifier_text,
    labelled_examples,
    labelled_per_axis,
    predict_classifier,
    read_external,
    read_labels,
    train_classifier,
)
from selection.influence.batching import check_fits
from selection.influence.model import fingerprint, load_tokenizer
from selection.influence.runner import (
    ScoringConfig,
    distributed_from_env,
    score_records,
    score_records_spawned,
)
from selection.loaders import load_pool, load_validation
from selection.options import AXES, DIFFICULTY_SCORERS
from selection.plot import quadrant_svg
from selection.strategies import (
    Thresholds,
    parse_ratio,
    parse_strategies,
    quadrants,
    select,
    thresholds,
)
from selection.subsets import Budget, subset_name, write_subset

logger = logging.getLogger(__name__)

MANIFEST = "select_manifest.json"
PARTS_DIR = ".scores-parts"
CLASSIFIER_DIR = "difficulty_classifier"


@dataclass(frozen=True)
class DifficultyConfig:
    """Which difficulty to use, and where a classifier or external scores come from."""

    scorer: str = "ifd"
    axis: str = "overall"
    percentile: float = 50.0
    labels: str | None = None
    classifier: str | None = None
    scores: str | None = None
    training: ClassifierConfig = field(default_factory=ClassifierConfig)

    def __post_init__(self) -> None:
        if self.scorer not in DIFFICULTY_SCORERS:
            raise ConfigError(
                f"unknown difficulty {self.scorer!r}; choose one of {', '.join(DIFFICULTY_SCORERS)}"
            )
        if self.axis not in AXES:
            raise ConfigError(f"--difficulty-axis must be one of {', '.join(AXES)}")
        if self.scorer == "classifier" and not (self.labels or self.classifier):
            raise ConfigError(
                "--difficulty classifier needs --difficulty-labels FILE (to fine-tune an "
                "encoder) or --difficulty-classifier DIR (a classifier trained before)"
            )
        if self.scorer == "external" and not self.scores:
            raise ConfigError("--difficulty external needs --difficulty-scores FILE")

    @property
    def column(self) -> str:
        """The scores column that holds this difficulty."""
        if self.scorer in PROXY_COLUMNS:
            return PROXY_COLUMNS[self.scorer]
        return f"difficulty_{self.axis}" if self.scorer == "classifier" else "difficulty"

    def identity(self) -> dict[str, Any]:
        values = asdict(self)
        values["labels_sha256"] = fingerprint(self.labels)
        values["classifier_sha256"] = fingerprint(self.classifier)
        values["scores_sha256"] = fingerprint(self.scores)
        return values


@dataclass(frozen=True)
class SelectConfig:
    """One `diq select` run."""

    pool: str
    validation: str
    out: str
    scoring: ScoringConfig
    pool_format: str = "auto"
    field_map: str | None = None
    hf_split: str = "train"
    hf_config: str | None = None
    cop_base: int | None = None  # MedMCQA `cop` counts from: None = the source's convention
    strategies: tuple[str, ...] = ("diq", "random")
    ratios: tuple[str, ...] = ("0.01", "0.1")
    counts: tuple[int, ...] = ()
    seed: int = 0
    influence_threshold: float | None = None
    difficulty: DifficultyConfig = field(default_factory=DifficultyConfig)
    decontamination: DecontaminationConfig = field(default_factory=DecontaminationConfig)
    eval_text_files: tuple[str, ...] = ()
    nproc: int = 1
    progress: bool = True

    def budgets(self) -> list[Budget]:
        """Ratios then counts, validated; at least one."""
        budgets = [
            Budget(ratio=parse_ratio(text), label=_ratio_label(text)) for text in self.ratios
        ]
        for count in self.counts:
            if count < 1:
                raise ConfigError(f"--counts must be positive, got {count}")
            budgets.append(Budget(count=count, label=f"n{count}"))
        if not budgets:
            raise ConfigError("give at least one --ratios or --counts value")
        return budgets


@dataclass
class SelectResult:
    """What a run produced (rank 0)."""

    run_dir: Path
    pool_size: int
    scores: pd.DataFrame
    thresholds: Thresholds
    subsets: dict[str, dict[str, Any]]
    skipped: list[str]


def _ratio_label(text: str) -> str:
    """The ratio as written in file names: `0.01`, `0.1`, `1`."""
    return format(Decimal(text.strip()).normalize(), "f")


def load_eval_texts(paths: Sequence[str]) -> list[EvalText]:
    """Evaluation questions from JSONL files with a `question` field (validation files too)."""
    texts = []
    for path in paths:
        for line, row in iter_jsonl(path):
            question = row.get("question")
            if not isinstance(question, str):
                raise InputError("missing question text", path=path, line=line, field="question")
            source = str(row.get("task") or row.get("source") or Path(path).stem)
            texts.append(EvalText(source, str(row.get("id", line)), question))
    return texts


def check_validation(
    pool: Sequence[PoolRecord],
    validation: Sequence[PoolRecord],
    path: str,
    config: DecontaminationConfig,
) -> None:
    """A validation record must not be a pool record (same id, or the same question text)."""
    pool_ids = {r.id for r in pool}
    for record in validation:
        if record.id in pool_ids:
            raise InputError(
                "validation record is also a pool record (same id); validation items must "
                "be held out of the pool",
                path=path,
                record=record.id,
                field="id",
            )
    texts = [EvalText("validation", r.id, r.question) for r in validation]
    overlaps = contamination(pool, texts, replace(config, ngram_threshold=0.8))
    if overlaps:
        first = overlaps[0]
        raise InputError(
            f"validation question overlaps pool record {first.id!r} ({first.reason} match, "
            f"{first.score:.2f}; {len(overlaps)} pool records in all); decontaminate the pool "
            f"against it (--eval-texts {path}) or draw other validation items",
            path=path,
            record=first.match_id,
            field="question",
        )


def preflight_parameter_set(scoring: ScoringConfig) -> dict[str, Any]:
    """Resolve the parameter set on a weightless (meta-device) copy of the model."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from selection.influence.params import resolve_parameter_set

    try:
        model_config = AutoConfig.from_pretrained(scoring.model)
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot load the model {scoring.model!r}: {error}") from None
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(model_config)
    if scoring.adapter is not None and scoring.params == "lora":
        from peft import PeftConfig, get_peft_model

        try:
            adapter_config = PeftConfig.from_pretrained(scoring.adapter)
        except (OSError, ValueError) as error:
            raise ConfigError(f"cannot load the adapter {scoring.adapter!r}: {error}") from None
        model = get_peft_model(model, adapter_config).get_base_model()
    return resolve_parameter_set(model, scoring.params).describe()


class Ledger:
    """Stage records in `select_manifest.json`: input hashes and output file hashes."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / MANIFEST
        self.run_dir = run_dir
        data = read_json(self.path) if self.path.is_file() else {}
        self.stages: dict[str, Any] = dict(data.get("stages", {}))

    def fresh(self, stage: str, inputs: str) -> bool:
        entry = self.stages.get(stage)
        if not entry or entry.get("inputs") != inputs:
            return False
        for name, digest in entry.get("outputs", {}).items():
            path = self.run_dir / name
            if not path.is_file() or sha256_file(path) != digest:
                return False
        return True

    def record(self, stage: str, inputs: str, outputs: Sequence[str]) -> None:
        self.stages[stage] = {
            "inputs": inputs,
            "outputs": {name: sha256_file(self.run_dir / name) for name in outputs},
        }

    def output_hash(self, stage: str, name: str) -> str:
        return str(self.stages[stage]["outputs"][name])

    def save(self, summary: dict[str, Any]) -> None:
        write_json(self.path, {**summary, "stages": self.stages})


def _source_fingerprint(config: SelectConfig) -> Any:
    path = Path(config.pool)
    if path.exists():
        return fingerprint(str(path))
    return {"hub": config.pool, "split": config.hf_split, "config": config.hf_config}


@dataclass
class Prepared:
    """A checked run: every input loaded and validated, nothing written yet."""

    config: SelectConfig
    strategies: list[str]
    budgets: list[Budget]
    raw_size: int
    pool: list[PoolRecord]
    report: dict[str, Any]
    eval_texts: list[EvalText]
    validation: list[PoolRecord]
    parameter_set: dict[str, Any]
    labels: dict[str, dict[str, Any]] | None

    @property
    def pool_by_id(self) -> dict[str, PoolRecord]:
        return {r.id: r for r in self.pool}


def prepare_select(
    config: SelectConfig, eval_texts: Sequence[EvalText] = (), *, labels_pending: bool = False
) -> Prepared:
    """Load and check every input; raise on anything wrong; write nothing.

    `labels_pending`: the Likert labels file does not exist yet (an LLM rater writes it
    between `prepare_select` and `execute_select`).
    """
    strategies = parse_strategies(",".join(config.strategies))
    budgets = config.budgets()
    if config.nproc < 1:
        raise ConfigError("--nproc must be >= 1")
    if not config.scoring.ifd and "ifd" in (config.difficulty.scorer, *strategies):
        raise ConfigError("IFD is turned off (--no-ifd) but the ifd difficulty/strategy needs it")
    raw = load_pool(
        config.pool,
        pool_format=config.pool_format,
        field_map=config.field_map,
        split=config.hf_split,
        hf_config=config.hf_config,
        cop_base=config.cop_base,
    )
    texts = [*eval_texts, *load_eval_texts(config.eval_text_files)]
    pool, report = decontaminate(raw, texts, config.decontamination)
    if not pool:
        raise InputError("no pool records left after decontamination", path=config.pool)
    validation = load_validation(config.validation)
    check_validation(pool, validation, config.validation, config.decontamination)
    parameter_set = preflight_parameter_set(config.scoring)
    tokenizer = load_tokenizer(config.scoring.model)
    for records, source in ((validation, config.validation), (pool, config.pool)):
        check_fits(
            records,
            tokenizer,
            max_length=config.scoring.max_length,
            style=config.scoring.style,
            source=source,
        )
    labels = None
    if config.difficulty.labels and not labels_pending:
        labels = _checked_labels(config, {r.id: r for r in pool})
    if config.difficulty.scorer == "classifier" and config.difficulty.classifier:
        axis, classifier = config.difficulty.axis, config.difficulty.classifier
        count = classifier_info(classifier)["labelled_per_axis"].get(axis, 0)
        check_axis_labelled(count, axis, Path(classifier) / CLASSIFIER_FILE)
    if config.difficulty.scores is not None and config.difficulty.scorer == "external":
        read_external(config.difficulty.scores, [r.id for r in pool])
    return Prepared(
        config,
        strategies,
        budgets,
        len(raw),
        pool,
        report,
        texts,
        validation,
        parameter_set,
        labels,
    )


def _checked_labels(config: SelectConfig, pool: dict[str, PoolRecord]) -> dict[str, dict[str, Any]]:
    difficulty = config.difficulty
    assert difficulty.labels is not None
    labels = read_labels(difficulty.labels)
    _, targets = labelled_examples(labels, pool, difficulty.training.text, difficulty.labels)
    if difficulty.scorer == "classifier" and not difficulty.classifier:
        count = labelled_per_axis(targets)[difficulty.axis]
        check_axis_labelled(count, difficulty.axis, difficulty.labels)
    return labels


def run_select(config: SelectConfig, eval_texts: Sequence[EvalText] = ()) -> SelectResult | None:
    """Check, then run every stage; the result on rank 0 (None on other torchrun ranks)."""
    return execute_select(prepare_select(config, eval_texts))


def execute_select(prepared: Prepared) -> SelectResult | None:
    """Run the stages of a prepared run, skipping those whose inputs did not change."""
    rank, world = distributed_from_env()
    config = prepared.config
    run_dir = Path(config.out)
    strategies, budgets = prepared.strategies, prepared.budgets
    pool, validation, report, texts = (
        prepared.pool,
        prepared.validation,
        prepared.report,
        prepared.eval_texts,
    )
    pool_by_id = prepared.pool_by_id
    labels = prepared.labels
    if config.difficulty.labels and labels is None:
        labels = _checked_labels(config, pool_by_id)
    parameter_set = prepared.parameter_set
    raw_size = prepared.raw_size

    ledger = Ledger(run_dir)
    skipped: list[str] = []

    # --- pool --------------------------------------------------------------------------
    pool_inputs = sha256_json(
        {
            "source": _source_fingerprint(config),
            "format": config.pool_format,
            "field_map": config.field_map,
            "cop_base": config.cop_base,
            "eval_texts": sha256_json(sorted((t.source, t.id, t.text) for t in texts)),
            "decontamination": asdict(config.decontamination),
            "validation": sha256_file(config.validation),
        }
    )
    if rank == 0:
        if ledger.fresh("pool", pool_inputs):
            skipped.append("pool")
        else:
            write_records(run_dir / "pool.jsonl", pool)
            write_records(run_dir / "validation.jsonl", validation)
            write_json(run_dir / "decontamination.json", report)
            ledger.record(
                "pool", pool_inputs, ["pool.jsonl", "validation.jsonl", "decontamination.json"]
            )
        logger.info(
            "pool: %d records in, %d kept (exact %d, n-gram %d, near-duplicate %d removed)",
            raw_size,
            len(pool),
            report["exact_match"]["removed"],
            report["ngram_overlap"]["removed"],
            report["near_duplicates"]["removed"],
        )

    # --- influence and proxies ---------------------------------------------------------
    influence_inputs = sha256_json(
        {
            "pool": sha256_json([r.to_dict() for r in pool]),
            "validation": sha256_json([r.to_dict() for r in validation]),
            "scoring": config.scoring.identity(),
        }
    )
    if ledger.fresh("influence", influence_inputs):
        skipped.append("influence")
        logger.info("influence: inputs unchanged, reusing %s", run_dir / "scores.parquet")
        influence = pd.read_parquet(run_dir / "scores.parquet")
    else:
        influence = _score(config, pool, validation, run_dir, influence_inputs, rank, world)
    if rank != 0:
        return None
    assert influence is not None

    # --- difficulty ---------------------------------------------------------------------
    scores_inputs = sha256_json(
        {
            "influence": influence_inputs,
            "difficulty": config.difficulty.identity(),
            "influence_threshold": config.influence_threshold,
        }
    )
    if ledger.fresh("scores", scores_inputs):
        skipped.append("scores")
        scores = pd.read_parquet(run_dir / "scores.parquet")
        split = thresholds(
            scores,
            difficulty_percentile=config.difficulty.percentile,
            influence_threshold=config.influence_threshold,
        )
    else:
        scores, split = _with_difficulty(config, influence, pool_by_id, labels, run_dir)
        with atomic_write(run_dir / "scores.parquet", "wb") as handle:
            scores.to_parquet(handle, index=False)
        ledger.record("influence", influence_inputs, ["scores.parquet"])
        ledger.record("scores", scores_inputs, ["scores.parquet"])
        shutil.rmtree(run_dir / PARTS_DIR, ignore_errors=True)

    # --- subsets and plots ---------------------------------------------------------------
    subsets_inputs = sha256_json(
        {
            "scores": ledger.output_hash("scores", "scores.parquet"),
            "strategies": strategies,
            "budgets": [b.to_dict() for b in budgets],
            "seed": config.seed,
        }
    )
    manifest_path = run_dir / MANIFEST
    previous = read_json(manifest_path) if manifest_path.is_file() else {}
    if ledger.fresh("subsets", subsets_inputs) and (run_dir / "subsets").is_dir():
        skipped.append("subsets")
        subsets = previous.get("subsets", {})
    else:
        provenance = {
            "pool_sha256": ledger.output_hash("pool", "pool.jsonl"),
            "scores_sha256": ledger.output_hash("scores", "scores.parquet"),
            "difficulty_scorer": config.difficulty.scorer,
            "difficulty_column": config.difficulty.column,
            "influence_params": config.scoring.params,
            "influence_method": config.scoring.method,
            "model": config.scoring.model,
            "model_sha256": fingerprint(config.scoring.model),
        }
        subsets = _write_subsets(
            run_dir, strategies, budgets, pool_by_id, scores, split, config, provenance
        )
        written = sorted(
            str(path.relative_to(run_dir))
            for folder in ("subsets", "plots")
            for path in (run_dir / folder).iterdir()
        )
        ledger.record("subsets", subsets_inputs, ["quadrants.svg", *written])
        logger.info("subsets: %d written to %s", len(subsets), run_dir / "subsets")
    ledger.save(
        {
            "config": _config_dict(config),
            "parameter_set": parameter_set,
            "pool_size": len(pool),
            "thresholds": split.to_dict(),
            "subsets": {
                name: {k: m[k] for k in ("strategy", "selected", "budget")}
                for name, m in subsets.items()
            },
            "skipped": skipped,
        }
    )
    return SelectResult(run_dir, len(pool), scores, split, subsets, skipped)


def _score(
    config: SelectConfig,
    pool: Sequence[PoolRecord],
    validation: Sequence[PoolRecord],
    run_dir: Path,
    inputs: str,
    rank: int,
    world: int,
) -> pd.DataFrame | None:
    parts = run_dir / PARTS_DIR
    if config.nproc > 1 and world == 1:
        frame = score_records_spawned(
            config.nproc,
            config.scoring,
            pool,
            validation,
            parts,
            inputs,
            progress=config.progress,
        )
    else:
        frame = score_records(
            config.scoring,
            pool,
            validation,
            parts,
            inputs,
            rank=rank,
            world=world,
            progress=config.progress,
        )
    return frame


def _with_difficulty(
    config: SelectConfig,
    influence: pd.DataFrame,
    pool: dict[str, PoolRecord],
    labels: dict[str, dict[str, Any]] | None,
    run_dir: Path,
) -> tuple[pd.DataFrame, Thresholds]:
    """The scores table: influence columns, the difficulty in use, the quadrant per record."""
    difficulty = config.difficulty
    scores = influence[
        [c for c in influence.columns if not c.startswith("difficulty") and c != "quadrant"]
    ].copy()
    ids = scores["id"].tolist()
    if difficulty.scorer == "classifier":
        classifier = difficulty.classifier or _train(config, pool, labels, run_dir)
        texts = [classifier_text(pool[i], difficulty.training.text) for i in ids]
        predicted = predict_classifier(classifier, texts, progress=config.progress)
        for column in predicted.columns:
            scores[column] = predicted[column].to_numpy()
    elif difficulty.scorer == "external" and difficulty.scores is not None:
        scores["difficulty_external"] = read_external(difficulty.scores, ids).to_numpy()
    column = "difficulty_external" if difficulty.scorer == "external" else difficulty.column
    scores["difficulty"] = scores[column].astype(float)
    scores["difficulty_scorer"] = (
        f"classifier:{difficulty.axis}" if difficulty.scorer == "classifier" else difficulty.scorer
    )
    split = thresholds(
        scores,
        difficulty_percentile=difficulty.percentile,
        influence_threshold=config.influence_threshold,
    )
    scores["quadrant"] = quadrants(scores, split).to_numpy()
    return scores, split


def _train(
    config: SelectConfig,
    pool: dict[str, PoolRecord],
    labels: dict[str, dict[str, Any]] | None,
    run_dir: Path,
) -> str:
    """Fine-tune the Likert classifier into the run directory (skipped when unchanged)."""
    assert labels is not None and config.difficulty.labels is not None
    target = run_dir / CLASSIFIER_DIR
    stamp = sha256_json(
        {
            "labels": sha256_file(config.difficulty.labels),
            "training": asdict(config.difficulty.training),
            "pool": sorted(pool),
        }
    )
    stamp_file = target / "inputs.sha256"
    if stamp_file.is_file() and stamp_file.read_text(encoding="utf-8").strip() == stamp:
        return str(target)
    texts, targets = labelled_examples(
        labels, pool, config.difficulty.training.text, config.difficulty.labels
    )
    train_classifier(texts, targets, config.difficulty.training, target, progress=config.progress)
    write_text(stamp_file, stamp + "\n")
    return str(target)


def _write_subsets(
    run_dir: Path,
    strategies: Sequence[str],
    budgets: Sequence[Budget],
    pool: dict[str, PoolRecord],
    scores: pd.DataFrame,
    split: Thresholds,
    config: SelectConfig,
    provenance: dict[str, Any],
) -> dict[str, dict[str, Any]]:
    manifests: dict[str, dict[str, Any]] = {}
    plots: dict[str, str] = {}
    label = f"difficulty ({scores['difficulty_scorer'].iloc[0]})"
    with (
        atomic_directory(run_dir / "subsets") as subsets_dir,
        atomic_directory(run_dir / "plots") as plots_dir,
    ):
        for strategy in strategies:
            for budget in budgets if strategy != "full" else budgets[:1]:
                name = subset_name(strategy, budget.label)
                chosen = select(
                    scores, strategy, budget.size(len(scores)), split=split, seed=config.seed
                )
                manifests[name] = write_subset(
                    subsets_dir,
                    name,
                    chosen,
                    budget,
                    pool,
                    scores,
                    split,
                    seed=config.seed,
                    provenance=provenance,
                )
                svg = quadrant_svg(
                    scores,
                    chosen.ids,
                    split,
                    title=f"{name}: {len(chosen.ids)} of {len(scores)} records",
                    difficulty_label=label,
                    influence_label=f"influence <grad L_i, G> ({config.scoring.params})",
                )
                write_text(plots_dir / f"{name}.svg", svg)
                plots[name] = svg
    headline = next((n for n in manifests if n.startswith("diq-")), next(iter(manifests)))
    write_text(run_dir / "quadrants.svg", plots[headline])
    return manifests


def _config_dict(config: SelectConfig) -> dict[str, Any]:
    values = asdict(config)
    values["scoring"]["model_sha256"] = fingerprint(config.scoring.model)
    return values
