"""The select stage's settings: pool, validation items, scoring, difficulty, subsets.

`SelectConfig` is the `select:` section of an experiment and the options of `diq select`
(generated from these fields). It imports no torch, so `diq --help` stays fast; checks that
need the model (the parameter set, CUDA) run when selection starts, before any file is
written.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, PlainSerializer, field_validator, model_validator

from harness.core.config import FieldProblem, Section, TaskSpec, cli
from harness.core.fingerprint import fingerprint
from harness.core.render import RenderStyle
from selection.decontaminate import DecontaminationConfig
from selection.options import DEFAULT_ENCODER, STRATEGIES

PoolFormat = Literal["auto", "medical-o1", "medmcqa", "jsonl", "parquet", "hf"]
ParameterSet = Literal["all-linear", "attention", "mlp", "lora", "all"]
Method = Literal["fast", "jvp", "per-sample", "less"]
ScoringPrecision = Literal["auto", "fp32", "fp64", "bf16"]
DifficultyScorer = Literal["ifd", "loss", "length", "classifier", "external"]
Axis = Literal["overall", "knowledge", "reasoning"]
# exact in memory (0.1 is 1/10), a plain number in YAML and JSON
Ratio = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]

# scores columns of the proxy difficulties (computed with the influence scores)
PROXY_COLUMNS = {"ifd": "ifd", "loss": "loss", "length": "reasoning_tokens"}


class PoolConfig(Section):
    """The SFT pool to select from."""

    path: str = Field(
        description="pool file (JSON, JSONL, Parquet) or a Hugging Face dataset id",
        json_schema_extra=cli("--pool", path=True),
        examples=["FreedomIntelligence/medical-o1-reasoning-SFT"],
    )
    format: PoolFormat = Field("auto", description="how to read the pool", examples=["hf"])
    field_map: dict[str, str] = Field(
        {},
        description="columns of jsonl/parquet/hf rows with other names, "
        "e.g. {question: prompt, response: answer, reasoning: cot}",
        json_schema_extra=cli(metavar="FIELD=COLUMN"),
    )
    hf_split: str = Field("train", description="split of a Hugging Face pool")
    hf_config: str | None = Field(
        None, description="configuration of a Hugging Face pool", examples=["en"]
    )
    cop_base: Literal[0, 1] | None = Field(
        None,
        description="what MedMCQA `cop` counts from (null: 1 in upstream files, 0 on the Hub)",
    )
    limit: int | None = Field(
        None, ge=1, description="use only the first this many records (smoke runs)"
    )

    def identity(self) -> Any:
        """What the pool holds: the file's content, or the Hub id with split and config."""
        return {**self.model_dump(mode="json"), "content": fingerprint(self.path)}


class ValidationConfig(Section):
    """The items whose mean gradient defines the influence direction."""

    cli_prefix: ClassVar[str] = "validation"

    path: str | None = Field(
        None,
        description="a ready file: pool-style records or `diq eval sample-validation` output",
        json_schema_extra=cli("--validation", path=True),
    )
    suites: list[str] = Field(
        [],
        description="or draw `per_task` items from every task of these suites",
        examples=[["paper"]],
    )
    tasks: list[TaskSpec] = Field(
        [], description="... and of these tasks; drawn items are never evaluated"
    )
    per_task: int = Field(20, ge=1, description="items per task (the paper uses 20)")
    seed: int = Field(0, description="seed of the draw")

    @model_validator(mode="after")
    def _one_source(self) -> ValidationConfig:
        if bool(self.path) == bool(self.suites or self.tasks):
            raise FieldProblem(
                "path", "give either a validation file or suites/tasks to draw the items from"
            )
        return self


class LessConfig(Section):
    """The LESS-compatible estimator (method `less`): projected Adam-preconditioned gradients."""

    dim: int | None = Field(8192, ge=1, description="random projection size (null: full gradients)")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="seed of the projection")
    optimizer_state: str | None = Field(
        None,
        description="optimizer.pt of a warm-up run for Adam features",
        json_schema_extra=cli(path=True),
    )
    beta1: float = Field(0.9, gt=0, lt=1, description="Adam beta1 of that run")
    beta2: float = Field(0.999, gt=0, lt=1, description="Adam beta2 of that run")
    eps: float = Field(1e-8, gt=0, description="Adam epsilon of that run")


class ScoringConfig(Section):
    """The scoring model and how influence, loss and IFD are computed."""

    cli_prefix: ClassVar[str] = ""

    model: str | None = Field(
        None,
        description="scoring model: a checkpoint directory, a .gguf file or a Hugging Face id "
        "(in a study, default: train.base)",
        json_schema_extra=cli(path=True),
    )
    params: ParameterSet = Field("all-linear", description="the gradient's parameter set")
    method: Method = Field(
        "fast",
        description="fast (exact reverse contraction) | jvp | per-sample (reference) | "
        "less (projected, as the paper)",
    )
    adapter: str | None = Field(
        None, description="PEFT adapter directory (params: lora)", json_schema_extra=cli(path=True)
    )
    batch_size: int = Field(8, ge=1, description="records per scoring batch")
    max_length: int = Field(
        2048, ge=8, description="tokens per pool record (longer records keep their start)"
    )
    validation_max_length: int | None = Field(
        None,
        ge=8,
        description="tokens per validation item (null: max_length); an item whose answer "
        "would be cut off is an error, so exam prompts may need more room than pool records",
    )
    precision: ScoringPrecision = Field(
        "auto", description="auto: bf16 weights with fp32 accumulation on GPU, fp32 on CPU"
    )
    device: str = Field("auto", description="auto, cpu, cuda or cuda:N")
    ifd: bool = Field(True, description="also score IFD (one extra forward of the response alone)")
    checkpoint_every: int = Field(512, ge=1, description="scored records between checkpoints")
    less: LessConfig = Field(LessConfig(), description="options of method less")
    project: int | None = Field(
        None,
        ge=1,
        description="the paper's estimator instead of the exact score: per-sample gradients "
        "projected to this many dimensions (the paper: 4096), dotted with the projected "
        "validation gradient (null: exact)",
    )

    @model_validator(mode="after")
    def _adapter_for_lora(self) -> ScoringConfig:
        if self.params == "lora" and self.adapter is None:
            raise FieldProblem("adapter", "params lora needs the PEFT adapter to score")
        if self.project is not None and self.method == "less":
            raise FieldProblem("project", "method less has its own projection (less.dim)")
        return self

    @property
    def validation_length(self) -> int:
        """Tokens per validation item."""
        return self.validation_max_length or self.max_length

    def identity(self) -> dict[str, Any]:
        """The inputs that change scores: the settings plus what model and adapter hold."""
        values = self.model_dump(mode="json", exclude={"checkpoint_every", "device"})
        values["model_sha256"] = fingerprint(self.model)
        values["adapter_sha256"] = fingerprint(self.adapter)
        values["optimizer_state_sha256"] = fingerprint(self.less.optimizer_state)
        return values


class ClassifierTraining(Section):
    """Fine-tuning of the Likert difficulty classifier."""

    cli_prefix: ClassVar[str] = "classifier"

    encoder: str = Field(DEFAULT_ENCODER, description="encoder to fine-tune")
    epochs: int = Field(3, ge=1, description="passes over the labels")
    learning_rate: float = Field(3e-5, gt=0, description="peak learning rate")
    batch_size: int = Field(16, ge=1, description="labelled records per step")
    max_length: int = Field(512, ge=8, description="tokens the classifier reads")
    text: Literal["question", "question+reasoning"] = Field(
        "question", description="what the classifier reads"
    )
    seed: int = Field(0, description="seed of the fine-tuning")


class RaterConfig(Section):
    """An LLM that writes the Likert labels the classifier learns from."""

    cli_prefix: ClassVar[str] = "rater"

    model: str | None = Field(
        None, description="Inspect model that rates difficulty (e.g. openai/gpt-4o-mini)"
    )
    sample: int | None = Field(None, ge=1, description="rate a seeded sample of this many records")
    retries: int = Field(2, ge=0, description="retries of an unparseable rating")


class DifficultyConfig(Section):
    """Which difficulty splits the quadrants, and where a classifier or scores come from."""

    scorer: DifficultyScorer = Field(
        "ifd",
        description="ifd | loss | length | classifier | external",
        json_schema_extra=cli("--difficulty"),
    )
    axis: Axis = Field("overall", description="classifier axis")
    percentile: float = Field(
        50.0, ge=0, le=100, description="high difficulty is at or above this percentile"
    )
    labels: str | None = Field(
        None,
        description="classifier: Likert labels file to fine-tune the encoder on",
        json_schema_extra=cli(path=True),
    )
    classifier: str | None = Field(
        None,
        description="classifier: an already fine-tuned classifier directory",
        json_schema_extra=cli(path=True),
    )
    scores: str | None = Field(
        None,
        description="external: a file of per-record difficulty scores (id,difficulty)",
        json_schema_extra=cli(path=True),
    )
    training: ClassifierTraining = Field(
        ClassifierTraining(), description="fine-tuning of the classifier"
    )
    rater: RaterConfig = Field(RaterConfig(), description="an LLM writes the labels")

    @model_validator(mode="after")
    def _sources(self) -> DifficultyConfig:
        if self.rater.model:
            if self.labels:
                raise FieldProblem("rater.model", "give labels or a rater model, not both")
            if self.scorer != "classifier":
                raise FieldProblem(
                    "rater.model", "rater labels train the classifier: use scorer classifier"
                )
        elif self.scorer == "classifier" and not (self.labels or self.classifier):
            raise FieldProblem(
                "labels",
                "scorer classifier needs labels (to fine-tune an encoder), a classifier "
                "(trained before) or a rater model",
            )
        if self.scorer == "external" and not self.scores:
            raise FieldProblem("scores", "scorer external needs a scores file")
        return self

    @property
    def column(self) -> str:
        """The scores column that holds this difficulty."""
        if self.scorer in PROXY_COLUMNS:
            return PROXY_COLUMNS[self.scorer]
        if self.scorer == "classifier":
            return f"difficulty_{self.axis}"
        return "difficulty_external"

    def identity(self) -> dict[str, Any]:
        """The settings plus what the files they name hold."""
        values = self.model_dump(mode="json")
        for name in ("labels", "classifier", "scores"):
            values[f"{name}_sha256"] = fingerprint(getattr(self, name))
        return values


class SelectConfig(Section):
    """Scores (influence, loss, IFD, difficulty) and the subsets to write."""

    pool: PoolConfig = Field(description="the SFT pool to select from")
    validation: ValidationConfig = Field(description="the items behind the influence direction")
    scoring: ScoringConfig = Field(ScoringConfig(), description="scoring model and estimator")
    difficulty: DifficultyConfig = Field(DifficultyConfig(), description="the difficulty axis")
    decontamination: DecontaminationConfig = Field(
        DecontaminationConfig(),
        description="removing evaluation questions and near-duplicates from the pool",
        json_schema_extra=cli(prefix="decontaminate"),
    )
    decontaminate_suites: list[str] = Field(
        [],
        description="also remove pool records matching these benchmark suites "
        "(a study adds every evaluated and judged task)",
        json_schema_extra=cli("--decontaminate-suite", repeat=True),
    )
    eval_texts: list[str] = Field(
        [],
        description="also remove pool records matching these JSONL files' `question` texts",
        json_schema_extra=cli(repeat=True, path=True),
    )
    strategies: list[str] = Field(
        ["diq", "random"], description=f"selection strategies: {', '.join(STRATEGIES)}"
    )
    ratios: list[Ratio] = Field(
        [Decimal("0.01"), Decimal("0.1")],
        description="subset sizes as fractions of the (decontaminated) pool, in (0, 1]",
    )
    counts: list[int] = Field([], description="subset sizes as record counts, e.g. [500, 2000]")
    influence_threshold: float | None = Field(
        None, description="high influence is above this value (null: the median)"
    )
    nproc: int = Field(1, ge=1, description="scoring processes (one per GPU)")
    seed: int = Field(0, description="seed of the random baseline and tie-breaking")
    render: RenderStyle = Field(
        RenderStyle(), description="how records become chat turns (shared with training)"
    )

    @field_validator("strategies")
    @classmethod
    def _known_strategies(cls, value: list[str]) -> list[str]:
        names = [name.strip().lower() for name in value if name.strip()]
        unknown = [name for name in names if name not in STRATEGIES]
        if unknown or not names:
            raise ValueError(
                f"unknown strategy {', '.join(unknown) or '(none given)'}; "
                f"choose from {', '.join(STRATEGIES)}"
            )
        return list(dict.fromkeys(names))

    @field_validator("ratios")
    @classmethod
    def _ratios_in_range(cls, value: list[Decimal]) -> list[Decimal]:
        for ratio in value:
            if not 0 < ratio <= 1:
                raise ValueError(f"ratio {ratio} is outside (0, 1]")
        return _without_repeats(value, "ratio")

    @field_validator("counts")
    @classmethod
    def _counts_positive(cls, value: list[int]) -> list[int]:
        for count in value:
            if count < 1:
                raise ValueError(f"count {count} is not positive")
        return _without_repeats(value, "count")

    @model_validator(mode="after")
    def _some_budget(self) -> SelectConfig:
        if not self.ratios and not self.counts:
            raise FieldProblem("ratios", "give at least one ratio or count")
        if not self.scoring.ifd and "ifd" in (self.difficulty.scorer, *self.strategies):
            raise FieldProblem(
                "scoring.ifd", "IFD is off but the ifd difficulty or strategy needs it"
            )
        return self

    def ratio_fractions(self) -> list[Fraction]:
        """The ratios, exact (`0.1` is 1/10, not the float nearest 0.1)."""
        return [Fraction(ratio) for ratio in self.ratios]


def _without_repeats(values: list[Any], what: str) -> list[Any]:
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{what} {value} is given twice (it would make the same subset twice)")
        seen.add(value)
    return values


def ratio_label(ratio: Decimal) -> str:
    """A ratio as written in subset names: `0.01`, `0.1`, `1`."""
    return format(ratio.normalize(), "f")
