"""An Inspect model as the judge of decontamination's semantic stage.

`selection.semantic` retrieves, for each pool question, the evaluation questions most
like it; with `semantic.judge_model` set, every retrieved pair from the ask threshold on is put
to that model, as the LMSYS llm-decontaminator does: "are these the same question,
rephrased?". The answer must be `yes` or `no` (case and a final full stop aside);
anything else is no verdict, and the record stays. Every question and answer is logged,
one JSON line per pair (`RunLayout.decontamination_judge`, beside `decontamination.json`).

`selection` may not import Inspect, so the stage asks through the `PairJudge` protocol
and this module, above it, implements it:

    judge = build_judge(config.decontamination, layout.decontamination_judge)
    kept, report = decontaminate(pool, texts, config.decontamination, judge)
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from inspect_ai.model import (
    ChatMessageSystem,
    ChatMessageUser,
    GenerateConfig,
    Model,
    ModelOutput,
    get_model,
)

from harness.core.io import write_jsonl
from selection.decontamination_config import DecontaminationConfig
from selection.semantic import Candidate

# The llm-decontaminator's instruction for knowledge questions, asking for yes or no.
INSTRUCTION = (
    "I will give you two questions, each enclosed in curly braces. Decide whether they are "
    "the same question. Disregard names, minor changes of wording or word order, the order "
    "of answer options and whether options are shown at all. If their question prompts are "
    "very similar and, without considering the solution process, they produce the same "
    "answer, they are the same question. Answer 'yes' if they are, otherwise 'no'. Do not "
    "answer with anything else."
)
_VERDICT = re.compile(r"\s*(yes|no)\.?\s*", re.IGNORECASE)


def parse_verdict(text: str) -> bool | None:
    """`yes` -> True, `no` -> False (any case, an optional final full stop); else None."""
    match = _VERDICT.fullmatch(text)
    return None if match is None else match.group(1).lower() == "yes"


def prompt(pair: Candidate) -> str:
    """The user message for one pair: the pool question first, the evaluation question next."""
    return f"Question 1: {{\n{pair.record_text}\n}}\nQuestion 2: {{\n{pair.item_text}\n}}"


class ContaminationJudge:
    """Asks an Inspect model about candidate pairs and logs every verdict (a `PairJudge`)."""

    def __init__(self, model: str | Model, log_path: str | Path, *, max_tokens: int = 8) -> None:
        self.model = get_model(model) if isinstance(model, str) else model
        self.log_path = Path(log_path)
        self.config = GenerateConfig(temperature=0.0, max_tokens=max_tokens)

    def __call__(self, pairs: Sequence[Candidate]) -> list[bool | None]:
        """One verdict per pair, in order; the log is written when all have answered."""
        outputs = asyncio.run(self._ask(pairs))
        verdicts = [parse_verdict(output.completion) for output in outputs]
        write_jsonl(
            self.log_path,
            (
                _log_row(pair, output, verdict, str(self.model))
                for pair, output, verdict in zip(pairs, outputs, verdicts, strict=True)
            ),
        )
        return verdicts

    async def _ask(self, pairs: Sequence[Candidate]) -> list[ModelOutput]:
        # Inspect bounds the connections per model; the calls only queue here
        return list(
            await asyncio.gather(
                *(
                    self.model.generate(
                        [
                            ChatMessageSystem(content=INSTRUCTION),
                            ChatMessageUser(content=prompt(p)),
                        ],
                        config=self.config,
                    )
                    for p in pairs
                )
            )
        )


def _log_row(
    pair: Candidate, output: ModelOutput, verdict: bool | None, model: str
) -> dict[str, Any]:
    return {
        "record_id": pair.record_id,
        "source": pair.source,
        "item_id": pair.item_id,
        "similarity": pair.similarity,
        "rank": pair.rank,
        "model": model,
        "answer": output.completion,
        "verdict": {True: "yes", False: "no", None: None}[verdict],
    }


def build_judge(config: DecontaminationConfig, log: str | Path) -> ContaminationJudge | None:
    """The judge `semantic.judge_model` names, logging its verdicts to `log` (or None)."""
    semantic = config.semantic
    if not (config.enabled and semantic.enabled) or semantic.judge_model is None:
        return None
    return ContaminationJudge(semantic.judge_model, Path(log))
