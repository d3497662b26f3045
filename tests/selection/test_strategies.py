"""Property tests of the DIQ rule and the baselines."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core.errors import ConfigError
from selection.strategies import (
    QUADRANTS,
    budget,
    parse_ratio,
    parse_strategies,
    quadrants,
    select,
    thresholds,
)

# few distinct values, so ties are common
values = st.sampled_from([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0])


@st.composite
def score_tables(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 40))
    ids = draw(
        st.lists(st.text("abcdef", min_size=1, max_size=4), min_size=n, max_size=n, unique=True)
    )
    return pd.DataFrame(
        {
            "id": ids,
            "influence": draw(st.lists(values, min_size=n, max_size=n)),
            "difficulty": draw(st.lists(values, min_size=n, max_size=n)),
            "loss": draw(st.lists(values, min_size=n, max_size=n)),
            "similarity": draw(st.lists(values, min_size=n, max_size=n)),
            "ifd": draw(
                st.lists(st.sampled_from([0.5, 0.9, 0.99, 1.0, 1.2]), min_size=n, max_size=n)
            ),
            "reasoning_tokens": draw(st.lists(st.integers(0, 5), min_size=n, max_size=n)),
            "completion_tokens": draw(st.lists(st.integers(1, 5), min_size=n, max_size=n)),
        }
    )


def _key(row: pd.Series) -> tuple:
    return (QUADRANTS.index(row["quadrant"]), -row["influence"], -row["difficulty"], row["id"])


@settings(max_examples=150, deadline=None)
@given(score_tables(), st.integers(1, 45), st.floats(0, 100))
def test_diq_priority_order_and_ties(table: pd.DataFrame, k: int, percentile: float) -> None:
    split = thresholds(table, difficulty_percentile=percentile)
    chosen = select(table, "diq", k, split=split)
    labelled = table.assign(quadrant=quadrants(table, split)).set_index("id", drop=False)
    expected = sorted(table["id"], key=lambda i: _key(labelled.loc[i]))[:k]
    assert chosen.ids == expected
    # no record of a lower-priority quadrant before every higher one is taken
    ranks = [QUADRANTS.index(labelled.loc[i, "quadrant"]) for i in chosen.ids]
    assert ranks == sorted(ranks)
    taken = (
        {QUADRANTS.index(q) for q in labelled.loc[chosen.ids, "quadrant"]} if chosen.ids else set()
    )
    for rank in taken:
        for better in range(rank):
            members = labelled[labelled["quadrant"] == QUADRANTS[better]]["id"]
            assert set(members) <= set(chosen.ids)


@settings(max_examples=100, deadline=None)
@given(score_tables())
def test_quadrant_definition(table: pd.DataFrame) -> None:
    split = thresholds(table)
    assert split.influence == float(table["influence"].median())
    for (_, row), quadrant in zip(table.iterrows(), quadrants(table, split), strict=True):
        high_d, high_i = row["difficulty"] >= split.difficulty, row["influence"] >= split.influence
        assert (
            quadrant
            == {(True, True): "Q1", (False, True): "Q2", (True, False): "Q3", (False, False): "Q4"}[
                (high_d, high_i)
            ]
        )


@settings(max_examples=100, deadline=None)
@given(score_tables(), st.integers(1, 40), st.integers(0, 2**32 - 1))
def test_determinism_and_input_order_independence(table: pd.DataFrame, k: int, seed: int) -> None:
    shuffled = table.sample(frac=1.0, random_state=seed % 1000).reset_index(drop=True)
    split = thresholds(table)
    for strategy in (
        "diq",
        "random",
        "difficulty",
        "influence",
        "length",
        "loss",
        "ifd",
        "similarity",
        "q1",
        "q3",
    ):
        first = select(table, strategy, k, split=split, seed=seed)
        assert select(shuffled, strategy, k, split=split, seed=seed).ids == first.ids
        assert len(first.ids) <= k and len(set(first.ids)) == len(first.ids)


def test_random_depends_on_the_seed() -> None:
    table = pd.DataFrame({"id": [f"r{i}" for i in range(50)], "influence": 0.0, "difficulty": 0.0})
    split = thresholds(table)
    assert (
        select(table, "random", 10, split=split, seed=1).ids
        != select(table, "random", 10, split=split, seed=2).ids
    )


@given(st.integers(1, 100_000), st.decimals(min_value=Decimal("0.0001"), max_value=1, places=4))
def test_ratio_rounding(size: int, ratio: Decimal) -> None:
    exact = Fraction(ratio)
    k = budget(parse_ratio(str(ratio)), size)
    assert 1 <= k <= size
    assert k == max(1, math.floor(exact * size + Fraction(1, 2)))
    if exact * size >= 1:
        assert abs(k - exact * size) <= Fraction(1, 2)


def test_ratio_examples() -> None:
    assert budget(parse_ratio("0.01"), 19704) == 197
    assert budget(parse_ratio("0.1"), 30) == 3  # exact decimal arithmetic, not 3.0000000000000004
    assert budget(parse_ratio("0.05"), 10) == 1  # 0.5 rounds up
    assert budget(parse_ratio("0.001"), 10) == 1  # at least one record
    assert budget(parse_ratio("1"), 7) == 7
    for bad in ("0", "-0.1", "1.5", "abc"):
        with pytest.raises(ConfigError):
            parse_ratio(bad)


def test_baseline_orders() -> None:
    table = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "influence": [1.0, 4.0, 2.0, 3.0],
            "difficulty": [4.0, 1.0, 3.0, 2.0],
            "loss": [2.0, 1.0, 4.0, 3.0],
            "similarity": [0.1, 0.3, 0.3, 0.2],
            "ifd": [0.9, 1.1, 0.5, 0.95],
            "reasoning_tokens": [10, 0, 10, 5],
            "completion_tokens": [3, 9, 7, 1],
        }
    )
    split = thresholds(table)
    order = {
        s: select(table, s, 4, split=split).ids
        for s in ("difficulty", "influence", "length", "loss", "ifd", "similarity", "full")
    }
    assert order["difficulty"] == ["a", "c", "d", "b"]
    assert order["influence"] == ["b", "d", "c", "a"]
    assert order["length"] == ["c", "a", "d", "b"]
    assert order["loss"] == ["c", "d", "a", "b"]
    assert order["ifd"] == ["d", "a", "c"]  # IFD >= 1 dropped, as in Cherry LLM
    assert order["similarity"] == ["b", "c", "d", "a"]  # ties by id
    assert order["full"] == ["a", "b", "c", "d"]
    with pytest.raises(ConfigError, match="needs a `similarity` score"):
        select(table.drop(columns="similarity"), "similarity", 2, split=split)
    assert "IFD >= 1" in select(table, "ifd", 4, split=split).notes[0]


def test_unknown_strategies() -> None:
    assert parse_strategies("diq, random,diq") == ["diq", "random"]
    with pytest.raises(ConfigError, match="unknown strategy best"):
        parse_strategies("diq,best")
    with pytest.raises(ConfigError):
        parse_strategies(" , ")
