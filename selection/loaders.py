"""Pool loaders: upstream SFT and MCQ files mapped onto the normalized `PoolRecord`.

Formats (`--pool-format`):
- `medical-o1`: HuatuoGPT-o1 / medical-o1-reasoning-SFT records, a JSON list or JSONL with
  `Question`, `Complex_CoT`, `Response` (the demo file also carries the source MCQ, kept
  in `meta`, its stem as `meta["source_question"]` for decontamination);
- `medmcqa`: MedMCQA rows (`question`, `opa`..`opd`, `cop`, `exp`): options folded into the
  question as `A) ...` lines, `exp` as the reasoning, `ANSWER: <letter>` as the response.
  `cop` counts from 1 in the upstream release files (train/dev JSON) and from 0 in the
  Hugging Face copy (`openlifescienceai/medmcqa`, a 0..3 class label), so the base
  follows the source (a file: 1, the Hub: 0); `cop_base` overrides it, for a file
  exported from the Hub. It is not read from the data: a file without a `cop` of 0 or 4
  cannot tell, and a wrong guess shifts every answer by one letter;
- `jsonl` / `parquet`: normalized rows, or any rows with a field map;
- `hf`: a Hugging Face dataset id (or a local dataset directory) through `datasets`;
- `auto`: from the file suffix and the keys of the first row.

Upstream rows without an id get a content id (`<source>-<sha256 prefix>`), stable across
runs and file orderings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from harness.core.errors import ConfigError, InputError
from harness.core.fingerprint import looks_like_hub_id
from harness.core.io import iter_jsonl, read_json
from harness.core.records import PoolRecord, note_unique_id
from selection.options import POOL_FORMATS

RECORD_FIELDS = ("id", "question", "reasoning", "response", "source")
FIELD_ALIASES = {"q": "question", "r": "reasoning", "cot": "reasoning", "a": "response"}
LETTERS = "ABCDEFGHIJ"
MEDMCQA_OPTIONS = ("opa", "opb", "opc", "opd")


def parse_field_map(text: str | None) -> dict[str, str]:
    """`q=Question,r=Complex_CoT,a=Response,id=uid` -> {record field: upstream column}."""
    if not text:
        return {}
    mapping: dict[str, str] = {}
    for item in text.split(","):
        key, sep, column = item.partition("=")
        key = FIELD_ALIASES.get(key.strip(), key.strip())
        if not sep or not column.strip() or key not in RECORD_FIELDS:
            raise ConfigError(
                f"bad --field-map entry {item!r}: use FIELD=COLUMN with FIELD one of "
                f"{', '.join(RECORD_FIELDS)} (or q, r, a)"
            )
        mapping[key] = column.strip()
    if "question" not in mapping or "response" not in mapping:
        raise ConfigError("--field-map must map at least question (q=...) and response (a=...)")
    return mapping


def content_id(source: str, *parts: str) -> str:
    """`<source>-<12 hex>` from the record's texts."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return f"{source}-{digest[:12]}"


def _text(row: Mapping[str, Any], key: str, where: dict[str, Any], *, required: bool) -> str:
    value = row.get(key)
    if value is None or (isinstance(value, float) and value != value):  # None or NaN
        if required:
            raise InputError("missing required field", field=key, **where)
        return ""
    if not isinstance(value, str):
        raise InputError(f"expected a string, got {type(value).__name__}", field=key, **where)
    return value


def _meta(row: Mapping[str, Any], used: Iterable[str]) -> dict[str, Any]:
    skip = set(used)
    return {k: _jsonable(v) for k, v in row.items() if k not in skip}


def _jsonable(value: Any) -> Any:
    """Parquet/HF values (numpy scalars and arrays) as plain JSON values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _finish(fields: dict[str, Any], where: dict[str, Any]) -> PoolRecord:
    try:
        return PoolRecord.from_dict(fields, path=where.get("path"), line=where.get("line"))
    except InputError as error:
        if error.record is None and fields.get("id"):
            error.record = str(fields["id"])
        raise


def medical_o1_record(row: Mapping[str, Any], where: dict[str, Any]) -> PoolRecord:
    """A medical-o1 row (`Question`, `Complex_CoT`, `Response`)."""
    question = _text(row, "Question", where, required=True)
    reasoning = _text(row, "Complex_CoT", where, required=False)
    response = _text(row, "Response", where, required=True)
    meta = _meta(row, ("Question", "Complex_CoT", "Response", "question"))
    stem = row.get("question")
    if isinstance(stem, str) and stem.strip() and stem != question:
        meta["source_question"] = stem
    return _finish(
        {
            "id": str(row.get("id") or content_id("medical-o1", question, reasoning, response)),
            "question": question,
            "reasoning": reasoning,
            "response": response,
            "source": "medical-o1",
            "meta": meta,
        },
        where,
    )


def medmcqa_record(row: Mapping[str, Any], where: dict[str, Any], cop_base: int) -> PoolRecord:
    """A MedMCQA row; `cop_base` says whether `cop` counts options from 0 or 1."""
    row_id = row.get("id")
    where = {**where, "record": str(row_id) if row_id else None}
    stem = _text(row, "question", where, required=True)
    options = [_text(row, key, where, required=True) for key in MEDMCQA_OPTIONS]
    cop = row.get("cop")
    if isinstance(cop, bool) or not isinstance(cop, int) or not 0 <= cop - cop_base < 4:
        raise InputError(
            f"correct option must be an integer {cop_base}..{cop_base + 3}, got {cop!r} "
            f"(this source counts cop from {cop_base}; set the pool's cop base to "
            f"{1 - cop_base} if it counts from {1 - cop_base})",
            field="cop",
            **where,
        )
    letter = LETTERS[cop - cop_base]
    choices = "\n".join(f"{LETTERS[i]}) {text}" for i, text in enumerate(options))
    question = f"{stem}\n\n{choices}"
    return _finish(
        {
            "id": str(row_id) if row_id else content_id("medmcqa", question),
            "question": question,
            "reasoning": _text(row, "exp", where, required=False),
            "response": f"ANSWER: {letter}",
            "source": "medmcqa",
            "meta": {
                **_meta(row, ("question", "exp", "id", *MEDMCQA_OPTIONS)),
                "source_question": stem,
                "answer": letter,
            },
        },
        where,
    )


def mapped_record(
    row: Mapping[str, Any], where: dict[str, Any], field_map: Mapping[str, str], source: str
) -> PoolRecord:
    """A row read through a field map ({record field: column})."""
    values = {
        name: _text(row, column, where, required=name in ("question", "response"))
        for name, column in field_map.items()
    }
    record_source = values.get("source") or source
    record_id = values.get("id") or content_id(
        record_source, values["question"], values.get("reasoning", ""), values["response"]
    )
    return _finish(
        {
            "id": record_id,
            "question": values["question"],
            "reasoning": values.get("reasoning", ""),
            "response": values["response"],
            "source": record_source,
            "meta": _meta(row, field_map.values()),
        },
        where,
    )


def detect_schema(row: Mapping[str, Any], where: dict[str, Any]) -> str:
    """`normalized`, `medical-o1` or `medmcqa`, from a row's keys."""
    if "Question" in row and "Response" in row:
        return "medical-o1"
    if "opa" in row and "cop" in row:
        return "medmcqa"
    if "question" in row and "response" in row:
        return "normalized"
    raise InputError(
        f"unrecognised row layout (keys: {', '.join(sorted(map(str, row))[:12])}); "
        "pass --pool-format and/or --field-map q=...,a=...",
        **where,
    )


def _rows_from_file(path: Path) -> Iterator[tuple[int | None, dict[str, Any]]]:
    """(line or index, row) from JSON (a list), JSONL or Parquet."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except (OSError, ValueError) as error:
            raise InputError(f"cannot read parquet ({error})", path=path) from None
        for index, row in enumerate(table.to_pylist()):
            yield index, row
        return
    if not path.is_file():
        raise InputError("file not found", path=path)
    if suffix == ".json" and _first_character(path) == "[":
        for index, row in enumerate(read_json(path)):
            if not isinstance(row, dict):
                raise InputError(
                    f"item {index}: expected a JSON object, got {type(row).__name__}", path=path
                )
            yield index, row
        return
    yield from iter_jsonl(path)


def _first_character(path: Path) -> str:
    """The first non-whitespace character of a text file ('' when blank; a BOM is skipped)."""
    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        while chunk := handle.read(4096):
            stripped = chunk.lstrip()
            if stripped:
                return stripped[0]
    return ""


def _rows_from_hub(reference: str, split: str, config: str | None) -> Iterator[tuple[int, dict]]:
    import datasets

    try:
        dataset = datasets.load_dataset(reference, config, split=split)
    except Exception as error:  # datasets raises many types; all mean "cannot load"
        raise ConfigError(f"cannot load dataset {reference!r} (split {split!r}): {error}") from None
    for index, row in enumerate(dataset):
        yield index, dict(row)


def load_pool(
    source: str | Path,
    *,
    pool_format: str = "auto",
    field_map: str | Mapping[str, str] | None = None,
    split: str = "train",
    hf_config: str | None = None,
    name: str | None = None,
    cop_base: int | None = None,
) -> list[PoolRecord]:
    """Load a pool into normalized records; ids must be unique, the pool non-empty.

    `cop_base`: what MedMCQA's `cop` counts from; None takes the source's convention
    (files 1, the Hugging Face Hub 0).
    """
    if pool_format not in POOL_FORMATS:
        raise ConfigError(
            f"unknown pool format {pool_format!r}; choose one of {', '.join(POOL_FORMATS)}"
        )
    if cop_base not in (None, 0, 1):
        raise ConfigError(f"cop base must be 0 or 1, got {cop_base!r}")
    mapping = parse_field_map(field_map) if isinstance(field_map, str | None) else dict(field_map)
    path = Path(source)
    use_hub = pool_format == "hf" or (pool_format == "auto" and looks_like_hub_id(source))
    rows = list(_rows_from_hub(str(source), split, hf_config) if use_hub else _rows_from_file(path))
    where_path = str(source)
    label = name or (str(source).rstrip("/").split("/")[-1] if use_hub else path.stem)
    if not rows:
        raise InputError("the pool is empty", path=where_path)
    base = (0 if use_hub else 1) if cop_base is None else cop_base
    records: list[PoolRecord] = []
    seen: dict[str, int | None] = {}
    for line, row in rows:
        where = {"path": where_path, "line": line}
        schema = (
            "mapped"
            if mapping
            else (
                pool_format
                if pool_format in ("medical-o1", "medmcqa")
                else detect_schema(row, where)
            )
        )
        if schema == "medical-o1":
            record = medical_o1_record(row, where)
        elif schema == "medmcqa":
            record = medmcqa_record(row, where, base)
        elif schema == "mapped":
            record = mapped_record(row, where, mapping, label)
        else:
            record = _finish(dict(row), where)
        note_unique_id(seen, record.id, where_path, line)
        records.append(record)
    return records


def load_validation(path: str | Path) -> list[PoolRecord]:
    """A validation file: pool records, or the items `diq eval sample-validation` writes."""
    records = []
    seen: dict[str, int | None] = {}
    for line, row in iter_jsonl(path):
        record = PoolRecord.from_dict(row, path=path, line=line)
        note_unique_id(seen, record.id, path, line)
        if "task" in row and "task" not in record.meta:
            record.meta["task"] = row["task"]
        records.append(record)
    if not records:
        raise InputError("the validation file has no records", path=path)
    return records
