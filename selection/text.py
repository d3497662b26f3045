"""Text normalization shared by decontamination, deduplication and overlap checks."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def normalize(text: str) -> str:
    """NFKC, case-folded, punctuation and whitespace collapsed to single spaces.

    Two questions that differ only in case, spacing, punctuation or Unicode width
    compare equal.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _NON_WORD.sub(" ", folded).strip()


def words(text: str) -> list[str]:
    """Word tokens of the normalized text."""
    normalized = normalize(text)
    return normalized.split(" ") if normalized else []


def ngrams(tokens: list[str], n: int) -> set[tuple[str, ...]]:
    """The set of word n-grams (empty when the text is shorter than n)."""
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}
