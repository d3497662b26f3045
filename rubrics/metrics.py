"""Metrics of the judge scorers: axis means, failure rate, length bias, jury and physician agreement.

The scorers return dict values whose keys depend on the rubric (axes, criteria) or on
the HealthBench record (axes and themes present), so these metrics discover their keys
from the values instead of being declared per key. Unscored keys hold NaN and are
skipped; a sample whose judges failed still reaches the metrics (its `grader_failed`
is 1), which is how the failure rate is counted.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from inspect_ai.scorer import Metric, SampleScore, metric
from scipy.stats import spearmanr

from rubrics.agreement import fleiss_kappa, macro_f1, pairwise_rater_metrics
from rubrics.scoring import EXAMPLE_TAG_KINDS, RUBRIC_TAG_KINDS, is_number

RATING_SUFFIX = "_rating"
EXPECTED_SUFFIX = "_expected"  # logprobs mode: the same score from the judges' probabilities
CATEGORY_PREFIXES = tuple(f"{kind}_" for kind in (*EXAMPLE_TAG_KINDS, *RUBRIC_TAG_KINDS))


def _values(scores: list[SampleScore]) -> list[dict[str, object]]:
    return [s.score.value for s in scores if isinstance(s.score.value, dict)]


def _finite(values: list[dict[str, object]], key: str) -> list[float]:
    return [float(v[key]) for v in values if is_number(v.get(key))]  # type: ignore[arg-type]


def _mean_stderr(xs: list[float]) -> tuple[float, float]:
    if not xs:
        return math.nan, math.nan
    mean = float(np.mean(xs))
    stderr = float(np.std(xs, ddof=1) / math.sqrt(len(xs))) if len(xs) > 1 else math.nan
    return mean, stderr


@metric
def rubric_scores() -> Metric:
    """Mean and standard error of each axis score and of `overall`; mean of each axis rating.

    The same for their `_expected` variants when the judge ran in logprobs mode. Axis
    scores are not clipped: a negative mean is reported as it is (per-sample values are
    HealthBench arithmetic and can be negative).
    """

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        values = _values(scores)
        if not values:
            return {}
        axes = [key for key in values[0] if f"{key}{RATING_SUFFIX}" in values[0]]
        suffixes = [s for s in ("", EXPECTED_SUFFIX) if f"overall{s}" in values[0]]
        result: dict[str, float] = {}
        for suffix in suffixes:
            for key in [*axes, "overall"]:
                name = f"{key}{suffix}"
                result[name], result[f"{name}_stderr"] = _mean_stderr(_finite(values, name))
            for axis in axes:
                name = f"{axis}{RATING_SUFFIX}{suffix}"
                result[name] = _mean_stderr(_finite(values, name))[0]
        return result

    return compute


@metric
def grader_failure_rate() -> Metric:
    """Share of samples in which at least one judgment failed after the re-asks."""

    def compute(scores: list[SampleScore]) -> float:
        flags = _finite(_values(scores), "grader_failed")
        return float(np.mean(flags)) if flags else math.nan

    return compute


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Spearman's rank correlation; NaN below three pairs or when either side is constant."""
    if len(xs) < 3 or len(set(xs)) < 2 or len(set(ys)) < 2:
        return math.nan
    return float(spearmanr(xs, ys).statistic)


@metric
def length_correlation(key: str = "overall") -> Metric:
    """Spearman correlation of the score `key` with response length (verbosity bias)."""

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        pairs = [
            (float(v[key]), float(v["response_length"]))  # type: ignore[arg-type]
            for v in _values(scores)
            if is_number(v.get(key)) and is_number(v.get("response_length"))
        ]
        return {"length_spearman": spearman([p[0] for p in pairs], [p[1] for p in pairs])}

    return compute


@metric
def jury_agreement() -> Metric:
    """With a jury: mean pairwise agreement, and Fleiss' kappa on the criterion verdicts.

    Nothing is reported for a single judge. Kappa pools every criterion of every sample
    on which all judges gave a usable vote (ratings are ordinal and left to the reports'
    Krippendorff alpha). With epochs it uses the first epoch's votes (Inspect keeps the
    first epoch's metadata).
    """

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        agreement = _finite(_values(scores), "jury_agreement")
        if not agreement:
            return {}
        items = []
        for sample in scores:
            votes = (sample.score.metadata or {}).get("votes", {})
            for key, by_judge in votes.items():
                ballot = list(by_judge.values())
                if not key.startswith("rating:") and len(ballot) > 1 and None not in ballot:
                    items.append([str(vote) for vote in ballot])
        kappa = fleiss_kappa(items)
        return {
            "jury_agreement": float(np.mean(agreement)),
            "jury_kappa": math.nan if kappa is None else kappa,
        }

    return compute


def clipped_bootstrap(values: Sequence[float], samples: int, seed: int) -> np.ndarray:
    """Means of `samples` bootstrap resamples of `values`, each clipped to [0, 1].

    The resample indices come from `numpy.random.default_rng(seed)` as one
    (samples x n) draw, so the same seed gives the same intervals on every run.
    """
    data = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, len(data), size=(samples, len(data)))
    return np.clip(data[indices].mean(axis=1), 0.0, 1.0)


def _clipped_summary(values: list[float], samples: int, seed: int) -> dict[str, float]:
    if not values:
        return {"": math.nan, "_bootstrap_std": math.nan, "_n": 0.0}
    means = clipped_bootstrap(values, samples, seed)
    return {
        "": float(np.clip(np.mean(values), 0.0, 1.0)),
        "_bootstrap_std": float(np.std(means)),
        "_n": float(len(values)),
    }


@metric
def healthbench_metrics(bootstrap_samples: int = 1000, seed: int = 0) -> Metric:
    """HealthBench's aggregate: clipped mean, seeded bootstrap std and 95% interval, breakdowns.

    `healthbench_score` is the mean of the sample scores clipped to [0, 1];
    `bootstrap_std` the standard deviation of the clipped means of bootstrap resamples
    (simple-evals' statistic, here seeded); `ci_lower` / `ci_upper` their 2.5 and 97.5
    percentiles. Every tag breakdown (`theme_*`, `physician_agreed_category_*`, `axis_*`,
    `level_*`, `cluster_*`; see `rubrics.healthbench.category_scores`) gets the same
    treatment over the samples that have it (`<key>`, `<key>_bootstrap_std`, `<key>_n`).
    """

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        values = _values(scores)
        overall = _finite(values, "healthbench_score")
        result: dict[str, float] = {
            "healthbench_score": math.nan,
            "healthbench_score_unclipped": float(np.mean(overall)) if overall else math.nan,
            "bootstrap_std": math.nan,
            "ci_lower": math.nan,
            "ci_upper": math.nan,
            "n_samples": float(len(overall)),
        }
        if overall:
            means = clipped_bootstrap(overall, bootstrap_samples, seed)
            result["healthbench_score"] = float(np.clip(np.mean(overall), 0.0, 1.0))
            result["bootstrap_std"] = float(np.std(means))
            result["ci_lower"], result["ci_upper"] = (
                float(q) for q in np.percentile(means, [2.5, 97.5])
            )
        categories = sorted({key for v in values for key in v if key.startswith(CATEGORY_PREFIXES)})
        for key in categories:
            for suffix, number in _clipped_summary(
                _finite(values, key), bootstrap_samples, seed
            ).items():
                result[f"{key}{suffix}"] = number
        return result

    return compute


@metric
def physician_agreement() -> Metric:
    """Judge-vs-physician agreement on HealthBench meta-evaluation samples.

    - `model_f1_balanced` (and per-class precision, recall, F1): the judge's label on
      each item paired with every physician's label (simple-evals' primary number);
    - `physician_f1_balanced_mean`: the same statistic for each physician against the
      other physicians on the items they labelled, averaged over physicians;
    - `model_vs_physicians_percentile`: share of physicians whose balanced F1 is below
      the judge's (0.5 means the judge agrees with physicians like a median physician);
    - `majority_macro_f1` / `majority_accuracy`: against the physician majority
      (a tie counts as "not met", as in inspect_evals).
    With epochs the judge's label is its mean vote thresholded at 0.5.
    """

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        own: list[bool] = []
        others: list[list[bool]] = []
        majority: list[bool] = []
        by_physician: dict[str, tuple[list[bool], list[list[bool]]]] = defaultdict(lambda: ([], []))
        for sample in scores:
            value = sample.score.value
            metadata = sample.score.metadata or {}
            if not isinstance(value, dict) or not is_number(value.get("model_met")):
                continue
            labels = [bool(label) for label in metadata["binary_labels"]]
            own.append(float(value["model_met"]) >= 0.5)
            others.append(labels)
            majority.append(sum(labels) * 2 > len(labels))
            physicians = metadata.get("anonymized_physician_ids") or [
                f"#{i}" for i in range(len(labels))
            ]
            for i, physician in enumerate(physicians):
                mine, theirs = by_physician[str(physician)]
                mine.append(labels[i])
                theirs.append(labels[:i] + labels[i + 1 :])
        if not own:
            return {}
        model = pairwise_rater_metrics(own, others)
        result = {f"model_{key}": _nan(value) for key, value in model.items()}
        physician_f1 = [
            f1
            for mine, theirs in by_physician.values()
            if (f1 := pairwise_rater_metrics(mine, theirs)["f1_balanced"]) is not None
        ]
        result["physician_f1_balanced_mean"] = (
            float(np.mean(physician_f1)) if physician_f1 else math.nan
        )
        model_f1 = model["f1_balanced"]
        result["model_vs_physicians_percentile"] = (
            float(np.mean([f1 < model_f1 for f1 in physician_f1]))
            if physician_f1 and model_f1 is not None
            else math.nan
        )
        result["majority_macro_f1"] = macro_f1(own, majority)
        result["majority_accuracy"] = float(
            np.mean([a == b for a, b in zip(own, majority, strict=True)])
        )
        result["n_examples"] = float(len(own))
        return result

    return compute


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)
