"""A tiny GGUF file written from the session's tiny checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness.models.gguf_files import write_tiny_gguf


@pytest.fixture(scope="session")
def tiny_gguf(tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny Llama as a GGUF file (float32, with Q8_0 down projections)."""
    return write_tiny_gguf(tiny_checkpoint, tmp_path_factory.mktemp("gguf") / "tiny.gguf")


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user cache for this test (`DIQ_CACHE_DIR`)."""
    path = tmp_path / "cache"
    monkeypatch.setenv("DIQ_CACHE_DIR", str(path))
    return path
