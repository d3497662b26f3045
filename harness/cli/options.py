"""Command-line options generated from config sections, as TRL builds its CLI from `SFTConfig`.

A field `batch_size` of a section becomes `--batch-size`; a nested section's fields get its
field name as a prefix (`less.dim` -> `--less-dim`) unless the section class sets
`cli_prefix` or the field sets one with `cli(prefix=...)` (used as given: "" puts the
section's flags at the top level); a section's `enabled` switch is the prefix itself
(`--decontaminate/--no-decontaminate`). `harness.core.config.cli` renames a flag, adds a
short form or hides a study-only field. Types decide the option's form:

- `bool`: `--flag/--no-flag`;
- a `Literal`: a choice;
- a list: comma-separated (`--ratios 0.01,0.1`), or repeatable when the field says so
  (`--model A --model B`) or its items are sections (`--task medqa`);
- a mapping: repeatable `KEY=VALUE`, values read as YAML scalars (as Inspect's `-M`/`-T`).

Every option defaults to "not given", so values from a config file (`--config`) or the
section's own defaults apply unless the command line says otherwise; `--help` shows the
section's defaults. Problems are reported against the flag the user typed.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import click
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from harness.core.config import Location, dotted, problems
from harness.core.errors import ConfigError

M = TypeVar("M", bound=BaseModel)
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Flag:
    """One generated option: the field it sets and how the command line spells it."""

    location: tuple[str, ...]
    name: str
    info: FieldInfo
    kind: str  # bool | choice | scalar | list | repeat | mapping

    @property
    def param(self) -> str:
        """The click parameter name (unique: the field's location)."""
        return "cfg__" + "__".join(self.location)


def _meta(info: FieldInfo) -> dict[str, Any]:
    extra = info.json_schema_extra
    return dict(extra) if isinstance(extra, dict) else {}


def _unwrap_optional(annotation: Any) -> Any:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [arg for arg in args if arg is not type(None)]
        return rest[0] if len(rest) == 1 else annotation
    return annotation


def _section(annotation: Any) -> type[BaseModel] | None:
    inner = _unwrap_optional(annotation)
    return inner if isinstance(inner, type) and issubclass(inner, BaseModel) else None


def _kind(annotation: Any, repeat: bool) -> str:
    inner = _unwrap_optional(annotation)
    origin = typing.get_origin(inner)
    if inner is bool:
        return "bool"
    if origin is Literal:
        return "choice"
    if origin in (list, tuple, set, frozenset):
        (item, *_) = typing.get_args(inner) or (str,)
        return "repeat" if repeat or _section(item) else "list"
    if origin in (dict, Mapping) or inner is dict:
        return "mapping"
    return "scalar"


def flags(model: type[BaseModel], prefix: str = "", location: tuple[str, ...] = ()) -> list[Flag]:
    """The options of a section and its nested sections, in field order."""
    found: list[Flag] = []
    for name, info in model.model_fields.items():
        meta = _meta(info)
        if meta.get("cli_hidden"):
            continue
        nested = _section(info.annotation)
        if nested is not None:
            declared = meta.get("cli_prefix", getattr(nested, "cli_prefix", None))
            inner = (
                declared
                if declared is not None
                else "-".join(part for part in (prefix, name.replace("_", "-")) if part)
            )
            found += flags(nested, inner, (*location, name))
            continue
        if name == "enabled" and prefix:  # a section's switch: --decontaminate/--no-decontaminate
            flag = f"--{prefix}"
        else:
            flag = meta.get("cli_flag") or "--" + "-".join(
                part for part in (prefix, name.replace("_", "-")) if part
            )
        kind = _kind(info.annotation, bool(meta.get("cli_repeat")))
        found.append(Flag((*location, name), flag, info, kind))
    return found


def _choices(annotation: Any) -> list[str]:
    return [str(value) for value in typing.get_args(_unwrap_optional(annotation))]


def _default_text(info: FieldInfo) -> str | None:
    default = info.default
    if info.is_required() or default in (None, [], {}, ()) or isinstance(default, BaseModel):
        return None
    if isinstance(default, bool):
        return "on" if default else "off"
    if isinstance(default, list | tuple):
        return ",".join(str(value) for value in default)
    text = str(default)
    return repr(text) if "\n" in text else text


def _scalar_type(annotation: Any) -> click.ParamType:
    inner = _unwrap_optional(annotation)
    if inner is int:
        return click.INT
    return click.FLOAT if inner is float else click.STRING


def _option(flag: Flag) -> click.Option:
    meta = _meta(flag.info)
    names = [flag.name, *([meta["cli_short"]] if "cli_short" in meta else []), flag.param]
    description = flag.info.description or ""
    help_text = description[:1].upper() + description[1:]
    default = _default_text(flag.info)
    if default is not None:
        help_text += f"  [default: {default}]"
    metavar = meta.get("cli_metavar")
    if flag.kind == "bool":
        stem = flag.name.removeprefix("--")
        return click.Option([f"{flag.name}/--no-{stem}", flag.param], default=None, help=help_text)
    if flag.kind == "choice":
        return click.Option(
            names, type=click.Choice(_choices(flag.info.annotation)), help=help_text
        )
    if flag.kind == "repeat":
        return click.Option(
            names, multiple=True, help=help_text + "  (repeatable)", metavar=metavar
        )
    if flag.kind == "mapping":
        return click.Option(
            names,
            multiple=True,
            metavar=metavar or "KEY=VALUE",
            help=help_text + "  (repeatable)",
        )
    if flag.kind == "list":
        return click.Option(
            names,
            multiple=True,
            help=help_text + "  (comma-separated or repeated)",
            metavar=metavar,
        )
    return click.Option(
        names, type=_scalar_type(flag.info.annotation), help=help_text, metavar=metavar
    )


def config_options(model: type[BaseModel]) -> Callable[[F], F]:
    """A decorator adding one click option per field of `model` (see the module docstring)."""

    def decorate(command: F) -> F:
        params = getattr(command, "__click_params__", [])
        # click applies decorators bottom-up and lists options in reverse; keep field order
        params.extend(reversed([_option(flag) for flag in flags(model)]))
        command.__click_params__ = params  # type: ignore[attr-defined]
        return command

    return decorate


def _value(flag: Flag, raw: Any) -> Any:
    if flag.kind == "list":
        return [part.strip() for value in raw for part in str(value).split(",") if part.strip()]
    if flag.kind == "repeat":
        return list(raw)
    if flag.kind == "mapping":
        inner = _unwrap_optional(flag.info.annotation)
        value_type = (typing.get_args(inner) or (str, Any))[-1]
        return parse_key_values(raw, flag.name, typed=value_type is not str)
    return raw


def given_options(model: type[BaseModel], options: dict[str, Any]) -> dict[str, Any]:
    """The values the command line gave for `model`'s fields, as a nested mapping.

    Removes the generated parameters from `options`, so what is left are the command's
    own options.
    """
    values: dict[str, Any] = {}
    for flag in flags(model):
        raw = options.pop(flag.param, None)
        if raw is None or (flag.kind in ("list", "repeat", "mapping") and not raw):
            continue
        target = values
        for part in flag.location[:-1]:
            target = target.setdefault(part, {})
        target[flag.location[-1]] = _value(flag, raw)
    return values


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`override` laid over `base`, section by section."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def build_config(
    model: type[M], options: dict[str, Any], base: Mapping[str, Any] | None = None
) -> M:
    """Validate the command line's values (over `base`) as `model`; errors name the flag."""
    data = merge(base or {}, given_options(model, options))
    try:
        return model.model_validate(data)
    except ValidationError as error:
        location, message = problems(error)[0]
        raise ConfigError(f"{flag_for(model, location)}: {message}") from None


def flag_for(model: type[BaseModel], location: Location) -> str:
    """The flag that sets the field at `location` (or its dotted name when none does)."""
    path = tuple(str(part) for part in location)
    for flag in flags(model):
        if path[: len(flag.location)] == flag.location:
            return flag.name
    return dotted(location) or "options"


def parse_key_values(pairs: Any, option: str, *, typed: bool = True) -> dict[str, Any]:
    """`KEY=VALUE` strings to a dict.

    `typed`: values are read as YAML scalars and dashes in keys become underscores, as
    Inspect's `-M`/`-T` do; otherwise keys and values stay as written (a log path, a label).
    """
    import yaml

    result: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = str(pair).partition("=")
        if not sep or not key.strip() or (not typed and not value.strip()):
            raise ConfigError(f"{option} expects KEY=VALUE, got {pair!r}")
        if typed:
            result[key.strip().replace("-", "_")] = yaml.safe_load(value) if value else ""
        else:
            result[key.strip()] = value.strip()
    return result
