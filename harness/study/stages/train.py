"""The train stage: one fine-tuned model per subset (finished models with the same inputs skip).

With `train.accelerate_config`, each model trains under `accelerate launch` (several
GPUs, FSDP or DeepSpeed) running `diq train` on the same `train:` settings.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from harness.core.errors import ConfigError
from harness.core.fingerprint import fingerprint
from harness.core.io import sha256_json, write_json
from harness.study.stage import Stage, Study, files_digest
from harness.study.stages.common import subset_files

logger = logging.getLogger(__name__)


def _inputs(study: Study) -> Any:
    return {"train": study.config.train, "base": fingerprint(study.config.train.base)}


def _outputs(study: Study) -> str:
    """The manifests of the trained models and what the given checkpoints hold."""
    layout = study.layout
    manifests = files_digest(list(layout.models.glob("*/train_manifest.json")), layout.root)
    given = {name: fingerprint(path) for name, path in study.config.train.models.items()}
    return sha256_json([manifests, given])


def _run(study: Study) -> None:
    from harness.models.gguf import resolve_checkpoint
    from harness.training.base import resolve_base
    from harness.training.run import train_subset

    config = study.config.train
    config = config.model_copy(update={"base": resolve_checkpoint(config.base)})
    todo = [s for s in subset_files(study) if s.stem not in config.models]
    for name, path in config.models.items():
        logger.info("using the given checkpoint for %s: %s", name, path)
    if config.accelerate_config:
        for subset in todo:
            _launch(study, subset)
        return
    base = resolve_base(config.base) if todo else None
    for subset in todo:
        train_subset(subset, study.layout.model(subset.stem), config, base=base)


def _launch(study: Study, subset: Path) -> None:
    import subprocess
    import sys

    config = study.config.train
    settings = study.layout.train_config
    write_json(settings, config.model_dump(mode="json", exclude={"subsets", "models"}))
    command = [
        sys.executable, "-m", "accelerate.commands.launch",
        "--config_file", str(config.accelerate_config),
        "-m", "harness.cli.train",
        "--subset", str(subset), "--out", str(study.layout.model(subset.stem)),
        "--config", str(settings),
    ]  # fmt: skip
    if subprocess.run(command, check=False).returncode != 0:
        raise ConfigError(
            f"training {subset.stem} under accelerate failed (command: {' '.join(command)})"
        )


STAGE = Stage(name="train", upstream=("select",), inputs=_inputs, outputs=_outputs, run=_run)
