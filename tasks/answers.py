"""Answer extraction from free-form model outputs: choice letters, numbers, dates.

Models answer in many shapes: `ANSWER: B`, "the answer is (B)", `\\boxed{B}`, a bare
letter on the last line, or thousands of tokens of reasoning (`<think>...</think>`)
before any of these. Extraction looks for explicit answer statements first (the last
one wins, since reasoning often revisits options), then falls back to weaker signals.
An answer that names two different options, or none, is *unparsed*: the scorer marks it
incorrect with reason `invalid_response_format`, so format failures can be counted
apart from wrong answers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

THINK_END = re.compile(r"</think\s*>", re.IGNORECASE)
MARKDOWN = re.compile(r"[*_`#]+")

# Explicit statements, strongest first. Each captures the rest of the statement.
ANSWER_LINE = re.compile(
    r"^[\s*_#>]*(?:final\s+)?answer[\s*_]*[:：][\s*_]*(?P<span>.+?)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
BOXED = re.compile(r"\\boxed\s*\{(?P<span>(?:[^{}]|\{[^{}]*\})+)\}")
ANSWER_IS = re.compile(
    r"(?:answer|option|choice)\s*(?:is|would\s+be|should\s+be|will\s+be|=)\s*:?\s*(?P<span>[^\n]+)",
    re.IGNORECASE,
)
SENTENCE_END = re.compile(r"(?<=[a-z0-9)\]])\.(?:\s|$)", re.IGNORECASE)

NEGATED = re.compile(
    r"\b(?:not|isn't|is\s+not|rather\s+than|instead\s+of|except)\s+(?:option\s+|choice\s+)?\(?[A-Za-z]\)?(?![A-Za-z])",
    re.IGNORECASE,
)
UPPER_LETTER = re.compile(r"(?<![A-Za-z'])\(?([A-Z])\)?(?![A-Za-z'])")
LEADING_LETTER = re.compile(r"^\(?([A-Za-z])(?:\)|\.|:|$|\s*[-–—]\s|\)?\s*$)")
BARE_LETTER_LINE = re.compile(r"^(?:option\s+)?\(?([A-Z])\)?(?:[.):]\s*.*)?$", re.IGNORECASE)
JOINED_LETTERS = re.compile(
    r"(?<![A-Za-z])\(?[A-Z]\)?\s*(?:,|/|&|\bor\b|\band\b)\s*\(?[A-Z]\)?(?![A-Za-z])"
)


@dataclass(frozen=True)
class Extraction:
    """What was found: the letter (or None), how it was found, and why it failed."""

    answer: str | None
    method: str
    problem: str | None = None


def final_segment(text: str) -> str:
    """The part of an output after the last `</think>`, or all of it when that part is empty."""
    parts = THINK_END.split(text)
    tail = parts[-1].strip()
    return tail if tail else text


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", text.lower())).strip()


def _letter_in_span(
    span: str, letters: str, choices: Sequence[str]
) -> tuple[str | None, str | None]:
    """Interpret one answer statement; returns (letter, problem)."""
    span = MARKDOWN.sub("", span).strip().strip("$").strip()
    span = re.sub(r"\\text\{([^}]*)\}", r"\1", span)
    leading = LEADING_LETTER.match(span)
    cleaned = NEGATED.sub(" ", span)
    if JOINED_LETTERS.search(cleaned):
        return None, "names more than one option"
    if leading and leading.group(1).upper() in letters and not NEGATED.match(span):
        return leading.group(1).upper(), None
    found = {letter for letter in UPPER_LETTER.findall(cleaned) if letter in letters}
    if len(found) == 1:
        return found.pop(), None
    if len(found) > 1:
        return None, "names more than one option"
    return _letter_from_text(span, letters, choices)


def _letter_from_text(
    span: str, letters: str, choices: Sequence[str]
) -> tuple[str | None, str | None]:
    """Match an answer given as option text (no letter) to exactly one choice."""
    said = _normalise(span)
    if not said or not choices:
        return None, "no option letter"
    exact = [letters[i] for i, choice in enumerate(choices) if _normalise(choice) == said]
    if len(exact) == 1:
        return exact[0], None
    contained = [
        letters[i]
        for i, choice in enumerate(choices)
        if len(_normalise(choice)) >= 3 and re.search(rf"\b{re.escape(_normalise(choice))}\b", said)
    ]
    if len(contained) == 1:
        return contained[0], None
    return None, "no option letter" if not contained else "names more than one option"


def extract_choice(text: str, n_choices: int, choices: Sequence[str] = ()) -> Extraction:
    """Find the chosen option letter among the first `n_choices` letters."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[:n_choices]
    segment = final_segment(text)
    problem = None
    for method, pattern in (
        ("answer_line", ANSWER_LINE),
        ("boxed", BOXED),
        ("answer_is", ANSWER_IS),
    ):
        matches = list(pattern.finditer(segment))
        if not matches:
            continue
        span = matches[-1].group("span")
        if method == "answer_is":
            span = SENTENCE_END.split(span, maxsplit=1)[0]
        letter, problem = _letter_in_span(span, letters, choices)
        if letter:
            return Extraction(letter, method)
        if problem == "names more than one option":
            return Extraction(None, method, problem)
    lines = [MARKDOWN.sub("", line).strip() for line in segment.splitlines() if line.strip()]
    bare = BARE_LETTER_LINE.match(lines[-1]) if lines else None
    if (
        bare
        and bare.group(1).upper() in letters
        and (bare.group(1).isupper() or len(lines[-1]) <= 3)
    ):
        return Extraction(bare.group(1).upper(), "last_line")
    return Extraction(None, "none", problem or "no answer statement found")


NUMBER = re.compile(r"[-+−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?")


def _first_number(span: str) -> float | None:
    match = NUMBER.search(span)
    if not match:
        return None
    return float(match.group(0).replace(",", "").replace("−", "-"))


def extract_number(text: str) -> float | None:
    """The final numeric answer: an answer statement's number, else the last number in the text."""
    segment = final_segment(text)
    for pattern in (ANSWER_LINE, BOXED, ANSWER_IS):
        matches = list(pattern.finditer(segment))
        if matches:
            value = _first_number(matches[-1].group("span"))
            if value is not None:
                return value
    numbers = NUMBER.findall(segment)
    return float(numbers[-1].replace(",", "").replace("−", "-")) if numbers else None


DATE_PATTERNS = (
    (re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b"), ("m", "d", "y")),
    (re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"), ("y", "m", "d")),
)


def parse_date(text: str) -> date | None:
    """The last date written as M/D/YYYY or YYYY-MM-DD in `text`."""
    found: list[tuple[int, date]] = []
    for pattern, order in DATE_PATTERNS:
        for match in pattern.finditer(text):
            parts = dict(zip(order, (int(group) for group in match.groups()), strict=True))
            try:
                found.append((match.start(), date(parts["y"], parts["m"], parts["d"])))
            except ValueError:
                continue
    return max(found)[1] if found else None


def extract_date(text: str) -> date | None:
    """The final date answer: from an answer statement if there is one, else the last date."""
    segment = final_segment(text)
    for pattern in (ANSWER_LINE, BOXED, ANSWER_IS):
        matches = list(pattern.finditer(segment))
        if matches and (value := parse_date(matches[-1].group("span"))):
            return value
    return parse_date(segment)


WEEKS_DAYS = re.compile(r"(\d+)\s*weeks?\D{0,12}?(\d+)\s*days?", re.IGNORECASE)


def parse_weeks_days(text: str) -> tuple[int, int] | None:
    """A gestational age written as 'N weeks, M days' (or a tuple repr of those strings)."""
    matches = list(WEEKS_DAYS.finditer(text))
    if not matches:
        return None
    weeks, days = matches[-1].groups()
    return int(weeks), int(days)


def extract_weeks_days(text: str) -> tuple[int, int] | None:
    """The final gestational-age answer in weeks and days."""
    segment = final_segment(text)
    for pattern in (ANSWER_LINE, BOXED, ANSWER_IS):
        matches = list(pattern.finditer(segment))
        if matches and (value := parse_weeks_days(matches[-1].group("span"))):
            return value
    return parse_weeks_days(segment)
