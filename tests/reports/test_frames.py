"""Tidy frames from logs: labels, value conversion, epoch reduction, and a tiny-model log."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path

import pytest
from inspect_ai import Task
from inspect_ai import eval as inspect_eval
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.solver import generate

from harness.errors import ConfigError
from reports.build import ReportOptions, build_report, load_frames, resolve_inputs
from reports.compare import Settings
from reports.frames import assign_labels, score_to_float
from reports.logs import find_logs, read_logs
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
        ReportOptions(settings=Settings(reference="hf/tiny", resamples=199)),
    )
    assert data["models"][0] == "hf/tiny"
    tiny = next(s for s in data["summary"] if s["model"] == "hf/tiny")
    assert tiny["n"] == 8
    comparison = next(c for c in data["comparisons"] if c["model"] == "mockllm/diq")
    assert comparison["n"] == 8 and comparison["dropped"] == 52  # paired on the shared items only
    health = next(h for h in data["health"] if h["model"] == "hf/tiny")
    assert health["samples"] == 8
    assert json.loads((out / "report.json").read_text())["models"] == data["models"]
