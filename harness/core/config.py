"""Config sections: pydantic models whose errors name the field as the user wrote it.

Every stage owns one section (`selection.config.SelectConfig`, `harness.training.TrainConfig`,
...). The experiment YAML composes them and `diq <stage>` builds its options from their
fields (`harness.cli.options`), so a field is defined once: its type, default and
`description` become the YAML key, the command-line flag, the `--help` line and the
example config's comment. A problem is reported against the field's location, as a
dotted YAML key (`review.raters`) or as the flag (`--raters`), by whoever parses.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from harness.core.errors import InputError

Location = tuple[str | int, ...]
S = TypeVar("S", bound=BaseModel)


class Section(BaseModel):
    """A config section: unknown keys are errors, and a parsed section never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldProblem(ValueError):
    """A check across fields that blames one of them (its name relative to the section).

    Raised inside a section's `model_validator`, it is reported at `<section>.<field>`
    instead of at the section as a whole.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def problems(error: ValidationError) -> list[tuple[Location, str]]:
    """Each problem of a validation error as (location, message), unknown keys named as such."""
    found: list[tuple[Location, str]] = []
    for item in error.errors():
        location: Location = tuple(item["loc"])
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, FieldProblem):
            location = (*location, *cause.field.split("."))
            message = cause.message
        elif item["type"] == "extra_forbidden":
            message = "unknown key"
        else:
            message = str(item["msg"]).removeprefix("Value error, ")
        found.append((location, message))
    return found


def dotted(location: Sequence[str | int]) -> str:
    """A location as a YAML user reads it: `judge.tasks.0.args`."""
    return ".".join(str(part) for part in location)


def parse_section(
    cls: type[S], data: Mapping[str, Any], *, source: str | None = None, prefix: str = ""
) -> S:
    """Validate `data` as `cls`; the first problem is an `InputError` naming the dotted key.

    `prefix` is where the section sits in a larger document (`train` for a TrainConfig
    read from an experiment's `train:` mapping).
    """
    try:
        return cls.model_validate(dict(data))
    except ValidationError as error:
        location, message = problems(error)[0]
        key = dotted([*([prefix] if prefix else []), *location])
        raise InputError(message, path=source, field=key or None) from None


def cli(
    flag: str | None = None,
    *,
    short: str | None = None,
    prefix: str | None = None,
    hidden: bool = False,
    repeat: bool = False,
    path: bool = False,
    metavar: str | None = None,
) -> dict[str, Any]:
    """Command-line and path metadata of a field (pydantic `json_schema_extra`).

    `flag` replaces the generated flag (`--lr` for `learning_rate`); `short` adds one
    (`-M`); `prefix` names the flags of a nested section (`--less-dim` from `less.dim`;
    "" puts them at the top level); `hidden` keeps a field off the command line (a
    setting only a study has); `repeat` takes a list as repeated flags instead of one
    comma-separated value (for values that may hold commas); `path` marks a file or directory that a config file gives
    relative to itself.
    """
    meta: dict[str, Any] = {}
    for key, value in (("flag", flag), ("short", short), ("prefix", prefix), ("metavar", metavar)):
        if value is not None:
            meta[f"cli_{key}"] = value
    if hidden:
        meta["cli_hidden"] = True
    if repeat:
        meta["cli_repeat"] = True
    if path:
        meta["path"] = True
    return meta


class TaskSpec(Section):
    """One Inspect task of this package and its arguments (`-T key=value`)."""

    task: str = Field(description="task name, e.g. medqa or clinical_reasoning")
    args: dict[str, Any] = Field({}, description="task arguments, as `-T key=value` gives them")
    label: str | None = Field(None, description="name in reports (default: the task name)")

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: Any) -> Any:
        """A bare task name (`--task medqa`) is a task with no arguments."""
        return {"task": value} if isinstance(value, str) else value


def _section_types(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The section type of a field (or of its list items), and whether it is a list."""
    args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    if typing.get_origin(annotation) in (list, tuple):
        item = args[0] if args else None
        return (item if isinstance(item, type) and issubclass(item, BaseModel) else None), True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        annotation = args[0]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


def resolve_paths(model: type[BaseModel], data: dict[str, Any], root: Path) -> dict[str, Any]:
    """Make the relative file paths of a config file absolute against its directory.

    Fields marked `cli(path=True)` hold paths; a value that is neither explicitly
    relative (`./x`, `../x`, `~/x`) nor an existing file is left alone, so a Hugging Face
    id stays an id. Works on the raw mapping, before validation.
    """

    def resolve(value: Any) -> Any:
        if isinstance(value, str) and (
            value.startswith((".", "/", "~")) or (root / value).exists()
        ):
            return str((root / Path(value).expanduser()).resolve())
        return value

    resolved = dict(data)
    for name, info in model.model_fields.items():
        if name not in resolved:
            continue
        value = resolved[name]
        section, many = _section_types(info.annotation)
        if section is not None:
            if many and isinstance(value, list):
                resolved[name] = [
                    resolve_paths(section, v, root) if isinstance(v, dict) else v for v in value
                ]
            elif isinstance(value, dict):
                resolved[name] = resolve_paths(section, value, root)
        elif isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("path"):
            if isinstance(value, dict):
                resolved[name] = {key: resolve(item) for key, item in value.items()}
            elif isinstance(value, list):
                resolved[name] = [resolve(item) for item in value]
            else:
                resolved[name] = resolve(value)
    return resolved
