"""The experiment config: one YAML file, composed of each stage's own section.

```yaml
name: my-study
seed: 0              # every stage's seed unless the stage sets its own
render: {...}        # how records become chat turns: selection scores what training trains
select: {...}        # selection.config.SelectConfig      (diq select)
train: {...}         # harness.training.TrainConfig       (diq train)
eval: {...}          # harness.study.evaluation.EvalConfig (diq eval)
judge: {...}         # harness.study.evaluation.JudgeConfig
review: {...}        # reports.config.ReviewConfig        (diq review export)
report: {...}        # reports.config.ReportConfig        (diq report)
```

Each section is the same model the stage's command builds its options from, so a field
is defined once. Unknown keys are errors naming the key; relative paths are resolved
against the config file's directory. `diq config --example` prints every field with its
description (`harness.study.example`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, model_validator

from harness.core.config import FieldProblem, Section, parse_section, resolve_paths
from harness.core.io import read_yaml_mapping
from harness.core.render import RenderStyle
from harness.study.evaluation import EvalConfig, JudgeConfig
from harness.training.config import TrainConfig
from reports.config import ReportConfig, ReviewConfig
from selection.config import SelectConfig

# sections that take the experiment's seed unless they set their own
SEEDED = ("select", "train", "eval", "judge", "review", "report")
# sections that render records: they take the experiment's `render`
RENDERING = ("select", "train")


class ReviewStage(ReviewConfig):
    """The review section of a study: `diq review export`'s settings, and whether to export."""

    enabled: bool = Field(True, description="export rater sheets after judging")


class ExperimentConfig(Section):
    """A whole study: select, train, eval, judge, review export, report."""

    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="run name (letters, digits, . _ -); the run directory is runs/<name>",
        examples=["llama31-8b-medical-o1"],
    )
    seed: int = Field(
        0, description="one seed for drawing, selection, training, decoding, statistics"
    )
    render: RenderStyle = Field(
        RenderStyle(), description="how records become chat turns, for scoring and training alike"
    )
    select: SelectConfig = Field(description="scores and subsets (`diq select`)")
    train: TrainConfig = Field(description="one fine-tuned model per subset (`diq train`)")
    eval: EvalConfig = Field(EvalConfig(), description="benchmarks every model answers")
    judge: JudgeConfig = Field(JudgeConfig(), description="rubric judging")
    review: ReviewStage = Field(ReviewStage(), description="blinded physician rater sheets")
    report: ReportConfig = Field(
        ReportConfig(), description="paired statistics and the HTML report"
    )

    @model_validator(mode="before")
    @classmethod
    def _shared_settings(cls, data: Any) -> Any:
        """The experiment's seed and rendering reach every stage; scoring defaults to the base."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for name in SEEDED:
            section = data.get(name, {})
            if isinstance(section, dict) and "seed" not in section:
                data[name] = {**section, "seed": data.get("seed", 0)}
        render = data.get("render", {})
        for name in RENDERING:
            section = data.get(name)
            if isinstance(section, dict) and "render" not in section:
                data[name] = {**section, "render": render}
        select, train = data.get("select"), data.get("train")
        if isinstance(select, dict) and isinstance(train, dict) and "base" in train:
            scoring = select.get("scoring") or {}
            if isinstance(scoring, dict) and scoring.get("model") is None:
                data["select"] = {**select, "scoring": {**scoring, "model": train["base"]}}
        return data

    @model_validator(mode="after")
    def _one_rendering(self) -> ExperimentConfig:
        for name in RENDERING:
            if getattr(self, name).render != self.render:
                raise FieldProblem(
                    f"{name}.render",
                    "set the rendering once, as the top-level `render`, so that selection "
                    "scores what training trains",
                )
        return self


def load_config(path: str | Path) -> ExperimentConfig:
    """Read and validate a config; errors name the file and the key."""
    path = Path(path)
    data = read_yaml_mapping(path, "experiment config")
    return parse_config(resolve_paths(ExperimentConfig, data, path.parent.resolve()), str(path))


def parse_config(data: dict[str, Any], source: str = "config") -> ExperimentConfig:
    """Validate a config mapping; the first problem is reported with its dotted key."""
    return parse_section(ExperimentConfig, data, source=source)


def dump_config(config: ExperimentConfig) -> str:
    """The resolved config as YAML (every default written out)."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
