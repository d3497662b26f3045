"""Test-wide setup: offline by construction, shared data and tiny-model fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Nothing in the suite may reach a hub or an API.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("INSPECT_DISPLAY", "none")
os.environ.setdefault("INSPECT_LOG_LEVEL", "warning")


@pytest.fixture(scope="session", autouse=True)
def user_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A user cache of the session's own (hashes, conversions, downloads), not ~/.cache."""
    path = tmp_path_factory.mktemp("cache")
    os.environ["DIQ_CACHE_DIR"] = str(path)
    return path


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared benchmark files (`DIQ_DATA_DIR`); tests that need them skip without it."""
    value = os.environ.get("DIQ_DATA_DIR")
    if not value or not (Path(value) / "MANIFEST.md").is_file():
        pytest.skip("DIQ_DATA_DIR does not point at the shared benchmark data")
    return Path(value).resolve()


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Llama-style checkpoint (model + tokenizer) built locally, once per session."""
    from harness.models.tiny import TinyModelConfig, build_tiny_checkpoint
    from tests.helpers import sample_texts

    out = tmp_path_factory.mktemp("tiny") / "tiny-llama"
    return build_tiny_checkpoint(out, sample_texts(), TinyModelConfig(vocab_size=1024))


@pytest.fixture(autouse=True)
def _isolated_inspect_logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep Inspect's default log directory inside each test's temporary directory."""
    monkeypatch.setenv("INSPECT_LOG_DIR", str(tmp_path / "logs"))
