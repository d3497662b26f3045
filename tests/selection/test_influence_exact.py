"""The fast reverse contraction and the JVP path against per-sample autograd gradients.

Every parameter set, fp64 and fp32, one padded batch of uneven lengths (records with and
without reasoning), and the same top-k sets.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from scipy.stats import spearmanr

from selection.influence.batching import collate_records, encode_record, per_sample_loss
from selection.influence.fast import ReverseContraction
from selection.influence.gradient import validation_gradient
from selection.influence.jvp import eager_attention, jvp_scores
from selection.influence.model import Precision, load_model, load_tokenizer
from selection.influence.params import resolve_parameter_set
from selection.influence.reference import (
    per_sample_gradients,
    per_sample_scores,
    unpad,
    vmap_scores,
)
from tests.selection.util import make_records

TOLERANCE = {torch.float64: 1e-9, torch.float32: 2e-5}
K = 4


def _setup(checkpoint: Path, dtype: torch.dtype, params: str, adapter: Path | None = None):
    precision = Precision(
        torch.device("cpu"), dtype, torch.float64 if dtype == torch.float64 else torch.float32
    )
    tokenizer = load_tokenizer(str(checkpoint))
    model = load_model(
        str(checkpoint), precision, adapter=adapter and str(adapter), keep_lora=params == "lora"
    )
    pset = resolve_parameter_set(model, params)
    pool = [encode_record(r, tokenizer, max_length=96) for r in make_records(10)]
    validation = [
        encode_record(r, tokenizer, max_length=96) for r in make_records(4, "v", offset=20)
    ]
    gradient = validation_gradient(
        model, pset, [collate_records(validation, tokenizer.pad_token_id)]
    )
    batch = collate_records(pool, tokenizer.pad_token_id)
    assert len({int(n) for n in batch.attention_mask.sum(1)}) > 3, "lengths must be uneven"
    return model, pset, gradient, batch


def _relative(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.double() - b.double()).abs().max() / b.double().abs().max())


def _check(model, pset, gradient, batch, dtype):
    ref_loss, ref = per_sample_scores(model, pset, gradient, batch)
    with ReverseContraction(model, pset, gradient) as contraction:
        fast_loss, fast = contraction.scores(batch)
    jvp_loss, jvp = jvp_scores(model, pset, gradient, batch)
    tol = TOLERANCE[dtype]
    assert ref.abs().max() > 0
    assert _relative(fast, ref) < tol
    assert _relative(jvp, ref) < max(tol, 1e-7)  # the JVP runs eager attention (fp32 softmax)
    assert _relative(fast_loss, ref_loss) < tol
    assert _relative(jvp_loss, ref_loss) < max(tol, 1e-7)
    top = set(torch.topk(ref, K).indices.tolist())
    assert set(torch.topk(fast, K).indices.tolist()) == top
    assert set(torch.topk(jvp, K).indices.tolist()) == top


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["fp64", "fp32"])
@pytest.mark.parametrize("params", ["all-linear", "attention", "mlp", "all"])
def test_llama_sets_match_reference(tiny_checkpoint: Path, params: str, dtype: torch.dtype) -> None:
    _check(*_setup(tiny_checkpoint, dtype, params), dtype)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["fp64", "fp32"])
def test_lora_set_matches_reference(
    tiny_checkpoint: Path, lora_adapter: Path, dtype: torch.dtype
) -> None:
    model, pset, gradient, batch = _setup(tiny_checkpoint, dtype, "lora", lora_adapter)
    assert all(".lora_" in name for name in pset.parameters)
    _check(model, pset, gradient, batch, dtype)


@pytest.mark.parametrize("params", ["all", "all-linear", "attention"])
def test_tied_embeddings_and_gpt2(
    tied_checkpoint: Path, gpt2_checkpoint: Path, params: str
) -> None:
    """Tied lm_head (two uses of one matrix), GPT-2 Conv1D, LayerNorm biases, learned positions."""
    for checkpoint in (tied_checkpoint, gpt2_checkpoint):
        model, pset, gradient, batch = _setup(checkpoint, torch.float64, params)
        _check(model, pset, gradient, batch, torch.float64)


def test_bf16_fast_path_ranks_like_fp32(tiny_checkpoint: Path) -> None:
    """The GPU dtype path on CPU: bf16 GEMM operands, fp32 accumulation.

    bf16 rounds every operand to 8 bits of mantissa, so scores are not exact; what
    selection needs is the same order, so the check is rank correlation and top-k
    overlap against the fp32 run, with a loose bound on the relative error.
    """
    scores = {}
    for dtype in (torch.float32, torch.bfloat16):
        model, pset, gradient, batch = _setup(tiny_checkpoint, dtype, "all-linear")
        assert next(model.parameters()).dtype == dtype
        with ReverseContraction(model, pset, gradient) as contraction:
            losses, influence = contraction.scores(batch)
        assert influence.dtype == losses.dtype == torch.float32  # accumulated in fp32
        scores[dtype] = (losses, influence)
    (loss32, fp32), (loss16, bf16) = scores[torch.float32], scores[torch.bfloat16]
    assert not torch.equal(fp32, bf16)  # bf16 really ran
    assert spearmanr(fp32.numpy(), bf16.numpy()).statistic > 0.95
    overlap = set(torch.topk(fp32, K).indices.tolist()) & set(torch.topk(bf16, K).indices.tolist())
    assert len(overlap) >= K - 1
    assert _relative(bf16, fp32) < 0.05
    assert _relative(loss16, loss32) < 0.02


def test_merged_adapter_changes_the_model(tiny_checkpoint: Path, lora_adapter: Path) -> None:
    """With a non-lora set the adapter is merged, so scores differ from the base model's."""
    _, _, _, batch = _setup(tiny_checkpoint, torch.float64, "all-linear")
    precision = Precision(torch.device("cpu"), torch.float64, torch.float64)
    base = load_model(str(tiny_checkpoint), precision)
    merged = load_model(str(tiny_checkpoint), precision, adapter=str(lora_adapter))
    with torch.no_grad():
        assert not torch.allclose(per_sample_loss(base, batch), per_sample_loss(merged, batch))


def test_validation_gradient_is_the_mean_of_per_sample_gradients(tiny_checkpoint: Path) -> None:
    model, pset, _, batch = _setup(tiny_checkpoint, torch.float64, "mlp")
    gradient = validation_gradient(model, pset, [batch])
    explicit = per_sample_gradients(model, pset, batch)
    for name, value in gradient.items():
        mean = torch.stack([grads[name] for _, grads in explicit]).mean(0)
        torch.testing.assert_close(value, mean, rtol=1e-10, atol=1e-14)


def test_vmap_reference_agrees(tiny_checkpoint: Path) -> None:
    model, pset, gradient, batch = _setup(tiny_checkpoint, torch.float64, "attention")
    _, ref = per_sample_scores(model, pset, gradient, batch)
    with eager_attention(model):
        _, scores = vmap_scores(model, pset, gradient, batch)
    assert _relative(scores, ref) < 1e-7


def test_loss_is_mean_over_completion_tokens(tiny_checkpoint: Path) -> None:
    """The batched per-sample loss is each record's own unpadded completion-token mean."""
    model, _, _, batch = _setup(tiny_checkpoint, torch.float64, "mlp")
    with torch.no_grad():
        losses = per_sample_loss(model, batch)
        for row in range(batch.size):
            single = unpad(batch, row)
            logits = model(input_ids=single.input_ids).logits[0, :-1]
            targets = single.targets[0, :-1]
            keep = targets != -100
            expected = torch.nn.functional.cross_entropy(logits[keep], targets[keep])
            torch.testing.assert_close(losses[row], expected, rtol=1e-10, atol=1e-12)


def test_response_alone_uses_the_same_completion_tokens(tiny_checkpoint: Path) -> None:
    tokenizer = load_tokenizer(str(tiny_checkpoint))
    for record in make_records(6):
        encoded = encode_record(record, tokenizer, max_length=256)
        conditioned = [t for t in encoded.labels if t != -100]
        alone = [t for t in encoded.alone_labels if t != -100]
        assert conditioned == alone and conditioned
        assert len(encoded.alone_ids) < len(encoded.input_ids)
