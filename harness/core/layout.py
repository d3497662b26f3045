"""The run directory: one place that names every file a stage reads or writes.

```
runs/<name>/
  config.yaml               the experiment, resolved (every default written out)
  run_manifest.json         the study's ledger: each stage's input and output hashes
  validation_items.jsonl    validation items drawn from the benchmarks (never evaluated)
  pool.jsonl                the pool after decontamination and deduplication
  validation.jsonl          the validation records behind the influence direction
  decontamination.json      what was removed, why, and what it matched
  scores.parquet            one row per pool record: influence, loss, IFD, difficulty, quadrant
  select_manifest.json      selection's ledger, settings and summary
  subsets/<name>.jsonl      each subset (+ <name>.manifest.json); plots/<name>.svg
  models/<name>/            fine-tuned checkpoints (+ train_manifest.json)
  logs/eval|judge|external  Inspect logs
  review/                   rater sheets, the unblinding key, the ratings ledger
  report/                   index.html and report.json
```
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

OUTPUT_MARKER = ".diq-output.json"


@dataclass(frozen=True)
class RunLayout:
    """The paths of one run directory."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    @property
    def run_manifest(self) -> Path:
        return self.root / "run_manifest.json"

    @property
    def validation_items(self) -> Path:
        return self.root / "validation_items.jsonl"

    @property
    def pool(self) -> Path:
        return self.root / "pool.jsonl"

    @property
    def validation(self) -> Path:
        return self.root / "validation.jsonl"

    @property
    def decontamination(self) -> Path:
        return self.root / "decontamination.json"

    @property
    def decontamination_judge(self) -> Path:
        """Every question put to a decontamination judge, and its verdict."""
        return self.root / "decontamination_judge.jsonl"

    @property
    def scores(self) -> Path:
        return self.root / "scores.parquet"

    @property
    def score_parts(self) -> Path:
        """Checkpointed score rows of an unfinished scoring run."""
        return self.root / ".scores-parts"

    @property
    def select_manifest(self) -> Path:
        return self.root / "select_manifest.json"

    @property
    def difficulty_labels(self) -> Path:
        """Likert labels an LLM rater wrote (`diq select --rater-model`)."""
        return self.root / "difficulty_labels.jsonl"

    @property
    def difficulty_classifier(self) -> Path:
        return self.root / "difficulty_classifier"

    @property
    def subsets(self) -> Path:
        return self.root / "subsets"

    @property
    def plots(self) -> Path:
        return self.root / "plots"

    @property
    def quadrants(self) -> Path:
        """The quadrant plot of the first DIQ subset."""
        return self.root / "quadrants.svg"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def train_config(self) -> Path:
        """Hyperparameters handed to `accelerate launch` runs."""
        return self.root / "train_config.json"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def eval_logs(self) -> Path:
        return self.logs / "eval"

    @property
    def external_logs(self) -> Path:
        """Copies of the logs the config brings in from elsewhere."""
        return self.logs / "external"

    @property
    def judge_logs(self) -> Path:
        return self.logs / "judge"

    @property
    def review(self) -> Path:
        return self.root / "review"

    @property
    def ratings(self) -> Path:
        """The physician ratings ledger (`diq review import`)."""
        return self.review / "ratings.jsonl"

    @property
    def report(self) -> Path:
        return self.root / "report"

    @property
    def data(self) -> Path:
        """Generated data of the demo (the synthetic world and its key)."""
        return self.root / "data"

    @property
    def world_key(self) -> Path:
        """The demo world's planted truth; read by the report only."""
        return self.data / "world_key.json"

    def subset(self, name: str) -> Path:
        return self.subsets / f"{name}.jsonl"

    def model(self, name: str) -> Path:
        return self.models / name
