"""Agreement statistics for judges: among a jury, and between a judge and physicians.

- `fleiss_kappa`: chance-corrected agreement of a fixed number of raters per item on
  nominal categories (the jury's per-criterion verdicts).
- `pairwise_rater_metrics`: HealthBench's meta-evaluation (openai/simple-evals
  healthbench_meta_eval.py): one rater's labels are compared with every other rater's
  label on the same item, pair by pair; precision and recall are computed for the
  positive and the negative class, F1 for each, and their mean is the balanced F1. The
  same function scores a physician against the other physicians (leave one out), which
  is the yardstick a judge is held to.
- `macro_f1`: F1 of each class against a reference labelling, averaged (what
  inspect_evals reports against the physician majority).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence


def fleiss_kappa(items: Sequence[Sequence[Hashable]]) -> float | None:
    """Fleiss' kappa over items that each carry the same number (>= 2) of ratings.

    None when it is undefined: no items, or every rating in one category.
    """
    if not items:
        return None
    raters = len(items[0])
    if raters < 2 or any(len(item) != raters for item in items):
        raise ValueError("every item needs the same number (>= 2) of ratings")
    totals: Counter[Hashable] = Counter()
    observed = 0.0
    for item in items:
        counts = Counter(item)
        totals.update(counts)
        observed += (sum(c * c for c in counts.values()) - raters) / (raters * (raters - 1))
    observed /= len(items)
    n_ratings = len(items) * raters
    expected = sum((count / n_ratings) ** 2 for count in totals.values())
    if expected == 1.0:
        return None
    return (observed - expected) / (1 - expected)


def _f1(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None:
        return None
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def pairwise_rater_metrics(
    own: Sequence[bool], others: Sequence[Sequence[bool]]
) -> dict[str, float | None]:
    """Pairwise precision, recall and F1 per class, and the balanced F1 (simple-evals).

    `own[i]` is the rater's label on item i and `others[i]` the other raters' labels on
    it. Precision of the positive class is the share of (own positive, other) pairs in
    which the other rater also said positive; recall of the positive class is the share
    of (own, other positive) pairs in which the rater said positive; likewise for the
    negative class. A metric with no pairs is None.
    """
    if len(own) != len(others):
        raise ValueError("own and others differ in length")
    tallies: dict[str, list[bool]] = {
        key: [] for key in ("precision_pos", "precision_neg", "recall_pos", "recall_neg")
    }
    for label, other_labels in zip(own, others, strict=True):
        for other in other_labels:
            agree = label == other
            tallies["precision_pos" if label else "precision_neg"].append(agree)
            tallies["recall_pos" if other else "recall_neg"].append(agree)
    result: dict[str, float | None] = {
        key: (sum(values) / len(values) if values else None) for key, values in tallies.items()
    }
    result["f1_pos"] = _f1(result["precision_pos"], result["recall_pos"])
    result["f1_neg"] = _f1(result["precision_neg"], result["recall_neg"])
    pos, neg = result["f1_pos"], result["f1_neg"]
    result["f1_balanced"] = None if pos is None or neg is None else (pos + neg) / 2
    return result


def macro_f1(predicted: Sequence[bool], reference: Sequence[bool]) -> float:
    """Unweighted mean of the F1 of the positive and the negative class.

    A class absent from both labellings has an F1 of 0 (scikit-learn's
    `f1_score(average="macro", labels=[False, True], zero_division=0)`).
    """
    if len(predicted) != len(reference):
        raise ValueError("predicted and reference differ in length")
    scores = []
    for cls in (False, True):
        tp = sum(p == cls and r == cls for p, r in zip(predicted, reference, strict=True))
        fp = sum(p == cls and r != cls for p, r in zip(predicted, reference, strict=True))
        fn = sum(p != cls and r == cls for p, r in zip(predicted, reference, strict=True))
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return sum(scores) / 2
