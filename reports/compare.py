"""The analysis behind a report: per-model intervals, comparisons, aggregates, health.

Everything here is a plain, JSON-ready dict so that `report.json` and the HTML show the
same numbers. By default the *declared family* of confirmatory tests is every comparison
of a model with the reference model, over every measure; it is corrected with the named
method (Holm by default), and the aggregates (AvgS/AvgC/AvgA) are a family of their own,
corrected the same way. A user who declares *primary* measures or aggregates
(`Settings.confirmatory`, `diq report --primary`) gets the usual confirmatory/exploratory
split instead: Holm over the primary comparisons with the reference (family-wise error),
Benjamini-Hochberg over every other one (false discovery rate). The all-pairs
significance matrix is always an exploratory family of its own, corrected with the named
method. Each comparison row names its family and correction; `families` lists them.

A comparison follows its task's design (`Measure.design`): *paired* by sample id (both
models answered the same items), or *independent* (each log holds its own items, as
`data_quality` does with the records of one subset per log): a difference of means, each
side resampled on its own. Every comparison row says which in `design`.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from harness.core.errors import ConfigError
from reports import stats
from reports.frames import Frames, Measure

ALPHA_LEVEL = 0.95
# With declared primary measures: family-wise control where the claims are, FDR elsewhere.
PRIMARY_CORRECTION: stats.Correction = "holm"
EXPLORATORY_CORRECTION: stats.Correction = "bh"


@dataclass(frozen=True)
class Settings:
    """Choices that change the numbers; all of them are recorded in the report."""

    reference: str | None = None
    correction: stats.Correction = "holm"
    seed: int = 0
    resamples: int = 9999
    level: float = ALPHA_LEVEL
    cluster_key: str | None = "case_id"
    # Measure keys and aggregate names (AvgS, ...) of the confirmatory family; empty: the
    # default families (every comparison with the reference; the aggregates).
    confirmatory: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Paired:
    """Two models' values on the items both have a value for, with their clusters."""

    a: np.ndarray
    b: np.ndarray
    clusters: np.ndarray
    dropped: int

    @property
    def clustered(self) -> bool:
        return len(set(self.clusters.tolist())) < len(self.clusters)


@dataclass
class Side:
    """One model's own scored items on an independent-samples measure, with their clusters."""

    values: np.ndarray
    clusters: np.ndarray
    ids: np.ndarray

    @property
    def clustered(self) -> bool:
        return len(set(self.clusters.tolist())) < len(self.clusters)


def derive_seed(seed: int, *parts: str) -> int:
    """A per-comparison seed, so a result does not depend on what else is in the report."""
    digest = hashlib.sha256("\x1f".join([str(seed), *parts]).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def model_order(frames: Frames, reference: str | None) -> tuple[list[str], str]:
    """Labels with the reference first; the reference defaults to the first label."""
    labels = frames.labels
    if reference is None:
        reference = labels[0]
    elif reference not in labels:
        raise ConfigError(
            f"--reference {reference!r} is not a model in the logs; models: {', '.join(labels)}"
        )
    return [reference, *[label for label in labels if label != reference]], reference


class Analysis:
    """Computes every section of the report from `Frames`."""

    def __init__(self, frames: Frames, settings: Settings) -> None:
        self.frames = frames
        self.settings = settings
        self.models, self.reference = model_order(frames, settings.reference)
        self._wide = {measure: _wide(frames.items, measure) for measure in frames.measures}
        self._arrays: dict[Measure, tuple[dict[str, np.ndarray], np.ndarray]] = {}
        self._check_primary()

    def _check_primary(self) -> None:
        """Reject a primary name that is no measure or aggregate.

        A typo would otherwise silently move the claim into the exploratory family.
        """
        from tasks.suites import AGGREGATES

        measures = [m.key for m in self.frames.measures]
        unknown = [n for n in self.settings.confirmatory if n not in {*measures, *AGGREGATES}]
        if unknown:
            raise ConfigError(
                f"--primary names no measure or aggregate: {', '.join(unknown)}; measures: "
                f"{', '.join(measures)}; aggregates: {', '.join(AGGREGATES)}"
            )

    def run(self) -> dict[str, Any]:
        """The full analysis as a JSON-ready dict."""
        summary = self.summary()
        comparisons = self.comparisons()
        aggregates, aggregate_comparisons = self.aggregates()
        matrix = self.matrix()
        families = self.families(comparisons, aggregate_comparisons, matrix)
        warnings = list(self.frames.warnings)
        tested = set(families[0]["members"])  # the primary family, when one is declared
        warnings += [
            f"--primary {name}: no comparison with the reference was made (a single model, "
            "or no member benchmark that every model has)"
            for name in self.settings.confirmatory
            if name not in tested
        ]
        return {
            "settings": self.settings.to_dict() | {"reference": self.reference},
            "models": self.models,
            "measures": [self.measure_info(m) for m in self.frames.measures],
            "summary": summary,
            "comparisons": comparisons,
            "matrix": matrix,
            "aggregates": aggregates,
            "aggregate_comparisons": aggregate_comparisons,
            "families": families,
            "health": self.health(),
            "length_correlation": self.length_correlation(),
            "criteria": self.criteria(),
            "findings": findings(
                comparisons,
                aggregate_comparisons,
                {m.key: m.label for m in self.frames.measures},
                bool(self.settings.confirmatory),
            ),
            "warnings": warnings,
        }

    def measure_info(self, measure: Measure) -> dict[str, Any]:
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
        }

    def summary(self) -> list[dict[str, Any]]:
        """Mean and CI per model and measure, with unscored counts and epoch spread."""
        rows = []
        for measure, wide in self._wide.items():
            for model in self.models:
                if model not in wide.columns:
                    continue
                column = wide[model]
                values = column.dropna()
                interval = stats.mean_interval(
                    values.to_numpy(),
                    binary=measure.kind == "binary",
                    clusters=wide.loc[values.index, _cluster_column(measure, model)].to_numpy(),
                    level=self.settings.level,
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

    def paired(self, measure: Measure, a: str, b: str) -> Paired | None:
        """Both models' values on the items both have one for (None if a model is absent)."""
        if measure not in self._arrays:
            wide = self._wide[measure]
            self._arrays[measure] = (
                {
                    label: wide[label].to_numpy(dtype=float)
                    for label in self.models
                    if label in wide.columns
                },
                wide["__cluster"].to_numpy(),
            )
        columns, clusters = self._arrays[measure]
        if a not in columns or b not in columns:
            return None
        have_a, have_b = ~np.isnan(columns[a]), ~np.isnan(columns[b])
        both = have_a & have_b
        return Paired(
            columns[a][both],
            columns[b][both],
            clusters[both],
            int((have_a | have_b).sum() - both.sum()),
        )

    def side(self, measure: Measure, label: str) -> Side | None:
        """One model's scored items on a measure (None if the model has none)."""
        wide = self._wide[measure]
        if label not in wide.columns:
            return None
        values = wide[label].dropna()
        return Side(
            values.to_numpy(dtype=float),
            wide.loc[values.index, _cluster_column(measure, label)].to_numpy(),
            values.index.to_numpy(),
        )

    def compare(self, measure: Measure, a: str, b: str, *, interval: bool) -> dict[str, Any] | None:
        """Difference a - b on one measure: estimate, CI, test, effect sizes, MDE.

        Paired by sample id, or as two independent samples when the task says so.
        """
        if measure.design == "independent":
            return self.compare_independent(measure, a, b, interval=interval)
        pair = self.paired(measure, a, b)
        if pair is None:
            return None
        n = len(pair.a)
        seed = derive_seed(self.settings.seed, measure.key, a, b)
        row: dict[str, Any] = {
            "measure": measure.key,
            "kind": measure.kind,
            "design": "paired",
            "model": a,
            "reference": b,
            "n": n,
            "dropped": pair.dropped,
            "seed": seed,
        }
        if n == 0:
            return row | {"diff": math.nan, "p_value": math.nan, "test": "none"}
        difference = pair.a - pair.b
        clusters = pair.clusters if pair.clustered else None
        se = stats.mean_se(difference, clusters)
        row |= {
            "diff": float(difference.mean()),
            "se": se,
            "mde": stats.minimum_detectable_effect(se, self.settings.level),
        }
        if measure.kind == "binary" and not pair.clustered:
            mcnemar = stats.mcnemar_exact(pair.a, pair.b, self.settings.level, interval=interval)
            row |= {
                "test": "McNemar exact",
                "p_value": mcnemar.p_value,
                "n10": mcnemar.n10,
                "n01": mcnemar.n01,
                "odds_ratio": mcnemar.odds_ratio,
                "odds_ratio_low": mcnemar.odds_ratio_low,
                "odds_ratio_high": mcnemar.odds_ratio_high,
                "cohens_h": stats.cohens_h(float(pair.a.mean()), float(pair.b.mean())),
            }
        else:
            row |= {
                "test": "paired permutation" + (" (clusters)" if pair.clustered else ""),
                "p_value": stats.paired_permutation_pvalue(
                    pair.a, pair.b, clusters=clusters, resamples=self.settings.resamples, seed=seed
                ),
                "cohens_dz": stats.paired_d(difference),
            }
            if measure.kind == "binary":
                row["cohens_h"] = stats.cohens_h(float(pair.a.mean()), float(pair.b.mean()))
        if interval:
            low, high = stats.paired_bootstrap_interval(
                pair.a,
                pair.b,
                clusters=clusters,
                resamples=self.settings.resamples,
                seed=seed,
                level=self.settings.level,
            )
            row |= {"low": low, "high": high, "correlation": _correlation(pair.a, pair.b)}
        return row

    def compare_independent(
        self, measure: Measure, a: str, b: str, *, interval: bool
    ) -> dict[str, Any] | None:
        """mean(a) - mean(b) over each model's own items: two independent samples.

        Items sharing a sample id are not paired (they need not be the same item); how
        many ids the two sides share is reported. When they are the same items, their
        scores correlate positively and the independent test is conservative.
        """
        side_a, side_b = self.side(measure, a), self.side(measure, b)
        if side_a is None or side_b is None:
            return None
        seed = derive_seed(self.settings.seed, measure.key, a, b)
        n_a, n_b = len(side_a.values), len(side_b.values)
        row: dict[str, Any] = {
            "measure": measure.key,
            "kind": measure.kind,
            "design": "independent",
            "model": a,
            "reference": b,
            "n": n_a + n_b,
            "n_model": n_a,
            "n_reference": n_b,
            "shared": int(np.intersect1d(side_a.ids, side_b.ids).size),
            "seed": seed,
        }
        if n_a == 0 or n_b == 0:
            return row | {"diff": math.nan, "p_value": math.nan, "test": "none"}
        clusters_a = side_a.clusters if side_a.clustered else None
        clusters_b = side_b.clusters if side_b.clustered else None
        clustered = clusters_a is not None or clusters_b is not None
        mean_a, mean_b = float(side_a.values.mean()), float(side_b.values.mean())
        se = stats.independent_se(side_a.values, side_b.values, clusters_a, clusters_b)
        row |= {
            "diff": mean_a - mean_b,
            "mean_model": mean_a,
            "mean_reference": mean_b,
            "se": se,
            "mde": stats.minimum_detectable_effect(se, self.settings.level),
            "test": "two-sample permutation" + (" (clusters)" if clustered else ""),
            "p_value": stats.two_sample_permutation_pvalue(
                side_a.values,
                side_b.values,
                clusters_a=clusters_a,
                clusters_b=clusters_b,
                resamples=self.settings.resamples,
                seed=seed,
            ),
        }
        if measure.kind == "binary":
            row["cohens_h"] = stats.cohens_h(mean_a, mean_b)
        else:
            row["cohens_d"] = stats.cohens_d(side_a.values, side_b.values)
        if interval:
            low, high = stats.independent_bootstrap_interval(
                side_a.values,
                side_b.values,
                clusters_a=clusters_a,
                clusters_b=clusters_b,
                resamples=self.settings.resamples,
                seed=seed,
                level=self.settings.level,
            )
            row |= {"low": low, "high": high}
        return row

    def comparisons(self) -> list[dict[str, Any]]:
        """Every model against the reference on every measure (adjusted in `families`)."""
        jobs = [(m, model) for m in self.frames.measures for model in self.models[1:]]
        rows = []
        for measure, model in tqdm(jobs, desc="paired comparisons", unit="test", disable=None):
            row = self.compare(measure, model, self.reference, interval=True)
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
            row = self.compare(measure, a, b, interval=False)
            if row is None:
                continue
            entry = {k: row[k] for k in ("measure", "kind", "design", "n")} | {"a": a, "b": b}
            if row["design"] == "independent":
                entry |= {"n_a": row["n_model"], "n_b": row["n_reference"]}
            rows.append(entry | {k: row[k] for k in ("diff", "test", "p_value") if k in row})
        return rows

    def families(
        self,
        comparisons: list[dict[str, Any]],
        aggregate_comparisons: list[dict[str, Any]],
        matrix: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        """Adjust each family's p-values in place; describe the families (all pairs last).

        Default: the comparisons with the reference, then the aggregates, each corrected
        with `Settings.correction`. With `Settings.confirmatory`: the primary comparisons with
        the reference and primary aggregates (Holm), then all the others (BH). Rows of
        the first families get `family` and `correction`; matrix rows are all one family.
        """
        correction = self.settings.correction
        if self.settings.confirmatory:
            primary = set(self.settings.confirmatory)
            rows = comparisons + aggregate_comparisons
            groups = [
                ("primary", PRIMARY_CORRECTION, [r for r in rows if _tested(r) in primary]),
                (
                    "exploratory",
                    EXPLORATORY_CORRECTION,
                    [r for r in rows if _tested(r) not in primary],
                ),
            ]
        else:
            groups = [
                ("vs reference", correction, comparisons),
                ("aggregates", correction, aggregate_comparisons),
            ]
        result = []
        for name, method, rows in [*groups, ("all pairs", correction, matrix)]:
            self._adjust(rows, method)
            if name != "all pairs":
                for row in rows:
                    row |= {"family": name, "correction": method}
            result.append(
                {
                    "name": name,
                    "correction": method,
                    "tests": sum(math.isfinite(row.get("p_value", math.nan)) for row in rows),
                    "members": sorted({_tested(row) for row in rows}),
                }
            )
        return result

    def _adjust(self, rows: list[dict[str, Any]], correction: stats.Correction) -> None:
        """Adjusted p-values over `rows` (one family) and significance at 1 - level."""
        adjusted = stats.adjust_pvalues([row.get("p_value", math.nan) for row in rows], correction)
        alpha = 1 - self.settings.level
        for row, p in zip(rows, adjusted, strict=True):
            row["p_adjusted"] = p
            row["significant"] = bool(p < alpha) if math.isfinite(p) else False

    def aggregate_measures(self, members: tuple[str, ...]) -> tuple[list[Measure], list[str]]:
        """The accuracy measure of each member benchmark that every model has, and the rest."""
        chosen, missing = [], []
        for task in members:
            candidates = [
                m
                for m in self.frames.measures
                if m.task == task
                and m.kind == "binary"
                and not m.judged
                and m.metric == m.scorer
                and m.design == "paired"
            ]
            complete = [m for m in candidates if set(self.models) <= set(self._wide[m].columns)]
            if complete:
                chosen.append(complete[0])
            else:
                missing.append(task)
        return chosen, missing

    def aggregates(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """AvgS / AvgC / AvgA per model, and their paired differences with the reference.

        Means are macro-averages over the member benchmarks every model has; CIs come from
        a stratified (cluster) bootstrap, p-values from a stratified paired permutation.
        The MDE uses the SE of the macro-averaged paired difference (`stats.macro_se` of
        each benchmark's, clustered, SE), as a single benchmark's row does; the effect
        size is Cohen's h of the two models' macro-averaged accuracies.
        """
        from tasks.suites import AGGREGATES

        rows, comparisons = [], []
        for name, members in AGGREGATES.items():
            chosen, missing = self.aggregate_measures(members)
            if not chosen:
                continue
            base = {"name": name, "benchmarks": [m.task for m in chosen], "missing": missing}
            means: dict[str, float] = {}
            for model in self.models:
                strata = []
                for measure in chosen:
                    wide = self._wide[measure]
                    values = wide[model].dropna()
                    strata.append(
                        stats.cluster_totals(
                            values.to_numpy(), wide.loc[values.index, "__cluster"].to_numpy()
                        )
                    )
                seed = derive_seed(self.settings.seed, name, model)
                mean = means[model] = float(np.mean([s.sum() / c.sum() for s, c in strata]))
                draws = stats.bootstrap_macro_means(strata, self.settings.resamples, seed)
                low, high = stats.percentile_interval(draws, self.settings.level)
                rows.append(
                    base | {"model": model, "mean": mean, "low": low, "high": high, "seed": seed}
                )
                if model == self.reference:
                    continue
                paired_strata, ses, n = [], [], 0
                for measure in chosen:
                    pair = self.paired(measure, model, self.reference)
                    assert pair is not None
                    paired_strata.append(stats.cluster_totals(pair.a - pair.b, pair.clusters))
                    ses.append(stats.mean_se(pair.a - pair.b, pair.clusters))
                    n += len(pair.a)
                draws = stats.bootstrap_macro_means(paired_strata, self.settings.resamples, seed)
                low, high = stats.percentile_interval(draws, self.settings.level)
                se = stats.macro_se(ses)
                comparisons.append(
                    base
                    | {
                        "model": model,
                        "reference": self.reference,
                        "n": n,
                        "diff": float(np.mean([s.sum() / c.sum() for s, c in paired_strata])),
                        "low": low,
                        "high": high,
                        "se": se,
                        "mde": stats.minimum_detectable_effect(se, self.settings.level),
                        # the aggregates are mean accuracies: h of the two macro-averages
                        "cohens_h": stats.cohens_h(means[model], means[self.reference]),
                        "test": "stratified paired permutation",
                        "p_value": stats.sign_flip_pvalue(
                            paired_strata, self.settings.resamples, seed
                        ),
                        "seed": seed,
                    }
                )
        return rows, comparisons

    def health(self) -> list[dict[str, Any]]:
        """Per model and task: errors, format failures, unscored samples per scorer, reasons."""
        samples = self.frames.samples
        rows = []
        if samples.empty:
            return rows
        for (model, task), group in samples.groupby(["label", "task"], sort=True):
            total = len(group)
            unscored: dict[str, dict[str, float]] = {}
            for scorer_list in group["unscored"]:
                for scorer in scorer_list:
                    unscored.setdefault(scorer, {"count": 0})["count"] += 1
            for entry in unscored.values():
                entry["rate"] = entry["count"] / total
            reasons: dict[str, int] = {}
            for reason_list in group["reasons"]:
                for reason in reason_list:
                    reasons[reason] = reasons.get(reason, 0) + 1
            failures = int(group["format_failure"].sum())
            rows.append(
                {
                    "model": model,
                    "task": task,
                    "samples": total,
                    "errors": int(group["error"].sum()),
                    "error_rate": float(group["error"].mean()),
                    "format_failures": failures,
                    "format_failure_rate": failures / total,
                    "unscored": dict(sorted(unscored.items())),
                    "reasons": dict(sorted(reasons.items())),
                    "response_length_mean": float(group["response_length"].mean()),
                }
            )
        return rows

    def length_correlation(self) -> list[dict[str, Any]]:
        """Spearman correlation of judge scores with response length (a verbosity check)."""
        samples = self.frames.samples
        if samples.empty:
            return []
        first = samples[
            samples.epoch == samples.groupby(["label", "task", "sample_id"]).epoch.transform("min")
        ]
        lengths = first.set_index(["label", "task", "sample_id"])["response_length"]
        rows = []
        for measure in self.frames.measures:
            if not measure.judged:
                continue
            wide = self._wide[measure]
            for model in self.models:
                if model not in wide.columns:
                    continue
                values = wide[model].dropna()
                keys = pd.MultiIndex.from_arrays(
                    [[model] * len(values), [measure.task] * len(values), values.index]
                )
                length = lengths.reindex(keys).to_numpy(dtype=float)
                keep = ~np.isnan(length)
                rho, p = stats.spearman(length[keep], values.to_numpy()[keep])
                rows.append(
                    {
                        "measure": measure.key,
                        "model": model,
                        "n": int(keep.sum()),
                        "spearman": rho,
                        "p_value": p,
                    }
                )
        return rows

    def criteria(self) -> list[dict[str, Any]]:
        """Pass rate of each rubric criterion per model (HealthBench style)."""
        table = self.frames.criteria
        if table.empty:
            return []
        grouped = table.groupby(["task", "scorer", "criterion", "label"], sort=True)["value"]
        summary = grouped.agg(["mean", "count"]).reset_index()
        return [
            {
                "task": row.task,
                "scorer": row.scorer,
                "criterion": row.criterion,
                "model": row.label,
                "n": int(row["count"]),
                "rate": float(row["mean"]) if row["count"] else math.nan,
            }
            for _, row in summary.iterrows()
        ]


def _wide(items: pd.DataFrame, measure: Measure) -> pd.DataFrame:
    """Items x models for one measure, with cluster, epoch count and epoch spread columns."""
    rows = items[
        (items.task == measure.task)
        & (items.scorer == measure.scorer)
        & (items.metric == measure.metric)
    ]
    wide = rows.pivot(index="sample_id", columns="label", values="value")
    wide.columns = [str(c) for c in wide.columns]
    for name, column in (("__epochs", "epochs"), ("__sd", "epoch_sd")):
        extra = rows.pivot(index="sample_id", columns="label", values=column)
        for label in extra.columns:
            wide[f"{name}:{label}"] = extra[label]
    wide["__cluster"] = rows.groupby("sample_id")["cluster"].first()
    if measure.design == "independent":  # each side's items carry their own clusters
        clusters = rows.pivot(index="sample_id", columns="label", values="cluster")
        for label in clusters.columns:
            wide[f"__cluster:{label}"] = clusters[label]
    return wide.sort_index()


def _cluster_column(measure: Measure, label: str) -> str:
    """The `_wide` column holding the clusters of `label`'s items."""
    return f"__cluster:{label}" if measure.design == "independent" else "__cluster"


def _tested(row: dict[str, Any]) -> str:
    """What a comparison row tests: its measure key, or its aggregate's name."""
    return str(row["measure"] if "measure" in row else row["name"])


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 3 or np.all(a == a[0]) or np.all(b == b[0]):
        return math.nan
    return float(np.corrcoef(a, b)[0, 1])


def findings(
    comparisons: list[dict[str, Any]],
    aggregate_comparisons: list[dict[str, Any]],
    labels: dict[str, str],
    declared: bool,
) -> list[str]:
    """Plain sentences for the key-findings box: aggregates, then significant differences.

    With `declared` primary measures, primary results come first and say so; each
    sentence names the correction of its own family.
    """
    lines = []
    headline_first = {"AvgA": 0, "AvgS": 1, "AvgC": 2}

    def tail(row: dict[str, Any]) -> str:
        method = stats.CORRECTION_ABBREVIATIONS[row["correction"]]
        primary = " (primary)" if row["family"] == "primary" else ""
        return f"{method}-adjusted p {_p(row['p_adjusted'])}{primary}"

    for row in sorted(
        aggregate_comparisons,
        key=lambda r: (r["family"] != "primary", headline_first.get(r["name"], 3)),
    ):
        lines.append(
            f"{row['model']} − {row['reference']} on {row['name']} ({len(row['benchmarks'])} "
            f"benchmarks): {_points(row['diff'])} [{_points(row['low'])}, {_points(row['high'])}], "
            f"{tail(row)}"
        )
    significant = [row for row in comparisons if row["significant"]]
    for row in sorted(
        significant,
        key=lambda r: (r["family"] != "primary", r["p_adjusted"], r["measure"], r["model"]),
    ):
        design = (
            f" (independent samples, {row['n_model']} vs {row['n_reference']} items)"
            if row["design"] == "independent"
            else ""
        )
        lines.append(
            f"{row['model']} − {row['reference']} on {labels.get(row['measure'], row['measure'])}"
            f"{design}: "
            f"{_format(row['diff'], row['kind'])} [{_format(row['low'], row['kind'])}, "
            f"{_format(row['high'], row['kind'])}], {tail(row)}"
        )
    rest = len(comparisons) - len(significant)
    if rest:
        short = stats.CORRECTION_ABBREVIATIONS
        after = (
            f"correction ({short[PRIMARY_CORRECTION]} over the primary family, "
            f"{short[EXPLORATORY_CORRECTION]} over the exploratory rest)"
            if declared
            else f"{short[comparisons[0]['correction']]} correction"
        )
        lines.append(
            f"{rest} of {len(comparisons)} comparisons with the reference are not significant after "
            f"{after}; the forest plot shows the smallest difference each could detect (MDE)."
        )
    return lines


def _format(value: float, kind: str) -> str:
    if kind == "binary":
        return _points(value)
    return "n/a" if not math.isfinite(value) else f"{value:+.3f}"


def _points(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value * 100:+.1f} pp"


def _p(value: float) -> str:
    """`= 0.012` or `< 0.001`, to follow "p"."""
    if not math.isfinite(value):
        return "= n/a"
    return "< 0.001" if value < 0.001 else f"= {value:.3f}"
