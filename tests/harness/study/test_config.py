from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from harness.cli import main
from harness.core.errors import InputError
from harness.study.config import example_text, load_config, parse_config


def test_example_is_valid_and_documents_every_key(tmp_path: Path) -> None:
    path = tmp_path / "experiment.yaml"
    path.write_text(example_text())
    config = load_config(path)
    assert config.name == "llama31-8b-medical-o1"
    assert config.train.lora_r == 8 and config.train.lora_targets == ("q_proj", "k_proj", "v_proj")
    dumped = config.model_dump(mode="json")
    written = yaml.safe_load(example_text())

    def keys(data: dict, prefix: str = "") -> set[str]:
        found = set()
        for key, value in data.items():
            found.add(prefix + key)
            if isinstance(value, dict) and key not in (
                "field_map",
                "models",
                "model_args",
                "grader_args",
                "labels",
                "args",
            ):
                found |= keys(value, f"{prefix}{key}.")
        return found

    assert keys(dumped) - keys(written) == {
        "validation.path"
    }  # shown commented out, as the alternative


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"train": {"base": "x", "lora_rank": 8}}, "field 'train.lora_rank': unknown key"),
        ({"selection": {"stratgies": ["diq"]}}, "field 'selection.stratgies': unknown key"),
        ({"validation": {"suites": ["paper"], "path": "v.jsonl"}}, "either `path` or `suites`"),
        ({"name": "has space"}, "field 'name'"),
        ({"eval": {"provider": "tgi"}}, "field 'eval.provider'"),
    ],
)
def test_bad_configs_name_the_key(patch: dict, message: str) -> None:
    data = {
        "name": "t",
        "pool": {"path": "p.jsonl"},
        "validation": {"path": "v.jsonl"},
        "train": {"base": "b"},
    }
    data.update(patch)
    with pytest.raises(InputError, match=message.replace("(", r"\(")) as error:
        parse_config(data, source="exp.yaml")
    assert str(error.value).startswith("exp.yaml")


def test_relative_paths_resolve_against_the_config(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "pool.jsonl").write_text("")
    path = tmp_path / "exp.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "t",
                "pool": {"path": "data/pool.jsonl"},
                "validation": {"path": "./v.jsonl"},
                "train": {
                    "base": "meta-llama/Llama-3.1-8B-Instruct",
                    "models": {"full": "./ckpt/full"},
                },
                "eval": {"logs": ["./logs/a.eval", "/abs/b.eval"]},
            }
        )
    )
    config = load_config(path)
    assert config.pool.path == str(tmp_path / "data" / "pool.jsonl")
    assert config.train.models == {"full": str(tmp_path / "ckpt" / "full")}
    assert config.eval.logs == [str(tmp_path / "logs" / "a.eval"), "/abs/b.eval"]
    assert config.validation.path == str(tmp_path / "v.jsonl")
    assert config.train.base == "meta-llama/Llama-3.1-8B-Instruct"  # a hub id stays as it is


def test_config_command(tmp_path: Path) -> None:
    runner = CliRunner()
    example = runner.invoke(main, ["config", "--example"])
    assert example.exit_code == 0 and example.output == example_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: t\npool: {path: p}\nvalidation: {path: v}\ntrain: {base: b}\njudge: {gradres: [x]}\n"
    )
    result = runner.invoke(main, ["config", "--check", str(bad)])
    assert result.exit_code == 2
    assert "field 'judge.gradres': unknown key" in result.output


EXAMPLES = sorted((Path(__file__).parents[2] / "configs" / "examples").glob("*.yaml"))


def test_readme_shows_the_example_config_verbatim() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert example_text().rstrip("\n") in readme


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_shipped_examples_are_valid(path: Path) -> None:
    from harness.study.evaluation import parse_model

    config = load_config(path)
    if config.train.accelerate_config is not None:
        assert Path(config.train.accelerate_config).is_file()
    for spec in config.eval.extra_models:
        assert parse_model(spec, provider=config.eval.provider).label


def _served_names(text: str) -> set[str]:
    """Model names the `vllm serve` commands in a config's comments serve under."""
    import shlex

    lines = [line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")]
    commands = " ".join(lines).replace("\\ ", " ").split("vllm serve ")[1:]
    names = set()
    for command in commands:
        words = shlex.split(command.split("#")[0])
        flag = "--served-model-name"
        names.add(words[words.index(flag) + 1] if flag in words else words[0])
    return names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_served_models_are_named_as_the_config_asks(path: Path) -> None:
    """An `openai-api/<service>/<model>` name must be what the documented server serves."""
    config = load_config(path)
    wanted = {
        name.split("/", 2)[2]
        for name in [*config.judge.graders, *config.eval.extra_models]
        if name.startswith("openai-api/")
    }
    served = _served_names(path.read_text())
    assert wanted <= served, f"{sorted(wanted - served)} not served by {sorted(served)}"
