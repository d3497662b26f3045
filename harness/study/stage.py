"""What a stage of the study is: a name, its upstream stages, what it reads, writes and does.

Every stage of `diq run` is one module under `harness.study.stages` that defines one
`Stage`. The runner (`harness.study.run`) hashes what a stage reads (`inputs`: its
settings and the contents of the files they name) together with what its upstream
stages produced (their `outputs`), and skips the stage when the ledger says it already
ran on exactly that and its own outputs are still what it wrote.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.io import sha256_json
from harness.core.layout import RunLayout
from harness.study.config import ExperimentConfig


@dataclass(frozen=True)
class Study:
    """An experiment config and the run directory it writes."""

    config: ExperimentConfig
    layout: RunLayout


@dataclass(frozen=True)
class Stage:
    """One stage of the study."""

    name: str
    upstream: tuple[str, ...]
    inputs: Callable[[Study], Any]
    outputs: Callable[[Study], str]
    run: Callable[[Study], None]


def files_digest(paths: Sequence[Path], root: Path) -> str:
    """Content hash of the files among `paths` (missing ones left out), by relative path."""
    from harness.core.fingerprint import file_hash

    return sha256_json(
        {str(path.relative_to(root)): file_hash(path) for path in sorted(paths) if path.is_file()}
    )


def logs_digest(folder: Path) -> str:
    """Which Inspect logs exist under `folder` and how they ended.

    Log files are rewritten as they stream, so their bytes are not their identity; their
    eval id, task, model and status are.
    """
    if not folder.is_dir():
        return sha256_json([])
    from inspect_ai.log import list_eval_logs, read_eval_log

    entries = []
    for info in list_eval_logs(str(folder), recursive=True):
        header = read_eval_log(info.name, header_only=True)
        entries.append((header.eval.eval_id, header.eval.task, header.eval.model, header.status))
    return sha256_json(sorted(entries))
