"""The demo's synthetic world: seeded, its planted classes made by their rules, marked synthetic."""

import json
import random
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.core.errors import ConfigError
from harness.core.layout import RunLayout
from harness.core.records import read_records
from harness.demo.cases import answer_line, make_case
from harness.demo.conditions import BY_NAME, EVALUATED, NOT_EVALUATED
from harness.demo.study import SMOKE, write_world
from harness.demo.world import WorldConfig, generate_world
from reports.planted import CLASSES, NOISY, OFF_TARGET, REDUNDANT, USEFUL

EVALUATED_NAMES = {c.name for c in EVALUATED}
NOT_EVALUATED_NAMES = {c.name for c in NOT_EVALUATED}
# Large enough that the configured weights show through sampling noise.
BIG = WorldConfig(pool_size=3000, eval_items=80)


def by_class(world_config: WorldConfig) -> dict[str, list]:
    """The pool's records by planted class, with their levels, from the key."""
    world = generate_world(world_config)
    records: dict[str, list] = {name: [] for name in CLASSES}
    for record in world.pool:
        records[world.key["records"][record.id]].append((record, world.key["levels"][record.id]))
    return records


def answered(record) -> str:
    """The diagnosis a record's first line names."""
    return record.response.splitlines()[0].removeprefix("ANSWER: ")


def test_same_seed_same_world_other_seed_another() -> None:
    config = WorldConfig(pool_size=200, eval_items=70, seed=3)
    first, again = generate_world(config), generate_world(config)
    assert first == again
    other = generate_world(replace(config, seed=4))
    assert [r.question for r in other.pool] != [r.question for r in first.pool]
    assert [i["question"] for i in other.mcq_items] != [i["question"] for i in first.mcq_items]


def test_class_sizes_follow_the_shares_and_the_key_covers_the_pool() -> None:
    config = WorldConfig(pool_size=101, shares=(2.0, 1.0, 1.0, 1.0))
    world = generate_world(config)
    counts = Counter(world.key["records"].values())
    assert dict(counts) == config.counts() == {USEFUL: 41, REDUNDANT: 20, NOISY: 20, OFF_TARGET: 20}
    assert set(world.key["records"]) == {r.id for r in world.pool} == set(world.key["levels"])
    # the order of the pool says nothing about the class
    first_fifth = Counter(world.key["records"][r.id] for r in world.pool[:20])
    assert len(first_fifth) == len(CLASSES)


def test_the_pool_carries_nothing_of_the_key() -> None:
    world = generate_world(WorldConfig(pool_size=200))
    for record in world.pool:
        assert record.meta == {"synthetic": True, "reference": record.meta["reference"]}
        assert record.id.startswith("syn-pool-") and record.reasoning == ""


def test_default_classes_are_made_by_their_rules() -> None:
    records = by_class(WorldConfig(pool_size=800))
    for record, level in records[USEFUL]:
        assert level in (3, 4, 5) and record.meta["reference"] in EVALUATED_NAMES
        assert answered(record) == record.meta["reference"]
        assert "\n\nKey findings: " in record.response  # the reasoning follows the answer
    assert {level for _, level in records[REDUNDANT]} == {1}
    for record, _ in records[REDUNDANT]:
        assert record.response == answer_line(record.meta["reference"])  # no reasoning
    for record, _ in records[NOISY]:
        assert record.meta["reference"] in EVALUATED_NAMES
        assert answered(record) in NOT_EVALUATED_NAMES  # another patient's answer
        assert f"These point to {answered(record)}." in record.response
    for record, _ in records[OFF_TARGET]:
        assert record.meta["reference"] in NOT_EVALUATED_NAMES
        assert answered(record) == record.meta["reference"]


def test_redundant_records_retell_the_same_findings() -> None:
    records = by_class(WorldConfig(pool_size=400))[REDUNDANT]

    def findings(record) -> frozenset[str]:
        """The words of the vignette, whatever the order, age and sex."""
        vignette = record.question.split("\n\n")[1]
        return frozenset(
            word
            for word in vignette.replace(",", "").replace(".", "").split()
            if not word[0].isdigit() and word not in ("man", "woman", "He", "She", "year-old")
        )

    assert len(records) == 120 and len({r.question for r, _ in records}) == 120
    facts = Counter((r.meta["reference"], findings(r)) for r, _ in records)
    assert len(facts) == 4 and min(facts.values()) == 30  # 4 cases, each told 30 times


def test_adversarial_classes_turn_the_premises_around() -> None:
    records = by_class(WorldConfig(world="adversarial", pool_size=800))
    assert {level for _, level in records[USEFUL]} == {1, 2}
    assert {level for _, level in records[NOISY]} == {4, 5}
    for record, _ in records[NOISY]:
        true = BY_NAME[record.meta["reference"]]
        assert answered(record) in true.look_alikes  # a plausible confusion


def test_difficulty_mix_weighs_levels_within_each_class() -> None:
    mix = (4.0, 3.0, 2.0, 1.0, 0.0)
    records = by_class(replace(BIG, difficulty_mix=mix))
    off_target = Counter(level for _, level in records[OFF_TARGET])
    total = sum(off_target.values())
    assert off_target[5] == 0
    for level, weight in zip(range(1, 6), mix, strict=True):
        assert off_target[level] / total == pytest.approx(weight / sum(mix), abs=0.04)
    useful = Counter(level for _, level in records[USEFUL])
    assert set(useful) == {3, 4}
    assert useful[3] / (useful[3] + useful[4]) == pytest.approx(2 / 3, abs=0.05)


def test_rates_set_the_redundant_and_noisy_shares() -> None:
    config = WorldConfig(pool_size=1000).with_rates(duplicate_rate=0.1, noise_rate=0.3)
    counts = config.counts()
    assert counts[REDUNDANT] == 100 and counts[NOISY] == 300
    default = dict(zip(CLASSES, WorldConfig().class_shares, strict=True))
    assert counts[USEFUL] + counts[OFF_TARGET] == 600  # the rest, in the default proportion
    assert counts[USEFUL] / counts[OFF_TARGET] == pytest.approx(
        default[USEFUL] / default[OFF_TARGET], abs=0.01
    )
    with pytest.raises(ConfigError, match="add up to more than the pool"):
        WorldConfig().with_rates(duplicate_rate=0.6, noise_rate=0.5)


def test_validation_and_evaluation_items_come_from_one_stream_and_never_overlap() -> None:
    world = generate_world(WorldConfig(pool_size=100, eval_items=60, validation_items=10))
    assert len(world.validation) == 10 and len(world.mcq_items) == 50
    assert not {r.id for r in world.validation} & {i["id"] for i in world.mcq_items}
    for record in world.validation:
        assert record.response.removeprefix("ANSWER: ") in EVALUATED_NAMES
        assert record.response.removeprefix("ANSWER: ") in record.question  # one of the options
    for item in world.mcq_items:
        assert item["id"].startswith("syn-") and item["synthetic"] is True
        assert set(item["options"].values()) <= EVALUATED_NAMES
    assert {item["meta_info"] for item in world.mcq_items} == {f"level-{n}" for n in range(1, 6)}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"difficulty_mix": (1.0, 1.0, 1.0)}, "difficulty mix must be 5"),
        ({"difficulty_mix": (1.0, -1.0, 1.0, 1.0, 1.0)}, "difficulty mix must be 5"),
        ({"difficulty_mix": (0.0, 0.0, 0.0, 0.0, 0.0)}, "difficulty mix must be 5"),
        ({"difficulty_mix": (0.0, 1.0, 1.0, 1.0, 1.0)}, "levels 1, the levels of the redundant"),
        ({"shares": (1.0, 1.0, 1.0)}, "class shares must be 4"),
        ({"world": "upside-down"}, "unknown world"),
        ({"validation_items": 240}, "validation items"),
    ],
)
def test_bad_make_up_is_refused(change: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        WorldConfig(**change)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--difficulty-mix", "1,x,1,1,1"], "expected comma-separated numbers"),
        (["--difficulty-mix", "1,1,1"], "difficulty mix must be 5 non-negative weights"),
        (["--shares", "1,1"], "class shares must be 4 non-negative weights"),
        (["--duplicate-rate", "0.7", "--noise-rate", "0.7"], "add up to more than the pool"),
    ],
)
def test_demo_refuses_a_bad_make_up_before_writing(
    tmp_path: Path, options: list[str], message: str
) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", "--out", str(out), *options])
    assert result.exit_code == 2 and message in result.output
    assert not out.exists()


def test_the_demo_writes_the_world_it_is_given(tmp_path: Path) -> None:
    world = replace(SMOKE.world, difficulty_mix=(1, 0, 0, 0, 1), shares=(1, 1, 0, 0))
    files = write_world(RunLayout(tmp_path), world)
    records = read_records(files.pool)
    key = json.loads(files.key.read_text())
    assert len(records) == world.pool_size and key["parameters"]["shares"] == [1, 1, 0, 0]
    assert {key["levels"][r.id] for r in records} == {1, 5}
    assert set(key["records"].values()) == {USEFUL, REDUNDANT}
    assert len(read_records(files.validation)) == world.validation_items
    assert len(files.items.read_text().splitlines()) == world.eval_items - world.validation_items
    assert "SYNTHETIC DATA" in (tmp_path / "data" / "README.txt").read_text()


def test_misleading_findings_stay_within_the_group() -> None:
    """Off-target cases never carry an evaluated condition's findings, and the reverse."""
    rng = random.Random(0)
    for condition in (*EVALUATED, *NOT_EVALUATED):
        group = EVALUATED if condition in EVALUATED else NOT_EVALUATED
        allowed = {f for c in group if c.name in condition.look_alikes for f in c.supportive}
        for _ in range(5):
            case = make_case(rng, 5, condition)
            assert set(case.misleading) <= allowed
