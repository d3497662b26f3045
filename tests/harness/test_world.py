"""The demo's synthetic world: seeded, its make-up as configured, and marked synthetic."""

from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.core.errors import ConfigError
from harness.core.records import read_records
from harness.demo.study import SMOKE, write_world
from harness.demo.world import WorldConfig, generate_world

# Large enough that the configured rates show through sampling noise.
BIG = WorldConfig(pool_size=4000, mcq_eval=50)


def originals(world_config: WorldConfig) -> list:
    """The pool's cases, without their near-duplicates."""
    return [r for r in generate_world(world_config).pool if "duplicate_of" not in r.meta]


def test_same_seed_same_world_other_seed_another() -> None:
    config = WorldConfig(pool_size=200, mcq_eval=20, seed=3)
    first, again = generate_world(config), generate_world(config)
    assert first.pool == again.pool and first.mcq_items == again.mcq_items
    other = generate_world(WorldConfig(pool_size=200, mcq_eval=20, seed=4))
    assert [r.question for r in other.pool] != [r.question for r in first.pool]
    assert [i["question"] for i in other.mcq_items] != [i["question"] for i in first.mcq_items]


def test_difficulty_mix_is_honoured() -> None:
    mix = (4.0, 3.0, 2.0, 1.0, 0.0)
    levels = Counter(r.meta["level"] for r in originals(replace(BIG, difficulty_mix=mix)))
    total = sum(levels.values())
    assert levels[5] == 0
    for level, weight in zip(range(1, 6), mix, strict=True):
        assert levels[level] / total == pytest.approx(weight / sum(mix), abs=0.03)
    uniform = Counter(r.meta["level"] for r in originals(BIG))
    assert all(
        uniform[level] / sum(uniform.values()) == pytest.approx(0.2, abs=0.03)
        for level in range(1, 6)
    )


@pytest.mark.parametrize(("duplicate_rate", "noise_rate"), [(0.3, 0.08), (0.0, 0.25), (0.8, 0.0)])
def test_duplicate_and_noise_rates(duplicate_rate: float, noise_rate: float) -> None:
    config = replace(BIG, duplicate_rate=duplicate_rate, noise_rate=noise_rate)
    pool = generate_world(config).pool
    cases = [r for r in pool if "duplicate_of" not in r.meta]
    duplicated = {r.meta["duplicate_of"] for r in pool if "duplicate_of" in r.meta}
    easy = [r for r in cases if r.meta["level"] <= 2]
    assert duplicated <= {r.id for r in easy}  # only easy cases are repeated
    assert len(duplicated & {r.id for r in easy}) / len(easy) == pytest.approx(
        duplicate_rate, abs=0.04
    )
    assert sum(r.meta["noisy"] for r in cases) / len(cases) == pytest.approx(noise_rate, abs=0.02)
    for record in pool:  # a noisy record answers a look-alike, not the true diagnosis
        assert (record.meta["reference"] not in record.response) == record.meta["noisy"]


def test_everything_is_marked_synthetic() -> None:
    world = generate_world(WorldConfig(pool_size=300, mcq_eval=40))
    assert len(world.pool) == 300 and len(world.mcq_items) == 40
    for record in world.pool:
        assert record.id.startswith("syn-") and record.source == "synthetic"
        assert record.meta["synthetic"] is True
    for item in world.mcq_items:
        assert item["id"].startswith("syn-") and item["synthetic"] is True
    assert {item["meta_info"] for item in world.mcq_items} == {f"level-{n}" for n in range(1, 6)}


@pytest.mark.parametrize(
    "change",
    [
        {"difficulty_mix": (1.0, 1.0, 1.0)},
        {"difficulty_mix": (1.0, -1.0, 1.0, 1.0, 1.0)},
        {"difficulty_mix": (0.0, 0.0, 0.0, 0.0, 0.0)},
        {"noise_rate": 1.5},
    ],
)
def test_bad_make_up_is_refused(change: dict) -> None:
    with pytest.raises(ConfigError, match=next(iter(change)).split("_")[0]):
        WorldConfig(**change)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("1,x,1,1,1", "expected comma-separated numbers"),
        ("1,1,1", "difficulty mix must be 5 non-negative weights"),
    ],
)
def test_demo_refuses_a_bad_mix_before_writing(tmp_path: Path, option: str, message: str) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", "--out", str(out), "--difficulty-mix", option])
    assert result.exit_code == 2 and message in result.output
    assert not out.exists()


def test_the_demo_writes_the_world_it_is_given(tmp_path: Path) -> None:
    world = replace(SMOKE.world, difficulty_mix=(0, 0, 0, 0, 1), duplicate_rate=0, noise_rate=0)
    pool, items, _ = write_world(tmp_path, world)
    records = read_records(pool)
    assert len(records) == world.pool_size
    assert {r.meta["level"] for r in records} == {5}
    assert not any(r.meta["noisy"] for r in records)
    assert "SYNTHETIC DATA" in (tmp_path / "README.txt").read_text()
    assert items.is_file()
