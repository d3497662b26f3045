"""The experiment config: one YAML file describes the whole study `diq run` carries out.

Every section is a pydantic model that forbids unknown keys, so a typo is an error that
names the key (and the file) instead of a silently ignored setting. `diq config
--example` prints `example.yaml` beside this module: every key, its default and what it
does. Relative paths in a config are resolved against the config file's directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from harness.core.errors import InputError
from harness.core.io import read_yaml_mapping
from harness.training.config import TrainConfig

EXAMPLE = Path(__file__).with_name("example.yaml")


class Section(BaseModel):
    """A config section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PoolSpec(Section):
    """The SFT pool to select from."""

    path: str
    format: Literal["auto", "medical-o1", "medmcqa", "jsonl", "parquet", "hf"] = "auto"
    field_map: dict[str, str] = {}
    hf_split: str = "train"
    hf_config: str | None = None
    cop_base: Literal[0, 1] | None = None


class TaskSpec(Section):
    """One Inspect task of this package and its arguments (`-T key=value`)."""

    task: str
    args: dict[str, Any] = {}
    label: str | None = None


class ValidationSpec(Section):
    """Validation items for the influence direction: a file, or k per task drawn from suites."""

    path: str | None = None
    suites: list[str] = []
    tasks: list[TaskSpec] = []
    per_task: int = Field(20, ge=1)
    seed: int = 0

    @model_validator(mode="after")
    def _one_source(self) -> ValidationSpec:
        if bool(self.path) == bool(self.suites or self.tasks):
            raise ValueError("give either `path` or `suites`/`tasks` to draw validation items from")
        return self


class DecontaminationSpec(Section):
    """Remove pool records that match evaluation questions, and near-duplicates in the pool."""

    enabled: bool = True
    ngram: int = Field(8, ge=1)
    ngram_threshold: float = Field(0.5, gt=0, le=1)
    near_duplicate_threshold: float | None = Field(0.8, gt=0, le=1)


class DifficultySpec(Section):
    """Which difficulty score splits the quadrants."""

    scorer: str = "ifd"
    axis: Literal["overall", "knowledge", "reasoning"] = "overall"
    percentile: float = Field(50.0, ge=0, le=100)
    labels: str | None = None
    classifier: str | None = None
    scores: str | None = None
    encoder: str | None = None


class SelectionSpec(Section):
    """Scoring (difficulty, influence) and the subsets to write."""

    model: str | None = None
    params: str = "all-linear"
    method: str = "fast"
    adapter: str | None = None
    batch_size: int = Field(8, ge=1)
    max_length: int = Field(2048, ge=8)
    precision: str = "auto"
    strategies: list[str] = ["diq", "random"]
    ratios: list[float] = [0.01, 0.1]
    counts: list[int] = []
    influence_threshold: float | None = None
    difficulty: DifficultySpec = DifficultySpec()
    decontamination: DecontaminationSpec = DecontaminationSpec()
    nproc: int = Field(1, ge=1)


class TrainSpec(TrainConfig):
    """The base model, which subsets to train, and the hyperparameters (see `diq train`)."""

    base: str
    subsets: list[str] | None = None
    models: dict[str, str] = {}
    accelerate_config: str | None = None
    seed: int | None = None  # type: ignore[assignment]  # None: the experiment's seed


class EvalSpec(Section):
    """Benchmarks every model is evaluated on."""

    suites: list[str] = ["standard"]
    tasks: list[TaskSpec] = []
    limit: int | None = Field(None, ge=1)
    max_tokens: int | None = Field(None, ge=1)
    cot: bool = False
    provider: Literal["hf", "vllm"] = "hf"
    model_args: dict[str, Any] = {}
    extra_models: list[str] = []
    logs: list[str] = []
    max_connections: int | None = Field(None, ge=1)


class JudgeSpec(Section):
    """Rubric judging of open-ended answers and of the subsets as training data."""

    graders: list[str] = []
    grader_args: dict[str, Any] = {}
    tasks: list[TaskSpec] = [TaskSpec(task="clinical_reasoning", args={"limit": 50})]
    data_quality: bool = True
    data_quality_limit: int | None = Field(50, ge=1)
    mode: Literal["json", "logprobs"] = "json"
    max_tokens: int | None = Field(None, ge=1)


class ReviewSpec(Section):
    """Blinded physician rater sheets exported from the judged answers."""

    enabled: bool = True
    raters: list[str] = ["rater-1", "rater-2", "rater-3"]
    items: int = Field(30, ge=1)
    calibration: int = Field(10, ge=0)
    raters_per_item: int = Field(2, ge=1)
    format: Literal["xlsx", "csv", "labelstudio"] = "xlsx"


class ReportSpec(Section):
    """The statistical comparison report."""

    reference: str | None = None
    correction: Literal["holm", "bh"] = "holm"
    resamples: int = Field(9999, ge=100)
    primary: list[str] = []
    labels: dict[str, str] = {}


class ExperimentConfig(Section):
    """A whole study: select, train, eval, judge, review export, report."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    seed: int = 0
    pool: PoolSpec
    validation: ValidationSpec
    selection: SelectionSpec = SelectionSpec()
    train: TrainSpec
    eval: EvalSpec = EvalSpec()
    judge: JudgeSpec = JudgeSpec()
    review: ReviewSpec = ReviewSpec()
    report: ReportSpec = ReportSpec()


PATH_FIELDS = {
    ("pool", "path"),
    ("validation", "path"),
    ("selection", "model"),
    ("selection", "adapter"),
    ("train", "base"),
    ("train", "accelerate_config"),
    ("train", "models"),  # a mapping: its values are paths
    ("eval", "logs"),  # a list of paths
}


def _resolve_paths(data: dict[str, Any], root: Path) -> dict[str, Any]:
    """Make relative file paths absolute against the config's directory (hub ids stay)."""

    def resolve(value: Any) -> Any:
        if isinstance(value, str) and (
            value.startswith((".", "/", "~")) or (root / value).exists()
        ):
            return str((root / Path(value).expanduser()).resolve())
        return value

    for section, key in PATH_FIELDS:
        values = data.get(section)
        if not isinstance(values, dict) or key not in values:
            continue
        value = values[key]
        if isinstance(value, dict):
            values[key] = {name: resolve(item) for name, item in value.items()}
        elif isinstance(value, list):
            values[key] = [resolve(item) for item in value]
        else:
            values[key] = resolve(value)
    return data


def load_config(path: str | Path) -> ExperimentConfig:
    """Read and validate a config; errors name the file and the key."""
    path = Path(path)
    data = read_yaml_mapping(path, "experiment config")
    return parse_config(_resolve_paths(data, path.parent.resolve()), source=str(path))


def parse_config(data: dict[str, Any], source: str = "config") -> ExperimentConfig:
    """Validate a config mapping; the first problem is reported with its dotted key."""
    try:
        return ExperimentConfig.model_validate(data)
    except ValidationError as error:
        problem = error.errors()[0]
        key = ".".join(str(part) for part in problem["loc"])
        message = "unknown key" if problem["type"] == "extra_forbidden" else problem["msg"]
        raise InputError(message, path=source, field=key or None) from None


def dump_config(config: ExperimentConfig) -> str:
    """The resolved config as YAML (every default written out)."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


def example_text() -> str:
    """The documented example config."""
    return EXAMPLE.read_text(encoding="utf-8")
