"""A .gguf base converts once, by content, into a checkpoint every later stage can load."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

import harness.models.gguf as gguf_module
from harness.core.errors import InputError
from harness.core.io import read_json, sha256_file
from harness.models.gguf import MANIFEST_NAME, read_gguf_info, resolve_checkpoint
from tests.harness.models.gguf_files import Q8_0_TENSORS, gguf_tensor_name
from tests.helpers import CLINICAL_SENTENCES


def count_conversions(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record every call of the converter (it still runs)."""
    calls: list[Path] = []
    convert = gguf_module.convert_gguf

    def counting(gguf: Path, out: Path, **kwargs: Any) -> Path:
        calls.append(gguf)
        return convert(gguf, out, **kwargs)

    monkeypatch.setattr(gguf_module, "convert_gguf", counting)
    return calls


def direct_load(gguf: Path) -> tuple[Any, Any]:
    """transformers' own GGUF load: the reference the conversion must reproduce."""
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name).eval()
    return model, tokenizer


def test_a_gguf_converts_once_into_a_checkpoint_with_the_direct_loads_logits(
    tiny_gguf: Path, tiny_checkpoint: Path, cache_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    calls = count_conversions(monkeypatch)
    first = resolve_checkpoint(str(tiny_gguf))
    assert calls == [tiny_gguf]
    assert Path(first).parent == cache_dir / "gguf"
    # Keyed by content: the same call, and a renamed copy, reuse the conversion.
    copy = shutil.copy(tiny_gguf, tmp_path / "renamed.GGUF")
    assert resolve_checkpoint(str(tiny_gguf)) == first
    assert resolve_checkpoint(str(copy)) == first
    assert calls == [tiny_gguf]

    model = AutoModelForCausalLM.from_pretrained(first).eval()
    tokenizer = AutoTokenizer.from_pretrained(first)
    reference, reference_tokenizer = direct_load(tiny_gguf)
    texts = CLINICAL_SENTENCES[:4]
    batch = tokenizer(texts, return_tensors="pt", padding=True)
    assert torch.equal(
        batch.input_ids, reference_tokenizer(texts, return_tensors="pt", padding=True).input_ids
    )
    with torch.no_grad():
        assert torch.equal(model(**batch).logits, reference(**batch).logits)

    # The weights are the original model's: exact where the file holds float32, within
    # Q8_0's rounding where it holds blocks (q/k rows back in transformers' order).
    original = AutoModelForCausalLM.from_pretrained(tiny_checkpoint).state_dict()
    for name, tensor in model.state_dict().items():
        quantized = any(kind in gguf_tensor_name(name) for kind in Q8_0_TENSORS)
        if quantized:
            scale = original[name].abs().max()
            assert (tensor - original[name]).abs().max() <= scale / 127, name
        else:
            assert torch.equal(tensor, original[name]), name

    assert tokenizer.chat_template == read_gguf_info(tiny_gguf).chat_template
    assert tokenizer.chat_template == AutoTokenizer.from_pretrained(tiny_checkpoint).chat_template
    manifest = read_json(Path(first) / MANIFEST_NAME)
    assert manifest["gguf_sha256"] == sha256_file(tiny_gguf) == Path(first).name
    assert manifest["architecture"] == "llama" and manifest["chat_template"] is True
    assert manifest["versions"]["transformers"] and manifest["versions"]["gguf"]
    assert "quantization_config" not in read_json(Path(first) / "config.json")


def test_other_references_pass_through(tmp_path: Path, cache_dir: Path) -> None:
    for reference in ("HuggingFaceTB/SmolLM2-135M-Instruct", str(tmp_path), "runs/base"):
        assert resolve_checkpoint(reference) == reference
    assert not cache_dir.exists()


def test_bad_gguf_files_are_one_line_input_errors(tmp_path: Path, cache_dir: Path) -> None:
    with pytest.raises(InputError, match=r"missing.gguf: GGUF file not found"):
        resolve_checkpoint(str(tmp_path / "missing.gguf"))
    garbage = tmp_path / "garbage.gguf"
    garbage.write_bytes(b"not a gguf file at all" * 10)
    with pytest.raises(InputError, match=r"garbage.gguf: not a readable GGUF file") as error:
        resolve_checkpoint(str(garbage))
    assert "\n" not in str(error.value)
    assert [p.suffix for p in (cache_dir / "gguf").iterdir()] == [".lock"]  # no checkpoint


def test_a_conversion_killed_midway_leaves_nothing_and_the_next_call_converts(
    tiny_gguf: Path, cache_dir: Path, monkeypatch
) -> None:
    def killed(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt  # after the weights and tokenizer are written

    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(gguf_module, "write_json", killed)
        resolve_checkpoint(str(tiny_gguf))
    assert sorted(p.name for p in (cache_dir / "gguf").iterdir()) == [
        f"{sha256_file(tiny_gguf)}.lock"
    ]
    calls = count_conversions(monkeypatch)
    assert (Path(resolve_checkpoint(str(tiny_gguf))) / MANIFEST_NAME).is_file()
    assert calls == [tiny_gguf]


def test_the_converted_checkpoint_trains_with_trl_and_runs_under_inspect(
    tiny_gguf: Path, cache_dir: Path, tmp_path: Path
) -> None:
    from inspect_ai import Task, eval
    from inspect_ai.dataset import Sample
    from inspect_ai.scorer import match
    from inspect_ai.solver import generate

    from harness.core.records import write_records
    from harness.training import TrainConfig, train_subset
    from tests.harness.training.conftest import toy_records

    base = resolve_checkpoint(str(tiny_gguf))
    subset = tmp_path / "subset.jsonl"
    write_records(subset, toy_records(1))
    config = TrainConfig(
        base=base, max_steps=2, per_device_batch_size=2, max_length=64, save_steps=1000
    )
    result = train_subset(subset, tmp_path / "trained", config, progress=False)
    assert result.manifest["steps"] == 2

    task = Task(
        dataset=[Sample(input="Fever and flank pain?", target="A")],
        solver=generate(),
        scorer=match(),
    )
    [log] = eval(
        task,
        model="hf/converted",
        model_args={"model_path": base, "device": "cpu", "do_sample": False},
        max_tokens=4,
        display="none",
        log_dir=str(tmp_path / "logs"),
    )
    assert log.status == "success", log.error
    assert log.samples and log.samples[0].output.completion is not None
