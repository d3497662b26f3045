"""Provenance: one row per log, saying what ran, where, with what."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def provenance_rows(frames_logs: list[Any], reference: str) -> list[dict[str, Any]]:
    """One row per log: what ran, where, with what."""
    rows = []
    for info in frames_logs:
        record = info.record
        rows.append(
            {
                "label": info.label,
                "reference": info.label == reference,
                "model": record.model,
                "task": record.task,
                "status": record.status,
                "samples": len(record.samples),
                "epochs": record.epochs,
                "created": record.created,
                "file": Path(record.path).name,
                "eval_id": record.eval_id,
                "inspect": record.packages.get("inspect_ai", "?"),
                "git": (record.git_commit or "")[:10],
                "task_args": ", ".join(f"{k}={v}" for k, v in record.task_args.items()) or "–",
                "config": ", ".join(f"{k}={v}" for k, v in sorted(record.generate_config.items()))
                or "–",
                "roles": ", ".join(f"{k}={v}" for k, v in record.model_roles.items()) or "–",
                "model_args": ", ".join(f"{k}={v}" for k, v in record.model_args.items()) or "–",
            }
        )
    return sorted(rows, key=lambda r: (r["label"], r["task"]))
