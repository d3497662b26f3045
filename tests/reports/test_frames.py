"""Tidy frames from logs: labels, value conversion, epoch reduction, and a tiny-model log."""

from __future__ import annotations

import dataclasses
import json
import math
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path

import pandas as pd
import pytest
from inspect_ai import Task
from inspect_ai import eval as inspect_eval
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.solver import generate

from harness.core.errors import ConfigError, InputError
from reports.build import build_report, load_frames, resolve_inputs
from reports.config import ReportConfig
from reports.frames import task_designs
from reports.labels import LogInfo, assign_labels
from reports.logs import find_logs, read_log, read_logs
from reports.scores import DIAGNOSTIC_KEYS, score_to_float
from tasks.mcq import mcq_answer
from tests.helpers import scripted_model


def test_score_to_float_follows_inspect() -> None:
    assert [score_to_float(v) for v in ("C", "I", "P", "N", True, 3, "0.25")] == [
        1.0,
        0.0,
        0.5,
        0.0,
        1.0,
        3.0,
        0.25,
    ]
    assert score_to_float("A") is None and score_to_float([1]) is None


def test_fast_log_reader_matches_inspect(scripted_logs: Path, tmp_path: Path) -> None:
    """The plain-JSON `.eval` reader gives exactly what `read_eval_log` gives."""
    from inspect_ai.log import convert_eval_logs

    from reports.logs import read_eval_fast, read_log, read_log_reference

    def canonical(record: object) -> str:
        return json.dumps(asdict(record), sort_keys=True, default=str)  # type: ignore[call-overload]

    paths = sorted(scripted_logs.glob("*.eval"))
    assert len(paths) == 9
    for path in paths:
        assert canonical(read_eval_fast(path)) == canonical(read_log_reference(path))
    # .json logs go through Inspect's reader and give the same records
    convert_eval_logs(str(paths[0]), "json", str(tmp_path))
    [converted] = tmp_path.glob("*.json")
    fast = json.loads(canonical(read_eval_fast(paths[0])))
    reference = json.loads(canonical(read_log(converted)))
    assert fast["samples"] == reference["samples"]


def test_labels(scripted_logs: Path) -> None:
    records = read_logs(find_logs([scripted_logs]), workers=1)
    assert sorted(set(assign_labels(records, {}))) == [
        "mockllm/diq",
        "mockllm/full",
        "mockllm/random",
    ]
    medqa_diq = next(r for r in records if r.task == "medqa" and r.model == "mockllm/diq")
    labels = assign_labels(records, {"mockllm/diq": "DIQ", Path(medqa_diq.path).name: "DIQ-medqa"})
    chosen = {(r.task, r.model): label for r, label in zip(records, labels, strict=True)}
    assert (
        chosen[("medqa", "mockllm/diq")] == "DIQ-medqa"
        and chosen[("pubmedqa", "mockllm/diq")] == "DIQ"
    )
    with pytest.raises(ConfigError, match="two complete logs of task 'medqa' are labelled 'same'"):
        assign_labels(records, {"mockllm/diq": "same", "mockllm/full": "same"})
    with pytest.raises(ConfigError, match="names no log or model: nobody"):
        assign_labels(records, {"nobody": "x"})


def _one_item_log(log_dir: Path, metadata: dict[str, object] | None = None) -> Path:
    """A one-sample MCQ log of the scripted model `mockllm/model`, with eval metadata."""
    dataset = MemoryDataset([Sample(id="s1", input="Item 1 ?", choices=["x", "y"], target="A")])
    task = Task(name="tiny", dataset=dataset, solver=generate(), scorer=mcq_answer())
    [log] = inspect_eval(
        task,
        model=scripted_model(["ANSWER: A"]),
        metadata=metadata,
        log_dir=str(log_dir),
        display="none",
    )
    return Path(log.location)


def test_labels_from_eval_metadata(tmp_path: Path) -> None:
    """`diq run` names its logs in the eval metadata: after `labels`, before the fallbacks."""
    for label in ("diq-0.1", "random-0.1"):
        _one_item_log(tmp_path / "logs", {"label": label})
    records = read_logs(find_logs([tmp_path / "logs"]), workers=1)
    assert sorted(r.label for r in records) == ["diq-0.1", "random-0.1"]
    assert {r.model for r in records} == {"mockllm/model"}
    assert sorted(assign_labels(records, {})) == ["diq-0.1", "random-0.1"]
    # an explicit `labels` entry naming the log, or the model, comes first
    diq = next(r for r in records if r.label == "diq-0.1")
    relabelled = assign_labels(records, {Path(diq.path).name: "DIQ"})
    assert sorted(relabelled) == ["DIQ", "random-0.1"]
    with pytest.raises(ConfigError, match="labelled 'M'.*or a `label` in its eval metadata"):
        assign_labels(records, {"mockllm/model": "M"})
    # the metadata label comes before the run directory's models/<name> and the model name
    models = tmp_path / "models"
    loaded = dataclasses.replace(diq, model_args={"model_path": str(models / "diq-ckpt")})
    assert assign_labels([loaded], {}, models) == ["diq-0.1"]
    unlabelled = dataclasses.replace(loaded, label=None)
    assert assign_labels([unlabelled], {}, models) == ["diq-ckpt"]
    assert assign_labels([unlabelled], {}) == ["mockllm/model"]
    # a label edited into the log afterwards (Inspect's log edits) is the one used
    from inspect_ai.log import (
        MetadataEdit,
        ProvenanceData,
        edit_eval_log,
        read_eval_log,
        write_eval_log,
    )

    edit = MetadataEdit(metadata_set={"label": "diq-0.1-rerun"})
    log = edit_eval_log(read_eval_log(diq.path), [edit], ProvenanceData(author="test"))
    write_eval_log(log, diq.path)
    assert read_log(diq.path).label == "diq-0.1-rerun"


def test_bad_label_or_pairing_metadata_is_located(tmp_path: Path) -> None:
    bad_label = _one_item_log(tmp_path / "a", {"label": 3})
    with pytest.raises(InputError, match=r"field 'eval.metadata.label': .* non-empty string"):
        read_log(bad_label)
    bad_pairing = _one_item_log(tmp_path / "b", {"pairing": "sometimes"})
    with pytest.raises(InputError, match=r"\.eval: field 'eval.metadata.pairing': unknown pairing"):
        read_log(bad_pairing)


def test_task_design_from_metadata(tmp_path: Path) -> None:
    paired = read_log(_one_item_log(tmp_path / "a"))
    independent = read_log(_one_item_log(tmp_path / "b", {"pairing": "independent"}))
    assert (paired.pairing, independent.pairing) == ("paired", "independent")
    designs, warnings = task_designs([LogInfo(paired, "x")])
    assert designs == {"tiny": "paired"} and warnings == []
    # logs of one task that disagree: independent (never pair what may differ), with a warning
    designs, warnings = task_designs([LogInfo(paired, "x"), LogInfo(independent, "y")])
    assert designs == {"tiny": "independent"}
    assert len(warnings) == 1 and "analysed as independent samples" in warnings[0]


def test_epochs_are_reduced_per_item(tmp_path: Path) -> None:
    calls: dict[str, int] = defaultdict(int)

    def reply(messages):  # type: ignore[no-untyped-def]
        question = messages[-1].text
        calls[question] += 1
        # item 0: right then wrong; item 1: always right; item 2: always wrong
        index = int(question.split()[1])
        right = {0: calls[question] == 1, 1: True, 2: False}[index]
        return "ANSWER: A" if right else "ANSWER: B"

    dataset = MemoryDataset(
        [Sample(id=f"s{i}", input=f"Item {i} ?", choices=["x", "y"], target="A") for i in range(3)]
    )
    task = Task(name="epochs", dataset=dataset, solver=generate(), scorer=mcq_answer(), epochs=2)
    inspect_eval(
        task,
        model=scripted_model(reply),
        log_dir=str(tmp_path / "logs"),
        display="none",
        max_samples=1,
    )
    frames = load_frames(resolve_inputs([tmp_path / "logs"], None), {}, None)
    items = frames.items.set_index("sample_id")
    assert items.loc["s0", "value"] == 0.5 and items.loc["s0", "epochs"] == 2
    assert items.loc["s1", "value"] == 1.0 and items.loc["s2", "value"] == 0.0
    # epochs that disagree make the measure graded (McNemar needs 0/1 per item)
    assert [m.kind for m in frames.measures] == ["graded"]
    assert len(frames.samples) == 6


def test_report_from_a_tiny_local_model(
    tiny_checkpoint: Path, scripted_logs: Path, tmp_path: Path
) -> None:
    """A real hf/ generation (tiny Llama built locally) next to scripted models."""
    logs = sorted(p for p in scripted_logs.glob("*.eval") if "medqa" in p.name)
    task_logs = tmp_path / "tiny"
    first = read_logs(logs[:1], workers=1)[0]
    dataset = MemoryDataset(
        [
            Sample(id=s.id, input=s.input, choices=s.choices, target=s.target, metadata=s.metadata)
            for s in first.samples[:8]
        ]
    )
    task = Task(name="medqa", dataset=dataset, solver=generate(), scorer=mcq_answer())
    [log] = inspect_eval(
        task, model="hf/tiny", model_args={"model_path": str(tiny_checkpoint), "device": "cpu"},
        max_tokens=8, log_dir=str(task_logs), display="none",
    )  # fmt: skip
    assert log.status == "success"
    from reports.logs import read_eval_fast, read_log_reference

    [tiny_log] = task_logs.glob("*.eval")
    fast, reference = read_eval_fast(tiny_log), read_log_reference(tiny_log)
    assert json.dumps(asdict(fast), sort_keys=True, default=str) == json.dumps(
        asdict(reference), sort_keys=True, default=str
    )
    out = tmp_path / "report"
    data = build_report(
        [*logs, *task_logs.glob("*.eval")],
        out,
        ReportConfig(reference="hf/tiny", resamples=199),
    )
    assert data["models"][0] == "hf/tiny"
    tiny = next(s for s in data["summary"] if s["model"] == "hf/tiny")
    assert tiny["n"] == 8
    comparison = next(c for c in data["comparisons"] if c["model"] == "mockllm/diq")
    assert comparison["n"] == 8 and comparison["dropped"] == 52  # paired on the shared items only
    health = next(h for h in data["health"] if h["model"] == "hf/tiny")
    assert health["samples"] == 8
    assert json.loads((out / "report.json").read_text())["models"] == data["models"]


def test_frames_agree_with_inspect_analysis(scripted_logs: Path, tmp_path: Path) -> None:
    """Our `.eval` reader and frames against `inspect_ai.analysis.samples_df` on real logs.

    The report reads logs with its own fast reader (docs/reports.md says why); this checks
    it against Inspect's own dataframe reader on the scripted logs (C/I answers,
    dict-valued judge scores, an unscored judgement, a NaN key) plus a log with three
    epochs whose answers change between epochs: the same (log, id, epoch) rows, and the
    same per-item values and epoch counts after reduction.
    """
    from inspect_ai.analysis import samples_df
    from inspect_ai.scorer import value_to_float

    calls: dict[str, int] = defaultdict(int)

    def reply(messages):  # type: ignore[no-untyped-def]
        calls[messages[-1].text] += 1
        return (
            "ANSWER: A" if (calls[messages[-1].text] + len(messages[-1].text)) % 3 else "ANSWER: B"
        )

    dataset = MemoryDataset(
        [Sample(id=f"e{i}", input=f"Item {i} ?" + "?" * i, choices=["x", "y"], target="A")
         for i in range(5)]
    )  # fmt: skip
    task = Task(name="epochs", dataset=dataset, solver=generate(), scorer=mcq_answer(), epochs=3)
    inspect_eval(task, model=scripted_model(reply), log_dir=str(tmp_path), display="none")
    paths = [*sorted(scripted_logs.glob("*.eval")), *tmp_path.glob("*.eval")]
    frames = load_frames(resolve_inputs(paths, None), {}, None)
    of_log = {info.record.eval_id: (info.label, info.record.task) for info in frames.logs}

    reference = samples_df([str(path) for path in paths], quiet=True)
    to_float = value_to_float()
    rows = []  # (label, task, scorer, metric, sample_id, epoch, value)
    metrics: dict[tuple[str, str], set[str]] = defaultdict(set)
    unscored = []
    for record in reference.to_dict("records"):
        label, task_name = of_log[record["eval_id"]]
        key = (label, task_name, str(record["id"]), int(record["epoch"]))
        for column, raw in record.items():
            if not column.startswith("score_") or pd.isna(raw):
                continue
            scorer = column.removeprefix("score_")
            value = json.loads(raw) if isinstance(raw, str) and raw.startswith("{") else raw
            if isinstance(value, dict):
                for metric, number in value.items():
                    if metric.startswith("crit_") or metric in DIAGNOSTIC_KEYS:
                        continue
                    metrics[(task_name, scorer)].add(metric)
                    rows.append((*key[:2], scorer, metric, *key[2:], to_float(number)))
            else:
                rows.append((*key[:2], scorer, scorer, *key[2:], to_float(value)))
        if task_name == "clinical_cases" and pd.isna(record["score_toy_judge"]):
            unscored.append(key)
    for label, task_name, sample_id, epoch in unscored:  # missing on every metric
        for metric in metrics[(task_name, "toy_judge")]:
            rows.append((label, task_name, "toy_judge", metric, sample_id, epoch, math.nan))
    expected = pd.DataFrame(
        rows, columns=["label", "task", "scorer", "metric", "sample_id", "epoch", "value"]
    )
    keys = ["label", "task", "scorer", "metric", "sample_id"]
    expected = (
        expected.groupby(keys).agg(value=("value", "mean"), epochs=("value", "count")).reset_index()
    )
    ours = frames.items[[*keys, "value", "epochs"]].sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        ours, expected.sort_values(keys).reset_index(drop=True), check_dtype=False
    )
    assert set(expected["epochs"]) == {0, 1, 3}  # the unscored item, one epoch, three
    assert 0 < expected.loc[expected.task == "epochs", "value"].mean() < 1
    # every (log, id, epoch) Inspect lists is a sample of ours, and no more
    listed = {(r["eval_id"], str(r["id"]), int(r["epoch"])) for r in reference.to_dict("records")}
    read = {(i.record.eval_id, s.id, s.epoch) for i in frames.logs for s in i.record.samples}
    assert listed == read
