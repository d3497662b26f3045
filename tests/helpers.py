"""Shared test helpers: scripted model outputs that never touch the network, sample texts."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from inspect_ai.model import ChatMessage, GenerateConfig, ModelOutput, ModelUsage, get_model


def mock_output(text: str, model: str = "mockllm/model") -> ModelOutput:
    """A scripted output with token usage set (without usage, Inspect downloads a tokenizer)."""
    output = ModelOutput.from_content(model=model, content=text)
    output.usage = ModelUsage(
        input_tokens=10,
        output_tokens=max(1, len(text) // 4),
        total_tokens=10 + max(1, len(text) // 4),
    )
    return output


def scripted_model(
    outputs: Iterable[str] | Callable[[list[ChatMessage]], str], name: str = "mockllm/model"
) -> Any:
    """A mockllm model replaying `outputs` in order, or answering with `outputs(messages)`."""
    if callable(outputs):
        reply = outputs

        def respond(
            input: list[ChatMessage], tools: Any, tool_choice: Any, config: GenerateConfig
        ) -> ModelOutput:
            return mock_output(reply(input))

        return get_model(name, custom_outputs=respond, memoize=False)
    return get_model(name, custom_outputs=[mock_output(text) for text in outputs], memoize=False)


CLINICAL_SENTENCES = [
    "A 45-year-old man presents with crushing chest pain radiating to the left arm.",
    "The most likely diagnosis is acute myocardial infarction; obtain an ECG and troponin.",
    "A 23-year-old woman has fever, dysuria and flank pain; urinalysis shows leukocyte casts.",
    "Pyelonephritis is treated with fluoroquinolones or third-generation cephalosporins.",
    "Which of the following is the next best step in management?",
    "Answer the following multiple choice question. ANSWER: B",
    "A child with a barking cough and inspiratory stridor most likely has croup.",
    "Metformin is contraindicated in severe renal impairment because of lactic acidosis.",
    "The patient is hypotensive and tachycardic after trauma; start fluid resuscitation.",
    "Differential diagnosis includes pulmonary embolism, pneumothorax and aortic dissection.",
]


def sample_texts(repeat: int = 20) -> list[str]:
    """A small deterministic corpus for training test tokenizers."""
    return [f"{sentence} ({i})" for i in range(repeat) for sentence in CLINICAL_SENTENCES]
