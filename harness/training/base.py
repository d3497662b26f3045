"""The base model: where it is, what identifies it, and loading it with a clear error.

A base is a local checkpoint directory (the embedded tiny model or any
`save_pretrained` output) or a Hugging Face model id. Its fingerprint names it in the
train manifest and decides whether an existing model is up to date: for a local
directory, its content (`harness.core.fingerprint`); for a hub id, the resolved commit
and the sha256 of its `config.json`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.core.errors import ConfigError, InputError
from harness.core.fingerprint import fingerprint, looks_like_hub_id
from harness.core.io import read_json, sha256_file, sha256_json

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class BaseModelRef:
    """A resolved base model.

    Attributes:
        name_or_path: as the user gave it (a hub id stays an id, so it loads from the cache).
        local_dir: the directory holding its `config.json` (a hub snapshot for an id).
        revision: the hub commit for an id, None for a local directory.
        config_sha256: sha256 of `config.json`.
        fingerprint: sha256 identifying the files (see the module docstring).
    """

    name_or_path: str
    local_dir: Path
    revision: str | None
    config_sha256: str
    fingerprint: str

    @property
    def load_path(self) -> str:
        """What `from_pretrained` gets: the local directory, or the hub id."""
        return self.name_or_path if self.revision else str(self.local_dir)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name_or_path": self.name_or_path,
            "local_dir": str(self.local_dir),
            "revision": self.revision,
            "config_sha256": self.config_sha256,
            "fingerprint": self.fingerprint,
        }


def resolve_base(base: str | Path) -> BaseModelRef:
    """Find the base model and fingerprint it, without loading weights."""
    text = str(base)
    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir():
            raise InputError("base model is not a directory", path=path)
        config = path / "config.json"
        if not config.is_file():
            raise InputError(
                "base model directory has no config.json (not a save_pretrained checkpoint)",
                path=path,
            )
        read_json(config)  # a located error if it is not JSON
        return BaseModelRef(
            name_or_path=str(path.resolve()),
            local_dir=path.resolve(),
            revision=None,
            config_sha256=sha256_file(config),
            fingerprint=str(fingerprint(path)),
        )
    if not looks_like_hub_id(text):
        raise InputError("base model not found: no such directory", path=path)
    from transformers.utils import cached_file

    try:
        config_file = cached_file(text, "config.json")
    except (OSError, ValueError) as error:
        raise InputError(
            f"base model not found: {text!r} is not a local directory, and as a Hugging Face "
            f"model id it failed to resolve ({str(error).splitlines()[0]})"
        ) from None
    if config_file is None:
        raise InputError(f"base model not found: {text!r} has no config.json on the hub")
    config_path = Path(config_file)
    revision = config_path.parent.name  # hub cache layout: snapshots/<commit>/config.json
    config_sha256 = sha256_file(config_path)
    return BaseModelRef(
        name_or_path=text,
        local_dir=config_path.parent,
        revision=revision,
        config_sha256=config_sha256,
        fingerprint=sha256_json({"hub_id": text, "revision": revision, "config": config_sha256}),
    )


def load_tokenizer(ref: BaseModelRef) -> Any:
    """The base model's tokenizer; a chat template is required by the shared rendering."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(ref.load_path, revision=ref.revision)
    except (OSError, ValueError) as error:
        raise InputError(
            f"cannot load the tokenizer of base model {ref.name_or_path!r}: {error}"
        ) from None
    if getattr(tokenizer, "chat_template", None) is None:
        raise InputError(
            f"the tokenizer of base model {ref.name_or_path!r} has no chat template; "
            "use a chat (instruct) model or add a template to its tokenizer_config.json",
            field="chat_template",
        )
    return tokenizer


def load_model(ref: BaseModelRef, dtype: torch.dtype | str) -> Any:
    """The base causal LM in `dtype` ("auto": as stored), on the CPU (the trainer places it)."""
    from transformers import AutoModelForCausalLM

    try:
        return AutoModelForCausalLM.from_pretrained(
            ref.load_path, revision=ref.revision, dtype=dtype
        )
    except (OSError, ValueError) as error:
        raise InputError(f"cannot load base model {ref.name_or_path!r}: {error}") from None


def _lora_layer_types() -> tuple[type, ...]:
    """The layer types peft's LoRA can wrap (its `_create_new_module` dispatchers)."""
    import torch
    from transformers.pytorch_utils import Conv1D

    nn = torch.nn
    return (nn.Linear, nn.Embedding, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.MultiheadAttention, Conv1D)


def check_lora_targets(model: Any, targets: tuple[str, ...], base_name: str) -> None:
    """Every LoRA target must name layers peft can adapt (peft's own errors are opaque).

    Targets match as peft matches a list of target modules: a module is a target when its
    full name is the target or ends with `.<target>`, so `q_proj`, `self_attn.q_proj` and
    `model.layers.0.self_attn.q_proj` all work. Every matched module must be of a type
    LoRA can wrap: linear layers, GPT-2-style `Conv1D` (`c_attn`), embeddings,
    convolutions, multi-head attention.
    """
    if targets == ("all-linear",):
        return
    supported = _lora_layer_types()
    modules = [(name, module) for name, module in model.named_modules() if name]
    problems = []
    for target in targets:
        matched = [m for name, m in modules if name == target or name.endswith(f".{target}")]
        wrong = sorted({type(m).__name__ for m in matched if not isinstance(m, supported)})
        if not matched:
            problems.append(f"{target} (no module of that name)")
        elif wrong:
            problems.append(f"{target} ({', '.join(wrong)})")
    if problems:
        adaptable = {name.rsplit(".", 1)[-1] for name, m in modules if isinstance(m, supported)}
        raise ConfigError(
            f"LoRA targets are not layers of base model {base_name!r} that LoRA can adapt: "
            f"{', '.join(problems)}; its adaptable layers are: {', '.join(sorted(adaptable))} "
            "(a name or a dotted suffix such as self_attn.q_proj; or pass all-linear)"
        )


def max_positions(ref: BaseModelRef) -> int | None:
    """The longest sequence the base model was built for, if its config says."""
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(ref.load_path, revision=ref.revision)
    except (OSError, ValueError) as error:
        raise InputError(
            f"cannot read the config of base model {ref.name_or_path!r}: {error}"
        ) from None
    value = getattr(config.get_text_config(), "max_position_embeddings", None)
    return value if isinstance(value, int) and value > 0 else None
