"""HealthBench's overall score and every tag breakdown agree with simple-evals' own code.

The 30 real records are graded by `healthbench_judge` with scripted verdicts (a fixed
rule per rubric item), and the same verdicts are scored by simple-evals' code
(`tests/rubrics/simple_evals_healthbench.py`, verbatim): the overall score and the
`theme:`, `physician_agreed_category:`, `axis:`, `level:` and `cluster:` breakdowns must
have the same clipped means and sample counts, and bootstrap stds within sampling error
(both draw 1,000 resamples, from different random streams).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest
from inspect_ai import Task, eval
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessage, ChatMessageUser, GenerateConfig

from rubrics.healthbench import healthbench_judge, rubric_item_text
from rubrics.solvers import fixed_output
from tests.rubrics import simple_evals_healthbench as upstream
from tests.rubrics.judges import ScriptedJudge, verdict_json

RECORDS = "healthbench/processed_data"
RUBRIC_ITEM = re.compile(r"# Rubric item\n(.*?)\n\n# Instructions", re.DOTALL)
STATS = {":n_samples": "_n", ":bootstrap_std": "_bootstrap_std"}


def met(item_text: str) -> bool:
    """The scripted verdict for a rubric item: a fixed pseudo-random bit of its text."""
    return hashlib.sha256(item_text.encode()).digest()[0] % 3 != 0


def records(data_dir: Path) -> list[dict]:
    files = sorted((data_dir / RECORDS).glob("*.json"))
    assert len(files) == 30
    return [json.loads(file.read_text(encoding="utf-8")) for file in files]


def our_metrics(recs: list[dict]) -> dict[str, float]:
    samples = [
        Sample(
            id=r["prompt_id"],
            input=[ChatMessageUser(content=r["prompt"][-1]["content"])],
            metadata={
                "conversation": r["prompt"],
                "rubrics": r["rubrics"],
                "example_tags": r["example_tags"],
                "completion": "A scripted reply.",
            },
        )
        for r in recs
    ]

    def reply(messages: list[ChatMessage], config: GenerateConfig) -> str:
        found = RUBRIC_ITEM.search(messages[-1].text)
        assert found, messages[-1].text
        return verdict_json(met(found.group(1)))

    task = Task(
        dataset=MemoryDataset(samples),
        solver=fixed_output("completion"),
        scorer=healthbench_judge(),
    )
    [log] = eval(
        task,
        model="none/none",
        model_roles={"grader": ScriptedJudge(reply).model},
        display="none",
        max_connections=64,
    )
    assert log.status == "success", log.error
    return {name: m.value for name, m in log.results.scores[0].metrics.items()}


def upstream_metrics(recs: list[dict]) -> tuple[float, dict[str, float]]:
    results = []
    for r in recs:
        items = [upstream.RubricItem.from_dict(d) for d in r["rubrics"]]
        grades = [{"criteria_met": met(str(item))} for item in items]
        assert [str(item) for item in items] == [rubric_item_text(d) for d in r["rubrics"]]
        metrics = upstream.sample_metrics(items, grades, r["example_tags"])
        results.append(upstream.SingleEvalResult(score=metrics["overall_score"], metrics=metrics))
    np.random.seed(0)  # noqa: NPY002 (simple-evals draws from numpy's global generator)
    aggregate = upstream._aggregate_get_clipped_mean(results)
    return aggregate.score, aggregate.metrics


def split_stat(name: str) -> tuple[str, str]:
    """A simple-evals metric name as (what it measures, our suffix for its statistic)."""
    for theirs, ours in STATS.items():
        if name.endswith(theirs):
            return name.removesuffix(theirs), ours
    return name, ""


def our_name(name: str) -> str:
    """Our metric name for a simple-evals one (`theme:hedging:n_samples` -> `theme_hedging_n`)."""
    base, stat = split_stat(name)
    if base == "overall_score":
        return {"": "healthbench_score", "_n": "n_samples", "_bootstrap_std": "bootstrap_std"}[stat]
    return base.replace(":", "_", 1) + stat


def test_breakdowns_agree_with_simple_evals(data_dir: Path) -> None:
    recs = records(data_dir)
    ours = our_metrics(recs)
    score, theirs = upstream_metrics(recs)
    # "score" repeats "overall_score" upstream (its mean is popped as the eval's score)
    theirs = {name: value for name, value in theirs.items() if split_stat(name)[0] != "score"}
    tags = {name for name in theirs if ":" in split_stat(name)[0]}
    kinds = {split_stat(name)[0].split(":")[0] for name in tags}
    assert kinds == {"theme", "physician_agreed_category", "axis", "level", "cluster"}
    assert ours["healthbench_score"] == pytest.approx(score, abs=1e-12)
    for name, value in theirs.items():
        mine = ours[our_name(name)]
        if name.endswith(":bootstrap_std"):
            assert mine == pytest.approx(value, rel=0.15, abs=1e-12), name
        else:
            assert mine == pytest.approx(value, abs=1e-12), name
    # and no breakdown that simple-evals does not report
    breakdowns = {name for name in ours if name.startswith(tuple(f"{k}_" for k in kinds))}
    assert breakdowns == {our_name(name) for name in tags}
    # the consensus criteria are reported per cluster
    clusters = {split_stat(name)[0] for name in tags if name.startswith("cluster:")}
    assert len(clusters) > 10
