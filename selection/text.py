"""Text normalization shared by decontamination, deduplication and overlap checks."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
# one or more leading labels: a labelled option may itself start like one ("A) E. coli",
# "C) c) ..."), and stripping them all on both sides leaves the same text either way
_OPTION_LABEL = re.compile(r"^(?:\s*\(?[A-Ja-j][).:]\s+)+")


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


def text_lines(text: str) -> list[str]:
    """Normalized non-empty lines, each without a leading option label.

    Pools fold options into the question as labelled lines (`A) ...`) while benchmark
    texts list them bare; stripped, the same item reads the same either way.
    """
    return [line for raw in text.splitlines() if (line := normalize(_OPTION_LABEL.sub("", raw)))]


def flat_text(text: str) -> str:
    """`text_lines` joined by spaces: the text that similarity indexes compare."""
    return " ".join(text_lines(text))
