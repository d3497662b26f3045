"""Influence kernels side by side: the exact fast path against the forward pass and the references.

Methods, all on the same batch and the same validation gradient G:

- forward: per-sample completion losses, no grad (the difficulty/loss pass; the unit);
- fast: the reverse fixed-G contraction (one forward, one input-gradient backward);
- jvp: one forward-mode pass along G;
- per-sample loop: one backward per sample, explicit <g_i, G> (LESS-style, the oracle);
- vmap: torch.func vmap(grad) over the batch, explicit <g_i, G> (eager attention, which
  has a batching rule);
- train step: forward + backward with weight gradients of the batch mean (context).

Timing: rounds that run every method once, in turn, so that load on a shared machine
hits all methods alike; the minimum over rounds is reported. Peak memory: live tensor
memory allocated during one call (CPU: replayed from the profiler's allocation records;
CUDA: the allocator's peak), at the full batch and at half of it, so the growth per
sample is visible; a per-sample gradient of the set would add 4 bytes x its size per
sample.

    python bench/influence.py                         # tiny Llama, CPU, 2 threads
    python bench/influence.py --batch-size 64 --json  # one JSON line at the end
    python bench/influence.py --preset 1b --device cuda --seq-len 1024 --batch-size 8

`--preset 1b` (Llama-3.2-1B shape, random init, bf16 on CUDA) reports samples/s and the
fraction of the FLOP floor reached; it needs a GPU and has not been run in CI.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import torch
from torch.profiler import ProfilerActivity, profile
from transformers import LlamaConfig, LlamaForCausalLM

from selection.influence.batching import Batch, collate, per_sample_loss
from selection.influence.fast import ReverseContraction
from selection.influence.gradient import validation_gradient
from selection.influence.jvp import eager_attention, jvp_scores
from selection.influence.params import is_linear, resolve_parameter_set
from selection.influence.reference import per_sample_scores, vmap_scores
from selection.options import PARAMETER_SETS

H100_PEAK_BF16_TFLOPS = 989.4  # dense bf16, H100 SXM and H200

PRESETS = {
    # the research appendix's toy: 4.2M parameters
    "tiny": {
        "vocab_size": 2048,
        "hidden_size": 256,
        "num_hidden_layers": 4,
        "num_attention_heads": 4,
        "num_key_value_heads": 4,
        "intermediate_size": 688,
    },
    # Llama-3.2-1B's shape (1.24B parameters, tied embeddings)
    "1b": {
        "vocab_size": 128256,
        "hidden_size": 2048,
        "num_hidden_layers": 16,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "intermediate_size": 8192,
        "tie_word_embeddings": True,
    },
}


def build(args: argparse.Namespace) -> tuple[Any, Batch, Batch, Any, dict]:
    torch.manual_seed(args.seed)
    shape = PRESETS[args.preset]
    config = LlamaConfig(
        **{"tie_word_embeddings": False, **shape}, max_position_embeddings=max(2048, args.seq_len)
    )
    dtype = torch.bfloat16 if args.device.startswith("cuda") else torch.float32
    model = LlamaForCausalLM(config).to(device=args.device, dtype=dtype).eval()
    if args.params == "lora":
        # the paper's adapter: r=8 on q/k/v; B non-zero so that every score is non-zero
        from peft import LoraConfig, get_peft_model

        lora = LoraConfig(
            r=8,
            lora_alpha=16,
            target_modules=["q_proj", "k_proj", "v_proj"],
            init_lora_weights=False,
        )
        model = get_peft_model(model, lora).get_base_model()
    generator = torch.Generator().manual_seed(args.seed)

    def batch(n: int, prefix: str) -> Batch:
        ids = torch.randint(3, config.vocab_size, (n, args.seq_len), generator=generator).tolist()
        labels = [[-100] * args.prompt_tokens + row[args.prompt_tokens :] for row in ids]
        return collate([f"{prefix}{i}" for i in range(n)], ids, labels, pad_token_id=0).to(
            args.device
        )

    pool, validation = batch(args.batch_size, "s"), batch(args.validation_size, "v")
    pset = resolve_parameter_set(model, args.params)
    gradient = validation_gradient(model, pset, [validation])
    return model, pool, validation, pset, gradient


def methods(
    model: LlamaForCausalLM,
    pset: Any,
    gradient: dict,
    contraction: ReverseContraction,
    skip: set[str],
) -> dict[str, Callable[[Batch], Any]]:

    def forward(batch: Batch) -> Any:
        with torch.no_grad():
            return per_sample_loss(model, batch)

    def train_step(batch: Batch) -> Any:
        model.zero_grad(set_to_none=True)
        per_sample_loss(model, batch).mean().backward()
        model.zero_grad(set_to_none=True)

    def vmap(batch: Batch) -> Any:
        with eager_attention(model):
            return vmap_scores(model, pset, gradient, batch)

    table = {
        "forward": forward,
        "fast": lambda b: contraction.scores(b),
        "jvp": lambda b: jvp_scores(model, pset, gradient, b),
        "per_sample_loop": lambda b: per_sample_scores(model, pset, gradient, b),
        "vmap": vmap,
        "train_step": train_step,
    }
    return {name: fn for name, fn in table.items() if name not in skip}


def synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_methods(
    table: dict[str, Callable[[Batch], Any]], batch: Batch, rounds: int, device: str
) -> dict[str, float]:
    for fn in table.values():  # warm-up
        fn(batch)
    times: dict[str, list[float]] = {name: [] for name in table}
    for _ in range(rounds):
        for name, fn in table.items():
            synchronize(device)
            start = time.perf_counter()
            fn(batch)
            synchronize(device)
            times[name].append(time.perf_counter() - start)
    return {name: min(values) for name, values in times.items()}


def agreement(table: dict[str, Callable[[Batch], Any]], batch: Batch) -> dict[str, float]:
    """Max relative deviation of each method's scores from the per-sample loop."""
    if "per_sample_loop" not in table:
        return {}
    _, reference = table["per_sample_loop"](batch)
    scale = float(reference.double().abs().max())
    out = {}
    for name in ("fast", "jvp", "vmap"):
        if name in table:
            _, scores = table[name](batch)
            out[name] = (
                float((scores.double().cpu() - reference.double().cpu()).abs().max()) / scale
            )
    return out


def tensor_peak_mib(fn: Callable[[Batch], Any], batch: Batch, device: str) -> float:
    """Peak of live tensor memory allocated during one call, above what was live before.

    CUDA: the caching allocator's peak. CPU: replayed from the profiler's per-op
    allocation records (allocator caching and RSS noise do not enter).
    """
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        fn(batch)
        torch.cuda.synchronize()
        return (torch.cuda.max_memory_allocated() - base) / 2**20
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn(batch)
    events = sorted(
        (e for e in prof.events() if e.self_cpu_memory_usage), key=lambda e: e.time_range.end
    )
    live = peak = 0
    for event in events:
        live += event.self_cpu_memory_usage
        peak = max(peak, live)
    return peak / 2**20


def peak_memory(
    table: dict[str, Callable[[Batch], Any]], batch: Batch, device: str
) -> dict[str, float]:
    return {name: round(tensor_peak_mib(fn, batch, device), 1) for name, fn in table.items()}


def input_gradient_flags(
    contraction: ReverseContraction, model: Any, batch: Batch
) -> dict[str, bool]:
    """Which linear layers the fast path's backward gives an input gradient, from one call.

    The backward starts at the first module of the set (its output becomes a leaf), so
    everything upstream of it (embeddings, and for `mlp` all of layer 0's attention) has
    no input gradient, and neither has a set module whose input does not depend on one.
    A pre-hook sees each linear's input as the fast path feeds it, after the set's
    hooks have replaced upstream outputs: it needs a gradient exactly when the backward
    computes one.
    """
    flags: dict[str, bool] = {}
    handles = [
        module.register_forward_pre_hook(
            lambda _, inputs, name=name: flags.__setitem__(name, bool(inputs[0].requires_grad))
        )
        for name, module in model.named_modules()
        if is_linear(module)
    ]
    try:
        contraction.scores(batch)
    finally:
        for handle in handles:
            handle.remove()
    return flags


def flop_floor(
    model: LlamaForCausalLM, pset: Any, flags: dict[str, bool], args: argparse.Namespace
) -> dict[str, float]:
    """Matmul FLOPs of forward and fast path per sample (attention included, causal).

    Fast path = forward + the input-gradient backward of what lies downstream of the set
    (`flags`; the attention core of a layer is differentiated when its `o_proj` input
    needs a gradient) + one GEMM against G per linear of the set. Embedding rows, norms
    and biases of `all` cost elementwise work only and are left out.
    """
    config = model.config
    tokens, kept = args.seq_len, args.seq_len - args.prompt_tokens
    head_module = model.get_output_embeddings()
    modules = dict(model.named_modules())

    def rows(name: str) -> int:
        """Tokens a linear runs on: the vocabulary projection only at completion positions."""
        return kept if modules[name] is head_module else tokens

    block = sum(p.numel() for n, p in model.named_parameters() if ".layers." in n and p.dim() == 2)
    head = config.vocab_size * config.hidden_size
    per_layer_attention = 2 * tokens * tokens * config.hidden_size  # QK^T + AV, causal half
    forward = 2 * block * tokens + 2 * head * kept + config.num_hidden_layers * per_layer_attention
    backward_inputs = sum(
        2 * modules[name].weight.numel() * rows(name) for name, needed in flags.items() if needed
    )
    backward_inputs += sum(
        2 * per_layer_attention
        for name, needed in flags.items()
        if needed and name.endswith("self_attn.o_proj")
    )
    contraction = sum(
        2 * site.module.weight.numel() * rows(site.name)
        for site in pset.sites
        if is_linear(site.module) and "weight" in site.local
    )
    return {"forward_flop": forward, "fast_flop": forward + backward_inputs + contraction}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--preset", choices=sorted(PRESETS), default="tiny")
    parser.add_argument("--params", choices=PARAMETER_SETS, default="all-linear")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--prompt-tokens", type=int, default=32)
    parser.add_argument("--validation-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip", default="", help="comma-separated methods to leave out")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory runs")
    parser.add_argument("--json", action="store_true", help="print one JSON line at the end")
    parser.add_argument(
        "--references",
        action="store_true",
        help="1b: keep the per-sample loop and vmap (per-sample gradients of the whole set)",
    )
    parser.add_argument(
        "--peak-tflops",
        type=float,
        default=H100_PEAK_BF16_TFLOPS,
        help="CUDA: the device's bf16 peak, for the fraction of the FLOP floor",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    if args.preset == "1b" and not args.references:
        # vmap holds a 1.24B-parameter gradient per sample (2.5 GB in bf16): only on a big GPU
        skip |= {"per_sample_loop", "vmap"}

    model, pool, _, pset, gradient = build(args)
    contraction = ReverseContraction(model, pset, gradient).__enter__()
    table = methods(model, pset, gradient, contraction, skip)
    seconds = time_methods(table, pool, args.rounds, args.device)
    forward = seconds["forward"]
    result: dict[str, Any] = {
        "config": {
            **vars(args),
            "parameters": sum(p.numel() for p in model.parameters()),
            "set_numel": pset.numel,
        },
        "forward_s": forward,
        "seconds": seconds,
        "samples_per_s": {name: args.batch_size / s for name, s in seconds.items()},
    }
    for name in ("fast", "jvp", "per_sample_loop", "vmap", "train_step"):
        if name in seconds:
            result[f"{name}_x_forward"] = seconds[name] / forward
    first = Batch(
        *(getattr(pool, f)[:1] for f in ("ids", "input_ids", "attention_mask", "targets"))
    )
    floor = flop_floor(model, pset, input_gradient_flags(contraction, model, first), args)
    result["flop_floor_fast_x_forward"] = floor["fast_flop"] / floor["forward_flop"]
    if "per_sample_loop" in seconds:
        result["fast_speedup_vs_per_sample_loop"] = seconds["per_sample_loop"] / seconds["fast"]
    if "vmap" in seconds:
        result["fast_speedup_vs_vmap"] = seconds["vmap"] / seconds["fast"]
    result["max_relative_error_vs_loop"] = agreement(table, pool)
    if args.device.startswith("cuda"):
        peak = args.peak_tflops * 1e12
        result["fast_fraction_of_flop_floor"] = (
            floor["fast_flop"] * args.batch_size / seconds["fast"] / peak
        )
    if not args.no_memory:
        names = list(table)
        half_batch = Batch(
            *(
                getattr(pool, f)[: args.batch_size // 2]
                for f in ("ids", "input_ids", "attention_mask", "targets")
            )
        )
        full = peak_memory(table, pool, args.device)
        half = peak_memory(table, half_batch, args.device)
        result["peak_mib"] = full
        result["peak_mib_half_batch"] = half
        result["growth_mib_per_sample"] = {
            n: round((full[n] - half[n]) / (args.batch_size - args.batch_size // 2), 2)
            for n in names
        }
    result["goals"] = {
        "fast_le_2.5x_forward": result["fast_x_forward"] <= 2.5,
        "fast_1.5x_faster_than_loop": result.get("fast_speedup_vs_per_sample_loop", 0) >= 1.5,
        "fast_4x_faster_than_vmap": result.get("fast_speedup_vs_vmap", 0) >= 4,
    }
    width = max(len(n) for n in seconds)
    print(
        f"{args.preset} Llama, {result['config']['parameters'] / 1e6:.2f}M parameters, set {args.params} ({pset.numel / 1e6:.2f}M), batch {args.batch_size} x {args.seq_len} tokens, {args.threads} threads, {args.device}"
    )
    for name, s in seconds.items():
        memory = f"  peak {result['peak_mib'][name]:8.1f} MiB" if "peak_mib" in result else ""
        print(
            f"  {name:<{width}}  {s:8.3f} s  {s / forward:6.2f}x forward  {args.batch_size / s:8.1f} samples/s{memory}"
        )
    print(f"  FLOP floor of the fast path: {result['flop_floor_fast_x_forward']:.2f}x forward")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
