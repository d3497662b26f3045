"""GGUF files as base models: converted once into an ordinary checkpoint directory.

Selection, TRL training, Inspect's `hf/` provider and vLLM all expect a Hugging Face
checkpoint directory. `resolve_checkpoint` turns a `.gguf` reference into one: the
file is loaded with transformers' GGUF reader (dequantised to dense weights), then the
model and tokenizer are saved with `save_pretrained` (safetensors, `config.json`,
tokenizer files and the GGUF's own chat template) beside a manifest that records the
GGUF's SHA-256 and the library versions. The result is cached under the user cache,
keyed by the file's content, so a renamed or copied file is not converted twice and an
edited one is. Any other reference (a directory, a Hub id) passes through unchanged.
"""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from harness.core.cache import user_cache_dir
from harness.core.errors import InputError
from harness.core.io import atomic_directory, read_json, sha256_file, write_json

logger = logging.getLogger(__name__)

GGUF_SUFFIX = ".gguf"
MANIFEST_NAME = "gguf_manifest.json"
# Part of the cache check: a conversion made by an older layout is redone, not reused.
CONVERSION_FORMAT = 1
VERSIONED_PACKAGES = ("transformers", "gguf", "torch", "tokenizers", "safetensors", "diq-harness")

Echo = Callable[[str], None]


@dataclass(frozen=True)
class GgufInfo:
    """What the file's metadata says about the model, read without loading any tensor."""

    architecture: str
    name: str | None
    file_type: int | None
    chat_template: str | None


def is_gguf_reference(reference: str) -> bool:
    """Whether a model reference names a GGUF file (by its suffix, as users write it)."""
    return reference.lower().endswith(GGUF_SUFFIX)


def resolve_checkpoint(
    reference: str, *, cache_dir: Path | None = None, echo: Echo = logger.info
) -> str:
    """The checkpoint directory to load for `reference`.

    A path ending in `.gguf` is converted (once per file content) into a cached checkpoint
    directory, whose path is returned; anything else is returned unchanged.

    Args:
        reference: a base or scoring model as the user gave it.
        cache_dir: the user cache; defaults to `user_cache_dir()`.
        echo: where progress lines go (a conversion takes seconds to minutes).

    Raises:
        InputError: the GGUF file is missing, unreadable, or not loadable by transformers.
    """
    if not is_gguf_reference(reference):
        return reference
    path = Path(reference).expanduser()
    if not path.is_file():
        raise InputError("GGUF file not found", path=path)
    return str(cached_conversion(path, cache_dir=cache_dir, echo=echo))


def cached_conversion(
    gguf: Path, *, cache_dir: Path | None = None, echo: Echo = logger.info
) -> Path:
    """The cached checkpoint directory converted from `gguf`, converting it on first use.

    The directory is named by the file's SHA-256; a lock beside it keeps two processes
    from converting the same file at once (the second waits, then reuses the result).
    """
    from filelock import FileLock

    sha256 = sha256_file(gguf)
    root = (cache_dir or user_cache_dir()).resolve() / "gguf"
    target = root / sha256
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / f"{sha256}.lock")):
        if is_conversion_of(target, sha256):
            return target
        convert_gguf(gguf, target, sha256=sha256, echo=echo)
    return target


def read_manifest(directory: Path) -> dict[str, Any] | None:
    """The conversion manifest of a checkpoint directory, or None when diq did not convert it."""
    path = directory / MANIFEST_NAME
    if not path.is_file():
        return None
    manifest = read_json(path)
    return manifest if isinstance(manifest, dict) else None


def is_conversion_of(directory: Path, sha256: str) -> bool:
    """Whether `directory` holds a complete conversion (this format) of the GGUF with `sha256`."""
    manifest = read_manifest(directory)
    return (
        manifest is not None
        and manifest.get("gguf_sha256") == sha256
        and manifest.get("format") == CONVERSION_FORMAT
    )


def read_gguf_info(path: Path) -> GgufInfo:
    """Read the file's metadata (architecture, name, file type, chat template).

    Raises:
        InputError: the file is not a readable GGUF file.
    """
    from gguf import GGUFReader

    try:
        reader = GGUFReader(path)
    except (ValueError, OSError, IndexError, struct.error) as error:
        raise InputError(f"not a readable GGUF file ({error})", path=path) from None

    def field(key: str) -> Any:
        value = reader.get_field(key)
        return None if value is None else value.contents()

    architecture = field("general.architecture")
    if not isinstance(architecture, str):
        raise InputError("GGUF metadata has no general.architecture", path=path)
    return GgufInfo(
        architecture=architecture,
        name=field("general.name"),
        file_type=field("general.file_type"),
        chat_template=field("tokenizer.chat_template"),
    )


def load_gguf(gguf: Path) -> tuple[Any, Any]:
    """Model and tokenizer from a GGUF file through transformers, every weight dequantised.

    `dequantize=True` gives plain dense layers even where a GGUF matmul kernel is
    installed (which would keep the blocks packed and make the model unsaveable).

    Raises:
        InputError: transformers cannot build a model or tokenizer from this file.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(
            gguf.parent,
            gguf_file=gguf.name,
            quantization_config=GgufConfig(dequantize=True),
        )
    except (ValueError, KeyError, NotImplementedError) as error:
        message = " ".join(str(error).split())
        raise InputError(
            f"transformers cannot load this GGUF file ({message})", path=gguf
        ) from None
    return model, tokenizer


def convert_gguf(
    gguf: Path, out: Path, *, sha256: str | None = None, echo: Echo = logger.info
) -> Path:
    """Convert `gguf` into the checkpoint directory `out`, replacing it as a whole.

    The directory is built beside `out` and renamed into place only when complete, so a
    killed conversion leaves no half-written checkpoint.

    Args:
        gguf: the GGUF file.
        out: the checkpoint directory to write.
        sha256: the file's SHA-256 when the caller has already computed it.
        echo: where progress lines go.
    """
    info = read_gguf_info(gguf)
    sha256 = sha256 or sha256_file(gguf)
    echo(f"converting {gguf.name} ({info.architecture}, sha256 {sha256[:12]}) into {out}")
    started = time.perf_counter()
    model, tokenizer = load_gguf(gguf)
    # The saved model is a plain dense checkpoint: without this, save_pretrained refuses
    # (a GGUF-quantised model is not serialisable) and config.json would ask every later
    # load for the GGUF file again.
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:
        quantizer.remove_quantization_config(model)
    if info.chat_template is not None:
        tokenizer.chat_template = info.chat_template
    else:
        echo(f"warning: {gguf.name} carries no chat template; chat-formatted stages need one")
    with atomic_directory(out) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        write_json(tmp / MANIFEST_NAME, _manifest(gguf, sha256, info, model))
    echo(f"converted {gguf.name} in {time.perf_counter() - started:.0f}s -> {out}")
    return out


def _manifest(gguf: Path, sha256: str, info: GgufInfo, model: Any) -> dict[str, Any]:
    return {
        "format": CONVERSION_FORMAT,
        "gguf_sha256": sha256,
        "gguf_file": gguf.name,
        "gguf_size_bytes": gguf.stat().st_size,
        "architecture": info.architecture,
        "name": info.name,
        "file_type": info.file_type,
        "chat_template": info.chat_template is not None,
        "parameters": sum(p.numel() for p in model.parameters()),
        "dtype": str(model.dtype).removeprefix("torch."),
        "versions": {name: _version(name) for name in VERSIONED_PACKAGES},
    }


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None
