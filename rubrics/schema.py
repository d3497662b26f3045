"""The rubric schema: one YAML file renders the judge prompt and the physician rater sheet.

A rubric has one or more *axes* (differential diagnosis, safety check, evidence
citation, ...) and atomic *criteria*, HealthBench style:

- each axis has a title, a one-line question and 1-5 level anchors (Prometheus style);
  the judge and the physicians rate each axis on exactly these anchors, which is what
  makes judge-vs-human agreement meaningful;
- each criterion belongs to one axis and carries signed points (negative for harmful
  behaviour); it is binary (met / not met) unless it has its own 1-5 anchors, in which
  case level L earns `points * (L - 1) / 4`;
- a criterion may be conditional (`applies_when`, e.g. "the case has red-flag features of a
  time-critical condition"): where the condition does not hold it is not applicable and
  leaves both the points earned and the positive points of its axis unchanged, so a
  generic rubric neither rewards nor penalises behaviour the case does not call for.

An axis score is the points earned over the axis's positive (applicable) points
(HealthBench's arithmetic; it can be negative and is clipped only when aggregated).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from harness.core.errors import InputError
from harness.core.io import read_yaml_mapping

LEVELS = (1, 2, 3, 4, 5)


def _check_anchors(anchors: dict[int, str]) -> dict[int, str]:
    if set(anchors) != set(LEVELS):
        raise ValueError(f"anchors must define exactly the levels 1-5, got {sorted(anchors)}")
    for level, text in anchors.items():
        if not text.strip():
            raise ValueError(f"anchor {level} is empty")
    return anchors


class Axis(BaseModel):
    """A dimension rated on a 1-5 anchored scale by the judge and by physicians."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    question: str
    anchors: dict[int, str]

    _anchors = field_validator("anchors")(_check_anchors)


class Criterion(BaseModel):
    """An atomic, checkable statement about a response (or a training record)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_.]*$")
    axis: str
    points: float
    text: str
    anchors: dict[int, str] | None = None
    applies_when: str | None = None

    @field_validator("points")
    @classmethod
    def _nonzero(cls, value: float) -> float:
        if value == 0:
            raise ValueError("points must be non-zero (negative for harmful behaviour)")
        return value

    @field_validator("anchors")
    @classmethod
    def _levels(cls, value: dict[int, str] | None) -> dict[int, str] | None:
        return None if value is None else _check_anchors(value)

    @field_validator("applies_when")
    @classmethod
    def _condition(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("applies_when must be a non-empty condition or absent")
        return value

    @property
    def scaled(self) -> bool:
        """True when graded on 1-5 anchors rather than met / not met."""
        return self.anchors is not None

    @property
    def conditional(self) -> bool:
        """True when the criterion applies only where `applies_when` holds."""
        return self.applies_when is not None


class Rubric(BaseModel):
    """A versioned rubric: axes, criteria, and what it applies to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: str
    title: str
    description: str
    applies_to: Literal["response", "training_record"] = "response"
    axes: list[Axis] = Field(min_length=1)
    criteria: list[Criterion] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Rubric:
        axis_ids = [axis.id for axis in self.axes]
        if len(set(axis_ids)) != len(axis_ids):
            raise ValueError(f"duplicate axis ids in {axis_ids}")
        criterion_ids = [criterion.id for criterion in self.criteria]
        duplicates = sorted({c for c in criterion_ids if criterion_ids.count(c) > 1})
        if duplicates:
            raise ValueError(f"duplicate criterion ids: {duplicates}")
        for criterion in self.criteria:
            if criterion.axis not in axis_ids:
                raise ValueError(
                    f"criterion {criterion.id!r} names unknown axis {criterion.axis!r}"
                )
        for axis_id in axis_ids:
            # an unconditional positive criterion keeps every axis score defined
            if not any(
                c.axis == axis_id and c.points > 0 and not c.conditional for c in self.criteria
            ):
                raise ValueError(
                    f"axis {axis_id!r} has no unconditional criterion with positive points"
                )
        return self

    def axis(self, axis_id: str) -> Axis:
        """The axis with this id."""
        for axis in self.axes:
            if axis.id == axis_id:
                return axis
        raise KeyError(axis_id)

    def criteria_for(self, axis_id: str) -> list[Criterion]:
        """Criteria of one axis, in file order."""
        return [criterion for criterion in self.criteria if criterion.axis == axis_id]


def builtin_rubrics() -> list[str]:
    """Names of the rubric files shipped in this package."""
    folder = resources.files("rubrics")
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    )


def rubric_path(name_or_path: str | Path) -> Path:
    """A shipped rubric by name (`differential_diagnosis`), or any YAML file by path."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml"):
        return candidate
    shipped = Path(str(resources.files("rubrics").joinpath(f"{name_or_path}.yaml")))
    if not shipped.is_file():
        raise InputError(
            f"unknown rubric {str(name_or_path)!r}; shipped rubrics: {', '.join(builtin_rubrics()) or 'none'}"
        )
    return shipped


def load_rubric(name_or_path: str | Path) -> Rubric:
    """Load and validate a rubric; errors name the file and the offending field."""
    return _load(rubric_path(name_or_path).resolve())


@cache
def _load(path: Path) -> Rubric:
    data = read_yaml_mapping(path, "rubric file")
    try:
        return Rubric.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        location = ".".join(str(part) for part in first["loc"])
        raise InputError(first["msg"], path=path, field=location or None) from None
