"""`diq tiny-model`: build the embedded default model from a pool or a texts file."""

from __future__ import annotations

from pathlib import Path

import click

from harness.core.errors import InputError


def _read_texts(path: Path) -> list[str]:
    """Non-blank lines of a UTF-8 text file."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise InputError(f"not UTF-8 text ({error.reason})", path=path) from None
    return [line for line in lines if line.strip()]


@click.command("tiny-model")
@click.option(
    "--pool",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A pool in any `diq select` format (medical-o1 JSON, MedMCQA, normalized JSONL, a subset): "
    "the tokenizer learns its questions and answers.",
)
@click.option(
    "--texts",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Plain text file, one text per line.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Checkpoint directory to write (new, empty, or a checkpoint diq made).",
)
@click.option("--vocab-size", default=4096, show_default=True, type=click.IntRange(min=300))
@click.option("--hidden-size", default=128, show_default=True, type=click.IntRange(min=8))
@click.option("--layers", default=2, show_default=True, type=click.IntRange(min=1))
@click.option("--heads", default=4, show_default=True, type=click.IntRange(min=1))
@click.option("--kv-heads", default=2, show_default=True, type=click.IntRange(min=1))
@click.option("--intermediate-size", default=352, show_default=True, type=click.IntRange(min=8))
@click.option("--max-positions", default=2048, show_default=True, type=click.IntRange(min=16))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option(
    "--force",
    is_flag=True,
    help="Write into a directory diq did not make (only the checkpoint's own files are replaced).",
)
def tiny_model(
    pool: Path | None,
    texts: Path | None,
    out: Path,
    vocab_size: int,
    hidden_size: int,
    layers: int,
    heads: int,
    kv_heads: int,
    intermediate_size: int,
    max_positions: int,
    seed: int,
    force: bool,
) -> None:
    """Build a tiny Llama-style model and a BPE tokenizer trained on your texts (no download).

    The checkpoint loads with AutoModelForCausalLM, `diq train --base` and Inspect's
    hf/ provider, so the whole study runs on a laptop CPU.

    \b
    Example:
      diq tiny-model --pool runs/demo/pool.jsonl --out runs/demo/tiny-base
    """
    import tempfile

    from harness.core.io import publish_into
    from harness.core.outdir import check_output_dir, claim_output_dir
    from harness.models.tiny import TinyModelConfig, build_tiny_checkpoint, pool_texts
    from selection.loaders import load_pool

    if (pool is None) == (texts is None):
        raise click.UsageError("give exactly one of --pool and --texts")
    if hidden_size % heads or heads % kv_heads:
        raise click.BadParameter(
            "--hidden-size must be a multiple of --heads, and --heads of --kv-heads",
            param_hint="--heads",
        )
    check_output_dir(out, "model", force=force)
    if pool is not None:
        source, corpus = pool, list(pool_texts(load_pool(pool)))
    else:
        assert texts is not None
        source, corpus = texts, _read_texts(texts)
    if not corpus:
        raise InputError("no texts to train the tokenizer on", path=source)
    config = TinyModelConfig(
        vocab_size=vocab_size,
        hidden_size=hidden_size,
        num_layers=layers,
        num_heads=heads,
        num_kv_heads=kv_heads,
        intermediate_size=intermediate_size,
        max_position_embeddings=max_positions,
        seed=seed,
    )
    out.resolve().parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".tiny-model.", dir=out.resolve().parent) as tmp:
        build_tiny_checkpoint(Path(tmp) / "checkpoint", corpus, config)
        publish_into(Path(tmp) / "checkpoint", claim_output_dir(out, "model"))
    click.echo(f"tiny model ({len(corpus)} texts from {source}) -> {out}")
