"""The planted-truth panel: class shares and recall per subset, classes on the plane, findings."""

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from harness.core.errors import InputError
from harness.core.layout import RunLayout
from reports.planted import (
    CLASSES,
    COLOURS,
    planted_findings,
    planted_svg,
    planted_truth,
)

RECORDS = {
    "r1": "useful",
    "r2": "useful",
    "r3": "useful",
    "r4": "useful",
    "r5": "redundant",
    "r6": "redundant",
    "r7": "noisy",
    "r8": "off-target",
    "r9": "useful",  # removed by decontamination: in the key, not scored
}


def key(world: str = "default") -> dict:
    return {
        "world": world,
        "parameters": {"seed": 0},
        "classes": {
            name: {"description": f"{name} records", "levels": [1, 2] if name == "useful" else [3]}
            for name in CLASSES
        },
        "records": RECORDS,
    }


def write_run(root: Path, subsets: dict[str, list[str]], world_key: dict | None = None) -> Path:
    layout = RunLayout(root)
    layout.data.mkdir(parents=True)
    layout.world_key.write_text(json.dumps(world_key or key()))
    scored = [f"r{i}" for i in range(1, 9)]
    pd.DataFrame(
        {
            "id": scored,
            "difficulty": [0.9, 0.8, 0.7, 0.1, 0.2, 0.2, 0.95, float("nan")],
            "influence": [5.0, 4.0, 1.0, 2.0, 9.0, 9.0, -3.0, 0.5],
        }
    ).to_parquet(layout.scores)
    layout.subsets.mkdir()
    for name, ids in subsets.items():
        layout.subset(name).write_text(
            "".join(json.dumps({"id": i, "question": "q", "response": "a"}) + "\n" for i in ids)
        )
    return root


def test_shares_and_recall_per_subset(tmp_path: Path) -> None:
    root = write_run(
        tmp_path, {"diq-0.5": ["r1", "r2", "r3", "r7"], "influence-0.5": ["r5", "r6", "r1", "r2"]}
    )
    panel = planted_truth(root)
    assert panel is not None
    rows = {row["subset"]: row for row in panel["subsets"]}
    assert list(rows) == ["pool", "diq-0.5", "influence-0.5"]
    assert rows["pool"]["counts"] == {"useful": 4, "redundant": 2, "noisy": 1, "off-target": 1}
    assert rows["pool"]["useful_recall"] == 1.0
    assert rows["diq-0.5"]["shares"] == {
        "useful": 0.75,
        "redundant": 0.0,
        "noisy": 0.25,
        "off-target": 0.0,
    }
    assert rows["diq-0.5"]["useful_recall"] == 0.75  # 3 of the 4 scored useful records
    assert rows["influence-0.5"]["shares"]["redundant"] == 0.5
    assert rows["influence-0.5"]["useful_recall"] == 0.5
    assert panel["classes"]["noisy"] == "noisy records"


def test_points_carry_the_class_of_each_scored_record(tmp_path: Path) -> None:
    panel = planted_truth(write_run(tmp_path, {}))
    assert panel is not None
    assert panel["points"][0] == [0.9, 5.0, "useful"]
    assert [point[2] for point in panel["points"]] == [RECORDS[f"r{i}"] for i in range(1, 8)]
    assert panel["medians"]["difficulty"] == pytest.approx(0.7)  # the unscored point is left out


def test_a_record_outside_the_scored_pool_counts_as_unscored(tmp_path: Path) -> None:
    panel = planted_truth(write_run(tmp_path, {"random-0.5": ["r9", "r1"]}))
    assert panel is not None
    [row] = [row for row in panel["subsets"] if row["subset"] == "random-0.5"]
    assert row["records"] == 2 and sum(row["counts"].values()) == 1
    assert row["useful_recall"] == 0.25


def test_without_a_key_there_is_no_panel(tmp_path: Path) -> None:
    assert planted_truth(tmp_path) is None


def test_a_key_of_another_pool_is_refused(tmp_path: Path) -> None:
    other = {**key(), "records": {"r1": "useful"}}
    with pytest.raises(InputError, match="not in the world key") as error:
        planted_truth(write_run(tmp_path, {}, other))
    assert error.value.record == "r2"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"records": {}}, "records"),
        ({"records": {"r1": "unknown"}}, "records"),
        ({"classes": {}}, "classes"),
    ],
)
def test_a_malformed_key_names_the_field(tmp_path: Path, change: dict, field: str) -> None:
    with pytest.raises(InputError) as error:
        planted_truth(write_run(tmp_path, {}, {**key(), **change}))
    assert error.value.field == field


def test_the_plot_draws_one_panel_per_class_in_its_colour(tmp_path: Path) -> None:
    panel = planted_truth(write_run(tmp_path, {}))
    assert panel is not None
    svg = str(planted_svg(panel))
    assert svg.count("<svg") == len(CLASSES)
    for name in ("useful", "redundant", "noisy"):
        assert f'fill="{COLOURS[name]}"' in svg
    assert "useful (4)" in svg and "off-target (0)" in svg  # the unscored point is not drawn
    assert f'fill="{COLOURS["off-target"]}"' not in svg


def test_findings_say_what_was_planted_and_that_it_is_by_construction() -> None:
    text = planted_findings(key())
    assert "of 9 pool records, 5 useful records (levels 1, 2); 2 redundant records" in text
    assert "premises hold here by construction" in text and "not the paper's claim" in text
    assert "premises fail here by construction" in planted_findings(key("adversarial"))


def test_shares_of_an_empty_subset_are_undefined(tmp_path: Path) -> None:
    panel = planted_truth(write_run(tmp_path, {"empty": []}))
    assert panel is not None
    [row] = [row for row in panel["subsets"] if row["subset"] == "empty"]
    assert row["records"] == 0 and all(math.isnan(v) for v in row["shares"].values())
