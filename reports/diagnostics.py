"""Judge and answer health: errors, format failures, unscored samples, verbosity, criteria."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from reports import stats
from reports.frames import Frames
from reports.pairing import Pairing


def health(frames: Frames) -> list[dict[str, Any]]:
    """Per model and task: errors, format failures, unscored samples per scorer, reasons."""
    samples = frames.samples
    rows: list[dict[str, Any]] = []
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


def length_correlation(frames: Frames, pairing: Pairing) -> list[dict[str, Any]]:
    """Spearman correlation of judge scores with response length (a verbosity check)."""
    samples = frames.samples
    if samples.empty:
        return []
    first = samples[
        samples.epoch == samples.groupby(["label", "task", "sample_id"]).epoch.transform("min")
    ]
    lengths = first.set_index(["label", "task", "sample_id"])["response_length"]
    rows = []
    for measure in frames.measures:
        if not measure.judged:
            continue
        wide = pairing.wide[measure]
        for model in pairing.models:
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


def criteria(frames: Frames) -> list[dict[str, Any]]:
    """Pass rate of each rubric criterion per model (HealthBench style)."""
    table = frames.criteria
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
