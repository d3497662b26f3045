"""HealthBench records read into Inspect samples: rubric records and meta-evaluation records.

Records come from a JSONL file of records (as OpenAI publishes them) or a directory of
one-record JSON files (as in `$DIQ_DATA_DIR/healthbench/processed_data/`). A rubric record
(`prompt`, `prompt_id`, `rubrics`, `example_tags`) gives one sample for the model to answer,
or its physicians' ideal / reference completions to grade; a meta-evaluation record
(`prompt`, `completion`, `rubric`, `binary_labels`, ...) gives one physician-labelled
completion. Every malformed record is an error naming its file, line and field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from inspect_ai.dataset import Sample
from inspect_ai.model import (
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageUser,
)

from harness.core.errors import InputError, Where
from harness.core.io import iter_jsonl, read_json
from tasks._data import local_file
from tasks.items import check_unique, content_id

RELATIVE_PATH = "healthbench/processed_data"
ROLES = {"system": ChatMessageSystem, "developer": ChatMessageSystem, "user": ChatMessageUser}
Completions = Literal["model", "ideal", "reference"]


def _natural_key(path: Path) -> list[object]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def iter_raw_records(path: Path) -> Iterator[tuple[dict[str, Any], str, int | None]]:
    """(record, file, line) for a JSONL file, a JSON file (record or list), or a directory."""
    files = (
        sorted((p for p in path.iterdir() if p.suffix in (".json", ".jsonl")), key=_natural_key)
        if path.is_dir()
        else [path]
    )
    if not files:
        raise InputError("no .json or .jsonl HealthBench files in directory", path=path)
    for file in files:
        if file.suffix == ".jsonl":
            for line, row in iter_jsonl(file):
                yield row, str(file), line
            continue
        data = read_json(file)
        for row in data if isinstance(data, list) else [data]:
            if not isinstance(row, dict):
                raise InputError("expected a JSON object per record", path=file)
            yield row, str(file), None


def _conversation(record: dict[str, Any], where: Where) -> list[dict[str, str]]:
    prompt = record.get("prompt")
    if not isinstance(prompt, list) or not prompt:
        raise where.error("expected a non-empty list of messages", field="prompt")
    turns = []
    for i, message in enumerate(prompt):
        if (
            not isinstance(message, dict)
            or message.get("role") not in (*ROLES, "assistant")
            or not isinstance(message.get("content"), str)
        ):
            raise where.error(
                "expected {role: system|user|assistant, content: str}", field=f"prompt[{i}]"
            )
        turns.append({"role": message["role"], "content": message["content"]})
    return turns


def _messages(conversation: list[dict[str, str]]) -> list[ChatMessage]:
    return [
        ChatMessageAssistant(content=turn["content"])
        if turn["role"] == "assistant"
        else ROLES[turn["role"]](content=turn["content"])
        for turn in conversation
    ]


def _rubric_items(record: dict[str, Any], where: Where) -> list[dict[str, Any]]:
    items = record.get("rubrics")
    if not isinstance(items, list) or not items:
        raise where.error("expected a non-empty list of rubric items", field="rubrics")
    for i, item in enumerate(items):
        field = f"rubrics[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("criterion"), str):
            raise where.error("expected {criterion: str, points, tags}", field=field)
        points = item.get("points")
        if isinstance(points, bool) or not isinstance(points, int | float):
            raise where.error("points must be a number", field=f"{field}.points")
        tags = item.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise where.error("tags must be a list of strings", field=f"{field}.tags")
    if not any(item["points"] > 0 for item in items):
        raise where.error("no rubric item has positive points", field="rubrics")
    return [
        {"criterion": i["criterion"], "points": i["points"], "tags": i.get("tags", [])}
        for i in items
    ]


def _text(record: dict[str, Any], name: str, where: Where) -> str:
    value = record.get(name)
    if not isinstance(value, str) or not value.strip():
        raise where.error("expected a non-empty string", field=name)
    return value


def rubric_samples(record: dict[str, Any], where: Where, completions: Completions) -> list[Sample]:
    """Samples for one rubric record (none when the requested completions are absent)."""
    prompt_id = _text(record, "prompt_id", where)
    conversation = _conversation(record, where)
    tags = record.get("example_tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise where.error("expected a list of strings", field="example_tags")
    metadata = {
        "prompt_id": prompt_id,
        "conversation": conversation,
        "rubrics": _rubric_items(record, where),
        "example_tags": tags,
        "themes": [t.removeprefix("theme:") for t in tags if t.startswith("theme:")],
    }
    input = _messages(conversation)
    if completions == "model":
        return [Sample(id=prompt_id, input=input, metadata=metadata)]
    ideal = record.get("ideal_completions_data")
    if not ideal:
        return []
    if not isinstance(ideal, dict):
        raise where.error("expected an object", field="ideal_completions_data")
    group = ideal.get("ideal_completions_group")
    if completions == "ideal":
        text = _text(ideal, "ideal_completion", where.at_record(prompt_id))
        return [
            Sample(
                id=prompt_id,
                input=input,
                metadata={**metadata, "completion": text, "completion_group": group},
            )
        ]
    references = ideal.get("ideal_completions_ref_completions") or []
    return [
        Sample(
            id=f"{prompt_id}:ref{i}",
            input=input,
            metadata={**metadata, "completion": text, "completion_group": group},
        )
        for i, text in enumerate(references)
        if isinstance(text, str) and text.strip()
    ]


def meta_sample(record: dict[str, Any], where: Where) -> Sample:
    """The sample for one physician-labelled meta-evaluation record."""
    prompt_id = _text(record, "prompt_id", where)
    completion = _text(record, "completion", where)
    rubric = _text(record, "rubric", where)
    labels = record.get("binary_labels")
    if not isinstance(labels, list) or not labels or not all(isinstance(x, bool) for x in labels):
        raise where.error("expected a non-empty list of booleans", field="binary_labels")
    physicians = record.get("anonymized_physician_ids")
    if physicians is not None and (
        not isinstance(physicians, list) or len(physicians) != len(labels)
    ):
        raise where.error("expected one physician id per label", field="anonymized_physician_ids")
    completion_id = str(record.get("completion_id") or content_id(prompt_id, completion))
    conversation = _conversation(record, where)
    return Sample(
        id=f"{prompt_id}:{completion_id}:{content_id(rubric, length=8)}",
        input=_messages(conversation),
        metadata={
            "prompt_id": prompt_id,
            "completion_id": completion_id,
            "conversation": conversation,
            "completion": completion,
            "rubric": rubric,
            "binary_labels": labels,
            "anonymized_physician_ids": physicians,
            "category": str(record.get("category") or "uncategorised"),
        },
    )


def load_healthbench(
    path: str | None = None, completions: Completions = "model"
) -> tuple[list[Sample], str, Literal["rubric", "meta"]]:
    """Samples from `path` (or `$DIQ_DATA_DIR/healthbench/processed_data`), and their kind.

    A file mixing rubric and meta-evaluation records is an error; ids must be unique.
    """
    if completions not in ("model", "ideal", "reference"):
        raise InputError(
            f"completions must be model, ideal or reference, got {completions!r}",
            field="completions",
        )
    file = local_file(path, RELATIVE_PATH, "healthbench")
    if file is None:
        raise InputError(
            "healthbench: pass -T path=FILE_OR_DIR (OpenAI's JSONL from "
            "openaipublic.blob.core.windows.net/simple-evals/healthbench/, or a directory of "
            "one-record JSON files) or set DIQ_DATA_DIR"
        )
    located: list[tuple[Sample, str, int | None]] = []
    kinds: set[str] = set()
    for record, source, line in iter_raw_records(Path(file)):
        where = Where(source, line).at_record(record.get("prompt_id"))
        kind = "meta" if "binary_labels" in record else "rubric"
        kinds.add(kind)
        if len(kinds) > 1:
            raise where.error("file mixes rubric and meta-evaluation records")
        new = (
            [meta_sample(record, where)]
            if kind == "meta"
            else rubric_samples(record, where, completions)
        )
        located.extend((sample, source, line) for sample in new)
    samples = [
        sample
        for sample, _, _ in check_unique(
            located,
            str(file),
            id_of=lambda entry: str(entry[0].id),
            where_of=lambda entry: entry[1] if entry[2] is None else f"{entry[1]}:{entry[2]}",
            field="prompt_id",
        )
    ]
    if not samples:
        raise InputError(f"no samples with {completions} completions", path=file)
    return samples, str(Path(file).resolve()), kinds.pop()  # type: ignore[return-value]
