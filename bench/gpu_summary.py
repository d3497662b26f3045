"""Collect bench/gpu.sh's sections into one JSON document (printed on stdout).

Each section left `<name>.log` and `<name>.status` ("exit-status seconds limit") in
--logs, or `<name>.skipped` with the reason. A section's figures are the last JSON
line of its log; a failed section keeps the end of its log instead.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("torch", "transformers", "peft", "accelerate", "trl", "datasets", "pydantic")
TIMED_OUT = {124, 137}


def environment() -> dict[str, Any]:
    import torch

    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    cuda = torch.cuda.is_available()
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "device": torch.cuda.get_device_name() if cuda else "cpu",
        "cuda": torch.version.cuda if cuda else None,
        "versions": versions,
    }


def last_json_line(text: str) -> dict[str, Any] | None:
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                return None
    return None


def section(logs: Path, name: str) -> dict[str, Any]:
    skipped = logs / f"{name}.skipped"
    if skipped.is_file():
        return {"status": "skipped", "reason": skipped.read_text().strip()}
    code, seconds, limit = (int(v) for v in (logs / f"{name}.status").read_text().split())
    text = (logs / f"{name}.log").read_text(errors="replace")
    status = "ok" if code == 0 else f"timed out after {limit} s" if code in TIMED_OUT else "failed"
    entry: dict[str, Any] = {"status": status, "exit": code, "seconds": seconds}
    if code == 0:
        entry["result"] = last_json_line(text)
    else:
        entry["log_tail"] = text.splitlines()[-30:]
    return entry


def figures(sections: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The headline numbers, and the goals they meet (None where a section gave none)."""

    def result(name: str) -> dict[str, Any]:
        return sections.get(name, {}).get("result") or {}

    influence = result("influence")
    references = result("influence_refs") or influence
    lora, full = result("train_lora"), result("train_full")
    fraction = influence.get("fast_fraction_of_flop_floor")
    return {
        "influence_samples_per_s": influence.get("samples_per_s", {}).get("fast"),
        "influence_fast_x_forward": influence.get("fast_x_forward"),
        "influence_fraction_of_flop_floor": fraction,
        "fast_speedup_vs_per_sample_loop": references.get("fast_speedup_vs_per_sample_loop"),
        "fast_speedup_vs_vmap": references.get("fast_speedup_vs_vmap"),
        "max_relative_error_vs_loop": references.get("max_relative_error_vs_loop"),
        "lora_tokens_per_s": lora.get("tokens_per_s"),
        "lora_mfu_6n": lora.get("mfu_6n"),
        "full_tokens_per_s": full.get("tokens_per_s"),
        "full_mfu_6n": full.get("mfu_6n"),
        "goal_flop_floor_fraction_ge_0.4": None if fraction is None else fraction >= 0.4,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", required=True)
    parser.add_argument("--logs", type=Path, required=True)
    parser.add_argument("--peak-tflops", type=float, required=True)
    parser.add_argument("sections", nargs="*")
    args = parser.parse_args()
    sections = {name: section(args.logs, name) for name in args.sections}
    document = {
        "mode": args.mode,
        "peak_tflops": args.peak_tflops,
        "environment": environment(),
        "figures": figures(sections),
        "sections": sections,
    }
    print(json.dumps(document, indent=2))


if __name__ == "__main__":
    main()
