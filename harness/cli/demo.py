"""`diq demo`: the whole study, offline, on a synthetic clinical world and a tiny model."""

from __future__ import annotations

from pathlib import Path

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
    help="A smaller world and shorter training (under 2 minutes; for tests).",
)
def demo(out: Path, seed: int, smoke: bool) -> None:
    """Generate a synthetic clinical world and run the whole study on it.

    Writes OUT/data (the synthetic pool and evaluation items, clearly marked synthetic),
    OUT/base-model (a tiny Llama-style model with a tokenizer trained on the pool),
    OUT/config.yaml, and every stage's outputs, ending with OUT/report/index.html.
    With DIQ_DATA_DIR set, the models are evaluated on the real benchmark files instead
    of the synthetic ones. Rerunning resumes.
    """
    from harness.demo.study import prepare_demo
    from harness.pipeline import run_study

    config = prepare_demo(out, seed=seed, smoke=smoke, echo=click.echo)
    run_study(config, out, echo=click.echo)
    click.echo(f"report: {out / 'report' / 'index.html'}")
