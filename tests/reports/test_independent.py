"""Independent-samples tasks in the report: two real `data_quality` logs of partly overlapping
subsets, judged by a scripted grader, compared as two samples (never paired by record id).
"""

from __future__ import annotations

import json
import re
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.log import read_eval_log
from inspect_ai.model import ChatMessage

from harness.core.records import PoolRecord, write_records
from reports import stats
from reports.build import build_report
from reports.config import ReportConfig
from reports.pairing import derive_seed
from tasks.data_quality import data_quality
from tests.helpers import scripted_model
from tests.reports.conftest import PLANTED_SCRIPT
from tests.reports.test_report import _parse

# diq-0.1 holds records 0-11, random-0.1 records 6-17: six shared records, judged the same
# in both logs. Record quality falls with the id, so the DIQ subset is better as data.
SUBSETS = {"diq-0.1": range(0, 12), "random-0.1": range(6, 18)}
SHARED = 6
CONFIG = ReportConfig(reference="random-0.1", resamples=999, seed=11)


def quality(index: int) -> int:
    return max(1, 5 - index // 4)


def record(index: int) -> PoolRecord:
    level = quality(index)
    planted = f" {PLANTED_SCRIPT}" if index == 7 else ""
    return PoolRecord(
        id=f"rec-{index:02d}",
        question=f"A {30 + index}-year-old presents with chest pain (record {index}). Next step?",
        reasoning=f"Findings point to acute coronary syndrome; weighing alternatives. QUALITY={level}",
        response=f"Obtain an ECG within 10 minutes.{planted}",
        source="test",
        meta={"answer": "ECG"},
    )


def grader(messages: list[ChatMessage]) -> str:
    """One JSON object that answers every question the judge is asked (extra keys ignored).

    The record's planted quality decides: a positive criterion is met from a per-criterion
    threshold up, a negative one (harm) below it; levels and ratings are the quality.
    """
    prompt = "\n".join(message.text for message in messages)
    level = int(re.search(r"QUALITY=(\d)", prompt).group(1))  # type: ignore[union-attr]
    criterion = re.search(r"^Criterion \(([+-])[^)]*\): (.*)$", prompt, re.MULTILINE)
    threshold = 1 + zlib.crc32(criterion.group(2).encode()) % 5 if criterion else 3
    negative = criterion is not None and criterion.group(1) == "-"
    met = level < threshold if negative else level >= threshold
    return json.dumps(
        {
            "explanation": f"quality {level} <b>judged</b>",
            "criteria_met": met,
            "applicable": True,
            "level": level,
            "rating": level,
        }
    )


@pytest.fixture(scope="module")
def subset_logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One `data_quality` log per subset, labelled by name in the eval metadata (as `diq run`)."""
    root = tmp_path_factory.mktemp("data-quality")
    logs = {}
    for name, indices in SUBSETS.items():
        path = root / f"{name}.jsonl"
        write_records(path, [record(i) for i in indices])
        [log] = inspect_eval(
            data_quality(path=str(path)),
            model_roles={"grader": scripted_model(grader)},
            metadata={"label": name},
            log_dir=str(root / "logs"),
            display="none",
        )
        assert log.status == "success", log.error
        logs[name] = Path(log.location)
    return logs


@pytest.fixture(scope="module")
def mixed(
    subset_logs: dict[str, Path], scripted_logs: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any]]:
    """A report of paired benchmarks and the independent data_quality task, one label per run."""
    out = tmp_path_factory.mktemp("mixed") / "report"
    labels = {"mockllm/random": "random-0.1", "mockllm/diq": "diq-0.1"}
    config = ReportConfig(**CONFIG.model_dump() | {"labels": labels})
    return out, build_report([scripted_logs, *subset_logs.values()], out, config)


def _scores(path: Path, metric: str) -> dict[str, float]:
    """Per-record values of one score key, read with Inspect's own reader."""
    log = read_eval_log(str(path))
    return {str(s.id): float(s.scores["rubric_judge"].value[metric]) for s in log.samples or []}


def test_data_quality_logs_declare_independent_samples(subset_logs: dict[str, Path]) -> None:
    header = read_eval_log(str(subset_logs["diq-0.1"]), header_only=True)
    assert header.eval.metadata["pairing"] == "independent"
    assert header.eval.metadata["label"] == "diq-0.1" and header.eval.model == "none/none"


def test_independent_comparisons_are_differences_of_means(
    mixed: tuple[Path, dict[str, Any]], subset_logs: dict[str, Path]
) -> None:
    out, data = mixed
    assert data["models"] == ["random-0.1", "diq-0.1", "mockllm/full"]
    designs = {m["key"]: m["design"] for m in data["measures"]}
    assert designs["data_quality/rubric_judge/overall"] == "independent"
    assert designs["medqa/mcq_answer/mcq_answer"] == "paired"
    rows = {(r["measure"], r["model"]): r for r in data["comparisons"]}
    # benchmarks stay paired
    medqa = rows[("medqa/mcq_answer/mcq_answer", "diq-0.1")]
    assert medqa["design"] == "paired" and medqa["test"].startswith("paired permutation")
    # mockllm/full judged no subset: no data_quality comparison for it
    assert ("data_quality/rubric_judge/overall", "mockllm/full") not in rows

    for metric in ("overall", "correctness_rating", "ddx"):
        key = f"data_quality/rubric_judge/{metric}"
        row = rows[(key, "diq-0.1")]
        diq = _scores(subset_logs["diq-0.1"], metric)
        random = _scores(subset_logs["random-0.1"], metric)
        a, b = np.array(list(diq.values())), np.array(list(random.values()))
        assert row["design"] == "independent" and row["test"] == "two-sample permutation"
        assert (row["n_model"], row["n_reference"], row["shared"]) == (12, 12, SHARED)
        assert row["diff"] == pytest.approx(a.mean() - b.mean())
        assert row["diff"] > 0
        # the shared records score the same in both logs: pairing them would say "no difference"
        shared = sorted(set(diq) & set(random))
        assert [diq[i] for i in shared] == [random[i] for i in shared]
        assert row["low"] <= row["diff"] <= row["high"]
        assert row["cohens_d"] == pytest.approx(stats.cohens_d(a, b))
        seed = derive_seed(11, key, "diq-0.1", "random-0.1")
        assert row["seed"] == seed
        assert row["p_value"] == stats.two_sample_permutation_pvalue(a, b, resamples=999, seed=seed)
        bounds = {m["key"]: m["bounds"] for m in data["measures"]}[key]
        if bounds is None:  # overall: negative criteria, no known scale
            interval = stats.independent_bootstrap_interval(a, b, resamples=999, seed=seed)
            assert row["se"] == pytest.approx(stats.independent_se(a, b))
        else:  # MOVER of the two means' bounded Wilson intervals
            sides = [stats.mean_interval(v, binary=False, bounds=tuple(bounds)) for v in (a, b)]
            _, *interval = stats.mover([(s.mean, s.low, s.high) for s in sides], [1, -1])
            assert row["interval"].startswith("MOVER") and row["se"] == pytest.approx(
                (interval[1] - interval[0]) / (2 * stats.z_quantile())
            )
        assert row["mde"] == pytest.approx(stats.minimum_detectable_effect(row["se"]))
        assert (row["low"], row["high"], row["widened"]) == pytest.approx(
            stats.reach_zero(*interval, row["p_value"])
        )
    overall = rows[("data_quality/rubric_judge/overall", "diq-0.1")]
    assert overall["significant"]
    assert any(
        "data_quality · overall (independent samples, 12 vs 12 items)" in line
        for line in data["findings"]
    )
    matrix = [m for m in data["matrix"] if m["measure"] == "data_quality/rubric_judge/overall"]
    assert [(m["a"], m["b"], m["design"], m["n_a"], m["n_b"]) for m in matrix] == [
        ("random-0.1", "diq-0.1", "independent", 12, 12)
    ]
    stored = json.loads((out / "report.json").read_text())
    assert all(row["design"] in ("paired", "independent") for row in stored["comparisons"])
    # bounded scores keep their intervals inside the scale (a t interval of data_quality's
    # correctness reached 1.035 on its 0-1 scale)
    bounds = {m["key"]: m["bounds"] for m in stored["measures"]}
    assert bounds["data_quality/rubric_judge/correctness"] == [0.0, 1.0]
    assert bounds["data_quality/rubric_judge/correctness_rating"] == [1.0, 5.0]
    assert bounds["data_quality/rubric_judge/overall"] is None  # negative criteria: below 0
    bounded = [row for row in stored["summary"] if bounds[row["measure"]] and row["n"] > 0]
    assert any(row["method"] == "bounded-wilson" for row in bounded)
    for row in bounded:
        low, high = bounds[row["measure"]]
        assert low <= row["low"] <= row["mean"] <= row["high"] <= high, row


def test_page_says_independent_and_never_pairs_items(mixed: tuple[Path, dict[str, Any]]) -> None:
    out, _ = mixed
    text = (out / "index.html").read_text(encoding="utf-8")
    assert PLANTED_SCRIPT not in text
    page = _parse(out / "index.html")
    assert {"forest", "matrix", "samples"} <= page.ids
    # forest: the task's own panels (0-1 scores, 1-5 ratings), apart from the paired ones
    assert "data_quality · score differences · independent samples" in text
    assert "data_quality · 1–5 rating differences · independent samples" in text
    assert "clinical_cases · ddx difference<" in text
    assert '<span class="design">independent samples</span>' in text  # matrix card
    assert 'data-design="independent"' in text
    payload = json.loads(
        re.search(  # type: ignore[union-attr]
            r'<script type="application/json" id="report-samples" data-encoding="json">(.+?)</script>',
            text,
            re.S,
        ).group(1)
    )
    assert payload["tasks"]["data_quality"]["design"] == "independent"
    assert payload["tasks"]["medqa"]["design"] == "paired"
    items = [item for item in payload["items"] if item["t"] == "data_quality"]
    # one entry per model and record: 12 + 12, the shared records once per side
    assert len(items) == 24
    models = payload["models"]
    for item in items:
        side = item["s"]
        assert [i for i, output in enumerate(item["o"]) if output is not None] == [side]
        assert [i for i, values in enumerate(item["v"]) if values is not None] == [side]
    assert sorted(models[i["s"]] for i in items if i["id"] == "rec-08") == ["diq-0.1", "random-0.1"]
    # listed model by model: the reference's own records first
    assert [models[i["s"]] for i in items] == ["random-0.1"] * 12 + ["diq-0.1"] * 12
    paired = [item for item in payload["items"] if item["t"] == "medqa"]
    assert all("s" not in item for item in paired)
