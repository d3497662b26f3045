"""`diq config --example`: the experiment config written out from its sections' fields.

Every key appears with an example value (the field's `examples`, else its default) and
its description as a comment, so the example can never drift from what the config
accepts (a test loads it).
"""

from __future__ import annotations

import json
import typing
from typing import Any

import yaml
from pydantic import BaseModel, TypeAdapter
from pydantic.fields import FieldInfo

from harness.core.config import TaskSpec
from harness.study.config import RENDERING, SEEDED, ExperimentConfig

HEADER = """\
# diq-harness experiment config (`diq run experiment.yaml`), written by `diq config --example`.
# Every key is shown with an example value or its default. Unknown keys are errors.
# Relative paths are resolved against this file's directory. The run directory is
# runs/<name>/ unless `diq run --out DIR` says otherwise.
"""
# per-section settings the experiment fills in: shown as comments, not as keys
INHERITED = {
    **{(name, "seed"): "the experiment's seed" for name in SEEDED},
    **{(name, "render"): "the experiment's render" for name in RENDERING},
}
EXAMPLE_VALUES: dict[tuple[str, ...], Any] = {
    ("select", "validation", "path"): None,
    ("select", "scoring", "model"): None,
    ("select", "strategies"): ["diq", "random", "full", "difficulty", "influence", "similarity"],
    ("select", "scoring", "max_length"): 4096,
    ("judge", "tasks"): [
        TaskSpec(task="clinical_reasoning", args={"source": "medqa,medxpertqa", "limit": 100})
    ],
    ("review", "prompts"): 60,
    ("review", "calibration"): 20,
    ("report", "reference"): "random-0.01",
    ("report", "primary"): ["AvgA"],
}


def _flow(info: FieldInfo, value: Any) -> str:
    """A field's value on one YAML line (strings with newlines as JSON strings)."""
    adapter: TypeAdapter[Any] = TypeAdapter(info.annotation or Any)
    value = adapter.dump_python(value, mode="json", exclude_defaults=True)
    if isinstance(value, str) and ("\n" in value or value != value.strip()):
        return json.dumps(value, ensure_ascii=False)
    text = yaml.safe_dump(
        value, default_flow_style=True, width=10_000, allow_unicode=True, sort_keys=False
    )
    return text.removesuffix("\n").removesuffix("\n...").strip()


def _section_type(info: FieldInfo) -> type[BaseModel] | None:
    annotation = info.annotation
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if len(args) == 1 and typing.get_origin(annotation) is not list:
        annotation = args[0]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _value(info: FieldInfo, path: tuple[str, ...]) -> Any:
    if path in EXAMPLE_VALUES:
        return EXAMPLE_VALUES[path]
    if info.examples:
        return info.examples[0]
    return None if info.is_required() else info.default


def _emit(model: type[BaseModel], path: tuple[str, ...], lines: list[str]) -> None:
    indent = "  " * len(path)
    for name, info in model.model_fields.items():
        key = (*path, name)
        comment = info.description or ""
        if key in INHERITED:
            lines.append(f"{indent}# {name}: default {INHERITED[key]}")
            continue
        nested = _section_type(info)
        if nested is not None and key not in EXAMPLE_VALUES:
            lines.append(f"{indent}{name}:".ljust(34) + f"  # {comment}")
            _emit(nested, key, lines)
            continue
        line = f"{indent}{name}: {_flow(info, _value(info, key))}"
        lines.append(line.ljust(34) + f"  # {comment}" if comment else line)


def example_text() -> str:
    """The documented example config."""
    lines: list[str] = []
    _emit(ExperimentConfig, (), lines)
    return HEADER + "\n" + "\n".join(lines) + "\n"
