"""A run directory as the report sees it: logs, selection scores, subsets, manifests, ratings.

```
runs/<name>/
  logs/                      Inspect logs
  scores.parquet             one row per pool record: id, difficulty, influence, ...
  subsets/<name>.jsonl       selected records (+ <name>.manifest.json)
  models/<name>/train_manifest.json
  review/ratings.jsonl       the physician ratings ledger
  select_manifest.json       selection settings; its `methods` say what was done
```
Every part is optional except the logs; the report shows what is there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.core.errors import InputError
from harness.core.io import iter_jsonl, read_json, sha256_file
from reports.review import LEDGER_FILE

MAX_POINTS = 2500  # points per quadrant panel (members and non-members each)
SELECT_MANIFEST = "select_manifest.json"


@dataclass
class RunDir:
    """The files of a run directory that a report reads."""

    root: Path
    logs: Path
    scores: Path | None
    subsets: list[Path] = field(default_factory=list)
    models: Path | None = None
    ratings: Path | None = None
    select_manifest: Path | None = None


def is_run_dir(path: Path) -> bool:
    """A directory with a `logs/` folder next to selection or training outputs."""
    return (
        path.is_dir()
        and (path / "logs").is_dir()
        and any(
            (path / name).exists()
            for name in ("scores.parquet", "subsets", "models", "config.yaml", "review")
        )
    )


def open_run_dir(path: Path) -> RunDir:
    """Locate the parts of a run directory."""
    subsets_dir = path / "subsets"
    ratings = path / "review" / LEDGER_FILE
    return RunDir(
        root=path,
        logs=path / "logs",
        scores=path / "scores.parquet" if (path / "scores.parquet").is_file() else None,
        subsets=sorted(subsets_dir.glob("*.jsonl")) if subsets_dir.is_dir() else [],
        models=path / "models" if (path / "models").is_dir() else None,
        ratings=ratings if ratings.is_file() else None,
        select_manifest=path / SELECT_MANIFEST if (path / SELECT_MANIFEST).is_file() else None,
    )


def selection_methods(run: RunDir) -> list[dict[str, str]]:
    """What selection says it did: `methods` of `select_manifest.json`, as `{topic, text}`.

    The selection stage writes one sentence per step (decontamination stages and their
    thresholds and counts, the influence estimator, the difficulty scorer, precision,
    the validation completion format); the report's Methods section shows them as given.
    """
    if run.select_manifest is None:
        return []
    manifest = read_json(run.select_manifest)
    methods = manifest.get("methods", []) if isinstance(manifest, dict) else []
    if not isinstance(methods, list):
        raise InputError(
            "expected a list of {topic, text}", path=run.select_manifest, field="methods"
        )
    for index, entry in enumerate(methods):
        for key in ("topic", "text"):
            value = entry.get(key) if isinstance(entry, dict) else None
            if not isinstance(value, str) or not value.strip():
                raise InputError(
                    "expected non-empty text",
                    path=run.select_manifest,
                    field=f"methods[{index}].{key}",
                )
    return [{"topic": entry["topic"], "text": entry["text"]} for entry in methods]


def subset_ids(path: Path) -> list[str]:
    """Record ids of a subset file (JSONL records with an `id`)."""
    ids = []
    for line, record in iter_jsonl(path):
        if "id" not in record:
            raise InputError("subset record has no id", path=path, line=line, field="id")
        ids.append(str(record["id"]))
    return ids


def flat_summary(data: dict[str, Any], limit: int = 160) -> dict[str, str]:
    """Scalars of a manifest (one level of nesting flattened), as short strings."""
    result: dict[str, str] = {}
    for key, value in sorted(data.items()):
        if isinstance(value, dict):
            for inner, item in sorted(value.items()):
                if not isinstance(item, dict | list):
                    result[f"{key}.{inner}"] = str(item)[:limit]
        elif isinstance(value, list):
            result[key] = f"[{len(value)} entries]" if len(str(value)) > limit else str(value)
        else:
            result[key] = str(value)[:limit]
    return result


def selection_section(run: RunDir, seed: int) -> dict[str, Any]:
    """Subset sizes, pairwise overlaps, manifests, and quadrant-plot points per subset."""
    import pandas as pd

    subsets = {path.name.removesuffix(".jsonl"): subset_ids(path) for path in run.subsets}
    names = sorted(subsets)
    pool_size = None
    scores = None
    warnings = []
    if run.scores is not None:
        try:
            scores = pd.read_parquet(run.scores)
        except Exception as error:  # pyarrow raises several types for a damaged file
            raise InputError(
                f"cannot read parquet ({type(error).__name__}: {error})", path=run.scores
            ) from None
        missing = [c for c in ("id", "difficulty", "influence") if c not in scores.columns]
        if missing:
            warnings.append(
                f"{run.scores}: no column(s) {', '.join(missing)}; quadrant plot skipped"
            )
            pool_size = len(scores)
            scores = None
        else:
            scores = scores.assign(id=scores["id"].astype(str))
            pool_size = len(scores)
    sizes = []
    for name in names:
        manifest_path = run.subsets[0].parent / f"{name}.manifest.json"
        manifest = read_json(manifest_path) if manifest_path.is_file() else {}
        sizes.append(
            {
                "name": name,
                "records": len(subsets[name]),
                "unique": len(set(subsets[name])),
                "fraction": len(subsets[name]) / pool_size if pool_size else math.nan,
                "sha256": sha256_file(run.subsets[0].parent / f"{name}.jsonl"),
                "manifest": flat_summary(manifest) if isinstance(manifest, dict) else {},
            }
        )
    overlaps = []
    for a in names:
        for b in names:
            shared = len(set(subsets[a]) & set(subsets[b]))
            union = len(set(subsets[a]) | set(subsets[b]))
            overlaps.append(
                {"a": a, "b": b, "shared": shared, "jaccard": shared / union if union else math.nan}
            )
    panels = []
    medians = {}
    if scores is not None:
        finite = scores[np.isfinite(scores["difficulty"]) & np.isfinite(scores["influence"])]
        medians = {
            "difficulty": float(finite["difficulty"].median()),
            "influence": float(finite["influence"].median()),
        }
        rng = np.random.default_rng(seed)
        panel_names: list[str | None] = [*names] or [None]  # no subsets: the pool alone
        for panel in panel_names:
            members = (
                finite["id"].isin(set(subsets[panel])) if panel else np.zeros(len(finite), bool)
            )
            inside = finite[members]
            outside = finite[~members]
            shown = [
                frame.iloc[
                    np.sort(rng.choice(len(frame), size=min(len(frame), MAX_POINTS), replace=False))
                ]
                for frame in (outside, inside)
            ]
            panels.append(
                {
                    "subset": panel or "pool",
                    "points": [
                        [float(r.difficulty), float(r.influence), flag]
                        for flag, frame in enumerate(shown)
                        for r in frame.itertuples()
                    ],
                    "members": int(len(inside)),
                    "pool": int(len(finite)),
                }
            )
    models = []
    if run.models is not None:
        for manifest_path in sorted(run.models.glob("*/train_manifest.json")):
            manifest = read_json(manifest_path)
            models.append(
                {
                    "name": manifest_path.parent.name,
                    "manifest": flat_summary(manifest) if isinstance(manifest, dict) else {},
                }
            )
    return {
        "root": str(run.root),
        "pool_size": pool_size,
        "subsets": sizes,
        "overlaps": overlaps,
        "panels": panels,
        "medians": medians,
        "models": models,
        "warnings": warnings,
    }
