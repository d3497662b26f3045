"""Decontamination's settings, and what it reads (`EvalText`) and reports (`Removal`).

`DecontaminationConfig` is `select.decontamination` (flags `--decontaminate-*`); its
nested `semantic` section holds the semantic stage (`--decontaminate-semantic-*`). That
stage's thresholds default to values calibrated for the TF-IDF analyzer in use
(`CALIBRATED`); with an embedding model there is nothing calibrated to fall back on, so
the thresholds it uses must be given.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field, model_validator

from harness.core.config import FieldProblem, Section
from selection.similarity import IndexConfig

# analyzer -> (threshold, min_ratio, judge_threshold), chosen on the calibration half of
# the medical-o1 rewrites and must-not-match pairs by `bench/decontaminate.py --calibrate`
CALIBRATED: dict[str, tuple[float, float, float]] = {
    "word": (0.25, 1.9, 0.11),
    "char": (0.5, 1.7, 0.32),
    "word+char": (0.37, 1.6, 0.24),
}


@dataclass(frozen=True)
class EvalText:
    """One evaluation question: where it comes from (task or file) and its text."""

    source: str
    id: str
    text: str


@dataclass(frozen=True)
class Removal:
    """Why one record left the pool: the stage, the item it matched, and the score."""

    id: str
    reason: str
    match_source: str
    match_id: str
    score: float


class SemanticConfig(IndexConfig):
    """The semantic stage: rewritten evaluation questions, retrieved and confirmed.

    The index settings (analyzer, embedding model) are inherited from `IndexConfig`, so
    the similarity baseline can use the same index.
    """

    enabled: bool = Field(
        True, description="look for rewritten evaluation questions after n-gram overlap"
    )
    top_k: int = Field(5, ge=2, description="evaluation questions retrieved per pool question")
    threshold: float | None = Field(
        None,
        gt=0,
        le=1,
        description="similarity of the best match that removes (null: calibrated for the "
        "analyzer; required with an embedding model)",
    )
    min_ratio: float | None = Field(
        None,
        ge=1,
        description="how many times the runner-up's similarity the best match must reach "
        "(null: calibrated for the analyzer; required with an embedding model)",
    )
    judge_model: str | None = Field(
        None,
        description="Inspect model that confirms matches instead of the threshold, asked "
        "whether two questions are the same question rephrased",
    )
    judge_threshold: float | None = Field(
        None,
        gt=0,
        le=1,
        description="similarity from which a retrieved pair is put to the judge "
        "(null: calibrated for the analyzer; required with an embedding model)",
    )

    @model_validator(mode="after")
    def _thresholds_for_embeddings(self) -> SemanticConfig:
        if self.enabled and self.embedding_model:
            used = ("judge_threshold",) if self.judge_model else ("threshold", "min_ratio")
            for name in used:
                if getattr(self, name) is None:
                    raise FieldProblem(
                        name,
                        "set it for the embedding model: the calibrated defaults are for TF-IDF",
                    )
        return self

    def thresholds(self) -> tuple[float, float, float]:
        """(threshold, min_ratio, judge_threshold), calibrated values where none was given."""
        given = (self.threshold, self.min_ratio, self.judge_threshold)
        threshold, min_ratio, ask = (
            value if value is not None else default
            for value, default in zip(given, CALIBRATED[self.analyzer], strict=True)
        )
        return threshold, min_ratio, ask


class DecontaminationConfig(Section):
    """Remove pool records that match evaluation questions, and near-duplicates in the pool."""

    enabled: bool = Field(True, description="remove pool records matching any evaluation text")
    ngram: int = Field(8, ge=1, description="word n-gram length of the overlap test")
    ngram_threshold: float = Field(
        0.5, gt=0, le=1, description="share of the shorter text's n-grams found in the other"
    )
    min_shared: int = Field(3, ge=1, description="n-grams two texts must share at least")
    boilerplate_fraction: float = Field(
        0.05, gt=0, le=1, description="n-grams in more evaluation texts than this are ignored"
    )
    semantic: SemanticConfig = Field(
        SemanticConfig(), description="the semantic stage, for rewritten evaluation questions"
    )
    near_duplicate_threshold: float | None = Field(
        0.8, gt=0, le=1, description="MinHash Jaccard for near-duplicates in the pool (null: off)"
    )
    shingle: int = Field(5, ge=1, description="word shingle length for near-duplicates")
    permutations: int = Field(128, ge=1, description="MinHash permutations")
    bands: int = Field(16, ge=1, description="LSH bands (permutations must be a multiple)")
    seed: int = Field(0, description="seed of the MinHash permutations")

    @model_validator(mode="after")
    def _bands_divide(self) -> DecontaminationConfig:
        if self.permutations % self.bands:
            raise FieldProblem("bands", "MinHash permutations must be a multiple of the band count")
        return self


DEFAULT_CONFIG = DecontaminationConfig()
