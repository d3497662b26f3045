"""The settings of the report and review stages, defined once.

`ReportConfig` is what `diq report` and the experiment's `report:` section set;
`ReviewConfig` is what `diq review export` and the experiment's `review:` section set.
Every field carries the description that becomes its YAML comment and `--help` line.

A setting that is well formed but does not fit the data (a reference that names no
model in the logs) is found only once the logs are read; the library raises a
`SettingError` naming the field, and the caller words it as its user wrote it
(`--reference` on the command line, `report.reference` in YAML).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from harness.core.config import FieldProblem, Section, cli
from harness.core.errors import ConfigError
from reports.review.cells import EXCEL_CELL_LIMIT
from reports.stats.multiplicity import Correction

# The clinical rubrics physicians rate by default (the judge's defaults, `rubrics.judge`;
# a test holds the two equal without importing the judge, and Inspect, here).
CLINICAL_RUBRICS = ("differential_diagnosis", "safety_check", "evidence_citation")
RATER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
SheetFormat = Literal["xlsx", "csv", "labelstudio"]


class SettingError(ConfigError):
    """A setting that does not fit the data, by the name of its field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def _names(values: list[str], what: str) -> list[str]:
    """Names stripped of surrounding space, none empty, repeats dropped (first kept)."""
    names = [value.strip() for value in values]
    if any(not name for name in names):
        raise ValueError(f"{what} must not be empty")
    return list(dict.fromkeys(names))


class ReportConfig(Section):
    """The statistical comparison report."""

    reference: str | None = Field(
        None,
        description="Model label every other model is compared with (default: the first "
        "label in sorted order).",
    )
    correction: Correction = Field(
        "holm",
        description="Multiple-comparison correction: holm (family-wise) or bh "
        "(Benjamini-Hochberg, false discovery rate).",
    )
    primary: list[str] = Field(
        [],
        description="The confirmatory family: measure keys (task/scorer/metric, as in "
        "report.json) or aggregates (AvgS, AvgC, AvgA). Holm over these, Benjamini-Hochberg "
        "over every other comparison with the reference; empty: one family.",
    )
    primary_models: list[str] = Field(
        [],
        description="Only these models' comparisons with the reference on the primary "
        "measures are confirmatory (e.g. the one pre-registered contrast); default: every "
        "model's. Needs primary.",
    )
    resamples: int = Field(9999, ge=99, description="Bootstrap and permutation resamples.")
    seed: int = Field(0, description="Seed for every bootstrap and permutation.")
    labels: dict[str, str] = Field(
        {},
        description="Names for models in the report: LOG_OR_MODEL -> label, where LOG is a "
        "log path, file name or eval id.",
        json_schema_extra=cli("--label", metavar="LOG_OR_MODEL=LABEL"),
    )
    cluster_key: str | None = Field(
        "case_id",
        description="Sample metadata field naming the case an item belongs to (clustered "
        "standard errors); empty for none.",
    )
    max_chars: int = Field(
        4000, ge=200, description="Cut texts in the sample browser to this many characters."
    )
    title: str = Field("Model comparison report", description="Report title.")
    workers: int | None = Field(
        None, ge=1, description="Processes reading logs (default 1; more helps for .json logs)."
    )

    @field_validator("primary")
    @classmethod
    def _primary_names(cls, values: list[str]) -> list[str]:
        return _names(values, "measure and aggregate names")

    @field_validator("labels")
    @classmethod
    def _label_names(cls, labels: dict[str, str]) -> dict[str, str]:
        if any(not key.strip() or not value.strip() for key, value in labels.items()):
            raise ValueError("expects LOG_OR_MODEL: LABEL pairs, neither empty")
        return {key: value.strip() for key, value in labels.items()}

    @field_validator("cluster_key")
    @classmethod
    def _no_empty_key(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return value.strip() or None


class ReviewConfig(Section):
    """Blinded physician rater sheets: who rates what, in which format."""

    raters: list[str] = Field(
        ["rater-1", "rater-2", "rater-3"],
        description="Rater ids, at least two (letters, digits, '.', '_' or '-'); each gets "
        "a sheet named after them.",
    )
    rubrics: list[str] = Field(
        list(CLINICAL_RUBRICS),
        description="Rubric names or YAML paths; their axes become the rating columns.",
        json_schema_extra=cli("--rubric", repeat=True),
    )
    prompts: int | None = Field(
        None,
        ge=1,
        description="Prompts to rate, spread over tasks (each with every model's answer); "
        "default: all.",
    )
    calibration: int = Field(
        10,
        ge=0,
        description="Prompts every rater rates (with every model's answer), stratified over "
        "tasks: they feed multi-rater agreement.",
    )
    raters_per_item: int = Field(
        2,
        ge=2,
        description="Raters per prompt outside the calibration subset.",
        json_schema_extra=cli("--per-item"),
    )
    format: SheetFormat = Field(
        "xlsx", description="Sheet format: xlsx, csv or labelstudio (JSON tasks)."
    )
    show_reference: bool = Field(False, description="Show raters the reference answer.")
    max_chars: int = Field(
        EXCEL_CELL_LIMIT,
        ge=1000,
        le=EXCEL_CELL_LIMIT,
        description="Cut texts longer than this (full texts go to raters/full_texts.html).",
    )
    tasks: list[str] = Field(
        [],
        description="Only these tasks; default: every task in the logs.",
        json_schema_extra=cli("--task", repeat=True),
    )
    seed: int = Field(0, description="Seed for codes, sampling, assignment and order.")

    @field_validator("raters")
    @classmethod
    def _rater_ids(cls, values: list[str]) -> list[str]:
        names = [value.strip() for value in values]
        bad = [name for name in names if not RATER_NAME.match(name)]
        if bad:
            raise ValueError(
                "rater ids must be letters, digits, '.', '_' or '-' (up to 64): "
                + ", ".join(repr(name) for name in bad)
            )
        return names

    @field_validator("rubrics", "tasks")
    @classmethod
    def _listed_names(cls, values: list[str]) -> list[str]:
        return _names(values, "names")

    @model_validator(mode="after")
    def _design(self) -> ReviewConfig:
        duplicates = sorted({r for r in self.raters if self.raters.count(r) > 1})
        if duplicates:
            raise FieldProblem("raters", f"duplicate rater ids: {', '.join(duplicates)}")
        if len(self.raters) < max(2, self.raters_per_item):
            raise FieldProblem(
                "raters",
                f"{len(self.raters)} rater(s) for {self.raters_per_item} raters per item; "
                "agreement needs at least two raters, and one per rating of an item",
            )
        if not self.rubrics:
            raise FieldProblem("rubrics", "name at least one rubric")
        return self
