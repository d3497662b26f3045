from __future__ import annotations

import xml.etree.ElementTree as ET

import pandas as pd

from selection import plot
from selection.plot import nice_ticks, quadrant_svg, tick_label
from selection.strategies import thresholds

SVG = "{http://www.w3.org/2000/svg}"


def _table(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "influence": [((i * 37) % n) / n - 0.5 for i in range(n)],
            "difficulty": [float(i % 5 + 1) for i in range(n)],
        }
    )


def test_svg_is_well_formed_and_counts_points() -> None:
    table = _table(40)
    table.loc[0, "id"] = 'evil<script>&"id'
    split = thresholds(table)
    svg = quadrant_svg(table, ["r1", "r2", 'evil<script>&"id'], split, title="diq <0.1>")
    root = ET.fromstring(svg)
    circles = root.findall(f".//{SVG}circle")
    assert len(circles) == 40
    assert sum(1 for c in circles if c.get("fill") == plot.SELECTED) == 3
    assert "<script>" not in svg
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "3 of 40 records selected" in texts and "jittered" in texts  # five Likert levels
    for quadrant in ("Q1", "Q2", "Q3", "Q4"):
        assert quadrant in texts


def test_large_pools_are_thinned_but_keep_every_selected_point(monkeypatch) -> None:
    monkeypatch.setattr(plot, "MAX_POINTS", 50)
    table = _table(200)
    chosen = [f"r{i}" for i in range(0, 200, 20)]
    root = ET.fromstring(quadrant_svg(table, chosen, thresholds(table), title="t"))
    circles = root.findall(f".//{SVG}circle")
    assert len(circles) <= 50
    assert sum(1 for c in circles if c.get("fill") == plot.SELECTED) == len(chosen)


def test_ticks() -> None:
    ticks = nice_ticks(0.9979, 1.0034)
    assert [tick_label(t, ticks) for t in ticks] == ["0.998", "1.000", "1.002"]
    ticks = nice_ticks(-0.63, 0.28)
    assert [tick_label(t, ticks) for t in ticks] == ["-0.6", "-0.4", "-0.2", "0.0", "0.2"]
    ticks = nice_ticks(0, 1500)
    assert [tick_label(t, ticks) for t in ticks] == ["0", "500", "1000", "1500"]
