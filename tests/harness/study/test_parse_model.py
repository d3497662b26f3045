"""How model names from the command line and configs become Inspect models and report labels."""

from pathlib import Path

import pytest

from harness.core.errors import InputError
from harness.study.models import parse_model


@pytest.fixture
def checkpoint(tmp_path: Path) -> Path:
    directory = tmp_path / "models" / "diq-0.01"
    directory.mkdir(parents=True)
    (directory / "config.json").write_text("{}")
    return directory


def test_a_checkpoint_directory_runs_in_process_under_its_name(checkpoint: Path) -> None:
    spec = parse_model(str(checkpoint), {"device": "cpu"})
    assert spec.name == "hf/diq-0.01"
    assert spec.args == {
        "model_path": str(checkpoint.resolve()),
        "do_sample": False,
        "device": "cpu",
    }
    assert spec.metadata() == {"label": "diq-0.01"}


def test_vllm_serves_the_checkpoint_path_and_keeps_the_label(checkpoint: Path) -> None:
    spec = parse_model(f"mine={checkpoint}", {"gpu_memory_utilization": 0.8}, provider="vllm")
    assert spec.name == f"vllm/{checkpoint.resolve()}"
    assert spec.args == {"gpu_memory_utilization": 0.8}  # vLLM takes the checkpoint as its model
    assert spec.metadata() == {"label": "mine"}


@pytest.mark.parametrize("provider", ["hf", "vllm"])
def test_a_labelled_hub_id_is_served_locally(provider: str) -> None:
    spec = parse_model("base=meta-llama/Llama-3.1-8B-Instruct", provider=provider)
    assert spec.label == "base" and spec.checkpoint == "meta-llama/Llama-3.1-8B-Instruct"
    if provider == "hf":
        assert spec.name == "hf/base"
        assert spec.args["model_path"] == "meta-llama/Llama-3.1-8B-Instruct"
    else:
        assert spec.name == "vllm/meta-llama/Llama-3.1-8B-Instruct"


def test_inspect_model_names_pass_through() -> None:
    spec = parse_model("openai/gpt-4.1", {"temperature": 0})
    assert (spec.name, spec.args, spec.metadata()) == ("openai/gpt-4.1", {"temperature": 0}, None)
    assert parse_model("hf/Qwen/Qwen3-8B").args == {"do_sample": False}


@pytest.mark.parametrize("spec", ["./missing-dir", "label=/no/such/checkpoint", "justaname"])
def test_what_is_neither_a_checkpoint_nor_a_model_name_is_named(spec: str) -> None:
    with pytest.raises(InputError, match="neither a checkpoint directory"):
        parse_model(spec)


def test_a_directory_without_config_is_not_a_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no config.json"):
        parse_model(str(tmp_path))
