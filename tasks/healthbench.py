"""HealthBench: multi-turn health conversations graded on their own physician-written rubrics.

Records come from `-T path=` (a JSONL of records, as OpenAI publishes them, or a directory
of one-record JSON files, as in `$DIQ_DATA_DIR/healthbench/processed_data/`). Two kinds:

- rubric records (`prompt`, `prompt_id`, `rubrics`, `example_tags`): the model answers the
  conversation (or, with `-T completions=ideal|reference`, the physicians' ideal completion
  or the reference completions shown to them are graded instead) and `healthbench_judge`
  grades every rubric item with HealthBench's grader contract;
- meta-evaluation records (`prompt`, `completion`, `rubric`, `binary_labels`, ...): the
  judge grades a physician-labelled completion and the task reports judge-vs-physician
  agreement (`healthbench_meta_eval`, chosen automatically for such files).

Records are read by `tasks.healthbench_records`. They carry a canary string: they are
evaluation data only, never training data. The upstream files: https://openaipublic.blob.core.windows.net/simple-evals/healthbench/
(`2025-05-07-06-14-12_oss_eval.jsonl`, `hard_...`, `consensus_...`, `..._oss_meta_eval.jsonl`).
"""

from __future__ import annotations

import random
from typing import Any

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import GenerateConfig
from inspect_ai.solver import generate

from harness.core.errors import InputError
from harness.core.inspect_names import namespaced
from rubrics.healthbench import GRADER_MAX_TOKENS, healthbench_judge, healthbench_meta_judge
from rubrics.metrics import (
    grader_failure_rate,
    healthbench_metrics,
    jury_agreement,
    length_correlation,
    physician_agreement,
)
from rubrics.prompts import healthbench_template_sha256
from rubrics.solvers import fixed_output
from tasks._data import as_list
from tasks.exclusions import Exclusions, Key
from tasks.healthbench_records import Completions, load_healthbench


def _keys(sample: Sample, task_name: str) -> list[Key]:
    """A sample's own id, and the prompt it answers (which names all samples of the prompt)."""
    prompt_id = str((sample.metadata or {})["prompt_id"])
    return [(task_name, str(sample.id)), (task_name, prompt_id)]


def _select(
    samples: list[Sample],
    themes: list[str],
    exclude: str | None,
    task_name: str,
    limit: int | None,
    seed: int,
) -> list[Sample]:
    kept = Exclusions.read(exclude).keep(
        samples, task_name, lambda sample: _keys(sample, task_name)
    )
    if themes:
        kept = [s for s in kept if set(themes) & set(s.metadata["themes"])]  # type: ignore[index]
    if limit is not None and limit < len(kept):
        chosen = set(random.Random(seed).sample(range(len(kept)), limit))
        kept = [s for i, s in enumerate(kept) if i in chosen]
    if not kept:
        raise InputError(f"{task_name}: no samples left after filtering", path=exclude)
    return kept


def _judge_options(retries: int, max_tokens: int | None, cache: bool) -> dict[str, Any]:
    # a grader is required: published HealthBench numbers come from a fixed judge, and
    # an evaluated model grading itself would give numbers comparable with nothing
    return {"retries": retries, "max_tokens": max_tokens, "cache": cache, "require_grader": True}


@task(name=namespaced("tasks", "healthbench"))
def healthbench(
    path: str | None = None,
    completions: Completions = "model",
    themes: str | list[str] | None = None,
    limit: int | None = None,
    seed: int = 0,
    exclude: str | None = None,
    max_tokens: int | None = None,
    bootstrap_samples: int = 1000,
    judge_retries: int = 2,
    judge_max_tokens: int | None = GRADER_MAX_TOKENS,
    judge_cache: bool = False,
) -> Task:
    """HealthBench rubric grading (or, for meta-evaluation files, judge-vs-physician agreement).

    Args:
        path: JSONL of records or a directory of one-record JSON files.
        completions: "model" (generate), "ideal" (grade the physicians' ideal
            completions) or "reference" (grade the reference completions they were shown).
        themes: Keep records with one of these themes (e.g. emergency_referrals,hedging).
        limit: Grade a seeded random sample of this many records.
        seed: Seed for `limit` and for the bootstrap.
        exclude: File of prompt ids never to evaluate (a prompt id drops every
            sample of the prompt; a sample id, e.g. `<prompt_id>:ref1`, just that one).
        max_tokens: Generation limit for the evaluated model.
        bootstrap_samples: Bootstrap resamples for the aggregate's std and interval.
        judge_retries: Re-asks after an unusable judge reply.
        judge_max_tokens: Judge generation limit (simple-evals' 2048).
        judge_cache: Cache judge calls.
    """
    samples, location, kind = load_healthbench(path, completions)
    if kind == "meta":
        return _meta_task(
            samples, location, limit, seed, exclude, judge_retries, judge_max_tokens, judge_cache
        )
    kept = _select(samples, as_list(themes), exclude, "healthbench", limit, seed)
    return Task(
        name="healthbench",
        dataset=MemoryDataset(kept, name="healthbench", location=location),
        solver=generate() if completions == "model" else fixed_output("completion"),
        scorer=healthbench_judge(**_judge_options(judge_retries, judge_max_tokens, judge_cache)),
        metrics=[
            healthbench_metrics(bootstrap_samples, seed),
            grader_failure_rate(),
            length_correlation("healthbench_score"),
            jury_agreement(),
        ],
        config=GenerateConfig(max_tokens=max_tokens) if max_tokens else GenerateConfig(),
        model=None if completions == "model" else "none/none",  # graded text is given
        metadata={
            "benchmark": "healthbench",
            "source": location,
            "completions": completions,
            "records": len(kept),
            "excluded_or_filtered": len(samples) - len(kept),
            "grader_template_sha256": healthbench_template_sha256(),
            "evaluation_only": "HealthBench records carry a canary string; never train on them",
        },
    )


def _meta_task(
    samples: list[Sample],
    location: str,
    limit: int | None,
    seed: int,
    exclude: str | None,
    judge_retries: int,
    judge_max_tokens: int | None,
    judge_cache: bool,
) -> Task:
    kept = _select(samples, [], exclude, "healthbench_meta_eval", limit, seed)
    return Task(
        name="healthbench_meta_eval",
        dataset=MemoryDataset(kept, name="healthbench_meta_eval", location=location),
        solver=fixed_output("completion"),
        scorer=healthbench_meta_judge(
            **_judge_options(judge_retries, judge_max_tokens, judge_cache)
        ),
        metrics=[physician_agreement(), grader_failure_rate()],
        model="none/none",  # the physician-labelled completions are graded; nothing is generated
        metadata={
            "benchmark": "healthbench_meta_eval",
            "source": location,
            "records": len(kept),
            "excluded": len(samples) - len(kept),
            "grader_template_sha256": healthbench_template_sha256(),
        },
    )


@task(name=namespaced("tasks", "healthbench_meta_eval"))
def healthbench_meta_eval(
    path: str | None = None,
    limit: int | None = None,
    seed: int = 0,
    exclude: str | None = None,
    judge_retries: int = 2,
    judge_max_tokens: int | None = GRADER_MAX_TOKENS,
    judge_cache: bool = False,
) -> Task:
    """Judge-vs-physician agreement on HealthBench meta-evaluation records (options as above)."""
    samples, location, kind = load_healthbench(path)
    if kind != "meta":
        raise InputError(
            "healthbench_meta_eval needs meta-evaluation records (with binary_labels)", path=path
        )
    return _meta_task(
        samples, location, limit, seed, exclude, judge_retries, judge_max_tokens, judge_cache
    )
