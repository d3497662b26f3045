"""Corrections for multiple comparisons, and how the report names them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
from statsmodels.stats.multitest import multipletests

Correction = Literal["holm", "bh"]
# How pages and sentences name each correction, in full and in tight spaces.
CORRECTION_NAMES: dict[str, str] = {"holm": "Holm", "bh": "Benjamini-Hochberg"}
CORRECTION_ABBREVIATIONS: dict[str, str] = {"holm": "Holm", "bh": "BH"}

_STATSMODELS_METHODS = {"holm": "holm", "bh": "fdr_bh"}


def adjust_pvalues(p_values: Sequence[float], method: Correction) -> list[float]:
    """Family-wise (Holm) or false-discovery-rate (Benjamini-Hochberg) adjusted p-values.

    NaN p-values (comparisons that could not be made) stay NaN and do not count toward
    the family size. The statsmodels method is always passed explicitly: its default
    is Holm-Sidak, not Holm.
    """
    if method not in _STATSMODELS_METHODS:
        raise ValueError(
            f"unknown correction {method!r}; use one of {sorted(_STATSMODELS_METHODS)}"
        )
    values = np.asarray(p_values, dtype=float)
    adjusted = np.full(values.shape, math.nan)
    finite = ~np.isnan(values)
    if finite.any():
        adjusted[finite] = multipletests(values[finite], method=_STATSMODELS_METHODS[method])[1]
    return [float(v) for v in adjusted]
