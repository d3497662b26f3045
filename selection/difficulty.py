"""Difficulty: DIQ's Likert classifier, external scores, and the model-based proxies.

DIQ scores difficulty with a biomedical encoder (BiomedBERT) fine-tuned to a 5-level
Likert scale along three perspectives (knowledge, reasoning, overall) and uses one of
them. `train_classifier` fine-tunes any Hugging Face encoder through
`AutoModelForSequenceClassification` with one shared encoder and a 3 x 5 head (a
cross-entropy per perspective; unlabelled perspectives are skipped), and
`predict_classifier` returns the expected Likert level (1..5, continuous, so percentile
thresholds do not hit massive ties).

Proxies come from the scoring pass (no extra model): `ifd` (the default when no
classifier is configured), `loss`, and `length` (reasoning tokens). IFD is the default
because it is a difficulty measure in its own right (Cherry LLM's instruction-following
difficulty: how little the question helps predict the answer), it is defined for every
record including those without a chain of thought, and, being a ratio of two losses of
the same tokens, it cancels the response's intrinsic perplexity that also scales the
gradient norm, so it correlates less with influence than the raw loss does and the two
DIQ axes stay distinct.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from harness.core.errors import ConfigError, InputError
from harness.core.io import atomic_directory, iter_jsonl, read_json, write_json
from harness.core.records import PoolRecord
from selection.config import ClassifierTraining
from selection.options import AXES

LEVELS = 5
CLASSIFIER_FILE = "difficulty_classifier.json"


def classifier_text(record: PoolRecord, mode: str) -> str:
    """What the classifier reads: the question, optionally followed by the reasoning."""
    if mode == "question+reasoning" and record.reasoning.strip():
        return f"{record.question}\n\n{record.reasoning}"
    return record.question


def read_labels(path: str | Path) -> dict[str, dict[str, Any]]:
    """Likert labels by record id: `{"id", "knowledge"?, "reasoning"?, "overall"?, "question"?}`.

    Each perspective is an integer 1..5 or absent/null (unlabelled). A row may carry its own
    `question` (and `reasoning`) when the id is not a pool record.
    """
    labels: dict[str, dict[str, Any]] = {}
    for line, row in iter_jsonl(path):
        record_id = row.get("id")
        if not isinstance(record_id, str) or not record_id:
            raise InputError("missing or empty id", path=path, line=line, field="id")
        entry: dict[str, Any] = {}
        for axis in AXES:
            value = row.get(axis)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= LEVELS:
                raise InputError(
                    f"expected an integer 1..{LEVELS} or null, got {value!r}",
                    path=path,
                    line=line,
                    record=record_id,
                    field=axis,
                )
            entry[axis] = value
        for key in ("question", "reasoning"):
            if isinstance(row.get(key), str):
                entry[key] = row[key]
        if record_id in labels:
            raise InputError("duplicate id", path=path, line=line, record=record_id, field="id")
        labels[record_id] = entry
    if not any(axis in entry for entry in labels.values() for axis in AXES):
        raise InputError("no labelled record (every perspective is null)", path=path)
    return labels


def read_external(path: str | Path, ids: Sequence[str]) -> pd.Series:
    """Per-record difficulty from a JSONL/CSV/Parquet file with `id` and `difficulty`."""
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", path=path)
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
    elif path.suffix == ".csv":
        frame = pd.read_csv(path)
    else:
        frame = pd.DataFrame([row for _, row in iter_jsonl(path)])
    for column in ("id", "difficulty"):
        if column not in frame.columns:
            raise InputError("missing column", path=path, field=column)
    frame["id"] = frame["id"].astype(str)
    values = pd.to_numeric(frame["difficulty"], errors="coerce")
    bad = frame["id"][values.isna()]
    if len(bad):
        raise InputError("not a number", path=path, record=str(bad.iloc[0]), field="difficulty")
    series = pd.Series(values.to_numpy(), index=frame["id"])
    missing = [i for i in ids if i not in series.index]
    if missing:
        raise InputError(
            f"{len(missing)} pool records have no difficulty", path=path, record=missing[0]
        )
    return series.loc[list(ids)]


def _device(name: str = "auto") -> Any:
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def train_classifier(
    texts: Sequence[str],
    labels: Sequence[dict[str, int]],
    config: ClassifierTraining,
    out_dir: str | Path,
    *,
    progress: bool = True,
) -> Path:
    """Fine-tune `config.encoder` on Likert labels; save it (atomically) to `out_dir`."""
    import torch
    from tqdm import tqdm
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    if len(texts) != len(labels) or not texts:
        raise ConfigError("the classifier needs at least one labelled text")
    torch.manual_seed(config.seed)
    try:
        tokenizer = AutoTokenizer.from_pretrained(config.encoder)
        model = AutoModelForSequenceClassification.from_pretrained(
            config.encoder, num_labels=len(AXES) * LEVELS, ignore_mismatched_sizes=True
        )
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot load the encoder {config.encoder!r}: {error}") from None
    device = _device()
    model.to(device).train()
    targets = torch.tensor(
        [[entry.get(axis, 0) - 1 if axis in entry else -100 for axis in AXES] for entry in labels]
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=0.01)
    steps = config.epochs * math.ceil(len(texts) / config.batch_size)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / steps)
    order = list(range(len(texts)))
    rng = random.Random(config.seed)
    losses: list[float] = []
    with tqdm(total=steps, desc="difficulty classifier", unit="step", disable=not progress) as bar:
        for _ in range(config.epochs):
            rng.shuffle(order)
            for start in range(0, len(order), config.batch_size):
                chunk = order[start : start + config.batch_size]
                encoded = tokenizer(
                    [texts[i] for i in chunk],
                    truncation=True,
                    max_length=config.max_length,
                    padding=True,
                    return_tensors="pt",
                ).to(device)
                logits = model(**encoded).logits.view(len(chunk), len(AXES), LEVELS)
                loss = torch.nn.functional.cross_entropy(
                    logits.reshape(-1, LEVELS), targets[chunk].reshape(-1).to(device)
                )
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                schedule.step()
                losses.append(float(loss))
                bar.update(1)
                bar.set_postfix(loss=f"{losses[-1]:.3f}")
    model.eval()
    with atomic_directory(out_dir) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        write_json(
            tmp / CLASSIFIER_FILE,
            {
                "axes": list(AXES),
                "levels": LEVELS,
                "config": config.model_dump(mode="json"),
                "train_examples": len(texts),
                "labelled_per_axis": labelled_per_axis(labels),
                "final_loss": losses[-1],
                "mean_loss_first_epoch": sum(losses[: len(losses) // config.epochs])
                / max(1, len(losses) // config.epochs),
            },
        )
    return Path(out_dir)


def classifier_info(model_dir: str | Path) -> dict[str, Any]:
    """The training summary `train_classifier` writes beside a classifier."""
    info_path = Path(model_dir) / CLASSIFIER_FILE
    if not info_path.is_file():
        raise ConfigError(f"{model_dir} is not a difficulty classifier (no {CLASSIFIER_FILE})")
    return read_json(info_path)


def labelled_per_axis(targets: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """How many label entries carry each axis (entries may label some axes only)."""
    return {axis: sum(1 for entry in targets if axis in entry) for axis in AXES}


def check_axis_labelled(count: int, axis: str, source: str | Path) -> None:
    """Fail when the difficulty axis in use has no training label (`count` labels).

    The classifier has one head per axis and skips unlabelled ones, so an axis without
    labels keeps its random initial head and would predict noise without any warning.
    """
    if count == 0:
        raise InputError(
            f"no record is labelled on the {axis!r} axis, so the classifier never learns it; "
            "label it or choose another --difficulty-axis",
            path=source,
            field=axis,
        )


def predict_classifier(
    model_dir: str | Path, texts: Sequence[str], *, batch_size: int = 32, progress: bool = True
) -> pd.DataFrame:
    """Expected Likert level (1..5) per perspective: columns `difficulty_<axis>`."""
    import torch
    from tqdm import tqdm
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model_dir = Path(model_dir)
    info = classifier_info(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir)
    device = _device()
    model.to(device).eval()
    levels = torch.arange(1, LEVELS + 1, dtype=torch.float32, device=device)
    rows: list[list[float]] = []
    with torch.no_grad():
        for start in tqdm(
            range(0, len(texts), batch_size), desc="difficulty", unit="batch", disable=not progress
        ):
            encoded = tokenizer(
                list(texts[start : start + batch_size]),
                truncation=True,
                max_length=info["config"]["max_length"],
                padding=True,
                return_tensors="pt",
            ).to(device)
            logits = model(**encoded).logits.view(-1, len(AXES), LEVELS)
            expected = (logits.float().softmax(-1) * levels).sum(-1)
            rows.extend(expected.cpu().tolist())
    return pd.DataFrame(rows, columns=[f"difficulty_{axis}" for axis in AXES])


def labelled_examples(
    labels: dict[str, dict[str, Any]],
    pool: dict[str, PoolRecord],
    mode: str,
    source: str | Path,
) -> tuple[list[str], list[dict[str, int]]]:
    """Classifier inputs: label rows joined to pool records (or their own question text)."""
    texts, targets = [], []
    for record_id, entry in labels.items():
        record = pool.get(record_id)
        if record is None:
            if "question" not in entry:
                raise InputError(
                    "label for a record that is neither in the pool nor carries a question",
                    path=source,
                    record=record_id,
                    field="question",
                )
            record = PoolRecord(record_id, entry["question"], entry.get("reasoning", ""), "-")
        axes = {axis: entry[axis] for axis in AXES if axis in entry}
        if axes:
            texts.append(classifier_text(record, mode))
            targets.append(axes)
    return texts, targets
