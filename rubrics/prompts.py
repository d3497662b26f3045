"""Judge prompts: Jinja templates rendered from a rubric, with untrusted text neutralised.

The material a judge reads (the case, the model's response, a training record, a
reference answer) is written by someone else and may try to steer the grade. Every
template encloses it between `<<<BEGIN NAME>>>` / `<<<END NAME>>>` markers and tells the
judge that it is data; `neutralize` rewrites anything inside that could pass for one of
those markers (or for Inspect's `[BEGIN DATA]` / `[END DATA]`) or for a section heading
of the template (`# Criterion`, `# Answer format`, ...), so the material cannot close
its own block, or seem to, and append instructions after it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from importlib import resources
from typing import Literal

import jinja2

from harness.core.io import sha256_json
from rubrics.schema import Criterion, Rubric

Mode = Literal["json", "logprobs"]

# Words that name a delimited block in any of our templates (and Inspect's DATA block).
_NAMES = r"case|question|reasoning|response|reference(?:[\s_-]*answer)?|record|data|conversation"
_OPEN = "<\\[{(＜«‹【〈/"
_CLOSE = ">\\]})＞»›】〉"
# A BEGIN/END marker with a bracket on either side (any case, spacing, full-width forms),
# or written in capitals without brackets; plain prose ("let's begin reasoning") is kept.
_MARKERS = (
    re.compile(
        rf"[{_OPEN}]+\s*\b(begin|end)[\s_-]*({_NAMES})\b\s*[{_CLOSE}]*"
        rf"|[{_OPEN}]*\s*\b(begin|end)[\s_-]*({_NAMES})\b\s*[{_CLOSE}]+",
        re.IGNORECASE,
    ),
    re.compile(rf"\b(BEGIN|END)[ \t_-]+((?i:{_NAMES}))\b"),
)
# Runs of angle brackets that could rebuild a marker around words we do not list.
_ANGLE_RUN = re.compile(r"<{2,}|>{2,}|＜{2,}|＞{2,}")


def _marker_note(match: re.Match[str]) -> str:
    # the note itself must not match a marker pattern, so neutralising is idempotent
    begin_or_end, name = (group for group in match.groups() if group)
    return f"[marker removed: {begin_or_end.lower()} · {' '.join(name.lower().split())}]"


def _visible(text: str) -> str:
    r"""`text` without Unicode format characters (category Cf).

    Zero-width spaces and joiners, bidi controls, soft hyphens and tag characters are
    invisible to a reader, and a model reads through them, but they break up a word for
    a regular expression: `<<<END\u200bRESPONSE>>>` must be matched as the marker it is.
    """
    if text.isascii():
        return text
    return "".join(char for char in text if unicodedata.category(char) != "Cf")


def _heading_pattern(template: str) -> re.Pattern[str]:
    """A line that repeats one of the `# Heading` lines of `template`.

    Any case, any number of `#`, extra spacing and a trailing colon still match: to a
    judge reading the prompt, all of them can pass for the template's own section.
    """
    names = sorted(set(re.findall(r"^# (.+?)\s*$", template, re.MULTILINE)))
    # a numbered heading stands for every number ("# Example 1" also guards "# Example 3")
    words = "|".join(
        r"[ \t]+".join(r"\d+" if word.isdigit() else re.escape(word) for word in name.split())
        for name in names
    )
    return re.compile(
        rf"(?P<indent>[ \t]*)(?P<heading>#+[ \t]*(?:{words})[ \t]*:?[ \t]*)", re.IGNORECASE
    )


def _escape_headings(text: str, headings: re.Pattern[str]) -> str:
    r"""Escape lines of `text` that repeat a template heading (`# Answer format` -> `\# Answer format`).

    Lines are split wherever a model may see a line break (`\r\n`, `\u2028`, ...), and
    format characters are ignored when matching (an escaped line loses them); every
    other line is kept byte for byte.
    """
    lines = []
    for line in text.splitlines(keepends=True):
        body = line.splitlines()[0]
        match = headings.fullmatch(_visible(body))
        lines.append(f"{match['indent']}\\{match['heading']}{line[len(body) :]}" if match else line)
    return "".join(lines)


@cache
def _templates() -> dict[str, str]:
    """The rubric judge's Jinja templates, by file name."""
    folder = resources.files("rubrics").joinpath("templates")
    return {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".jinja")
    }


@cache
def _rubric_headings() -> re.Pattern[str]:
    return _heading_pattern("\n".join(_templates().values()))


@cache
def template_sha256() -> str:
    """sha256 of the rubric judge's templates (names and text), so a score names its prompt wording."""
    return sha256_json(_templates())


def neutralize(text: str) -> str:
    r"""Defuse delimiter markers and template headings inside untrusted text.

    A marker becomes a visible, inert note (`[marker removed: end · response]`), so a
    rater reading the prompt sees that the text tried to close its block; a line that
    repeats a heading of the judge templates is escaped (`\# Answer format`), as the
    HealthBench path does. Invisible format characters are dropped first, so that they
    cannot hide a marker or a heading. Other visible text is left unchanged.
    """
    text = _visible(text)
    for marker in _MARKERS:
        text = marker.sub(_marker_note, text)
    text = _escape_headings(text, _rubric_headings())
    return _ANGLE_RUN.sub(
        lambda m: ("‹" if m.group(0)[0] in "<＜" else "›") * len(m.group(0)), text
    )


@dataclass(frozen=True)
class Material:
    """What the judge reads: a case and a response, or a training record.

    For `kind="training_record"`, `case` is the record's question and `reasoning` its
    chain of thought. `reference` (the answer key and its explanation) is shown to the
    judge only, never to the model being evaluated.
    """

    case: str
    response: str
    kind: Literal["response", "training_record"] = "response"
    reasoning: str = ""
    reference: str | None = None

    def neutralized(self) -> Material:
        """The same material with every untrusted field passed through `neutralize`."""
        return _neutralized(self)


@lru_cache(maxsize=256)
def _neutralized(material: Material) -> Material:
    # one sample's material is rendered into a prompt per criterion and axis: neutralise once
    return replace(
        material,
        case=neutralize(material.case),
        response=neutralize(material.response),
        reasoning=neutralize(material.reasoning),
        reference=None if material.reference is None else neutralize(material.reference),
    )


@cache
def _environment() -> jinja2.Environment:
    # the text that renders is the text `template_sha256` hashes
    return jinja2.Environment(
        loader=jinja2.DictLoader(_templates()),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain-text prompts; untrusted text is neutralised instead
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def _render(template: str, **context: object) -> str:
    text = _environment().get_template(template).render(**context)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def _graded_noun(material: Material) -> str:
    return "record" if material.kind == "training_record" else "response"


def _points(value: float) -> str:
    number = int(value) if float(value).is_integer() else value
    return f"+{number}" if value > 0 else str(number)


def criterion_prompt(rubric: Rubric, criterion: Criterion, material: Material, mode: Mode) -> str:
    """The prompt asking one judge about one criterion."""
    return _render(
        "criterion.jinja",
        rubric=rubric,
        axis=rubric.axis(criterion.axis),
        criterion=criterion,
        points=_points(criterion.points),
        material=material.neutralized(),
        graded=_graded_noun(material),
        mode=mode,
    )


def rating_prompt(rubric: Rubric, axis_id: str, material: Material, mode: Mode) -> str:
    """The prompt asking one judge for the holistic 1-5 rating of one axis on its anchors."""
    return _render(
        "rating.jinja",
        rubric=rubric,
        axis=rubric.axis(axis_id),
        material=material.neutralized(),
        graded=_graded_noun(material),
        mode=mode,
    )


def reask_prompt(problem: str, mode: Mode) -> str:
    """The follow-up sent after an unusable reply (bounded by the scorer's `retries`)."""
    if mode == "json":
        return (
            f"Your reply could not be used: {problem}. Reply again with only the JSON object "
            "described above, in a ```json code block, with every field it asks for."
        )
    return f"Your reply could not be used: {problem}. Reply again with only the answer word."


@cache
def healthbench_template() -> str:
    """HealthBench's GRADER_TEMPLATE, verbatim from openai/simple-evals healthbench_eval.py."""
    path = resources.files("rubrics").joinpath("templates", "healthbench_grader.txt")
    return path.read_text(encoding="utf-8").strip()


@cache
def healthbench_template_sha256() -> str:
    """sha256 of the HealthBench grader template (recorded in the task and every score)."""
    return sha256_json(healthbench_template())


@cache
def _healthbench_headings() -> re.Pattern[str]:
    return _heading_pattern(healthbench_template())


def healthbench_prompt(conversation: list[dict[str, str]], rubric_item: str, neutral: bool) -> str:
    r"""The HealthBench grader prompt for one rubric item.

    `conversation` ends with the assistant turn being graded and is rendered as
    simple-evals does (`role: content` turns separated by blank lines). Both
    placeholders are filled in one pass, so text in the conversation that happens to
    contain `<<rubric_item>>` is not substituted (simple-evals replaces sequentially).
    With `neutral`, lines that repeat one of the template's section headings
    (`# Rubric item`, `# Instructions`, ...) are escaped (`\# Instructions`); other text
    is untouched, so benign conversations give the upstream prompt byte for byte.
    """
    rendered = "\n\n".join(f"{turn['role']}: {turn['content']}" for turn in conversation)
    if neutral:
        rendered = _escape_headings(rendered, _healthbench_headings())
    values = {"<<conversation>>": rendered, "<<rubric_item>>": rubric_item}
    return re.sub(
        r"<<conversation>>|<<rubric_item>>", lambda m: values[m.group(0)], healthbench_template()
    )
