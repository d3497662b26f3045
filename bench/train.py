"""Training throughput: `SFTTrainer` (as `diq train` sets it up) against a plain loop.

CPU (default): the embedded tiny model, LoRA and full fine-tuning side by side; each
is timed through the harness's trainer and through a plain PyTorch loop (forward,
backward, AdamW step) on the same batches, and the ratio is the trainer's overhead.

GPU (`--gpu`): a randomly initialised Llama of Llama-3.2-1B's shape (1.24B parameters)
through the same trainer, LoRA r=8 on q/k/v on a bf16 base or (`--full`) full
fine-tuning with fp32 master weights and bf16 autocast; prints tokens/s and the model
FLOP utilisation, 6 * N * tokens/s over the device's peak bf16 FLOP/s (N = parameters
that do matmuls: all but the input embedding). The 6N convention counts weight
gradients that LoRA skips for frozen weights, so LoRA's hardware utilisation is nearer
4N/6N of it; both are printed. `--preset tiny --device cpu` runs the same path on a
tiny Llama (bench/gpu.sh --tiny).

    python bench/train.py                    # CPU, tiny model
    python bench/train.py --gpu --seq-len 2048 --batch-size 8
    python bench/train.py --gpu --full --json
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback

from harness.core.records import PoolRecord
from harness.models.tiny import TinyModelConfig, build_tiny_model, train_tokenizer
from harness.training import TrainConfig
from harness.training.data import to_dataset
from harness.training.trainer import build_trainer, lora_config, sft_config

H100_PEAK_BF16_TFLOPS = 989.4  # dense bf16, H100 SXM and H200 (no sparsity)

WORDS = [
    "patient",
    "presents",
    "with",
    "fever",
    "cough",
    "dyspnea",
    "chest",
    "pain",
    "tachycardia",
    "hypotension",
    "renal",
    "failure",
    "sepsis",
    "diagnosis",
    "management",
    "antibiotics",
    "imaging",
    "troponin",
    "infarction",
    "croup",
    "stridor",
    "pyelonephritis",
    "metformin",
    "lactic",
    "acidosis",
    "differential",
    "embolism",
]


@dataclass(frozen=True)
class Throughput:
    tokens: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.tokens / self.seconds


# the trainer is handed the model object; no base is loaded from disk
IN_MEMORY = "(in memory)"


def synthetic_records(count: int, words: int, seed: int = 0) -> list[PoolRecord]:
    """Records of about `words` words each, deterministic."""
    generator = torch.Generator().manual_seed(seed)

    def text(n: int) -> str:
        picks = torch.randint(len(WORDS), (n,), generator=generator).tolist()
        return " ".join(WORDS[i] for i in picks)

    return [
        PoolRecord(
            id=f"bench-{i}",
            question=text(words // 4),
            reasoning=text(words // 2),
            response=text(words // 4),
        )
        for i in range(count)
    ]


class StepTimer(TrainerCallback):
    """Times steps after `warmup` and counts the tokens they saw."""

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup
        self.start: tuple[float, int] | None = None
        self.end: tuple[float, int] | None = None

    def _now(self) -> float:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        return time.perf_counter()

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.global_step == self.warmup:
            self.start = (self._now(), state.num_input_tokens_seen)
        elif state.global_step > self.warmup:
            self.end = (self._now(), state.num_input_tokens_seen)

    def result(self) -> Throughput:
        assert self.start is not None and self.end is not None, "too few steps to time"
        return Throughput(self.end[1] - self.start[1], self.end[0] - self.start[0])


def time_trainer(
    model: Any, tokenizer: Any, records: list[PoolRecord], config: TrainConfig, warmup: int
) -> tuple[Throughput, list[dict[str, torch.Tensor]]]:
    """Train through the harness's `SFTTrainer`; also return its first batches for the loop."""
    timer = StepTimer(warmup)
    with tempfile.TemporaryDirectory() as work:
        args = sft_config(config, Path(work), max_length=config.max_length, progress=False)
        trainer = build_trainer(
            model, tokenizer, to_dataset(records, config.render), config, args, callbacks=[timer]
        )
        batches = [
            batch for batch, _ in zip(trainer.get_train_dataloader(), range(8), strict=False)
        ]
        trainer.train()
    return timer.result(), batches


def time_plain_loop(
    model: Any, batches: list[dict[str, torch.Tensor]], steps: int, warmup: int, lr: float
) -> Throughput:
    """Forward, backward and an AdamW step per batch, nothing else."""
    device = next(model.parameters()).device
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    tokens, started = 0, 0.0
    for step in range(warmup + steps):
        batch = batches[step % len(batches)]
        inputs = {key: value.to(device) for key, value in batch.items()}
        loss = model(
            input_ids=inputs["input_ids"],
            attention_mask=inputs["attention_mask"],
            labels=inputs["labels"],
        ).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if step == warmup - 1:
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            started = time.perf_counter()
        elif step >= warmup:
            tokens += int(inputs["attention_mask"].sum())
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return Throughput(tokens, time.perf_counter() - started)


def cpu_benchmark(args: argparse.Namespace) -> None:
    records = synthetic_records(args.records, args.words)
    tokenizer = train_tokenizer(
        [r.question + " " + r.reasoning + " " + r.response for r in records], vocab_size=1024
    )
    base = build_tiny_model(tokenizer, TinyModelConfig())
    print(f"tiny model: {sum(p.numel() for p in base.parameters()) / 1e6:.2f}M parameters, CPU")
    print(f"median of {args.repeats} alternating rounds (range in brackets)")
    print(f"{'mode':5s} {'trainer tok/s':>22s} {'plain tok/s':>22s} {'trainer/plain':>14s}")
    for full in (False, True):
        config = TrainConfig(
            base=IN_MEMORY,
            full=full,
            max_steps=args.warmup + args.steps,
            per_device_batch_size=args.batch_size,
            gradient_accumulation_steps=1,
            max_length=args.max_length,
            lora_dropout=0.0,
            precision="fp32",
            gradient_checkpointing=False,
            save_steps=10**9,
        )
        trainer_speeds, plain_speeds = [], []
        for _ in range(args.repeats):
            speed, batches = time_trainer(
                copy.deepcopy(base), tokenizer, records, config, args.warmup
            )
            trainer_speeds.append(speed.per_second)
            plain_model = copy.deepcopy(base)
            if not full:
                from peft import get_peft_model

                plain_model = get_peft_model(plain_model, lora_config(config))
            plain = time_plain_loop(plain_model, batches, args.steps, args.warmup, 1e-4)
            plain_speeds.append(plain.per_second)
        ratio = statistics.median(trainer_speeds) / statistics.median(plain_speeds)
        print(
            f"{'full' if full else 'lora':5s} {summary(trainer_speeds):>22s} "
            f"{summary(plain_speeds):>22s} {ratio:14.2f}"
        )


def summary(speeds: list[float]) -> str:
    """Median with the range, in tokens/s."""
    return f"{statistics.median(speeds):.0f} [{min(speeds):.0f}-{max(speeds):.0f}]"


SHAPES: dict[str, dict[str, Any]] = {
    # Llama-3.2-1B (1.24B parameters): the vocabulary is Llama 3's size (128,256), so the
    # LM head costs what it does in the real model; the benchmark's tokenizer uses only
    # its first ids.
    "1b": {
        "vocab_size": 128256,
        "hidden_size": 2048,
        "intermediate_size": 8192,
        "num_hidden_layers": 16,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "rope_theta": 500000.0,
    },
    # the embedded tiny model's shape: the same path, in seconds on a CPU
    "tiny": {
        "vocab_size": 4096,
        "hidden_size": 128,
        "intermediate_size": 352,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
    },
}


def llama_model(tokenizer: Any, preset: str, device: str, dtype: torch.dtype) -> Any:
    """A randomly initialised Llama of the preset's shape on `device`, seeded."""
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        **SHAPES[preset],
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        max_position_embeddings=8192,
        tie_word_embeddings=True,
    )
    torch.manual_seed(0)
    with torch.device(device):
        return LlamaForCausalLM(config).to(dtype)


def matmul_parameters(model: Any) -> int:
    """Parameters used in matmuls: all but the input embedding (a tied LM head counts once)."""
    embedding = model.get_input_embeddings().weight
    total = sum(p.numel() for p in model.parameters())
    tied = model.get_output_embeddings().weight is embedding
    return total if tied else total - embedding.numel()


def model_benchmark(args: argparse.Namespace) -> None:
    cuda = args.device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        raise SystemExit("--device cuda needs a CUDA device")
    records = synthetic_records(args.records, args.words)
    tokenizer = train_tokenizer(
        [r.question + " " + r.reasoning + " " + r.response for r in records], vocab_size=4096
    )
    # LoRA trains adapters on a frozen bf16 base; full fine-tuning keeps fp32 master weights.
    dtype = torch.bfloat16 if cuda and not args.full else torch.float32
    model = llama_model(tokenizer, args.preset, args.device, dtype)
    parameters = matmul_parameters(model)
    config = TrainConfig(
        base=IN_MEMORY,
        full=args.full,
        max_steps=args.warmup + args.steps,
        per_device_batch_size=args.batch_size,
        gradient_accumulation_steps=1,
        max_length=args.seq_len,
        precision="bf16" if cuda else "fp32",
        gradient_checkpointing=args.gradient_checkpointing,
        save_steps=10**9,
    )
    speed, _ = time_trainer(model, tokenizer, records, config, args.warmup)
    mfu = 6 * parameters * speed.per_second / (args.peak_tflops * 1e12)
    mode = "full" if args.full else "lora"
    device = torch.cuda.get_device_name() if cuda else args.device
    print(f"device: {device}")
    print(
        f"model: {args.preset} Llama shape, {parameters / 1e9:.3f}B matmul parameters, "
        f"{'full fine-tuning' if args.full else 'LoRA r=8 q/k/v'}"
    )
    print(f"sequence {args.seq_len} tokens, batch {args.batch_size}")
    print(f"tokens/s: {speed.per_second:,.0f}")
    print(f"MFU (6N): {mfu:.1%} of {args.peak_tflops:.1f} TFLOP/s")
    if not args.full:
        print(f"LoRA hardware utilisation (4N): {mfu * 4 / 6:.1%}")
    if args.json:
        result = {
            "device": device,
            "preset": args.preset,
            "mode": mode,
            "matmul_parameters": parameters,
            "seq_len": args.seq_len,
            "batch_size": args.batch_size,
            "timed_steps": args.steps,
            "tokens_per_s": speed.per_second,
            "mfu_6n": mfu,
            "peak_tflops": args.peak_tflops,
        }
        print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpu", action="store_true", help="a random Llama through the trainer")
    parser.add_argument("--preset", choices=sorted(SHAPES), default="1b", help="--gpu: shape")
    parser.add_argument("--device", default="cuda", help="--gpu: where to train")
    parser.add_argument("--full", action="store_true", help="--gpu: full fine-tuning")
    parser.add_argument("--json", action="store_true", help="--gpu: one JSON line at the end")
    parser.add_argument("--records", type=int, default=64)
    parser.add_argument("--words", type=int, default=None, help="words per record")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--max-length", type=int, default=256, help="CPU: max tokens")
    parser.add_argument("--seq-len", type=int, default=2048, help="GPU: tokens per sequence")
    parser.add_argument("--steps", type=int, default=None, help="timed steps")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--repeats", type=int, default=3, help="CPU: alternating rounds")
    parser.add_argument("--peak-tflops", type=float, default=H100_PEAK_BF16_TFLOPS)
    parser.add_argument(
        "--gradient-checkpointing", action=argparse.BooleanOptionalAction, default=False
    )
    args = parser.parse_args()
    if args.gpu:
        # Words long enough that every sequence fills --seq-len (truncated, no padding).
        args.words = args.words or args.seq_len
        args.batch_size = args.batch_size or 8
        args.steps = args.steps or 20
        model_benchmark(args)
    else:
        args.words = args.words or 160
        args.batch_size = args.batch_size or 8
        args.steps = args.steps or 16
        cpu_benchmark(args)


if __name__ == "__main__":
    main()
