"""Judge prompts: Jinja templates rendered from a rubric, with untrusted text neutralised.

The material a judge reads (the case, the model's response, a training record, a
reference answer) is written by someone else and may try to steer the grade. Every
template encloses it between `<<<BEGIN NAME>>>` / `<<<END NAME>>>` markers and tells the
judge that it is data; `neutralize` rewrites anything inside that could pass for one of
those markers (or for Inspect's `[BEGIN DATA]` / `[END DATA]`), so the material cannot
close its own block and append instructions after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Literal

import jinja2

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


def neutralize(text: str) -> str:
    """Defuse delimiter markers inside untrusted text; ordinary text is left unchanged.

    A marker becomes a visible, inert note (`[marker removed: end · response]`), so a
    rater reading the prompt sees that the text tried to close its block.
    """
    for marker in _MARKERS:
        text = marker.sub(_marker_note, text)
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
        return replace(
            self,
            case=neutralize(self.case),
            response=neutralize(self.response),
            reasoning=neutralize(self.reasoning),
            reference=None if self.reference is None else neutralize(self.reference),
        )


@cache
def _environment() -> jinja2.Environment:
    folder = resources.files("rubrics").joinpath("templates")
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
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


# Lines of untrusted text that repeat a section heading of the HealthBench template.
_HEALTHBENCH_HEADING = re.compile(
    r"^([ \t]*)#([ \t]*(?:conversation|rubric item|instructions|example \d+|final instruction)[ \t]*)$",
    re.IGNORECASE | re.MULTILINE,
)


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
        rendered = _HEALTHBENCH_HEADING.sub(r"\1\\#\2", rendered)
    values = {"<<conversation>>": rendered, "<<rubric_item>>": rubric_item}
    return re.sub(
        r"<<conversation>>|<<rubric_item>>", lambda m: values[m.group(0)], healthbench_template()
    )
