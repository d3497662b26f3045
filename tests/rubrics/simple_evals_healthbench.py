"""simple-evals' HealthBench scoring, verbatim, as the reference our scorer is tested against.

Copied from openai/simple-evals `healthbench_eval.py` at commit
ee3b0318d8d1d9d72755a4120879be65f7c07e9e (MIT License, Copyright (c) 2024 OpenAI):
`RubricItem`, `calculate_score`, `_compute_clipped_stats`, `_aggregate_get_clipped_mean`
and the tag scoring of `HealthBenchEval.grade_sample` (wrapped in `sample_metrics`, whose
grader responses are given instead of asked for). `SingleEvalResult` and `EvalResult`
are reduced to the fields used here (from simple-evals `types.py`). Only the formatting
is ours (ruff).
"""

# ruff: noqa
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class SingleEvalResult:
    score: float | None
    metrics: dict[str, float] = field(default_factory=dict)
    html: str | None = None
    convo: list[dict[str, str]] | None = None
    example_level_metadata: dict[str, Any] | None = None


@dataclass
class EvalResult:
    score: float | None
    metrics: dict[str, float] | None
    htmls: list[str]
    convos: list[Any]
    metadata: dict[str, Any] | None


class RubricItem:
    def __init__(self, criterion: str, points: float, tags: list[str]):
        self.criterion = criterion
        self.points = points
        self.tags = tags

    def __str__(self):
        return f"[{self.points}] {self.criterion}"

    def to_dict(self):
        return {
            "criterion": self.criterion,
            "points": self.points,
            "tags": self.tags,
        }

    @classmethod
    def from_dict(cls, d: dict):
        return cls(
            criterion=d["criterion"],
            points=d["points"],
            tags=d["tags"],
        )


def calculate_score(
    rubric_items: list[RubricItem], grading_response_list: list[dict]
) -> float | None:
    total_possible_points = sum(
        rubric_item.points for rubric_item in rubric_items if rubric_item.points > 0
    )
    if total_possible_points == 0:
        # should not happen for overall score, but may happen for tags
        return None

    achieved_points = sum(
        rubric_item.points
        for rubric_item, grading_response in zip(rubric_items, grading_response_list, strict=True)
        if grading_response["criteria_met"]
    )
    overall_score = achieved_points / total_possible_points
    return overall_score


def sample_metrics(
    rubric_items: list[RubricItem],
    grading_response_list: list[dict],
    example_tags: list[str],
) -> dict:
    """`grade_sample`'s metrics for graded rubric items (its lines, after the grading)."""
    # compute the overall score
    overall_score = calculate_score(rubric_items, grading_response_list)
    assert overall_score is not None
    metrics = {
        "overall_score": overall_score,
    }

    # compute scores for example-level tags)
    example_tag_scores = {tag: overall_score for tag in example_tags}
    assert len(example_tag_scores) == len(example_tags)  # No duplicates.
    metrics.update(example_tag_scores)

    # compute scores for rubric-level tags
    rubric_tag_items_grades = defaultdict(list)
    for rubric_item, grading_response in zip(rubric_items, grading_response_list):
        curr_item_tags = set()  # Ensure no duplicates in a rubric item.
        for tag in rubric_item.tags:
            rubric_tag_items_grades[tag].append((rubric_item, grading_response))
            assert tag not in curr_item_tags
            curr_item_tags.add(tag)

    rubric_tag_scores = {}
    for tag, items_grades in rubric_tag_items_grades.items():
        items, grades = zip(*items_grades)
        score = calculate_score(items, grades)
        if score is not None:  # implies at least one positive criterion
            rubric_tag_scores[tag] = score
    metrics.update(rubric_tag_scores)
    return metrics


def _compute_clipped_stats(
    values: list,
    stat: str,
):
    """Computes the mean (clipped to [0, 1]), bootstrap std for that mean, and n_samples for final HealthBench scoring."""
    if stat == "mean":
        return np.clip(np.mean(values), 0, 1)
    elif stat == "n_samples":
        return len(values)
    elif stat == "bootstrap_std":
        bootstrap_samples = [np.random.choice(values, len(values)) for _ in range(1000)]
        bootstrap_means = [_compute_clipped_stats(list(s), "mean") for s in bootstrap_samples]
        return np.std(bootstrap_means)
    else:
        raise ValueError(f"Unknown {stat =}")


def _aggregate_get_clipped_mean(
    single_eval_results: list[SingleEvalResult],
) -> EvalResult:
    """
    Aggregate multiple SingleEvalResults into a single EvalResult for HealthBench.
    For each metric, returns the stats in _compute_clipped_stats.
    """
    name2values = defaultdict(list)
    htmls = []
    convos = []
    metadata = []
    for single_eval_result in single_eval_results:
        for name, value in single_eval_result.metrics.items():
            name2values[name].append(value)
        if single_eval_result.score is not None:
            name2values["score"].append(single_eval_result.score)
        htmls.append(single_eval_result.html)
        convos.append(single_eval_result.convo)
        metadata.append(single_eval_result.example_level_metadata)
    final_metrics = {}
    for name, values in name2values.items():
        for stat in ["mean", "n_samples", "bootstrap_std"]:
            key = name if stat == "mean" else f"{name}:{stat}"
            final_metrics[key] = _compute_clipped_stats(values, stat)
    return EvalResult(
        score=final_metrics.pop("score", None),
        metrics=final_metrics,
        htmls=htmls,
        convos=convos,
        metadata={"example_level_metadata": metadata},
    )
