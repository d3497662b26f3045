"""A deterministic stand-in judge for the offline demo: does the text name the right diagnosis?

The demo has to judge open-ended answers and training records with no API and no judge
model on disk. This Inspect model provider answers the `rubric_judge` prompts by one rule
and says so in every explanation: a criterion with positive points is met when the graded
text names the reference diagnosis (for a training record without a reference: when its
final answer agrees with the diagnosis its own reasoning concludes); harmful-behaviour
criteria are never met; ratings are 4 when the diagnosis is named and 2 otherwise. It is
not a clinical judge. Use it as `--model-role grader=reference-grader/diagnosis`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from inspect_ai.model import (
    ChatMessage,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
    modelapi,
)
from inspect_ai.tool import ToolChoice, ToolInfo

SECTION = re.compile(r"<<<BEGIN ([A-Z ]+)>>>\n(.*?)\n<<<END \1>>>", re.DOTALL)
POINTS = re.compile(r"Criterion \((-?[\d.]+) points\)")
CONCLUSION = re.compile(r"point to ([^.]+)\.")
OPTION = re.compile(r"^([A-Z])\) (.+)$", re.MULTILINE)
LETTER_ANSWER = re.compile(r"ANSWER:\s*([A-Z])\b")


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9]+", " ", text.lower())).strip()


def _final_answer(section: dict[str, str], text: str) -> str:
    """The graded text's answer; a bare option letter becomes its option text."""
    letter = LETTER_ANSWER.search(text)
    if letter:
        options = dict(OPTION.findall(section.get("QUESTION", section.get("CASE", ""))))
        return options.get(letter.group(1), text)
    return text


def _expected(section: dict[str, str]) -> str | None:
    """The diagnosis the graded text should name: the reference, else the reasoning's conclusion."""
    if "REFERENCE ANSWER" in section:
        return section["REFERENCE ANSWER"].split("\n\n")[0]
    conclusion = CONCLUSION.search(section.get("REASONING", ""))
    return conclusion.group(1) if conclusion else None


def verdict(prompt: str) -> dict[str, Any]:
    """The JSON verdict for one judge prompt."""
    section = dict(SECTION.findall(prompt))
    expected = _expected(section)
    graded = _final_answer(section, section.get("RESPONSE", ""))
    named = bool(expected and _normal(expected) in _normal(graded))
    explanation = (
        f"Reference grader (a rule, not a clinical judge): the text "
        f"{'names' if named else 'does not name'} the expected diagnosis {expected!r}."
    )
    if "# Axis to rate" in prompt:
        return {"explanation": explanation, "rating": 4 if named else 2}
    points = POINTS.search(prompt)
    harmful = points is not None and float(points.group(1)) < 0
    answer: dict[str, Any] = {"explanation": explanation}
    if "Condition: this criterion applies only when" in prompt:
        answer["applicable"] = True
    if "\nLevels:\n" in prompt:
        answer["level"] = 1 if harmful or not named else 4
    else:
        answer["criteria_met"] = named and not harmful
    return answer


class ReferenceGrader(ModelAPI):
    """Answers judge prompts with `verdict` (JSON in a code block), with token usage set."""

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig | None = None,
        **model_args: Any,
    ) -> None:
        super().__init__(
            model_name=model_name,
            base_url=base_url,
            api_key=api_key,
            config=config or GenerateConfig(),
        )

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        prompt = "\n".join(message.text for message in input)
        text = f"```json\n{json.dumps(verdict(prompt))}\n```"
        output = ModelOutput.from_content(model=self.model_name, content=text)
        tokens = len(prompt) // 4
        output.usage = ModelUsage(
            input_tokens=tokens, output_tokens=len(text) // 4, total_tokens=tokens + len(text) // 4
        )
        return output


@modelapi(name="reference-grader")
def reference_grader() -> type[ModelAPI]:
    """Register the provider (imported lazily by Inspect's registry)."""
    return ReferenceGrader
