"""Read Inspect logs into compact, picklable records: one per log, one per sample and epoch.

Logs are read one per worker process and reduced at once to the few fields a report
needs, so peak memory is about one log per worker. `.eval` logs take a fast path
(header through Inspect, samples as plain JSON); `read_log_reference` reads through
`inspect_ai.log.read_eval_log` and is what the fast path is tested against.
`inspect_ai.analysis.samples_df` is not used: it is several times slower and leaves out
outputs and score metadata (docs/reports.md, "Why not inspect_ai.analysis"); a test
checks the frames against it.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from harness.core.errors import InputError
from harness.core.inspect_names import local_path

LOG_SUFFIXES = (".eval", ".json")
# Eval metadata keys the report reads: the label `diq run` gives a log (`eval_set(metadata=)`)
# and how a task's items relate across logs (`Task(metadata=)`).
LABEL_KEY = "label"
PAIRING_KEY = "pairing"
PAIRINGS = ("paired", "independent")
# Task metadata of a task drawn from part of a published set (absent when complete).
COVERAGE_KEY = "coverage"
# Model arguments worth showing in provenance; the rest (e.g. mockllm's scripted
# outputs) can be arbitrarily large.
MAX_ARG_CHARS = 200
ATTACHMENT = "attachment://"


@dataclass(frozen=True)
class Coverage:
    """The part of a published set a task draws from, as its task metadata declares it.

    `Task(metadata={"coverage": {"items": 1449, "published": 2450, "note": "..."}})`:
    the items of the set this task uses, the items of the set as published (the paper's
    or the official one), and one line saying what was left out.
    """

    items: int
    published: int
    note: str

    def describe(self) -> str:
        """`1,449 of 2,450 items (the note)`."""
        return f"{self.items:,} of {self.published:,} items ({self.note})"


@dataclass
class ScoreRecord:
    """One scorer's verdict on one sample (epoch)."""

    value: Any
    answer: str | None = None
    explanation: str | None = None
    reason: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class SampleRecord:
    """The parts of an Inspect sample a report shows or counts."""

    id: str
    epoch: int
    input: str
    target: str
    choices: list[str] | None
    output: str
    error: str | None
    metadata: dict[str, Any]
    scores: dict[str, ScoreRecord]


@dataclass
class LogRecord:
    """A log's header facts (for labels and provenance) and its samples."""

    path: str
    eval_id: str
    run_id: str
    task: str
    task_version: str
    model: str
    created: str
    status: str
    epochs: int
    packages: dict[str, str]
    task_args: dict[str, Any]
    model_args: dict[str, Any]
    model_roles: dict[str, str]
    generate_config: dict[str, Any]
    dataset: dict[str, Any]
    metadata: dict[str, Any]
    label: str | None  # eval metadata `label`
    pairing: str  # task metadata `pairing`: "paired" (default) or "independent"
    coverage: Coverage | None  # task metadata `coverage`: None for a complete set
    tags: list[str]
    git_commit: str | None
    scorers: list[str]
    error: str | None
    samples: list[SampleRecord]


def find_logs(paths: Iterable[str | Path]) -> list[Path]:
    """Log files named directly or found (recursively) in directories, sorted and unique."""
    from inspect_ai.log import list_eval_logs

    found: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for info in list_eval_logs(str(path), recursive=True):
                found.add(local_path(info.name))
        elif path.is_file():
            if path.suffix not in LOG_SUFFIXES:
                raise InputError("not an Inspect log (expected .eval or .json)", path=path)
            found.add(path.resolve())
        else:
            raise InputError("no such file or directory", path=path)
    if not found:
        raise InputError(
            "no Inspect logs found", path=", ".join(str(p) for p in paths) or "(no paths given)"
        )
    return sorted(found)


def read_logs(paths: Sequence[Path], workers: int | None = None) -> list[LogRecord]:
    """Read logs, in `workers` processes when asked, with a progress bar.

    One process is the default: with the fast `.eval` reader, shipping records back
    from worker processes costs more than it saves (10 x 5,000 samples: 5.7 s in one
    process, 7.1 s in two). Processes pay off for `.json` logs (Inspect's reader).
    """
    workers = min(len(paths), workers or 1)
    progress = tqdm(total=len(paths), desc="reading logs", unit="log", disable=None)
    try:
        if workers <= 1:
            records = []
            for path in paths:
                records.append(read_log(path))
                progress.update()
            return records
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(read_log, path) for path in paths]
            records = []
            for future in futures:
                records.append(future.result())
                progress.update()
            return records
    finally:
        progress.close()


def read_log(path: str | Path) -> LogRecord:
    """Read one log into a `LogRecord`; unreadable files raise an `InputError` naming them.

    `.eval` files take the fast path (`read_eval_fast`); anything it does not handle
    (sharded logs, `.json` logs, unexpected content) falls back to `read_log_reference`.
    A test checks that both paths give identical records.
    """
    if Path(path).suffix == ".eval":
        try:
            return read_eval_fast(path)
        except FastPathUnsupported:
            pass
    return read_log_reference(path)


class FastPathUnsupported(Exception):
    """The fast reader met something it does not handle; use Inspect's reader."""


def read_log_reference(path: str | Path) -> LogRecord:
    """Read a log with `inspect_ai.log.read_eval_log` (the reference path)."""
    from inspect_ai.log import read_eval_log

    try:
        log = read_eval_log(str(path))
    except Exception as error:  # Inspect raises many types for a damaged file
        raise InputError(
            f"cannot read Inspect log ({type(error).__name__}: {error})", path=path
        ) from None
    return _header_record(log, path, [_sample_record(sample) for sample in log.samples or []])


def read_eval_fast(path: str | Path) -> LogRecord:
    """Read a `.eval` log: the header through Inspect, samples as plain JSON.

    Validating every sample into pydantic models (events included) is most of the cost
    of `read_eval_log`; this reads the zip members the same way Inspect does (a
    re-logged member's last copy wins) but extracts only the fields a report needs,
    about ten times faster.
    """
    import zipfile

    from inspect_ai.log import read_eval_log

    if sys.version_info < (3, 14):
        import zipfile_zstd  # noqa: F401  (registers zstd with zipfile, as Inspect does)

    try:
        header = read_eval_log(str(path), header_only=True)
    except Exception as error:  # Inspect raises many types for a damaged file
        raise InputError(
            f"cannot read Inspect log ({type(error).__name__}: {error})", path=path
        ) from None
    if header.eval.shards is not None:
        raise FastPathUnsupported("sharded log")
    samples = []
    try:
        with zipfile.ZipFile(path) as archive:
            for name in dict.fromkeys(archive.namelist()):
                if name.startswith("samples/") and name.endswith(".json"):
                    samples.append(_sample_from_json(json.loads(archive.read(name))))
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise FastPathUnsupported(str(error)) from None
    except (zipfile.BadZipFile, OSError) as error:
        raise InputError(
            f"cannot read Inspect log ({type(error).__name__}: {error})", path=path
        ) from None
    samples.sort(key=lambda s: (s.epoch, s.id if not s.id.isdigit() else s.id.zfill(20)))
    return _header_record(header, path, samples)


def _sample_from_json(data: dict[str, Any]) -> SampleRecord:
    """The report's view of one sample member, read as Inspect would (see `_sample_record`)."""
    attachments = data.get("attachments") or {}
    raw_input = data["input"]
    if isinstance(raw_input, str):
        text = _resolve(raw_input, attachments)
    else:
        from inspect_ai.model import ChatMessage
        from pydantic import TypeAdapter

        text = message_text(TypeAdapter(list[ChatMessage]).validate_python(raw_input))
    target = data.get("target", "")
    output = data.get("output") or {}
    error = data.get("error")
    scores = {}
    for name, score in (data.get("scores") or {}).items():
        metadata = dict(score.get("metadata") or {})
        scores[name] = ScoreRecord(
            value=score["value"],
            answer=score.get("answer"),
            explanation=score.get("explanation"),
            reason=score.get("reason") or metadata.get("unscored_reason"),
            metadata=metadata,
        )
    return SampleRecord(
        id=str(data["id"]),
        epoch=int(data["epoch"]),
        input=text,
        target=target if isinstance(target, str) else " | ".join(target),
        choices=list(data["choices"]) if data.get("choices") else None,
        output=_resolve(output.get("completion") or "", attachments),
        error=error["message"] if error else None,
        metadata=dict(data.get("metadata") or {}),
        scores=scores,
    )


def _resolve(text: str, attachments: dict[str, str]) -> str:
    """Text that Inspect stored once as an attachment, in full."""
    if text.startswith(ATTACHMENT):
        return attachments.get(text.removeprefix(ATTACHMENT), text)
    return text


def _header_record(log: Any, path: str | Path, samples: list[SampleRecord]) -> LogRecord:
    spec = log.eval
    # EvalLog.metadata is the eval-time metadata with later edits (edit_eval_log) applied.
    current = getattr(log, "metadata", None) or spec.metadata or {}
    roles = {role: _role_name(config) for role, config in sorted((spec.model_roles or {}).items())}
    return LogRecord(
        path=str(path),
        eval_id=spec.eval_id,
        run_id=spec.run_id,
        task=spec.task.split("/")[-1],
        task_version=str(spec.task_version),
        model=spec.model,
        created=str(spec.created),
        status=log.status,
        epochs=int(spec.config.epochs or 1),
        packages=dict(spec.packages),
        task_args=_small(spec.task_args),
        model_args=_small(spec.model_args),
        model_roles=roles,
        generate_config=spec.model_generate_config.model_dump(exclude_none=True),
        dataset={
            "name": spec.dataset.name,
            "location": spec.dataset.location,
            "samples": spec.dataset.samples,
        },
        metadata=_small(spec.metadata or {}) | _small(log.metadata or {}),
        label=_label(current, path),
        pairing=_pairing(current, path),
        coverage=_coverage(current, path),
        tags=list(log.tags or spec.tags or []),
        git_commit=spec.revision.commit if spec.revision else None,
        scorers=[scorer.name for scorer in spec.scorers or []],
        error=log.error.message if log.error else None,
        samples=samples,
    )


def _label(metadata: dict[str, Any], path: str | Path) -> str | None:
    """The model label a log carries in its eval metadata, if any."""
    value = metadata.get(LABEL_KEY)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InputError(
            f"the log's label must be a non-empty string, got {value!r}",
            path=path,
            field=f"eval.metadata.{LABEL_KEY}",
        )
    return value.strip()


def _pairing(metadata: dict[str, Any], path: str | Path) -> str:
    """How the task's items relate across logs: the same items (paired) or not (independent)."""
    value = metadata.get(PAIRING_KEY, "paired")
    if value not in PAIRINGS:
        raise InputError(
            f"unknown pairing {value!r}; expected one of {', '.join(PAIRINGS)}",
            path=path,
            field=f"eval.metadata.{PAIRING_KEY}",
        )
    return str(value)


def _coverage(metadata: dict[str, Any], path: str | Path) -> Coverage | None:
    """The partial set a task draws from, checked (see `Coverage`); None when complete."""
    value = metadata.get(COVERAGE_KEY)
    if value is None:
        return None
    where = f"eval.metadata.{COVERAGE_KEY}"
    if not isinstance(value, dict):
        raise InputError(f"expected a mapping, got {value!r}", path=path, field=where)
    for key in ("items", "published"):
        number = value.get(key)
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise InputError(
                f"expected a positive integer, got {number!r}", path=path, field=f"{where}.{key}"
            )
    note = value.get("note")
    if not isinstance(note, str) or not note.strip():
        raise InputError(
            f"expected one line of text, got {note!r}", path=path, field=f"{where}.note"
        )
    if value["items"] > value["published"]:
        raise InputError(
            f"items ({value['items']}) exceed the published set ({value['published']})",
            path=path,
            field=where,
        )
    return Coverage(value["items"], value["published"], " ".join(note.split()))


def _role_name(config: Any) -> str:
    configs = config if isinstance(config, list) else [config]
    return ", ".join(str(getattr(item, "model", item)) for item in configs)


def _small(values: dict[str, Any]) -> dict[str, Any]:
    """Arguments as short JSON-safe values (long or nested ones abbreviated)."""
    result: dict[str, Any] = {}
    for key, value in sorted(values.items()):
        if isinstance(value, str | int | float | bool) or value is None:
            text = value
        else:
            text = json.dumps(value, sort_keys=True, default=str)
        if isinstance(text, str) and len(text) > MAX_ARG_CHARS:
            text = text[:MAX_ARG_CHARS] + f"... ({len(text)} characters)"
        result[key] = text
    return result


def _sample_record(sample: Any) -> SampleRecord:
    attachments = sample.attachments or {}
    raw_input = sample.input
    return SampleRecord(
        id=str(sample.id),
        epoch=int(sample.epoch),
        input=_resolve(raw_input, attachments)
        if isinstance(raw_input, str)
        else message_text(raw_input),
        target=sample.target if isinstance(sample.target, str) else " | ".join(sample.target),
        choices=list(sample.choices) if sample.choices else None,
        output=_resolve(sample.output.completion, attachments) if sample.output else "",
        error=sample.error.message if sample.error else None,
        metadata=dict(sample.metadata or {}),
        scores={
            name: ScoreRecord(
                value=score.value,
                answer=score.answer,
                explanation=score.explanation,
                reason=score.reason,
                metadata=dict(score.metadata or {}),
            )
            for name, score in (sample.scores or {}).items()
        },
    )


def message_text(value: Any) -> str:
    """A sample input as text: a plain string, or `role: text` paragraphs for a chat."""
    if isinstance(value, str):
        return value
    return "\n\n".join(f"{message.role}: {message.text}" for message in value)


def is_missing(value: Any) -> bool:
    """True for None and float NaN (Inspect's unscored sentinel)."""
    return value is None or (isinstance(value, float) and math.isnan(value))
