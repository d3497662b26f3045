"""Scoring runs: checkpointed parts, resume after an interruption, and 2-process sharding."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harness.core.render import RenderStyle
from selection.config import LessConfig, ScoringConfig
from selection.influence import runner
from selection.influence.runner import (
    PartStore,
    ScoringJob,
    score_records,
    score_records_spawned,
)
from tests.selection.util import make_records

POOL = make_records(12)
VALIDATION = make_records(3, "v", offset=40)


def _config(model: Path, **changes: object) -> ScoringConfig:
    values = {"model": str(model), "batch_size": 3, "max_length": 96, "checkpoint_every": 3}
    return ScoringConfig(**{**values, **changes})


def _job(config: ScoringConfig, parts: Path, inputs: str = "h") -> ScoringJob:
    return ScoringJob(config, RenderStyle(), POOL, VALIDATION, parts, inputs, progress=False)


def _close(a: pd.DataFrame, b: pd.DataFrame, rtol: float) -> None:
    a, b = a.sort_values("id").reset_index(drop=True), b.sort_values("id").reset_index(drop=True)
    assert a["id"].tolist() == b["id"].tolist()
    for column in ("influence", "loss", "loss_alone", "ifd"):
        pd.testing.assert_series_equal(a[column], b[column], rtol=rtol, atol=1e-9)
    for column in ("reasoning_tokens", "completion_tokens", "truncated"):
        assert a[column].tolist() == b[column].tolist()


@pytest.fixture(scope="module")
def reference(tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    parts = tmp_path_factory.mktemp("ref") / "parts"
    frame = score_records(_job(_config(tiny_checkpoint), parts, "h"))
    assert frame is not None
    return frame


def test_scores_frame(reference: pd.DataFrame) -> None:
    assert reference["id"].tolist() == [r.id for r in POOL]
    assert reference["influence"].abs().max() > 0
    assert (reference["ifd"] - reference["loss"] / reference["loss_alone"]).abs().max() < 1e-12
    assert (reference["reasoning_tokens"] == 0).any() and (reference["reasoning_tokens"] > 0).any()


def test_resume_skips_done_ids(
    tiny_checkpoint: Path, reference: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = tmp_path / "parts"
    original = runner.Scorer.score
    scored: list[str] = []

    def failing(self, examples):  # the third batch fails, after two parts were written
        if len(scored) >= 6:
            raise KeyboardInterrupt
        scored.extend(e.id for e in examples)
        return original(self, examples)

    monkeypatch.setattr(runner.Scorer, "score", failing)
    with pytest.raises(KeyboardInterrupt):
        score_records(_job(_config(tiny_checkpoint), parts, "h"))
    assert len(PartStore(parts, "h").done_ids()) == 6

    resumed: list[str] = []

    def counting(self, examples):
        resumed.extend(e.id for e in examples)
        return original(self, examples)

    monkeypatch.setattr(runner.Scorer, "score", counting)
    frame = score_records(_job(_config(tiny_checkpoint), parts, "h"))
    assert sorted(resumed) == sorted(set(r.id for r in POOL) - set(scored))
    _close(frame, reference, rtol=1e-5)


def test_parts_of_other_inputs_are_discarded(
    tiny_checkpoint: Path, reference: pd.DataFrame, tmp_path: Path
) -> None:
    parts = tmp_path / "parts"
    store = PartStore(parts, "old-inputs")
    store.prepare()
    stale = {c: [] for c in runner.SCORE_COLUMNS}
    for column, value in zip(
        runner.SCORE_COLUMNS, ["r000", 99.0, 1.0, 1.0, 1.0, 0, 1, False], strict=True
    ):
        stale[column].append(value)
    store.write(0, stale)
    frame = score_records(_job(_config(tiny_checkpoint), parts, "new"))
    assert frame.set_index("id").loc["r000", "influence"] != 99.0
    _close(frame, reference, rtol=1e-5)


def test_two_gloo_processes_equal_one(
    tiny_checkpoint: Path, reference: pd.DataFrame, tmp_path: Path
) -> None:
    frame = score_records_spawned(2, _job(_config(tiny_checkpoint), tmp_path / "parts"))
    assert frame["id"].tolist() == [r.id for r in POOL]
    _close(frame, reference, rtol=1e-5)


@pytest.mark.parametrize("method", ["jvp", "per-sample"])
def test_every_exact_method_gives_the_same_scores(
    tiny_checkpoint: Path, reference: pd.DataFrame, tmp_path: Path, method: str
) -> None:
    config = _config(tiny_checkpoint, method=method)
    frame = score_records(_job(config, tmp_path / "parts", "h"))
    _close(frame, reference, rtol=1e-4)


def test_less_method(tiny_checkpoint: Path, lora_adapter: Path, tmp_path: Path) -> None:
    config = _config(
        tiny_checkpoint,
        method="less",
        params="lora",
        adapter=str(lora_adapter),
        less=LessConfig(dim=64),
    )
    frame = score_records(_job(config, tmp_path / "parts", "h"))
    assert frame["influence"].between(-1, 1).all() and frame["influence"].std() > 0


def test_the_papers_projected_estimator_ranks_like_the_exact_score(
    tiny_checkpoint: Path, reference: pd.DataFrame, tmp_path: Path
) -> None:
    """<P g_i, P G> with a 2,048-dimensional Rademacher projection approximates <g_i, G>."""
    from scipy.stats import spearmanr

    config = _config(tiny_checkpoint, params="attention", project=2048)
    exact = score_records(_job(_config(tiny_checkpoint, params="attention"), tmp_path / "e"))
    projected = score_records(_job(config, tmp_path / "p"))
    assert projected["loss"].tolist() == pytest.approx(exact["loss"].tolist(), rel=1e-5)
    rho = spearmanr(projected["influence"], exact["influence"]).statistic
    assert rho > 0.9
    scale = exact["influence"].abs().max()
    assert (projected["influence"] - exact["influence"]).abs().max() < 0.5 * scale
