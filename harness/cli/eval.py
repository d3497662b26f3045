"""`diq eval`: run benchmark suites, list them, and draw influence validation items."""

from __future__ import annotations

from typing import Any

import click

from harness.cli.options import build_config, config_options, parse_key_values
from harness.core.io import write_jsonl
from harness.study.evaluation import EvalConfig, run_eval
from tasks.suites import SUITES


@click.group("eval", invoke_without_command=True)
@config_options(EvalConfig)
@click.option(
    "--model-role",
    "model_roles",
    multiple=True,
    metavar="ROLE=MODEL",
    help="A model role, e.g. grader=openai/gpt-4.1 (judged tasks). Repeatable.",
)
@click.option(
    "--log-dir",
    default="logs",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where logs go; a rerun resumes here.",
)
@click.pass_context
def eval_group(
    ctx: click.Context, model_roles: tuple[str, ...], log_dir: str, **options: Any
) -> None:
    """Evaluate models on benchmark suites (one Inspect log per model x task).

    \b
    Examples:
      diq eval --suite standard --model runs/demo/models/diq-0.1 --model runs/demo/models/random-0.1
      diq eval --suite paper --model vllm/meta-llama/Llama-3.1-8B-Instruct --exclude validation.jsonl
      diq eval sample-validation --suite paper --per-task 20 --seed 0 --out validation.jsonl
    """
    if ctx.invoked_subcommand is not None:
        return
    config = build_config(EvalConfig, options)
    if not config.models:
        raise click.UsageError("give at least one --model (or a subcommand; see --help)")
    roles = {k: str(v) for k, v in parse_key_values(model_roles, "--model-role").items()}
    logs = run_eval(config, log_dir, model_roles=roles)
    for log in logs:
        metrics = log.results.scores[0].metrics if log.results and log.results.scores else {}
        headline = ", ".join(
            f"{name}={metric.value:.3f}"
            for name, metric in metrics.items()
            if name in ("accuracy", "stderr")
        )
        click.echo(f"{log.eval.model:40s} {log.eval.task:20s} {log.status:8s} {headline}")
    click.echo(f"logs: {log_dir}")


@eval_group.command("list")
def list_suites() -> None:
    """List the suites and their tasks."""
    for suite in SUITES.values():
        click.echo(f"{suite.name}: {suite.description}")
        for entry in suite.tasks:
            args = " ".join(f"-T {k}={v}" for k, v in entry.args.items())
            optional = " (optional: user-supplied data)" if entry.optional else ""
            click.echo(f"    {entry.label:18s} tasks/{entry.task} {args}{optional}")


@eval_group.command("sample-validation")
@click.option("--suite", "suite_name", required=True, help="Suite whose tasks the items come from.")
@click.option(
    "--per-task",
    type=int,
    default=20,
    show_default=True,
    help="Items per task (the paper uses 20).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="JSONL file to write.")
def sample_validation(suite_name: str, per_task: int, seed: int, out: str) -> None:
    """Draw k validation items per benchmark for the influence step.

    The file is a pool-compatible JSONL (question = the exact prompt, response = the
    expected answer line) for `diq select --validation`, and an exclusion list for
    `diq eval --exclude` / `-T exclude=`, so these items never count in evaluation.
    """
    from tasks.suites import suite_samples
    from tasks.validation import draw_validation

    rows = draw_validation(suite_samples(suite_name), per_task, seed)
    count = write_jsonl(out, rows)
    tasks = sorted({row["task"] for row in rows})
    click.echo(
        f"wrote {count} validation items ({per_task} from each of {', '.join(tasks)}) to {out}"
    )
