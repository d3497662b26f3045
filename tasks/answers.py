"""Answer extraction from free-form model outputs: choice letters, numbers, dates.

Models answer in many shapes: `ANSWER: B`, "the answer is (B)", `\\boxed{B}`, "B is the
correct answer", a bare letter on the last line, or thousands of tokens of reasoning
(`<think>...</think>`) before any of these. Only the text after the last `</think>` is read.

The rule, for letters, numbers and dates alike:

1. *Explicit* statements (`ANSWER: X` / `Final answer: X` / `My answer: X` anywhere in a
   line, and `\\boxed{X}`) beat *prose* ones ("the answer is X", "X is the correct answer"),
   because the prompt asks for the explicit form and prose around it often mentions
   other options ("this answer is consistent with A being wrong").
2. Within a kind, the last statement by position wins, also within one line ("the answer
   is (A), no, the answer is (D)" gives D): reasoning often revisits options. A statement
   runs until the next statement begins, or the end of its line (prose: of its sentence).
3. A statement that names no option ("the answer is clear") is skipped. One that names two
   options ("A or B"), only rules one out ("not A", "D is incorrect"), or names a letter
   outside the options is decisive: the answer is *unparsed*. A ruled-out option is never
   the answer ("Answer: D is incorrect, so the answer is A" gives A).
4. Without any statement naming an option, a bare letter on the last line is the answer.

A leading option letter is the answer even when a reason follows ("B because A is
wrong"); a letter that starts a word is no option ("The answer is A, B-cell lymphoma"
gives A); the pronoun "I" ("I think B") is never read as option I. An unparsed answer is
marked incorrect by the scorer with reason `invalid_response_format`, so format failures
can be counted apart from wrong answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

T = TypeVar("T")

THINK_END = re.compile(r"</think\s*>", re.IGNORECASE)
MARKDOWN = re.compile(r"[*_`#]+")

# Explicit statements: a head whose span runs to the next explicit statement or line end.
ANSWER_COLON = re.compile(r"(?<![A-Za-z])(?:final\s+)?answer[\s*_]*[:：][\s*_]*", re.IGNORECASE)
BOXED = re.compile(r"\\boxed\s*\{(?P<span>(?:[^{}]|\{[^{}]*\})+)\}")
# Prose statements: "the answer is X" (span to the next statement or sentence end) and
# "X is the correct answer" (the span is the letter itself).
ANSWER_IS = re.compile(
    r"\b(?:answer|option|choice)[^\S\n]*(?:is|would\s+be|should\s+be|will\s+be|=)[^\S\n]*:?[^\S\n]*",
    re.IGNORECASE,
)
LETTER_IS_ANSWER = re.compile(
    r"(?P<span>\b(?i:option|choice)\s+\(?[A-Za-z]\)?|(?<![A-Za-z'’])\(?[A-Z]\)?)\s+is\s+"
    r"(?i:the|my)\s+(?i:(?:correct|right|best|final|true|most\s+likely|most\s+appropriate)\s+)?"
    r"(?i:answer|option|choice)\b"
)
SENTENCE_END = re.compile(r"(?<=[a-z0-9)\]])\.(?:\s|$)", re.IGNORECASE)

PRONOUN_I = re.compile(
    r"\bI(?:['’](?:m|d|ve|ll)\b|\s+(?:am|was|think|thought|believe|guess|feel|would|will|"
    r"can|cannot|can't|could|should|must|might|do|don't|did|have|had|know|agree|said|say|"
    r"mentioned|noted|stated|explained|argued|chose|choose|pick|picked|select|selected|"
    r"go|went|lean|prefer|suspect|suppose|mean|meant|conclude|concluded|see|need)\b)"
)
# An option ruled out, before it ("not A") or after it ("D is incorrect").
NEGATED = re.compile(
    r"\b(?:not|isn't|is\s+not|rather\s+than|instead\s+of|except)\s+(?:option\s+|choice\s+)?\(?[A-Za-z]\)?(?![A-Za-z])"
    r"|(?<![A-Za-z'’])(?:(?:option|choice)\s+)?\(?[A-Za-z]\)?\s+(?:is|was)\s+"
    r"(?:incorrect|wrong|false|ruled\s+out|not\s+(?:correct|right|true|the\s+answer))\b",
    re.IGNORECASE,
)
UPPER_LETTER = re.compile(r"(?<![A-Za-z'’])\(?([A-Z])\)?(?![A-Za-z'’]|-\w)")
LEADING = re.compile(
    r"^(?P<named>(?:option|choice)\s*)?(?P<open>\()?(?P<letter>[A-Za-z])(?P<close>\))?(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
STANDALONE = re.compile(r"^\s*(?:[.:]|[-–—]\s|$)")
WORD_GOES_ON = re.compile(r"^(?:[A-Za-z'’]|-\w)")
BARE_LETTER_LINE = re.compile(r"^(?:option\s+)?\(?([A-Z])\)?(?:[.):]\s*.*)?$", re.IGNORECASE)
# Two letters joined; the second is no letter when a word goes on ("A, B-cell lymphoma").
JOINED_LETTERS = re.compile(
    r"(?<![A-Za-z])\(?[A-Z]\)?\s*(?:,|/|&|\bor\b|\band\b)\s*\(?[A-Z]\)?(?![A-Za-z'’]|-\w)"
)

TWO_OPTIONS = "names more than one option"
OUTSIDE = "names a letter outside the options"
ONLY_NEGATED = "only rules an option out"
NO_LETTER = "no option letter"
DECISIVE = frozenset({TWO_OPTIONS, OUTSIDE, ONLY_NEGATED})


@dataclass(frozen=True)
class Extraction:
    """What was found: the letter (or None), how it was found, and why it failed."""

    answer: str | None
    method: str
    problem: str | None = None


@dataclass(frozen=True)
class Statement:
    """One answer statement: which rule found it, where it starts, and what it says."""

    method: str
    start: int
    span: str


def final_segment(text: str) -> str:
    """The part of an output after the last `</think>`, or all of it when that part is empty."""
    parts = THINK_END.split(text)
    tail = parts[-1].strip()
    return tail if tail else text


def _span_until(segment: str, begin: int, stops: Sequence[int]) -> str:
    """Text from `begin` to the first of: the next stop at or after it, the end of the line."""
    line_end = segment.find("\n", begin)
    end = min([s for s in stops if s >= begin] + [line_end if line_end >= 0 else len(segment)])
    return segment[begin:end]


def statements(segment: str) -> tuple[list[Statement], list[Statement]]:
    """The explicit and the prose answer statements of `segment`, each in text order."""
    colons = list(ANSWER_COLON.finditer(segment))
    boxed = list(BOXED.finditer(segment))
    answer_is = list(ANSWER_IS.finditer(segment))
    letter_is = list(LETTER_IS_ANSWER.finditer(segment))
    explicit_starts = [m.start() for m in (*colons, *boxed)]
    all_starts = explicit_starts + [m.start() for m in (*answer_is, *letter_is)]
    explicit = [
        Statement("answer_line", m.start(), _span_until(segment, m.end(), explicit_starts))
        for m in colons
    ] + [Statement("boxed", m.start(), m.group("span")) for m in boxed]
    prose = [
        Statement(
            "answer_is",
            m.start(),
            SENTENCE_END.split(_span_until(segment, m.end(), all_starts), maxsplit=1)[0],
        )
        for m in answer_is
    ] + [Statement("answer_is", m.start(), m.group("span")) for m in letter_is]
    return sorted(explicit, key=lambda s: s.start), sorted(prose, key=lambda s: s.start)


def _decide(
    segment: str, interpret: Callable[[str], tuple[T | None, str | None]]
) -> tuple[T | None, Statement | None, str | None]:
    """Apply the module's rule: explicit before prose, last first, decisive problems stop.

    Returns the value, the statement it came from (or that made it unparsed), and the
    problem of the last statement tried when none gave a value.
    """
    problem = None
    for kind in statements(segment):
        for statement in reversed(kind):
            value, problem = interpret(statement.span)
            if value is not None or problem in DECISIVE:
                return value, statement, problem
    return None, None, problem


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", text.lower())).strip()


def _clean_span(span: str) -> str:
    """Drop markdown, TeX wrappers and the pronoun "I" from one statement."""
    span = MARKDOWN.sub("", span).strip().strip("$").strip()
    span = re.sub(r"\\text\{([^}]*)\}", r"\1", span)
    return PRONOUN_I.sub(" ", span).strip()


def _leading_letter(span: str) -> str | None:
    """The option letter a statement starts with, if it starts with one.

    An upper-case letter counts whatever follows it except more of a word ("B because
    A is wrong" is B; "B-cell" is not a letter). A lower-case one counts only when it
    stands alone, is bracketed or follows "option" ("answer: b", "(b)"), so the article
    in "the answer is a rare complication" is not read as option A.
    """
    match = LEADING.match(span)
    if not match or (WORD_GOES_ON.match(match["rest"]) and not match["close"]):
        return None
    letter = match["letter"]
    marked = match["named"] or match["open"] or match["close"]
    if letter.isupper() or marked or STANDALONE.match(match["rest"]):
        return letter.upper()
    return None


def _letter_in_span(
    span: str, letters: str, choices: Sequence[str]
) -> tuple[str | None, str | None]:
    """Interpret one answer statement; returns (letter, problem)."""
    span = _clean_span(span)
    cleaned = NEGATED.sub(" ", span)
    if JOINED_LETTERS.search(cleaned):
        return None, TWO_OPTIONS
    leading = None if NEGATED.match(span) else _leading_letter(span)
    if leading and leading in letters:
        return leading, None
    found = {letter for letter in UPPER_LETTER.findall(cleaned) if letter in letters}
    if len(found) > 1:
        return None, TWO_OPTIONS
    if found:
        return found.pop(), None
    letter, problem = _letter_from_text(span, letters, choices)
    if letter or problem == TWO_OPTIONS:
        return letter, problem
    if leading and leading.isupper():
        return None, OUTSIDE
    return None, ONLY_NEGATED if NEGATED.search(span) else NO_LETTER


def _letter_from_text(
    span: str, letters: str, choices: Sequence[str]
) -> tuple[str | None, str | None]:
    """Match an answer given as option text (no letter) to exactly one choice."""
    said = _normalise(span)
    if not said or not choices:
        return None, NO_LETTER
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
    return None, NO_LETTER if not contained else TWO_OPTIONS


def _last_line_letter(segment: str, letters: str) -> str | None:
    """A bare option letter on the last non-empty line ("B", "(C)", "D. text")."""
    lines = [MARKDOWN.sub("", line).strip() for line in segment.splitlines() if line.strip()]
    bare = BARE_LETTER_LINE.match(lines[-1]) if lines else None
    if not bare or bare.group(1).upper() not in letters:
        return None
    return bare.group(1).upper() if bare.group(1).isupper() or len(lines[-1]) <= 3 else None


def extract_choice(text: str, n_choices: int, choices: Sequence[str] = ()) -> Extraction:
    """Find the chosen option letter among the first `n_choices` letters (see the module rule)."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[:n_choices]
    segment = final_segment(text)
    letter, statement, problem = _decide(
        segment, lambda span: _letter_in_span(span, letters, choices)
    )
    if statement is not None:
        return Extraction(letter, statement.method, None if letter else problem)
    if bare := _last_line_letter(segment, letters):
        return Extraction(bare, "last_line")
    return Extraction(None, "none", problem or "no answer statement found")


NUMBER = re.compile(r"[-+−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?")


def _to_float(token: str) -> float:
    return float(token.replace(",", "").replace("−", "-"))


def _first_number(span: str) -> float | None:
    match = NUMBER.search(span)
    return _to_float(match.group(0)) if match else None


def _last_number(span: str) -> float | None:
    numbers = NUMBER.findall(span)
    return _to_float(numbers[-1]) if numbers else None


def _statement_value(
    text: str, parse: Callable[[str], T | None], fallback: Callable[[str], T | None]
) -> T | None:
    """The value of the deciding statement (the module's rule), else `fallback(segment)`."""
    segment = final_segment(text)
    value, _, _ = _decide(segment, lambda span: (parse(span), None))
    return value if value is not None else fallback(segment)


def extract_number(text: str) -> float | None:
    """The final numeric answer: an answer statement's number, else the last number in the text."""
    return _statement_value(text, _first_number, _last_number)


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
    return _statement_value(text, parse_date, parse_date)


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
    return _statement_value(text, parse_weeks_days, parse_weeks_days)
