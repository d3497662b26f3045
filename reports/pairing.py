"""Items by models, per measure: what two models' comparison on one measure is made of.

A paired measure lines both models' values up by sample id (items only one of them has
a value for are dropped and counted). An independent-samples measure gives each model
its own items, with their own clusters. Each comparison has a seed of its own, derived
from the report seed and what it compares, so a result does not depend on what else is
in the report.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reports.frames import Frames, Measure


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


class Pairing:
    """Each measure as an items x models table, and the pairs and sides drawn from it."""

    def __init__(self, frames: Frames, models: list[str]) -> None:
        self.models = models
        self.wide = {measure: _wide(frames.items, measure) for measure in frames.measures}
        self._arrays: dict[Measure, tuple[dict[str, np.ndarray], np.ndarray]] = {}

    def has(self, measure: Measure, label: str) -> bool:
        """Whether `label` has any item (scored or not) on `measure`."""
        return label in self.wide[measure].columns

    def cluster_column(self, measure: Measure, label: str) -> str:
        """The column of `wide[measure]` holding the clusters of `label`'s items."""
        return f"__cluster:{label}" if measure.design == "independent" else "__cluster"

    def paired(self, measure: Measure, a: str, b: str) -> Paired | None:
        """Both models' values on the items both have one for (None if a model is absent)."""
        if measure not in self._arrays:
            wide = self.wide[measure]
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
        wide = self.wide[measure]
        if label not in wide.columns:
            return None
        values = wide[label].dropna()
        return Side(
            values.to_numpy(dtype=float),
            wide.loc[values.index, self.cluster_column(measure, label)].to_numpy(),
            values.index.to_numpy(),
        )


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
