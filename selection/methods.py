"""What selection did, in sentences for a report's Methods section.

Each entry is `{"topic", "text"}`; `select_manifest.json` keeps the list under `methods`
and the report renders it. The sentences state where this implementation departs from
the paper (arXiv 2508.01450), so a reader does not have to find out from the code.
"""

from __future__ import annotations

from typing import Any

from selection.influence.model import Precision
from selection.prepare import Prepared
from selection.strategies import Thresholds

PAPER_PROJECTION = 4096


def _sentence(topic: str, text: str) -> dict[str, str]:
    return {"topic": topic, "text": text}


def influence_sentence(prepared: Prepared) -> str:
    """The estimator: exact by default, the paper's projection on request."""
    scoring = prepared.config.scoring
    numel = prepared.parameter_set.get("numel")
    size = f" ({numel:,} parameters)" if isinstance(numel, int) else ""
    if scoring.project is not None:
        return (
            f"Influence is the paper's estimator: each record's loss gradient over the "
            f"{scoring.params} parameter set{size} and the mean validation gradient are "
            f"projected to {scoring.project} dimensions by a seeded Rademacher matrix, and "
            "their dot product is the score."
        )
    if scoring.method == "less":
        return (
            f"Influence is LESS's estimator (Adam-preconditioned per-sample gradients over the "
            f"{scoring.params} set{size}, projected to {scoring.less.dim} dimensions, cosine "
            "similarity, maximum over benchmarks of the mean over their items)."
        )
    return (
        f"Influence is the exact dot product of each record's loss gradient with the mean "
        f"validation gradient over the {scoring.params} parameter set{size} ({scoring.method} "
        f"path, no per-sample gradients); the paper approximates it with a "
        f"{PAPER_PROJECTION}-dimensional random projection (select.scoring.project)."
    )


def precision_sentence(prepared: Prepared) -> str:
    """The dtype scoring ran in, and what bf16 costs in accuracy."""
    scoring = prepared.config.scoring
    precision = Precision.resolve(scoring.precision, scoring.device)
    text = (
        f"Scoring ran on {precision.device.type} with {precision.name} weights; per-sample "
        "sums, dot products and the validation gradient accumulate in fp32."
    )
    if precision.name == "bf16":
        text += (
            " bf16 scores differ from fp32 by about 2% (relative) on a small model, and 2 of "
            "64 samples changed quadrant at the median in a test; use precision fp32 when "
            "exact quadrant membership matters."
        )
    return text


def selection_methods(prepared: Prepared, split: Thresholds) -> list[dict[str, str]]:
    """Every sentence: decontamination, validation items, influence, difficulty, quadrants."""
    config = prepared.config
    difficulty = config.difficulty
    tasks = sorted({str(r.meta.get("task") or r.source or "") for r in prepared.validation} - {""})
    answers = sum(r.response.startswith("ANSWER:") for r in prepared.validation)
    validation = (
        f"The influence direction is the mean gradient of {len(prepared.validation)} "
        f"validation items ({', '.join(tasks) or 'a given file'}), never evaluated"
    )
    if answers:
        validation += (
            f"; {answers} of them are benchmark questions whose completion is the answer line "
            "`ANSWER: X`, as the evaluation prompt asks for"
        )
    if difficulty.scorer == "classifier":
        hardness = (
            f"Difficulty is a fine-tuned Likert classifier's {difficulty.axis} score, as in "
            "the paper."
        )
    else:
        hardness = (
            f"Difficulty is {difficulty.scorer} from the scoring pass (IFD, Cherry LLM's "
            "instruction-following difficulty, is the default when no classifier is "
            "trained); the paper trains a Likert classifier."
        )
    methods: list[dict[str, Any]] = list(prepared.report.get("methods", []))
    methods += [
        _sentence("validation", validation + "."),
        _sentence("influence", influence_sentence(prepared)),
        _sentence("precision", precision_sentence(prepared)),
        _sentence("difficulty", hardness),
        _sentence(
            "quadrants",
            f"High difficulty is at or above the {difficulty.percentile:g}th percentile "
            f"({split.difficulty:.6g}); high influence is above "
            f"{split.influence:.6g} ({split.influence_rule}).",
        ),
    ]
    return methods
