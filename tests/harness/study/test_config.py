from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from harness.cli import main
from harness.core.errors import InputError
from harness.study.checks import check_study
from harness.study.config import load_config, parse_config
from harness.study.example import example_text

MINIMAL = {
    "name": "t",
    "select": {"pool": {"path": "p.jsonl"}, "validation": {"path": "v.jsonl"}},
    "train": {"base": "b"},
}


def test_example_is_valid_and_documents_every_key(tmp_path: Path) -> None:
    path = tmp_path / "experiment.yaml"
    path.write_text(example_text())
    config = load_config(path)
    assert config.name == "llama31-8b-medical-o1"
    assert config.train.lora_r == 8 and config.train.lora_targets == ("q_proj", "k_proj", "v_proj")
    assert config.select.scoring.model == config.train.base  # scoring defaults to the base
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
                "task_args",
                "grader_args",
                "labels",
                "args",
            ):
                found |= keys(value, f"{prefix}{key}.")
        return found

    inherited = {f"{s}.seed" for s in ("select", "train", "eval", "judge", "review", "report")}
    inherited |= {"select.render", "train.render"}
    inherited |= {
        f"{s}.render.{k}"
        for s in ("select", "train")
        for k in ("system_prompt", "assistant_format")
    }
    assert keys(dumped) - keys(written) == inherited  # shown as comments: the experiment's own
    assert example_text().count("  # seed: default the experiment's seed") == 6


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"train": {"base": "x", "lora_rank": 8}}, "field 'train.lora_rank': unknown key"),
        (
            {"select": {**MINIMAL["select"], "stratgies": ["diq"]}},
            "field 'select.stratgies': unknown key",
        ),
        (
            {"select": {**MINIMAL["select"], "validation": {"suites": ["paper"], "path": "v"}}},
            "field 'select.validation.path': give either a validation file or suites",
        ),
        ({"name": "has space"}, "field 'name'"),
        ({"eval": {"provider": "tgi"}}, "field 'eval.provider'"),
        (
            {"review": {"raters": ["only-one"], "raters_per_item": 2}},
            "field 'review.raters': 1 rater(s) for 2 raters per item",
        ),
        (
            {"select": {**MINIMAL["select"], "ratios": [0.1, 0.1]}},
            "field 'select.ratios': ratio 0.1 is given twice",
        ),
        (
            {"train": {"base": "b", "render": {"system_prompt": "other"}}},
            "field 'train.render': set the rendering once",
        ),
    ],
)
def test_bad_configs_name_the_key(patch: dict, message: str) -> None:
    data = {**MINIMAL, **patch}
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")) as error:
        parse_config(data, source="exp.yaml")
    assert str(error.value).startswith("exp.yaml")


def test_seed_and_rendering_reach_every_stage() -> None:
    config = parse_config({**MINIMAL, "seed": 7, "render": {"system_prompt": "Be careful."}})
    assert {config.select.seed, config.train.seed, config.eval.seed, config.report.seed} == {7}
    assert config.select.render == config.train.render == config.render
    assert config.render.system_prompt == "Be careful."
    own = parse_config({**MINIMAL, "seed": 7, "train": {"base": "b", "seed": 3}})
    assert own.train.seed == 3 and own.select.seed == 7


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"report": {"reference": "random-0.5"}}, "report.reference"),
        ({"report": {"primary": ["medqx/choice/accuracy"]}}, "report.primary"),
        ({"report": {"primary": ["AvgA"], "primary_models": ["nope"]}}, "report.primary_models"),
        (
            {
                "report": {
                    "reference": "random-0.1",
                    "primary": ["AvgA"],
                    "primary_models": ["random-0.1"],
                }
            },
            "report.primary_models",
        ),
        ({"report": {"primary_models": ["diq-0.1"]}}, "report.primary_models"),
        ({"train": {"base": "b", "subsets": ["diq-0.5"]}}, "train.subsets"),
        ({"eval": {"suites": ["nope"]}}, "eval.suites"),
        (
            {
                "judge": {
                    "graders": ["g"],
                    "tasks": [{"task": "clinical_reasoning", "args": {"sauce": 1}}],
                }
            },
            "judge.tasks.0.args",
        ),
    ],
)
def test_study_checks_name_the_field(patch: dict, field: str) -> None:
    config = parse_config({**MINIMAL, **patch})
    with pytest.raises(InputError) as caught:
        check_study(config, source="exp.yaml")
    assert caught.value.field == field
    assert str(caught.value).startswith("exp.yaml")


def test_study_checks_accept_what_the_study_produces(tmp_path: Path) -> None:
    pool = tmp_path / "p.jsonl"
    pool.write_text('{"id": "a", "question": "q", "response": "r"}\n')
    validation = tmp_path / "v.jsonl"
    validation.write_text(pool.read_text())
    select = {"pool": {"path": str(pool)}, "validation": {"path": str(validation)}}
    select["ratios"] = [0.01, 0.1]
    config = parse_config(
        {
            **MINIMAL,
            "select": select,
            "train": {"base": "org/base-model"},
            "eval": {"models": ["base=org/model"]},
            "report": {"reference": "random-0.01", "primary": ["AvgS", "medqa/choice/accuracy"]},
        }
    )
    check_study(config)
    for reference in ("diq-0.1", "base"):
        check_study(
            config.model_copy(
                update={"report": config.report.model_copy(update={"reference": reference})}
            )
        )


def test_pool_path_must_be_a_pool_file(tmp_path: Path) -> None:
    passwd = tmp_path / "passwd"
    passwd.write_text("root:x:0:0:root:/root:/bin/bash\n")
    config = parse_config(
        {**MINIMAL, "select": {**MINIMAL["select"], "pool": {"path": str(passwd)}}}
    )
    with pytest.raises(InputError, match="not a pool file") as caught:
        check_study(config)
    assert caught.value.field == "select.pool.path"


def test_relative_paths_resolve_against_the_config(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "pool.jsonl").write_text("")
    path = tmp_path / "exp.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "t",
                "select": {
                    "pool": {"path": "data/pool.jsonl"},
                    "validation": {"path": "./v.jsonl"},
                },
                "train": {
                    "base": "meta-llama/Llama-3.1-8B-Instruct",
                    "models": {"full": "./ckpt/full"},
                },
                "eval": {"logs": ["./logs/a.eval", "/abs/b.eval"]},
            }
        )
    )
    config = load_config(path)
    assert config.select.pool.path == str(tmp_path / "data" / "pool.jsonl")
    assert config.train.models == {"full": str(tmp_path / "ckpt" / "full")}
    assert config.eval.logs == [str(tmp_path / "logs" / "a.eval"), "/abs/b.eval"]
    assert config.select.validation.path == str(tmp_path / "v.jsonl")
    assert config.train.base == "meta-llama/Llama-3.1-8B-Instruct"  # a hub id stays as it is


def test_config_command(tmp_path: Path) -> None:
    runner = CliRunner()
    example = runner.invoke(main, ["config", "--example"])
    assert example.exit_code == 0 and example.output == example_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: t\nselect: {pool: {path: p}, validation: {path: v}}\ntrain: {base: b}\n"
        "judge: {gradres: [x]}\n"
    )
    result = runner.invoke(main, ["config", "--check", str(bad)])
    assert result.exit_code == 2
    assert "field 'judge.gradres': unknown key" in result.output
    reference = tmp_path / "reference.yaml"
    reference.write_text(
        "name: t\nselect: {pool: {path: p}, validation: {path: v}}\ntrain: {base: b}\n"
        "report: {reference: random-0.5}\n"
    )
    result = runner.invoke(main, ["config", "--check", str(reference)])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert f"{reference}: field 'report.reference': 'random-0.5' is not a model" in result.output


EXAMPLES = sorted((Path(__file__).parents[3] / "configs" / "examples").glob("*.yaml"))


def test_docs_show_the_example_config_verbatim() -> None:
    reference = (Path(__file__).parents[3] / "docs" / "configuration.md").read_text()
    assert example_text().rstrip("\n") in reference


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_shipped_examples_are_valid(path: Path) -> None:
    from harness.study.models import parse_model

    config = load_config(path)
    if config.train.accelerate_config is not None:
        assert Path(config.train.accelerate_config).is_file()
    for spec in config.eval.models:
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
        for name in [*config.judge.graders, *config.eval.models]
        if name.startswith("openai-api/")
    }
    served = _served_names(path.read_text())
    assert wanted <= served, f"{sorted(wanted - served)} not served by {sorted(served)}"


def test_readme_config_is_a_valid_study() -> None:
    readme = (Path(__file__).parents[3] / "README.md").read_text()
    [block] = [b for b in readme.split("```yaml\n")[1:] if b.startswith("name:")]
    config = parse_config(yaml.safe_load(block.split("```")[0]))
    check_study(config)
    assert config.select.scoring.model == "meta-llama/Llama-3.1-8B-Instruct"
