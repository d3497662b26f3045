"""Everything `diq select` checks before it writes a file.

Pool records, the validation file and its overlap with the pool, the parameter set of
the scoring model (on a weightless copy), token lengths, the difficulty sources: a
problem with any of them is reported, with file, record and field, before the run
directory is touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from harness.core.errors import ConfigError, InputError
from harness.core.io import iter_jsonl
from harness.core.records import PoolRecord
from selection.config import SelectConfig, ratio_label
from selection.decontaminate import EvalText, contamination, decontaminate
from selection.difficulty import (
    CLASSIFIER_FILE,
    check_axis_labelled,
    classifier_info,
    labelled_examples,
    labelled_per_axis,
    read_external,
    read_labels,
)
from selection.influence.batching import check_fits
from selection.influence.model import Precision, load_tokenizer
from selection.influence.runner import scoring_model
from selection.loaders import load_pool, load_validation
from selection.semantic import PairJudge
from selection.subsets import Budget


@dataclass
class Prepared:
    """A checked run: every input loaded and validated, nothing written yet."""

    config: SelectConfig
    out: Path
    budgets: list[Budget]
    raw_size: int
    pool: list[PoolRecord]
    report: dict[str, Any]
    eval_texts: list[EvalText]
    validation_path: str
    validation: list[PoolRecord]
    parameter_set: dict[str, Any]
    labels_path: str | None
    labels: dict[str, dict[str, Any]] | None

    @property
    def pool_by_id(self) -> dict[str, PoolRecord]:
        return {r.id: r for r in self.pool}


def budgets(config: SelectConfig) -> list[Budget]:
    """Ratios then counts, as subset budgets."""
    found = [Budget(ratio=Fraction(ratio), label=ratio_label(ratio)) for ratio in config.ratios]
    return found + [Budget(count=count, label=f"n{count}") for count in config.counts]


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
    pool: Sequence[PoolRecord], validation: Sequence[PoolRecord], path: str, config: SelectConfig
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
    strict = config.decontamination.model_copy(update={"ngram_threshold": 0.8})
    overlaps = contamination(pool, texts, strict)
    if overlaps:
        first = overlaps[0]
        raise InputError(
            f"validation question overlaps pool record {first.id!r} ({first.reason} match, "
            f"{first.score:.2f}; {len(overlaps)} pool records in all); decontaminate the pool "
            f"against it (eval_texts: {path}) or draw other validation items",
            path=path,
            record=first.match_id,
            field="question",
        )


def preflight_parameter_set(config: SelectConfig) -> dict[str, Any]:
    """Resolve the parameter set on a weightless (meta-device) copy of the model."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from selection.influence.params import resolve_parameter_set

    scoring = config.scoring
    model_name = scoring_model(scoring)
    Precision.resolve(scoring.precision, scoring.device)  # CUDA asked for but missing
    try:
        model_config = AutoConfig.from_pretrained(model_name)
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot load the model {model_name!r}: {error}") from None
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


def checked_labels(
    config: SelectConfig, labels_path: str, pool: dict[str, PoolRecord]
) -> dict[str, dict[str, Any]]:
    """The Likert labels file, checked against the pool and the axis in use."""
    difficulty = config.difficulty
    labels = read_labels(labels_path)
    _, targets = labelled_examples(labels, pool, difficulty.training.text, labels_path)
    if difficulty.scorer == "classifier" and not difficulty.classifier:
        count = labelled_per_axis(targets)[difficulty.axis]
        check_axis_labelled(count, difficulty.axis, labels_path)
    return labels


def prepare_select(
    config: SelectConfig,
    out: str | Path,
    eval_texts: Sequence[EvalText] = (),
    *,
    validation_path: str | None = None,
    labels_path: str | None = None,
    judge: PairJudge | None = None,
) -> Prepared:
    """Load and check every input; raise on anything wrong; write nothing.

    `validation_path`: the validation file when the config draws its items from suites
    (the caller draws them first); default `config.validation.path`. `labels_path`: where
    Likert labels are when a rater writes them between `prepare_select` and
    `execute_select` (not checked here: they do not exist yet). `judge`: the model that
    confirms semantic matches when `decontamination.semantic.judge_model` is set.
    """
    validation_path = validation_path or config.validation.path
    if validation_path is None:
        raise ConfigError("validation: no validation file (draw the items first)")
    raw = load_pool(
        config.pool.path,
        pool_format=config.pool.format,
        field_map=config.pool.field_map,
        split=config.pool.hf_split,
        hf_config=config.pool.hf_config,
        cop_base=config.pool.cop_base,
    )[: config.pool.limit]
    texts = [*eval_texts, *load_eval_texts(config.eval_texts)]
    decontamination = config.decontamination
    pool, report = decontaminate(
        raw, texts if decontamination.enabled else [], decontamination, judge
    )
    if not pool:
        raise InputError("no pool records left after decontamination", path=config.pool.path)
    validation = load_validation(validation_path)
    check_validation(pool, validation, validation_path, config)
    parameter_set = preflight_parameter_set(config)
    tokenizer = load_tokenizer(scoring_model(config.scoring))
    scoring = config.scoring
    for records, source, length in (
        (validation, validation_path, scoring.validation_length),
        (pool, config.pool.path, scoring.max_length),
    ):
        check_fits(records, tokenizer, max_length=length, style=config.render, source=source)
    difficulty = config.difficulty
    labels_path = labels_path or difficulty.labels
    labels = None
    if difficulty.labels:
        labels = checked_labels(config, difficulty.labels, {r.id: r for r in pool})
    if difficulty.scorer == "classifier" and difficulty.classifier:
        count = classifier_info(difficulty.classifier)["labelled_per_axis"].get(difficulty.axis, 0)
        check_axis_labelled(count, difficulty.axis, Path(difficulty.classifier) / CLASSIFIER_FILE)
    if difficulty.scorer == "external" and difficulty.scores is not None:
        read_external(difficulty.scores, [r.id for r in pool])
    return Prepared(
        config=config,
        out=Path(out),
        budgets=budgets(config),
        raw_size=len(raw),
        pool=pool,
        report=report,
        eval_texts=texts,
        validation_path=validation_path,
        validation=validation,
        parameter_set=parameter_set,
        labels_path=labels_path,
        labels=labels,
    )
