from __future__ import annotations

from pathlib import Path

import pytest
import torch
from pydantic import ValidationError

from harness.core.errors import ConfigError
from selection.config import LessConfig
from selection.influence.batching import collate_records, encode_record
from selection.influence.less import (
    LessScorer,
    adam_feature,
    flatten,
    load_adam_moments,
    project,
    sign_bits,
)
from selection.influence.model import Precision, load_model, load_tokenizer
from selection.influence.params import resolve_parameter_set
from selection.influence.reference import per_sample_gradients
from tests.selection.util import make_records

CPU = Precision(torch.device("cpu"), torch.float32, torch.float32)


MASK32 = 0xFFFFFFFF


def _fmix32(x: int) -> int:
    x ^= x >> 16
    x = (x * 0x85EBCA6B) & MASK32
    x ^= x >> 13
    x = (x * 0xC2B2AE35) & MASK32
    return x ^ (x >> 16)


def _reference_signs(total: int, dim: int, seed: int, first_row: int = 0) -> torch.Tensor:
    """The projection's definition, entry by entry in Python integers (slow, independent)."""
    seed_key = _fmix32(seed)
    rows = []
    for r in range(first_row, first_row + total):
        row_key = _fmix32((_fmix32(seed_key ^ (r >> 32)) + (r & MASK32)) & MASK32)
        words = [_fmix32((row_key + w * 0x9E3779B9) & MASK32) for w in range((dim + 31) // 32)]
        rows.append([1 - 2 * ((words[c // 32] >> (c % 32)) & 1) for c in range(dim)])
    return torch.tensor(rows, dtype=torch.float64)


def test_projection_matches_its_definition_whatever_the_block() -> None:
    torch.manual_seed(0)
    vectors = torch.randn(3, 70, dtype=torch.float64)
    dim = 40  # not a multiple of the 32 signs per word
    expected = (vectors @ _reference_signs(70, dim, seed=7) / dim**0.5).float()
    for block_rows in (None, 1, 16, 70):
        got = project(vectors, dim, seed=7, block_rows=block_rows)
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(project(vectors, dim, seed=8), expected, atol=1e-2)
    # rows past 2^32 (an 8B-parameter set) get their own signs too
    far = 2**32 + 5
    torch.testing.assert_close(
        1 - 2 * sign_bits(far, far + 2, dim, 7, torch.device("cpu")),
        _reference_signs(2, dim, 7, first_row=far).float(),
    )


def test_projection_is_linear_and_near_isometric() -> None:
    torch.manual_seed(0)
    vectors = torch.randn(3, 5000)
    first = project(vectors, 256, seed=7)
    torch.testing.assert_close(project(vectors[1:2], 256, seed=7), first[1:2])
    torch.testing.assert_close(project(2 * vectors, 256, seed=7), 2 * first)
    # Johnson-Lindenstrauss: norms survive roughly; signs are balanced and uncorrelated
    ratio = first.norm(dim=1) / vectors.norm(dim=1)
    assert torch.all((ratio > 0.8) & (ratio < 1.2))
    signs = 1 - 2 * sign_bits(0, 5000, 256, 7, torch.device("cpu"))
    assert signs.mean().abs() < 0.01
    gram = signs.T @ signs / 5000
    assert (gram - torch.eye(256)).abs().max() < 0.1


def test_config_bounds() -> None:
    with pytest.raises(ValidationError, match="dim"):
        LessConfig(dim=0)
    with pytest.raises(ValidationError, match="seed"):
        LessConfig(seed=-1)


def _scorer(tiny_checkpoint: Path, adapter: Path, config: LessConfig):
    tokenizer = load_tokenizer(str(tiny_checkpoint))
    model = load_model(str(tiny_checkpoint), CPU, adapter=str(adapter), keep_lora=True)
    pset = resolve_parameter_set(model, "lora")
    val_records = make_records(4, "v", offset=30)
    val = collate_records(
        [encode_record(r, tokenizer, max_length=96) for r in val_records], tokenizer.pad_token_id
    )
    pool = collate_records(
        [encode_record(r, tokenizer, max_length=96) for r in make_records(5)],
        tokenizer.pad_token_id,
    )
    groups = ["medqa", "medqa", "pubmedqa", "pubmedqa"]
    return model, pset, val, pool, groups, LessScorer(model, pset, [val], groups, config)


def test_unprojected_scores_are_explicit_cosines(tiny_checkpoint: Path, lora_adapter: Path) -> None:
    model, pset, val, pool, groups, scorer = _scorer(
        tiny_checkpoint, lora_adapter, LessConfig(dim=None)
    )
    _, scores = scorer.scores(pool)
    names = list(pset.parameters)
    train = [flatten(g, names) for _, g in per_sample_gradients(model, pset, pool)]
    valid = [flatten(g, names) for _, g in per_sample_gradients(model, pset, val)]
    cos = torch.nn.functional.cosine_similarity
    for i, feature in enumerate(train):
        per_val = torch.stack([cos(feature, v, dim=0) for v in valid])
        expected = max(per_val[:2].mean(), per_val[2:].mean())  # mean per group, max over groups
        torch.testing.assert_close(scores[i], expected, rtol=1e-5, atol=1e-6)


def test_projected_scores_are_cosines_of_projected_gradients(
    tiny_checkpoint: Path, lora_adapter: Path
) -> None:
    """The streamed, blocked pipeline equals projecting each explicit gradient by the definition."""
    model, pset, val, pool, _, scorer = _scorer(
        tiny_checkpoint, lora_adapter, LessConfig(dim=48, seed=3)
    )
    _, scores = scorer.scores(pool)
    names = list(pset.parameters)
    signs = _reference_signs(pset.numel, 48, seed=3).float() / 48**0.5
    features = [flatten(g, names) @ signs for _, g in per_sample_gradients(model, pset, pool)]
    valid = [flatten(g, names) @ signs for _, g in per_sample_gradients(model, pset, val)]
    cos = torch.nn.functional.cosine_similarity
    for i, feature in enumerate(features):
        per_val = torch.stack([cos(feature, v, dim=0) for v in valid])
        expected = max(per_val[:2].mean(), per_val[2:].mean())
        torch.testing.assert_close(scores[i], expected, rtol=1e-4, atol=1e-5)


def test_adam_features_from_an_optimizer_state(
    tiny_checkpoint: Path, lora_adapter: Path, tmp_path: Path
) -> None:
    model, pset, _, pool, _, _ = _scorer(tiny_checkpoint, lora_adapter, LessConfig(dim=None))
    params = list(pset.parameters.values())
    optimizer = torch.optim.AdamW(params, lr=1e-3)
    for p in params:
        p.grad = torch.randn_like(p)
    optimizer.step()
    path = tmp_path / "optimizer.pt"
    torch.save(optimizer.state_dict(), path)
    moments = load_adam_moments(path, pset)
    grads = per_sample_gradients(model, pset, pool)[0][1]
    feature = adam_feature(grads, moments, LessConfig())
    name = next(iter(grads))
    state = optimizer.state[pset.parameters[name]]
    m = 0.9 * state["exp_avg"] + 0.1 * grads[name]
    v = 0.999 * state["exp_avg_sq"] + 0.001 * grads[name] ** 2
    torch.testing.assert_close(feature[name], m / torch.sqrt(v + 1e-8))

    torch.save({"state": {}, "param_groups": [{"params": [0]}]}, tmp_path / "bad.pt")
    with pytest.raises(ConfigError, match="holds 1 parameters"):
        load_adam_moments(tmp_path / "bad.pt", pset)
