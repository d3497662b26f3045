"""The report.json convention readers rely on: p-values, and only p-values, under `p` keys."""

from __future__ import annotations

import math
from typing import Any

# Every key that holds a p-value. A number under any other key starting with "p" breaks
# the convention (a reader filtering `p*` keys would take it for a p-value).
P_VALUE_KEYS = frozenset({"p_value", "p_adjusted"})


def check_p_keys(report: dict[str, Any]) -> set[str]:
    """Assert the convention in both directions over every key; return the p-keys seen.

    A key starting with "p" holds a p-value in [0, 1] (or null where none could be
    computed) or, like `path` and `python` in `software`, a string; a p-value key holds
    nothing else; an adjusted p-value is never below its raw one.
    """
    seen: set[str] = set()

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                here = f"{where}.{key}"
                if key in P_VALUE_KEYS:
                    seen.add(key)
                    assert value is None or isinstance(value, float), here
                    assert value is None or 0.0 <= value <= 1.0, (here, value)
                elif key.startswith("p"):
                    assert isinstance(value, str), f"{here} is not a p-value but starts with p"
                walk(value, here)
            raw, adjusted = node.get("p_value"), node.get("p_adjusted")
            if isinstance(raw, float) and isinstance(adjusted, float):
                assert adjusted >= raw or math.isclose(adjusted, raw), where
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}[{index}]")

    walk(report, "")
    return seen
