"""HealthBench arithmetic, checked against values computed by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from rubrics.healthbench import category_scores
from rubrics.schema import Criterion
from rubrics.scoring import (
    axis_scores,
    criterion_value,
    expected_earned,
    expected_level,
    healthbench_score,
    points_score,
)
from rubrics.verdicts import NOT_APPLICABLE


def _criterion(cid: str, points: float, axis: str = "a", **extra: object) -> Criterion:
    return Criterion(id=cid, axis=axis, points=points, text=cid, **extra)


def test_points_score_by_hand() -> None:
    good, better = _criterion("a.good", 5), _criterion("a.better", 3)
    harm = _criterion("a.harm", -6)
    urgent = _criterion("a.urgent", 8, applies_when="urgent")
    levels = {i: f"level {i}" for i in range(1, 6)}
    scaled = _criterion("a.scaled", 4, anchors=levels)
    # met 5, not met 3, harm present -6, urgent not applicable, scaled level 4 -> 4 * 3/4 = 3
    # earned = 5 + 0 - 6 + 3 = 2 ; positive = 5 + 3 + 4 = 12 (urgent excluded) -> 2/12
    items = [(good, True), (better, False), (harm, True), (urgent, NOT_APPLICABLE), (scaled, 4)]
    assert math.isclose(points_score(items), 2 / 12)
    # urgent applicable and met: earned 2 + 8 = 10 ; positive 12 + 8 = 20 -> 0.5
    items[3] = (urgent, True)
    assert math.isclose(points_score(items), 0.5)
    # a negative score is kept: only harm present -> -6 / 20
    assert math.isclose(
        points_score([(good, False), (better, False), (harm, True), (urgent, False), (scaled, 1)]),
        -6 / 20,
    )
    # a missing verdict makes the score undefined, never zero
    assert math.isnan(points_score([(good, True), (harm, None)]))
    assert criterion_value(scaled, 4) == 0.75 and criterion_value(harm, True) == 1.0
    assert math.isnan(criterion_value(urgent, NOT_APPLICABLE))


def test_expected_points_from_probabilities_by_hand() -> None:
    good, harm = _criterion("a.good", 5), _criterion("a.harm", -6)
    urgent = _criterion("a.urgent", 8, applies_when="urgent")
    scaled = _criterion("a.scaled", 4, anchors={i: f"level {i}" for i in range(1, 6)})
    # applicable: P(yes | applicable) = 0.3 / (0.3 + 0.1) = 0.75 -> 8 * 0.75 = 6
    assert expected_earned(urgent, {"yes": 0.3, "no": 0.1, "na": 0.6}) == pytest.approx(6.0)
    # E[level] = (2 * 0.5 + 4 * 0.25 + 5 * 0.25) / 1 = 3.25 ("na" left out) -> 4 * 2.25 / 4
    levels = {"1": 0.0, "2": 0.4, "3": 0.0, "4": 0.2, "5": 0.2, "na": 0.2}
    assert expected_level(levels) == pytest.approx(3.25)
    assert expected_earned(scaled, levels) == pytest.approx(2.25)
    distributions = {
        "a.good": {"yes": 0.9, "no": 0.1},
        "a.harm": {"yes": 0.2, "no": 0.8},
        "a.urgent": {"yes": 0.3, "no": 0.1, "na": 0.6},
        "a.scaled": levels,
    }
    items = [(good, True), (harm, False), (urgent, True), (scaled, 3)]

    def credit(criterion: Criterion, vote: object) -> float:
        return expected_earned(criterion, distributions[criterion.id])

    # (5 * 0.9 - 6 * 0.2 + 6 + 2.25) / (5 + 8 + 4) = 11.55 / 17 ; argmax: (5 + 8 + 2) / 17
    assert points_score(items, credit) == pytest.approx(11.55 / 17)
    assert points_score(items) == pytest.approx((5 + 8 + 2) / 17)
    # which criteria apply is the votes': a "not applicable" verdict is left out either way
    items[2] = (urgent, NOT_APPLICABLE)
    assert points_score(items, credit) == pytest.approx((4.5 - 1.2 + 2.25) / 9)


def test_axis_scores_split_by_axis() -> None:
    criteria = [_criterion("x.a", 4, "x"), _criterion("y.a", 2, "y"), _criterion("y.b", -1, "y")]
    # x: 4/4 = 1 ; y: (0 - 1) / 2 = -0.5
    assert axis_scores(criteria, {"x.a": True, "y.a": False, "y.b": True}) == {"x": 1.0, "y": -0.5}


def _record(data_dir: Path, n: int) -> dict:
    path = data_dir / f"healthbench/processed_data/2025-05-07-06-14-12_oss_eval_example_{n}.json"
    return json.loads(path.read_text())


def test_healthbench_score_on_real_records_by_hand(data_dir: Path) -> None:
    r19, r22, r24 = (_record(data_dir, n) for n in (19, 22, 24))
    points19 = [item["points"] for item in r19["rubrics"]]
    assert points19 == [9, 4, -8]
    # example 19, met [T, F, T]: (9 - 8) / (9 + 4) = 1/13
    assert math.isclose(healthbench_score(points19, [True, False, True]), 1 / 13)
    # rubric tags: completeness = item 0 -> 9/9 ; communication_quality = items 1, 2 -> -8/4 ;
    # level:example = all three -> 1/13 ; example tag theme:context_seeking -> the overall 1/13
    assert category_scores(
        r19["example_tags"], r19["rubrics"], [True, False, True]
    ) == pytest.approx(
        {
            "theme_context_seeking": 1 / 13,
            "axis_completeness": 1.0,
            "axis_communication_quality": -2.0,
            "level_example": 1 / 13,
        }
    )
    points22 = [item["points"] for item in r22["rubrics"]]
    assert points22 == [7, -5, -6, -7, -9, -9]
    # every item met: (7 - 5 - 6 - 7 - 9 - 9) / 7 = -29/7 ; accuracy items are all negative,
    # so that axis has no positive points and no score (as simple-evals)
    met = [True] * 6
    assert math.isclose(healthbench_score(points22, met), -29 / 7)
    assert category_scores(r22["example_tags"], r22["rubrics"], met) == pytest.approx(
        {"theme_context_seeking": -29 / 7, "axis_context_awareness": 1.0, "level_example": -29 / 7}
    )
    points24 = [item["points"] for item in r24["rubrics"]]
    # [8, 8, -5, -5], met [T, T, F, F]: 16 / 16 = 1
    assert healthbench_score(points24, [True, True, False, False]) == 1.0
    assert healthbench_score([-3, -2], [True, True]) is None
    assert math.isnan(healthbench_score(points24, [True, None, False, False]))


def test_cluster_level_and_physician_category_breakdowns_by_hand() -> None:
    items = [
        {"points": 5, "tags": ["level:cluster", "cluster:hedging_precise", "axis:accuracy"]},
        {"points": 5, "tags": ["level:cluster", "cluster:hedging_safe", "axis:accuracy"]},
        {"points": 10, "tags": ["level:example", "axis:completeness", "other:ignored"]},
        {"points": -4, "tags": ["level:example", "axis:completeness"]},
    ]
    tags = ["theme:hedging", "physician_agreed_category:any-reducible-uncertainty", "x:y"]
    # met [T, F, T, F]: overall (5 + 10) / 20 = 0.75, the score of each example tag
    assert category_scores(tags, items, [True, False, True, False]) == pytest.approx(
        {
            "theme_hedging": 0.75,
            "physician_agreed_category_any-reducible-uncertainty": 0.75,
            "cluster_hedging_precise": 1.0,  # 5 / 5
            "cluster_hedging_safe": 0.0,  # 0 / 5
            "level_cluster": 0.5,  # 5 / 10
            "level_example": 1.0,  # 10 / 10 (the -4 item not met)
            "axis_accuracy": 0.5,
            "axis_completeness": 1.0,
        }
    )
