"""The analysis behind a report: per-model intervals, comparisons, aggregates, health.

Everything here is a plain, JSON-ready dict so that `report.json` and the HTML show the
same numbers. A comparison follows its task's design (`Measure.design`): *paired* by
sample id (`reports.paired`), or *independent* (`reports.independent`); every comparison
row says which in `design`. Families and corrections: `reports.families`; the paper's
averages: `reports.aggregates`; the findings' sentences: `reports.findings`.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from tqdm import tqdm

from reports import stats
from reports.aggregates import aggregates
from reports.config import ReportConfig, SettingError
from reports.diagnostics import criteria, health, length_correlation
from reports.families import assign_families
from reports.findings import empty_reason, findings
from reports.frames import Frames, Measure
from reports.independent import compare_independent
from reports.paired import compare_paired
from reports.pairing import Pairing, derive_seed

# What report.json says of every difference interval it holds.
INTERVAL_STATEMENT = (
    "Every interval is a per-comparison 95% interval, not adjusted for multiplicity; "
    "p-values are adjusted within their family (see families), and a difference interval "
    "never excludes 0 while its test's unadjusted p-value is 0.05 or more."
)


def model_order(frames: Frames, reference: str | None) -> tuple[list[str], str]:
    """Labels with the reference first; the reference defaults to the first label."""
    labels = frames.labels
    if reference is None:
        reference = labels[0]
    elif reference not in labels:
        raise SettingError(
            "reference", f"{reference!r} is not a model in the logs; models: {', '.join(labels)}"
        )
    return [reference, *[label for label in labels if label != reference]], reference


class Analysis:
    """Computes every section of the report from `Frames`."""

    def __init__(self, frames: Frames, config: ReportConfig) -> None:
        self.frames = frames
        self.config = config
        self.models, self.reference = model_order(frames, config.reference)
        self.pairing = Pairing(frames, self.models)
        self._check_primary()

    def _check_primary(self) -> None:
        """Reject a primary name that is no measure or aggregate.

        A typo would otherwise silently move the claim into the exploratory family.
        """
        from tasks.suites import AGGREGATES

        measures = [m.key for m in self.frames.measures]
        unknown = [n for n in self.config.primary if n not in {*measures, *AGGREGATES}]
        if unknown:
            raise SettingError(
                "primary",
                f"names no measure or aggregate: {', '.join(unknown)}; measures: "
                f"{', '.join(measures)}; aggregates: {', '.join(AGGREGATES)}",
            )
        if self.config.primary_models and not self.config.primary:
            raise SettingError("primary_models", "needs primary (the measures they are tested on)")
        others = [m for m in self.models if m != self.reference]
        strangers = [m for m in self.config.primary_models if m not in others]
        if strangers:
            raise SettingError(
                "primary_models",
                f"names no compared model: {', '.join(strangers)}; models compared with "
                f"the reference {self.reference}: {', '.join(others)}",
            )

    def settings(self) -> dict[str, Any]:
        """The settings that change the numbers, as report.json records them.

        The confirmatory family is stored as `confirmatory`: report.json keeps keys that
        start with "p" for p-values.
        """
        config = self.config
        return {
            "reference": self.reference,
            "correction": config.correction,
            "seed": config.seed,
            "resamples": config.resamples,
            "level": stats.LEVEL,
            "cluster_key": config.cluster_key,
            "confirmatory": list(config.primary),
            "confirmatory_models": list(config.primary_models),
        }

    def run(self) -> dict[str, Any]:
        """The full analysis as a JSON-ready dict."""
        comparisons = self.comparisons()
        summary = self.summary()
        aggregate_rows, aggregate_comparisons = aggregates(
            self.frames,
            self.pairing,
            self.reference,
            {(row["measure"], row["model"]): row for row in summary},
            {(row["measure"], row["model"]): row for row in comparisons},
            seed=self.config.seed,
            resamples=self.config.resamples,
        )
        matrix = self.matrix()
        families = assign_families(
            comparisons,
            aggregate_comparisons,
            matrix,
            correction=self.config.correction,
            primary=self.config.primary,
            primary_models=self.config.primary_models,
        )
        warnings = list(self.frames.warnings)
        tested = set(families[0]["members"])  # the primary family, when one is declared
        warnings += [
            f"primary {name}: no comparison with the reference was made (a single model, "
            "or no member benchmark that every model has)"
            for name in self.config.primary
            if name not in tested
        ]
        tasks_of: dict[str, set[str]] = {}
        for info in self.frames.logs:
            tasks_of.setdefault(info.label, set()).add(info.record.task)
        reason = empty_reason(
            self.models,
            self.reference,
            tasks_of,
            sum(row["n"] > 0 for row in comparisons) + len(aggregate_comparisons),
        )
        return {
            "settings": self.settings(),
            "intervals": {
                "level": stats.LEVEL,
                "adjusted_for_multiplicity": False,
                "statement": INTERVAL_STATEMENT,
            },
            "models": self.models,
            "measures": [self.measure_info(m) for m in self.frames.measures],
            "summary": summary,
            "comparisons": comparisons,
            "matrix": matrix,
            "aggregates": aggregate_rows,
            "aggregate_comparisons": aggregate_comparisons,
            "families": families,
            "health": health(self.frames),
            "length_correlation": length_correlation(self.frames, self.pairing),
            "criteria": criteria(self.frames),
            "findings": findings(
                comparisons,
                aggregate_comparisons,
                {m.key: self.display_label(m) for m in self.frames.measures},
                declared=bool(self.config.primary),
                coverage=self.frames.coverage,
                empty_reason=reason,
            ),
            "warnings": warnings,
        }

    def display_label(self, measure: Measure) -> str:
        """The measure's label, marked when its task draws from part of a published set."""
        coverage = self.frames.coverage.get(measure.task)
        return measure.label + (f" (partial set: {coverage.describe()})" if coverage else "")

    def measure_info(self, measure: Measure) -> dict[str, Any]:
        coverage = self.frames.coverage.get(measure.task)
        return {
            "key": measure.key,
            "task": measure.task,
            "benchmark": self.frames.benchmarks.get(measure.task, measure.task),
            "scorer": measure.scorer,
            "metric": measure.metric,
            "kind": measure.kind,
            "judged": measure.judged,
            "design": measure.design,
            "label": measure.label,
            "bounds": None if measure.bounds is None else list(measure.bounds),
            "complete": coverage is None,
            "coverage": None
            if coverage is None
            else {"items": coverage.items, "full_set": coverage.published, "note": coverage.note},
        }

    def summary(self) -> list[dict[str, Any]]:
        """Mean and CI per model and measure, with unscored counts and epoch spread."""
        rows = []
        for measure, wide in self.pairing.wide.items():
            for model in self.models:
                if model not in wide.columns:
                    continue
                column = wide[model]
                values = column.dropna()
                clusters = wide.loc[values.index, self.pairing.cluster_column(measure, model)]
                interval = stats.mean_interval(
                    values.to_numpy(),
                    binary=measure.kind == "binary",
                    clusters=clusters.to_numpy(),
                    bounds=measure.bounds,
                )
                epochs = wide.loc[values.index, f"__epochs:{model}"]
                spread = wide.loc[values.index, f"__sd:{model}"].dropna()
                rows.append(
                    {
                        "measure": measure.key,
                        "model": model,
                        **interval.to_dict(),
                        "unscored": int(column.isna().sum()),
                        "epochs": float(epochs.mean()) if len(epochs) else math.nan,
                        "epoch_sd": float(spread.mean()) if len(spread) else math.nan,
                    }
                )
        return rows

    def compare(self, measure: Measure, a: str, b: str, *, detail: bool) -> dict[str, Any] | None:
        """Difference a - b on one measure, as its design says (None if a model is absent)."""
        seed = derive_seed(self.config.seed, measure.key, a, b)
        resamples = self.config.resamples
        if measure.design == "independent":
            side_a, side_b = self.pairing.side(measure, a), self.pairing.side(measure, b)
            if side_a is None or side_b is None:
                return None
            return compare_independent(
                side_a, side_b, measure, a, b, seed=seed, resamples=resamples, detail=detail
            )
        pair = self.pairing.paired(measure, a, b)
        if pair is None:
            return None
        return compare_paired(pair, measure, a, b, seed=seed, resamples=resamples, detail=detail)

    def comparisons(self) -> list[dict[str, Any]]:
        """Every model against the reference on every measure (adjusted in `families`)."""
        jobs = [(m, model) for m in self.frames.measures for model in self.models[1:]]
        rows = []
        for measure, model in tqdm(jobs, desc="paired comparisons", unit="test", disable=None):
            row = self.compare(measure, model, self.reference, detail=True)
            if row is not None:
                rows.append(row)
        return rows

    def matrix(self) -> list[dict[str, Any]]:
        """All pairs of models on every measure (an exploratory family of its own)."""
        jobs = [
            (m, a, b)
            for m in self.frames.measures
            for a, b in itertools.combinations(self.models, 2)
        ]
        rows = []
        for measure, a, b in tqdm(jobs, desc="pairwise matrix", unit="test", disable=None):
            row = self.compare(measure, a, b, detail=False)
            if row is None:
                continue
            entry = {k: row[k] for k in ("measure", "kind", "design", "n")} | {"a": a, "b": b}
            if row["design"] == "independent":
                entry |= {"n_a": row["n_model"], "n_b": row["n_reference"]}
            rows.append(entry | {k: row[k] for k in ("diff", "test", "p_value") if k in row})
        return rows
