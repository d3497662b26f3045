"""Training the tiny model on CPU: loss falls, seeds reproduce, outputs load, runs resume."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from statistics import mean

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback

from harness.core.io import sha256_file
from harness.core.records import write_records
from harness.training import MANIFEST_NAME, TrainConfig, train_all, train_subset
from harness.training.export import ADAPTER_DIR
from harness.training.run import work_dir_for
from tests.harness.training.conftest import toy_records


def falls(losses: list[float], by: float) -> bool:
    """The last four logged losses average at least `by` nats below the first four."""
    return mean(losses[-4:]) < mean(losses[:4]) - by


def logits(model_dir: Path | str, text: str = "Diagnosis? Croup", **kwargs) -> torch.Tensor:
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, **kwargs).eval()
    with torch.no_grad():
        return model(**tokenizer(text, return_tensors="pt")).logits


def test_lora_training_falls_and_publishes_a_loadable_merged_model(
    tiny_checkpoint: Path,
    subset_file: Path,
    tmp_path: Path,
    fast_config: Callable[..., TrainConfig],
) -> None:
    out = tmp_path / "models" / "toy"
    result = train_subset(subset_file, out, fast_config(epochs=4), progress=False)

    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert result.manifest == manifest and not result.skipped
    assert manifest["steps"] == 24 and len(manifest["loss_curve"]) == 24
    assert manifest["loss_curve_steps"] == list(range(1, 25))
    # LoRA on q/k/v of a random model can only reshape attention: a modest, certain fall.
    assert falls(manifest["loss_curve"], by=0.3), manifest["loss_curve"]
    assert manifest["mode"] == "lora" and manifest["merged"] is True
    assert manifest["subset"]["sha256"] == sha256_file(subset_file)
    assert manifest["subset"]["records"] == 24
    assert manifest["base_model"]["local_dir"] == str(tiny_checkpoint.resolve())
    assert manifest["hyperparameters"]["lora_r"] == 8
    assert manifest["hyperparameters"]["lora_targets"] == ["q_proj", "k_proj", "v_proj"]
    assert manifest["hyperparameters"]["precision"] == "fp32"
    assert manifest["truncation"]["truncated"] == 0
    assert manifest["train_tokens"] == 4 * manifest["truncation"]["tokens"]  # 4 epochs
    assert manifest["versions"]["trl"] and manifest["wall_time_s"] > 0
    assert not work_dir_for(out).exists()

    # The merged weights changed, load as a plain causal LM, equal base + adapter, generate.
    assert (out / ADAPTER_DIR / "adapter_config.json").is_file()
    merged = logits(out)
    assert not torch.allclose(merged, logits(tiny_checkpoint))
    from peft import PeftModel

    base = AutoModelForCausalLM.from_pretrained(tiny_checkpoint)
    adapted = PeftModel.from_pretrained(base, out / ADAPTER_DIR).eval()
    tokenizer = AutoTokenizer.from_pretrained(out)
    with torch.no_grad():
        reference = adapted(**tokenizer("Diagnosis? Croup", return_tensors="pt")).logits
    torch.testing.assert_close(merged, reference, rtol=1e-4, atol=1e-4)

    model = AutoModelForCausalLM.from_pretrained(out)
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": toy_records(1)[0].question}],
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )
    generated = model.generate(**prompt, max_new_tokens=8, do_sample=False)
    assert generated.shape[1] > prompt["input_ids"].shape[1]


def test_full_fine_tuning_falls_and_has_no_adapter(
    tiny_checkpoint: Path,
    subset_file: Path,
    tmp_path: Path,
    fast_config: Callable[..., TrainConfig],
) -> None:
    out = tmp_path / "full"
    config = fast_config(full=True, learning_rate=1e-3)
    manifest = train_subset(subset_file, out, config, progress=False).manifest
    assert manifest["mode"] == "full" and manifest["merged"] is False
    assert "lora_r" not in manifest["hyperparameters"]
    assert falls(manifest["loss_curve"], by=1.5), manifest["loss_curve"]
    assert not (out / ADAPTER_DIR).exists()
    assert not torch.allclose(logits(out), logits(tiny_checkpoint))


def test_same_seed_same_loss_curve_other_seed_differs(
    tiny_checkpoint: Path,
    subset_file: Path,
    tmp_path: Path,
    fast_config: Callable[..., TrainConfig],
) -> None:
    def curve(name: str, seed: int) -> list[float]:
        config = fast_config(seed=seed, max_steps=6)
        out = tmp_path / name
        return train_subset(subset_file, out, config, progress=False).manifest["loss_curve"]

    first, second, other = curve("a", 0), curve("b", 0), curve("c", 1)
    assert first == second
    assert first != other


def test_gradient_accumulation_matches_the_larger_batch(
    tiny_checkpoint: Path,
    subset_file: Path,
    tmp_path: Path,
    fast_config: Callable[..., TrainConfig],
) -> None:
    def curve(name: str, batch: int, accumulation: int) -> list[float]:
        config = fast_config(
            per_device_batch_size=batch,
            gradient_accumulation_steps=accumulation,
            lora_dropout=0.0,
            max_steps=4,
        )
        out = tmp_path / name
        return train_subset(subset_file, out, config, progress=False).manifest["loss_curve"]

    assert curve("one", 4, 1) == pytest.approx(curve("two", 2, 2), rel=1e-4)


class Interrupt(TrainerCallback):
    """Stops the process mid-run, as a crash or a pre-empted job would."""

    def __init__(self, at_step: int) -> None:
        self.at_step = at_step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.at_step:
            raise KeyboardInterrupt


def test_an_interrupted_run_resumes_to_the_same_model(
    tiny_checkpoint: Path,
    subset_file: Path,
    tmp_path: Path,
    fast_config: Callable[..., TrainConfig],
) -> None:
    config = fast_config(save_steps=4)
    out = tmp_path / "resumed"
    with pytest.raises(KeyboardInterrupt):
        train_subset(subset_file, out, config, progress=False, callbacks=[Interrupt(6)])
    assert not out.exists()
    checkpoints = work_dir_for(out) / "checkpoints"
    assert (checkpoints / "checkpoint-4").is_dir()
    # a kill while the Trainer was saving: weights written, trainer_state.json (written last) not
    shutil.copytree(checkpoints / "checkpoint-4", checkpoints / "checkpoint-6")
    (checkpoints / "checkpoint-6" / "trainer_state.json").unlink()

    resumed = train_subset(subset_file, out, config, progress=False).manifest
    straight = train_subset(subset_file, tmp_path / "straight", config, progress=False).manifest
    assert resumed["resumed_from"] == "checkpoint-4"
    assert resumed["steps"] == straight["steps"] == 12
    assert resumed["loss_curve"] == pytest.approx(straight["loss_curve"], rel=1e-5)
    torch.testing.assert_close(logits(out), logits(tmp_path / "straight"))


def test_a_changed_request_does_not_resume_a_stale_checkpoint(
    tiny_checkpoint: Path,
    subset_file: Path,
    tmp_path: Path,
    fast_config: Callable[..., TrainConfig],
) -> None:
    out = tmp_path / "model"
    with pytest.raises(KeyboardInterrupt):
        train_subset(
            subset_file,
            out,
            fast_config(save_steps=2),
            progress=False,
            callbacks=[Interrupt(3)],
        )
    manifest = train_subset(
        subset_file, out, fast_config(learning_rate=1e-3), progress=False
    ).manifest
    assert manifest["resumed_from"] is None and manifest["steps"] == 12


def test_up_to_date_models_are_skipped_and_changed_inputs_retrain(
    tiny_checkpoint: Path, tmp_path: Path, fast_config: Callable[..., TrainConfig]
) -> None:
    subsets = tmp_path / "run" / "subsets"
    write_records(subsets / "first.jsonl", toy_records(2))
    write_records(subsets / "second.jsonl", toy_records(3))
    (subsets / "first.manifest.json").write_text("{}")  # subset manifests are not subsets
    config = fast_config(max_steps=2)

    results = train_all(subsets, config, progress=False)
    models = tmp_path / "run" / "models"
    assert [r.output_dir for r in results] == [models / "first", models / "second"]
    assert not any(r.skipped for r in results)
    assert all((models / name / MANIFEST_NAME).is_file() for name in ("first", "second"))

    again = train_all(subsets, config, progress=False)
    assert all(r.skipped for r in again)
    assert again[0].manifest == results[0].manifest

    write_records(subsets / "second.jsonl", toy_records(1))
    changed = train_all(subsets, fast_config(max_steps=2), progress=False)
    assert [r.skipped for r in changed] == [True, False]
    other_lr = train_all(subsets, fast_config(max_steps=2, seed=5))
    assert not any(r.skipped for r in other_lr)


def test_unmerged_adapter_directory_loads_as_a_model(
    tiny_checkpoint: Path,
    subset_file: Path,
    tmp_path: Path,
    fast_config: Callable[..., TrainConfig],
) -> None:
    out = tmp_path / "adapter-only"
    manifest = train_subset(
        subset_file, out, fast_config(merge=False, max_steps=3), progress=False
    ).manifest
    assert manifest["merged"] is False
    assert (out / "adapter_config.json").is_file() and not (out / "model.safetensors").exists()
    adapter_config = json.loads((out / "adapter_config.json").read_text())
    assert adapter_config["base_model_name_or_path"] == str(tiny_checkpoint.resolve())
    assert not torch.allclose(logits(out), logits(tiny_checkpoint))
