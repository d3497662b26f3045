"""The published checkpoint: weights Inspect's `hf/` provider loads directly.

LoRA runs save the adapter, then merge it into a freshly loaded base on the main
process (`merge_and_unload`) rather than into the trained model in memory: under
FSDP or DeepSpeed ZeRO-3 that model is sharded across ranks, while the saved adapter
is whole. The adapter stays beside the merged weights in `adapter/` (exact, small,
reloadable with peft). With `merge=False` the adapter is the checkpoint itself:
transformers loads an adapter directory through its peft integration, reading the
base from `adapter_config.json`.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.training.base import BaseModelRef, load_model
from harness.training.config import TrainConfig

if TYPE_CHECKING:
    from trl import SFTTrainer

ADAPTER_DIR = "adapter"
# Written by `Trainer.save_model` and peft: a pickle of the arguments and an empty model
# card template, both superseded by the train manifest.
SUPERSEDED_FILES = ("training_args.bin", "README.md")


def save_trained(trainer: SFTTrainer, directory: Path) -> None:
    """Save the trained weights (adapter or full model) and tokenizer; call on every rank."""
    if trainer.is_fsdp_enabled:
        # Sharded checkpoints resume fastest; the published weights must be whole.
        trainer.accelerator.state.fsdp_plugin.set_state_dict_type("FULL_STATE_DICT")
    trainer.save_model(str(directory))
    if trainer.args.should_save:
        for name in SUPERSEDED_FILES:
            (directory / name).unlink(missing_ok=True)


def publish_files(
    saved: Path,
    destination: Path,
    *,
    config: TrainConfig,
    base: BaseModelRef,
    tokenizer: Any,
) -> None:
    """Lay out `destination` (a fresh directory) from the trainer's `saved` output."""
    if config.full:
        _move_contents(saved, destination)
        return
    _point_adapter_at_base(saved, base)
    if not config.merge:
        _move_contents(saved, destination)
        return
    from peft import PeftModel
    from transformers.integrations.deepspeed import unset_hf_deepspeed_config

    # Under DeepSpeed ZeRO-3, `from_pretrained` would partition the model across ranks
    # (a collective); this load is the main process's alone.
    unset_hf_deepspeed_config()
    # Merged in the base checkpoint's own dtype: a drop-in replacement for the base.
    merged = PeftModel.from_pretrained(load_model(base, "auto"), str(saved)).merge_and_unload()
    merged.save_pretrained(destination)
    tokenizer.save_pretrained(destination)
    shutil.move(str(saved), destination / ADAPTER_DIR)


def _point_adapter_at_base(adapter: Path, base: BaseModelRef) -> None:
    """Record the base as loadable (absolute path or hub id) in `adapter_config.json`."""
    from harness.core.io import read_json, write_json

    config_path = adapter / "adapter_config.json"
    adapter_config = read_json(config_path)
    adapter_config["base_model_name_or_path"] = base.name_or_path
    if base.revision:
        adapter_config["revision"] = base.revision
    write_json(config_path, adapter_config)


def _move_contents(source: Path, destination: Path) -> None:
    destination.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        shutil.move(str(item), destination / item.name)
