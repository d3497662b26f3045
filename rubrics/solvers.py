"""Solvers for judging text that is already written (a training record, a physician's answer).

`fixed_output` makes the judged text the sample's output without calling any model, so
the same scorers grade model outputs, physician completions and training records alike.
"""

from __future__ import annotations

from inspect_ai.model import ChatMessageAssistant, ModelOutput
from inspect_ai.solver import Generate, Solver, TaskState, solver

FIXED_MODEL = "fixed/text"


@solver
def fixed_output(key: str = "completion") -> Solver:
    """Use `metadata[key]` as the output (and the final assistant message); no generation."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        text = str(state.metadata[key])
        state.output = ModelOutput.from_content(model=FIXED_MODEL, content=text)
        state.messages.append(ChatMessageAssistant(content=text, model=FIXED_MODEL))
        return state

    return solve
