"""`diq demo`: the whole study, offline, on a synthetic clinical world and a tiny model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click


@click.command("demo")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("runs/demo"),
    show_default=True,
    help="Run directory.",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed for the world, the model and every stage.",
)
@click.option(
    "--smoke",
    is_flag=True,
    help="A smaller world and shorter training (about 2 minutes on 2 CPU cores; for tests).",
)
@click.option(
    "--difficulty-mix",
    metavar="W1,...,W5",
    help="Relative weights of difficulty levels 1-5 in the pool [default: 1,1,1,1,1].",
)
@click.option(
    "--duplicate-rate",
    type=click.FloatRange(0, 1),
    help="Chance that an easy case gets 1-3 near-duplicates [default: 0.3].",
)
@click.option(
    "--noise-rate",
    type=click.FloatRange(0, 1),
    help="Chance that a record's answer contradicts its reasoning [default: 0.08].",
)
def demo(
    out: Path,
    seed: int,
    smoke: bool,
    difficulty_mix: str | None,
    duplicate_rate: float | None,
    noise_rate: float | None,
) -> None:
    """Generate a synthetic clinical world and run the whole study on it.

    Writes OUT/data (the synthetic pool and evaluation items, clearly marked synthetic),
    OUT/base-model (a tiny Llama-style model with a tokenizer trained on the pool),
    OUT/config.yaml, and every stage's outputs, ending with OUT/report/index.html.
    With DIQ_DATA_DIR set, the models are evaluated on the real benchmark files instead
    of the synthetic ones. Rerunning resumes. The world's make-up (difficulty mix,
    redundancy, label noise) is set by the options below; a new make-up is a new pool,
    so the study reruns from selection.
    """
    from harness.demo.study import prepare_demo
    from harness.study.run import run_study

    world: dict[str, Any] = {}
    if difficulty_mix is not None:
        try:
            world["difficulty_mix"] = tuple(float(w) for w in difficulty_mix.split(","))
        except ValueError:
            raise click.BadParameter(
                f"expected comma-separated numbers, not {difficulty_mix!r}",
                param_hint="--difficulty-mix",
            ) from None
    if duplicate_rate is not None:
        world["duplicate_rate"] = duplicate_rate
    if noise_rate is not None:
        world["noise_rate"] = noise_rate
    config = prepare_demo(out, seed=seed, smoke=smoke, world=world, echo=click.echo)
    run_study(config, out, echo=click.echo)
    click.echo(f"report: {out / 'report' / 'index.html'}")
