"""HealthBench arithmetic: points earned over positive points, per axis and overall.

Kept free of Inspect and of model calls so that the numbers can be checked by hand.
For each criterion that applies, a met binary criterion earns its points (negative
points for undesirable behaviour that is present), a scaled criterion at level L earns
`points * (L - 1) / 4`, and the denominator is the sum of the positive points of the
applicable criteria. The score can be negative; it is clipped to [0, 1] only when
aggregated over samples, as HealthBench does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence

from rubrics.schema import Criterion
from rubrics.verdicts import NOT_APPLICABLE, Vote

NAN = float("nan")
# HealthBench's tag kinds, as simple-evals reports them: a record's tags (`theme:`,
# `physician_agreed_category:`) score the whole sample; a rubric item's tags (`axis:`,
# `level:` example|cluster, `cluster:`) score the items that carry them.
EXAMPLE_TAG_KINDS = ("theme", "physician_agreed_category")
RUBRIC_TAG_KINDS = ("axis", "level", "cluster")


def earned(criterion: Criterion, vote: Vote) -> float:
    """Points a criterion earns for a (non-"not applicable") vote."""
    if criterion.scaled:
        if isinstance(vote, bool) or not isinstance(vote, int):
            raise TypeError(f"{criterion.id}: expected a level 1-5, got {vote!r}")
        return criterion.points * (vote - 1) / 4
    if not isinstance(vote, bool):
        raise TypeError(f"{criterion.id}: expected met / not met, got {vote!r}")
    return criterion.points if vote else 0.0


def expected_level(distribution: Mapping[str, float]) -> float:
    """The probability-weighted level sum(p(l) * l) over levels 1-5 (G-Eval), "na" left out."""
    levels = {int(word): p for word, p in distribution.items() if word.isdigit()}
    return sum(level * p for level, p in levels.items()) / sum(levels.values())


def expected_earned(criterion: Criterion, distribution: Mapping[str, float]) -> float:
    """Points a criterion earns in expectation over a judge's answer-word probabilities.

    Whether the criterion applies is left to the verdict, as in the argmax score, so the
    probabilities are renormalised over the applicable answers: a binary criterion earns
    `points * P(yes | applicable)`, a scaled one `points * (E[level] - 1) / 4`.
    """
    if criterion.scaled:
        return criterion.points * (expected_level(distribution) - 1) / 4
    yes, no = distribution.get("yes", 0.0), distribution.get("no", 0.0)
    return criterion.points * yes / (yes + no)


Credit = Callable[[Criterion, Vote], float]


def criterion_value(criterion: Criterion, vote: Vote | None) -> float:
    """The per-criterion value kept in `Score.value`: 1/0, the level fraction, or NaN.

    NaN means "not applicable" or "no verdict" (the metadata says which).
    """
    if vote is None or vote == NOT_APPLICABLE:
        return NAN
    if criterion.scaled:
        return (int(vote) - 1) / 4
    return 1.0 if vote else 0.0


def points_score(items: Iterable[tuple[Criterion, Vote | None]], credit: Credit = earned) -> float:
    """Points earned over applicable positive points; NaN if any verdict is missing.

    NaN also when no positive criterion applies (the score is undefined, not zero).
    `credit` gives the points of an applicable criterion: `earned` from the vote, or an
    expectation over the judge's probabilities (which criteria apply is always the votes').
    """
    total_earned = 0.0
    positive = 0.0
    for criterion, vote in items:
        if vote is None:
            return NAN
        if vote == NOT_APPLICABLE:
            continue
        total_earned += credit(criterion, vote)
        if criterion.points > 0:
            positive += criterion.points
    return total_earned / positive if positive > 0 else NAN


def axis_scores(
    criteria: Sequence[Criterion], votes: Mapping[str, Vote | None], credit: Credit = earned
) -> dict[str, float]:
    """`points_score` for each axis that the criteria belong to, in first-seen order."""
    axes = list(dict.fromkeys(criterion.axis for criterion in criteria))
    return {
        axis: points_score(((c, votes[c.id]) for c in criteria if c.axis == axis), credit)
        for axis in axes
    }


def healthbench_score(points: Sequence[float], met: Sequence[bool | None]) -> float | None:
    """HealthBench's `calculate_score`: met points (negatives included) / positive points.

    None when there are no positive points (as upstream; happens for tag subsets);
    NaN when any item has no verdict.
    """
    if len(points) != len(met):
        raise ValueError("points and verdicts differ in length")
    positive = sum(p for p in points if p > 0)
    if positive == 0:
        return None
    if any(m is None for m in met):
        return NAN
    return sum(p for p, m in zip(points, met, strict=True) if m) / positive


def tag_key(tag: str, kinds: Sequence[str]) -> str | None:
    """The score key of a HealthBench tag of one of `kinds` (`axis:accuracy` -> `axis_accuracy`)."""
    kind, sep, name = tag.partition(":")
    return f"{kind}_{name}" if sep and kind in kinds else None


def is_number(value: object) -> bool:
    """True for a finite int or float (bools excluded)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
