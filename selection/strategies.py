"""Selection strategies over a scores table: DIQ, its quadrants, and the baselines.

DIQ (arXiv 2508.01450): split the pool at an influence threshold (the median by default)
and a difficulty threshold (a percentile, the median by default); "high" means at or
above the threshold. Quadrants:

    Q1 high difficulty, high influence    Q2 low difficulty, high influence
    Q3 high difficulty, low influence     Q4 low difficulty, low influence

and take records in priority order Q1, Q2, Q3, Q4; inside a quadrant by influence
(descending), then difficulty (descending), then id (ascending, so ties are
deterministic) until the budget is reached.

Budget: a count, or a ratio r in (0, 1] of the pool size n, rounded half up with exact
decimal arithmetic and at least one record: k = max(1, floor(r * n + 1/2)). So 1% of
19,704 is 197, and 10% of 30 is exactly 3.

Baselines: `random` (seeded, independent of the input order), `full` (everything),
`difficulty` / `influence` (one axis, descending, the other as tie-break), `length`
(longest reasoning in tokens, then longest completion), `loss` (highest response loss),
`ifd` (Cherry LLM: drop IFD >= 1, then highest IFD; may return fewer than k),
`similarity` (the paper's Similarity baseline: highest `similarity` column, the mean
cosine similarity of the question to the validation questions from
`selection.similarity.similarity_scores`), and `q1`..`q4` (one quadrant alone, ordered as
in DIQ; may return fewer than k).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from harness.core.errors import ConfigError
from selection.options import STRATEGIES

QUADRANTS = ("Q1", "Q2", "Q3", "Q4")


def parse_strategies(text: str) -> list[str]:
    """Comma-separated strategy names, validated, de-duplicated in order."""
    names = [s.strip().lower() for s in text.split(",") if s.strip()]
    unknown = [s for s in names if s not in STRATEGIES]
    if unknown or not names:
        raise ConfigError(
            f"unknown strategy {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(STRATEGIES)}"
        )
    return list(dict.fromkeys(names))


def parse_ratio(text: str) -> Fraction:
    """A ratio in (0, 1], kept exact (`0.1` is 1/10, not the float nearest 0.1)."""
    try:
        value = Fraction(Decimal(text.strip()))
    except (ArithmeticError, ValueError):
        raise ConfigError(f"ratio {text!r} is not a number") from None
    if not 0 < value <= 1:
        raise ConfigError(f"ratio {text!r} is outside (0, 1]")
    return value


def budget(ratio: Fraction, size: int) -> int:
    """The subset size: max(1, round half up(ratio * size)) for a non-empty pool."""
    if size < 1:
        raise ConfigError("the pool is empty")
    return max(1, math.floor(ratio * size + Fraction(1, 2)))


@dataclass(frozen=True)
class Thresholds:
    """The quadrant split actually used (values, and the rules that produced them)."""

    influence: float
    difficulty: float
    influence_rule: str
    difficulty_percentile: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "influence": self.influence,
            "influence_rule": self.influence_rule,
            "difficulty": self.difficulty,
            "difficulty_percentile": self.difficulty_percentile,
        }


def thresholds(
    scores: pd.DataFrame,
    *,
    difficulty_percentile: float = 50.0,
    influence_threshold: float | None = None,
) -> Thresholds:
    """Influence at the median (or a given value); difficulty at a percentile (linear)."""
    if not 0 <= difficulty_percentile <= 100:
        raise ConfigError("--difficulty-percentile must be in [0, 100]")
    influence = (
        float(np.median(scores["influence"]))
        if influence_threshold is None
        else float(influence_threshold)
    )
    return Thresholds(
        influence=influence,
        difficulty=float(np.percentile(scores["difficulty"], difficulty_percentile)),
        influence_rule="median" if influence_threshold is None else "fixed",
        difficulty_percentile=difficulty_percentile,
    )


def quadrants(scores: pd.DataFrame, split: Thresholds) -> pd.Series:
    """Q1..Q4 per row ("high" = at or above the threshold)."""
    high_d = scores["difficulty"].to_numpy() >= split.difficulty
    high_i = scores["influence"].to_numpy() >= split.influence
    labels = np.where(high_i, np.where(high_d, "Q1", "Q2"), np.where(high_d, "Q3", "Q4"))
    return pd.Series(labels, index=scores.index, name="quadrant")


@dataclass(frozen=True)
class Selection:
    """The ids one strategy picked, in priority order, and how it got there."""

    strategy: str
    ids: list[str]
    requested: int
    notes: list[str] = field(default_factory=list)


def _ordered(frame: pd.DataFrame, keys: list[tuple[str, bool]]) -> list[str]:
    """Ids sorted by `keys` ((column, ascending) pairs), then by id ascending."""
    columns = [c for c, _ in keys] + ["id"]
    ascending = [a for _, a in keys] + [True]
    return frame.sort_values(columns, ascending=ascending, kind="mergesort")["id"].tolist()


def _diq_order(frame: pd.DataFrame) -> list[str]:
    return _ordered(
        frame.assign(_priority=frame["quadrant"].map(QUADRANTS.index)),
        [("_priority", True), ("influence", False), ("difficulty", False)],
    )


def select(
    scores: pd.DataFrame,
    strategy: str,
    k: int,
    *,
    split: Thresholds,
    seed: int = 0,
) -> Selection:
    """Pick up to `k` ids from `scores` (columns id, influence, difficulty, ... ) by `strategy`."""
    if strategy not in STRATEGIES:
        raise ConfigError(f"unknown strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")
    frame = scores.assign(quadrant=quadrants(scores, split))
    notes: list[str] = []
    if strategy == "diq":
        order = _diq_order(frame)
    elif strategy in ("q1", "q2", "q3", "q4"):
        order = _diq_order(frame[frame["quadrant"] == strategy.upper()])
    elif strategy == "random":
        ids = sorted(frame["id"].tolist())
        order = [ids[i] for i in np.random.default_rng(seed).permutation(len(ids))]
    elif strategy == "full":
        order = sorted(frame["id"].tolist())
        k = len(order)
    elif strategy == "difficulty":
        order = _ordered(frame, [("difficulty", False), ("influence", False)])
    elif strategy == "influence":
        order = _ordered(frame, [("influence", False), ("difficulty", False)])
    elif strategy == "length":
        order = _ordered(frame, [("reasoning_tokens", False), ("completion_tokens", False)])
    elif strategy == "loss":
        order = _ordered(frame, [("loss", False)])
    elif strategy == "similarity":
        if "similarity" not in frame:
            raise ConfigError(
                "the similarity strategy needs a `similarity` score per record "
                "(selection.similarity.similarity_scores against the validation items)"
            )
        order = _ordered(frame, [("similarity", False)])
    else:  # ifd
        eligible = frame[frame["ifd"] < 1]
        dropped = len(frame) - len(eligible)
        if dropped:
            notes.append(f"{dropped} records with IFD >= 1 (or missing) excluded, as in Cherry LLM")
        order = _ordered(eligible, [("ifd", False)])
    if len(order) < k:
        notes.append(f"only {len(order)} eligible records for a budget of {k}")
    return Selection(strategy, order[:k], k, notes)
