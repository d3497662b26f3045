"""`diq select` as a library: pool -> influence -> difficulty -> subsets, each skipped when unchanged.

`prepare_select` (selection.prepare) checks every input first, so bad input leaves the
run directory untouched; `execute_select` then runs four sub-stages, one function each.
Each records the hash of its inputs and of the files it wrote in the ledger of
`select_manifest.json` (`harness.core.ledger`): a rerun skips a sub-stage whose inputs
and outputs are unchanged (changing only the difficulty scorer reuses the influence
scores; changing only the strategies reuses all scores). Files land where
`harness.core.layout.RunLayout` says.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from harness.core.fingerprint import fingerprint
from harness.core.io import atomic_write, sha256_file, sha256_json, write_json, write_text
from harness.core.layout import RunLayout
from harness.core.ledger import Ledger
from harness.core.outdir import claim_output_dir
from harness.core.records import PoolRecord, write_records
from selection.decontaminate import EvalText
from selection.difficulty import (
    classifier_text,
    labelled_examples,
    predict_classifier,
    read_external,
    train_classifier,
)
from selection.influence.runner import (
    ScoringJob,
    distributed_from_env,
    score_records,
    score_records_spawned,
    scoring_model,
)
from selection.methods import selection_methods
from selection.plot import quadrant_svg
from selection.prepare import Prepared, checked_labels, prepare_select
from selection.similarity import similarity_scores
from selection.strategies import Thresholds, quadrants, select, thresholds
from selection.subsets import subset_name, write_subset

logger = logging.getLogger(__name__)


@dataclass
class SelectResult:
    """What a run produced (rank 0)."""

    run_dir: Path
    pool_size: int
    scores: pd.DataFrame
    thresholds: Thresholds
    subsets: dict[str, dict[str, Any]]
    skipped: list[str]


def _digests(layout: RunLayout, paths: Sequence[Path]) -> dict[str, str | None]:
    """Content hashes of output files, by path relative to the run directory."""
    return {
        str(path.relative_to(layout.root)): sha256_file(path) if path.is_file() else None
        for path in paths
    }


def run_select(
    config: Any, out: str | Path, eval_texts: Sequence[EvalText] = (), *, progress: bool = True
) -> SelectResult | None:
    """Check, then run every sub-stage; the result on rank 0 (None on other torchrun ranks)."""
    return execute_select(prepare_select(config, out, eval_texts), progress=progress)


def execute_select(prepared: Prepared, *, progress: bool = True) -> SelectResult | None:
    """Run the sub-stages of a prepared run, skipping those whose inputs did not change."""
    rank, world = distributed_from_env()
    layout = RunLayout(prepared.out)
    if rank == 0:
        claim_output_dir(layout.root, "run")
    ledger = Ledger(layout.select_manifest)
    skipped: list[str] = []
    if rank == 0 and not _pool_stage(prepared, layout, ledger):
        skipped.append("pool")
    influence_inputs = sha256_json(
        {
            "pool": sha256_json([r.to_dict() for r in prepared.pool]),
            "validation": sha256_json([r.to_dict() for r in prepared.validation]),
            "scoring": prepared.config.scoring.identity(),
            "render": prepared.config.render.model_dump(mode="json"),
        }
    )
    fresh = ledger.fresh("influence", influence_inputs, _digests(layout, [layout.scores]))
    if fresh:
        skipped.append("influence")
        logger.info("influence: inputs unchanged, reusing %s", layout.scores)
        influence = pd.read_parquet(layout.scores)
    else:
        influence = _influence_stage(prepared, layout, influence_inputs, rank, world, progress)
    if rank != 0:
        return None
    assert influence is not None
    scores, split, fresh = _difficulty_stage(
        prepared, layout, ledger, influence, influence_inputs, progress
    )
    if fresh:
        skipped.append("scores")
    subsets, fresh = _subsets_stage(prepared, layout, ledger, scores, split)
    if fresh:
        skipped.append("subsets")
    config = prepared.config
    ledger.save(
        config=config.model_dump(mode="json"),
        model_sha256=fingerprint(scoring_model(config.scoring)),
        parameter_set=prepared.parameter_set,
        pool_size=len(prepared.pool),
        thresholds=split.to_dict(),
        subsets={
            name: {k: m[k] for k in ("strategy", "selected", "requested", "budget")}
            for name, m in subsets.items()
        },
        skipped=skipped,
        methods=selection_methods(prepared, split),
    )
    return SelectResult(layout.root, len(prepared.pool), scores, split, subsets, skipped)


def _pool_stage(prepared: Prepared, layout: RunLayout, ledger: Ledger) -> bool:
    """Write the decontaminated pool, the validation records and the removal report.

    Returns whether anything was written (False: unchanged, skipped).
    """
    config = prepared.config
    report = prepared.report
    inputs = sha256_json(
        {
            "pool": config.pool.identity(),
            "eval_texts": sha256_json(
                sorted((t.source, t.id, t.text) for t in prepared.eval_texts)
            ),
            "decontamination": config.decontamination.model_dump(mode="json"),
            "validation": sha256_file(prepared.validation_path),
        }
    )
    outputs = [layout.pool, layout.validation, layout.decontamination]
    logger.info(
        "pool: %d records in, %d kept (exact %d, n-gram %d, near-duplicate %d removed)",
        prepared.raw_size,
        len(prepared.pool),
        report["exact_match"]["removed"],
        report["ngram_overlap"]["removed"],
        report["near_duplicates"]["removed"],
    )
    if ledger.fresh("pool", inputs, _digests(layout, outputs)):
        return False
    write_records(layout.pool, prepared.pool)
    write_records(layout.validation, prepared.validation)
    write_json(layout.decontamination, report)
    ledger.record("pool", inputs, _digests(layout, outputs))
    return True


def _influence_stage(
    prepared: Prepared,
    layout: RunLayout,
    inputs: str,
    rank: int,
    world: int,
    progress: bool,
) -> pd.DataFrame | None:
    """Influence, loss, IFD and lengths of every pool record (rank 0 gets the frame)."""
    config = prepared.config
    job = ScoringJob(
        config=config.scoring,
        style=config.render,
        pool=prepared.pool,
        validation=prepared.validation,
        parts_dir=layout.score_parts,
        inputs_hash=inputs,
        progress=progress,
    )
    if config.nproc > 1 and world == 1:
        return score_records_spawned(config.nproc, job)
    return score_records(job, rank=rank, world=world)


def _difficulty_stage(
    prepared: Prepared,
    layout: RunLayout,
    ledger: Ledger,
    influence: pd.DataFrame,
    influence_inputs: str,
    progress: bool,
) -> tuple[pd.DataFrame, Thresholds, bool]:
    """The scores table: influence columns, the difficulty in use and each record's quadrant."""
    config = prepared.config
    inputs = sha256_json(
        {
            "influence": influence_inputs,
            "difficulty": config.difficulty.identity(),
            "labels": fingerprint(prepared.labels_path),
            "influence_threshold": config.influence_threshold,
            "similarity": config.decontamination.semantic.model_dump(mode="json"),
        }
    )
    if ledger.fresh("scores", inputs, _digests(layout, [layout.scores])):
        scores = pd.read_parquet(layout.scores)
        return scores, _thresholds(config, scores), True
    difficulty = config.difficulty
    scores = influence[
        [c for c in influence.columns if not c.startswith("difficulty") and c != "quadrant"]
    ].copy()
    ids = scores["id"].tolist()
    pool = prepared.pool_by_id
    if difficulty.scorer == "classifier":
        classifier = difficulty.classifier or _train_classifier(prepared, layout, progress)
        texts = [classifier_text(pool[i], difficulty.training.text) for i in ids]
        predicted = predict_classifier(classifier, texts, progress=progress)
        for column in predicted.columns:
            scores[column] = predicted[column].to_numpy()
    elif difficulty.scorer == "external" and difficulty.scores is not None:
        scores["difficulty_external"] = read_external(difficulty.scores, ids).to_numpy()
    # the similarity baseline's score: closeness of each question to the validation items
    scores["similarity"] = similarity_scores(
        [pool[i] for i in ids], prepared.validation, config.decontamination.semantic
    )
    scores["difficulty"] = scores[difficulty.column].astype(float)
    scores["difficulty_scorer"] = (
        f"classifier:{difficulty.axis}" if difficulty.scorer == "classifier" else difficulty.scorer
    )
    split = _thresholds(config, scores)
    scores["quadrant"] = quadrants(scores, split).to_numpy()
    with atomic_write(layout.scores, "wb") as handle:
        scores.to_parquet(handle, index=False)
    digests = _digests(layout, [layout.scores])
    ledger.record("influence", influence_inputs, digests)
    ledger.record("scores", inputs, digests)
    shutil.rmtree(layout.score_parts, ignore_errors=True)
    return scores, split, False


def _thresholds(config: Any, scores: pd.DataFrame) -> Thresholds:
    return thresholds(
        scores,
        difficulty_percentile=config.difficulty.percentile,
        influence_threshold=config.influence_threshold,
    )


def _train_classifier(prepared: Prepared, layout: RunLayout, progress: bool) -> str:
    """Fine-tune the Likert classifier into the run directory (skipped when unchanged)."""
    config = prepared.config
    labels_path = prepared.labels_path
    assert labels_path is not None
    pool = prepared.pool_by_id
    labels = prepared.labels or checked_labels(config, labels_path, pool)
    target = layout.difficulty_classifier
    training = config.difficulty.training
    ledger = Ledger(target / "ledger.json")
    inputs = sha256_json(
        {
            "labels": sha256_file(labels_path),
            "training": training.model_dump(mode="json"),
            "pool": sorted(pool),
        }
    )
    if ledger.fresh("classifier", inputs, {"classifier": fingerprint(target, {"ledger.json"})}):
        return str(target)
    texts, targets = labelled_examples(labels, pool, training.text, labels_path)
    train_classifier(texts, targets, training, target, progress=progress)
    ledger.record("classifier", inputs, {"classifier": fingerprint(target, {"ledger.json"})})
    ledger.save()
    return str(target)


def _subsets_stage(
    prepared: Prepared,
    layout: RunLayout,
    ledger: Ledger,
    scores: pd.DataFrame,
    split: Thresholds,
) -> tuple[dict[str, dict[str, Any]], bool]:
    """Every strategy x budget subset with its manifest and quadrant plot.

    Only files this stage wrote are ever replaced or removed: a hand-made subset placed in
    `subsets/` stays (and `diq train --subsets` trains it too).
    """
    config = prepared.config
    inputs = sha256_json(
        {
            "scores": ledger.output("scores", "scores.parquet"),
            "strategies": config.strategies,
            "budgets": [b.to_dict() for b in prepared.budgets],
            "seed": config.seed,
        }
    )
    previous = [
        layout.root / name for name in (ledger.entries.get("subsets") or {}).get("outputs", {})
    ]
    if ledger.fresh("subsets", inputs, _digests(layout, previous)):
        manifests = ledger.entries["subsets"].get("manifests", {})
        return manifests, True
    provenance = {
        "pool_sha256": ledger.output("pool", "pool.jsonl"),
        "scores_sha256": ledger.output("scores", "scores.parquet"),
        "difficulty_scorer": config.difficulty.scorer,
        "difficulty_column": config.difficulty.column,
        "influence_params": config.scoring.params,
        "influence_method": config.scoring.method,
        "model": config.scoring.model,
        "model_sha256": fingerprint(scoring_model(config.scoring)),
    }
    written, manifests = _write_subsets(prepared, layout, scores, split, provenance)
    for stale in set(previous) - set(written):
        stale.unlink(missing_ok=True)
    ledger.record("subsets", inputs, _digests(layout, written), manifests=manifests)
    logger.info("subsets: %d written to %s", len(manifests), layout.subsets)
    return manifests, False


def _write_subsets(
    prepared: Prepared,
    layout: RunLayout,
    scores: pd.DataFrame,
    split: Thresholds,
    provenance: dict[str, Any],
) -> tuple[list[Path], dict[str, dict[str, Any]]]:
    """Write each subset, its manifest and its plot; return the files and the manifests."""
    config = prepared.config
    pool: dict[str, PoolRecord] = prepared.pool_by_id
    written: list[Path] = []
    manifests: dict[str, dict[str, Any]] = {}
    label = f"difficulty ({scores['difficulty_scorer'].iloc[0]})"
    headline: str | None = None
    for strategy in config.strategies:
        for budget in prepared.budgets if strategy != "full" else prepared.budgets[:1]:
            name = subset_name(strategy, budget.label)
            size = budget.size(len(scores))
            chosen = select(scores, strategy, size, split=split, seed=config.seed)
            manifests[name] = write_subset(
                layout.subsets,
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
            write_text(layout.plots / f"{name}.svg", svg)
            written += [
                layout.subset(name),
                layout.subsets / f"{name}.manifest.json",
                layout.plots / f"{name}.svg",
            ]
            if headline is None or (name.startswith("diq-") and not headline.startswith("diq-")):
                headline = name
    assert headline is not None
    shutil.copyfile(layout.plots / f"{headline}.svg", layout.quadrants)
    return [*written, layout.quadrants], manifests
