"""Models to evaluate: how a config or command line names them, and what identifies them.

A model is an Inspect model name (`openai/gpt-4o`, `vllm/...`), a local checkpoint
directory, or `LABEL=CHECKPOINT`; a checkpoint runs on this machine under the `hf/` or
`vllm/` provider and is identified by its content (`harness.core.fingerprint`), so a
checkpoint retrained in place is evaluated again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.core.errors import ConfigError, InputError
from harness.core.fingerprint import fingerprint


@dataclass(frozen=True)
class ModelSpec:
    """A model as Inspect names it, its model arguments, and where its weights live.

    `checkpoint` is set for a model served on this machine (in-process `hf/` or Inspect's
    vLLM server): a directory or a Hugging Face id. `label` is the name reports show; it
    travels in the eval's metadata because `vllm/` names carry the checkpoint path.
    """

    name: str
    args: dict[str, Any] = field(default_factory=dict)
    label: str | None = None
    checkpoint: str | None = None

    def greedy(self) -> dict[str, Any]:
        """Generation settings for greedy decoding (`hf/` takes `do_sample=False` instead)."""
        return {} if self.name.startswith("hf/") else {"temperature": 0.0}

    def metadata(self) -> dict[str, Any] | None:
        """Eval metadata naming the model for reports (see `reports.labels.assign_labels`)."""
        return {"label": self.label} if self.label else None

    def register(self) -> None:
        """Tell Inspect what a local checkpoint is, so it never asks the Hub about its name.

        Inspect looks up model info (context window) by model name after generating; for
        `hf/<label>` that instantiates a provider for the Hub repo `<label>`, which
        offline costs ~50 s of connection retries per model. A registered entry answers
        the lookup instead.
        """
        if self.checkpoint is None:
            return
        from inspect_ai.model import ModelInfo, set_model_info

        config = Path(self.checkpoint) / "config.json"
        context = (
            json.loads(config.read_text()).get("max_position_embeddings")
            if config.is_file()
            else None
        )
        set_model_info(
            self.name, ModelInfo(organization="local checkpoint", context_length=context)
        )


def parse_model(
    spec: str, model_args: dict[str, Any] | None = None, provider: str = "hf"
) -> ModelSpec:
    """A model from the command line or a config.

    Accepted forms: an Inspect model name (`openai/gpt-4o`, `vllm/...`, `hf/name`); a
    checkpoint directory (`runs/x/models/diq-0.01`), labelled with the directory's name;
    or `LABEL=CHECKPOINT`, where CHECKPOINT is a directory or a Hugging Face id
    (`base=meta-llama/Llama-3.1-8B-Instruct`). Checkpoints are served on this machine by
    `provider`: `hf` loads them in-process as `hf/<label>` and decodes greedily unless
    `do_sample` is given; `vllm` starts Inspect's vLLM server on `vllm/<checkpoint>`.
    """
    if provider not in ("hf", "vllm"):
        raise ConfigError(f"local checkpoints run with provider hf or vllm, not {provider!r}")
    label, sep, target = spec.partition("=")
    raw = target if sep else spec
    path = Path(raw).expanduser()
    looks_like_path = raw.startswith(("/", ".", "~")) or (
        len(path.parts) > 1 and path.parent.is_dir()
    )
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise InputError("not a transformers checkpoint (no config.json)", path=path)
        checkpoint = str(path.resolve())
    elif path.is_file() and path.suffix.lower() == ".gguf":
        checkpoint = str(path.resolve())  # converted when it is evaluated (`materialized`)
    elif sep and label and "/" in target and not looks_like_path:
        checkpoint = target  # a Hugging Face id
    elif sep or looks_like_path or "/" not in spec:
        raise InputError(
            "neither a checkpoint directory, LABEL=CHECKPOINT, nor a provider/model name",
            path=path,
        )
    else:
        args = dict(model_args or {})
        if spec.startswith("hf/"):
            args.setdefault("do_sample", False)
        return ModelSpec(name=spec, args=args)
    label = label if sep else (path.stem if path.suffix.lower() == ".gguf" else path.name)
    if provider == "vllm":
        return ModelSpec(
            name=f"vllm/{checkpoint}", args=dict(model_args or {}), label=label,
            checkpoint=checkpoint,
        )  # fmt: skip
    args = {"model_path": checkpoint, "do_sample": False, **(model_args or {})}
    return ModelSpec(name=f"hf/{label}", args=args, label=label, checkpoint=checkpoint)


def check_distinct(models: list[ModelSpec]) -> None:
    """Fail when two models would share an Inspect model name or a report label.

    Logs are told apart by model name and reports by label, so two checkpoints that
    both become `hf/<basename>` (or share a label) would resume each other's eval set
    and be pooled into one row of every comparison.
    """
    keys: list[tuple[str, Callable[[ModelSpec], str]]] = [
        ("model name", lambda model: model.name),
        ("label", lambda model: model.label or model.name),
    ]
    for what, key_of in keys:
        seen: dict[str, ModelSpec] = {}
        for model in models:
            value = key_of(model)
            if value in seen:
                first = seen[value].checkpoint or seen[value].name
                raise ConfigError(
                    f"two models share the {what} {value!r} ({first} and "
                    f"{model.checkpoint or model.name}); give them distinct labels, e.g. "
                    "--model LABEL=CHECKPOINT"
                )
            seen[value] = model


def model_identity(model: ModelSpec | None) -> str | None:
    """Content identity of a model served here; None for API models and for no model."""
    return None if model is None or model.checkpoint is None else fingerprint(model.checkpoint)


def materialized(model: ModelSpec) -> ModelSpec:
    """The model with a `.gguf` checkpoint replaced by its converted directory (once, cached)."""
    if model.checkpoint is None or not model.checkpoint.lower().endswith(".gguf"):
        return model
    from harness.models.gguf import resolve_checkpoint

    directory = resolve_checkpoint(model.checkpoint)
    if model.name.startswith("vllm/"):
        return replace(model, name=f"vllm/{directory}", checkpoint=directory)
    return replace(model, args={**model.args, "model_path": directory}, checkpoint=directory)
