"""Config sections: pydantic models whose errors name the field as the user wrote it.

Every stage owns one section (`selection.config.SelectConfig`, `harness.training.TrainConfig`,
...). The experiment YAML composes them and `diq <stage>` builds its options from their
fields (`harness.cli.options`), so a field is defined once: its type, default and
`description` become the YAML key, the command-line flag, the `--help` line and the
example config's comment. A problem is reported against the field's location, as a
dotted YAML key (`review.raters`) or as the flag (`--raters`), by whoever parses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

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
