"""clinical_reasoning: open-ended clinical cases from vignette benchmarks, judged on rubrics.

Each case is a MedQA, MedXpertQA or MedBullets question asked WITHOUT its options: the
model has to reason to an answer in free text, as a clinician would. The correct option
(and the upstream explanation, where the benchmark has one) is the reference, shown to the
judge only. The `rubric_judge` scorer grades the response on differential diagnosis,
safety check and evidence citation (or any rubrics given with `-T rubrics=`), with the
judge bound to the `grader` role (`--model-role grader=MODEL`; required).

Questions that only make sense with their options ("all of the following EXCEPT",
"which statement is true") are left out unless `-T keep_option_dependent=true`.
Sample ids are `<benchmark>:<upstream id>` (e.g. `medxpertqa:Text-1001`), stable across
runs. `-T exclude=FILE` removes a case when the file lists it for this task, or lists its
item for the benchmark it comes from (`medqa`, `medxpertqa`, `medbullets_op4|5`,
`synthetic_mcq`, as the influence step's validation file names them), so validation
items are never judged either.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Literal

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import GenerateConfig
from inspect_ai.solver import generate

from harness.core.errors import InputError
from harness.core.inspect_names import namespaced
from rubrics.judge import DEFAULT_RUBRICS, load_rubrics, rubric_judge, rubric_provenance
from tasks._data import as_list
from tasks.exclusions import Exclusions, Key
from tasks.items import MCQItem
from tasks.medbullets import load_medbullets
from tasks.medqa import load_medqa
from tasks.medxpertqa import load_medxpertqa
from tasks.synthetic import load_synthetic

PLAIN_PROMPT = """Work through the following clinical case and answer the question at the end. \
No answer options are given: answer in your own words. Explain your clinical reasoning, then \
give your final answer on the last line, starting with "Final answer:".

{case}"""

STRUCTURED_PROMPT = """Work through the following clinical case as the physician responsible \
for the patient, and answer the question at the end. No answer options are given: answer in \
your own words. Cover, in this order:
1. Differential diagnosis: the diagnoses you considered, ranked, with the findings for and \
against each.
2. Safety: how urgent the situation is, red flags, and contraindications or risks of what you \
recommend.
3. Evidence: the mechanisms, validated criteria or guidelines your reasoning relies on.
Give your final answer on the last line, starting with "Final answer:".

{case}"""

PROMPTS = {"plain": PLAIN_PROMPT, "structured": STRUCTURED_PROMPT}
TASK_NAME = "clinical_reasoning"
DEFAULT_RUBRIC_NAMES = ",".join(DEFAULT_RUBRICS)

# "Which of the following ..." reads naturally as "What ..." once the options are gone.
_WHICH_OF_THE_FOLLOWING = re.compile(r"\b(W|w)hich (?:one )?of the following\b")
# Questions whose answer is defined by the options themselves.
_OPTION_DEPENDENT = re.compile(
    r"\bEXCEPT\b|\bexcept\s*[:?]|\bNOT\b"
    r"|following (?:statements?|is (?:true|false|correct|incorrect)|are (?:true|false|correct))"
    r"|\b(?:all|none) of the (?:following|above)\b",
)


def open_question(item: MCQItem) -> str:
    """The item's question (with its context) as an open question, without options."""
    text = item.prompt_text().strip()
    return _WHICH_OF_THE_FOLLOWING.sub(lambda m: "What" if m.group(1) == "W" else "what", text)


def option_dependent(item: MCQItem) -> bool:
    """True for questions that cannot be asked without their options."""
    return bool(_OPTION_DEPENDENT.search(item.question))


def reference_text(item: MCQItem) -> str:
    """The judge's reference: the correct option, and the upstream explanation if any."""
    answer = item.choices[item.answer]
    if item.explanation:
        return f"{answer}\n\nExplanation: {item.explanation}"
    return answer


def case_id(item: MCQItem) -> str:
    """The case's sample id: `<benchmark>:<upstream id>`."""
    return f"{item.benchmark}:{item.id}"


def case_keys(item: MCQItem) -> list[Key]:
    """The exclusion keys of a case: its item in its benchmark, and the case in this task."""
    return [item.key, (TASK_NAME, case_id(item))]


def case_sample(item: MCQItem, prompt: str) -> Sample:
    """The open-ended sample for one item."""
    case = open_question(item)
    return Sample(
        id=case_id(item),
        input=PROMPTS[prompt].format(case=case),
        target=item.choices[item.answer],
        metadata={
            "benchmark": item.benchmark,
            "upstream_id": item.id,
            "subject": item.subject or "all",
            "case": case,
            "reference": reference_text(item),
            "reference_answer": item.choices[item.answer],
            "has_explanation": item.explanation is not None,
        },
    )


def _loaders(
    medxpertqa_subset: str, medbullets_options: int
) -> dict[str, Callable[[str | None], tuple[list[MCQItem], str]]]:
    return {
        "medqa": load_medqa,
        "medxpertqa": lambda path: load_medxpertqa(medxpertqa_subset, path),
        "medbullets": lambda path: load_medbullets(medbullets_options, path),
        "synthetic": _synthetic,
    }


def _synthetic(path: str | None) -> tuple[list[MCQItem], str]:
    if not path:
        raise InputError(
            "-T source=synthetic needs -T path= (a file written by `diq demo`)", field="path"
        )
    return load_synthetic(path)


@task(name=namespaced("tasks", "clinical_reasoning"))
def clinical_reasoning(
    source: str | list[str] = "medqa,medxpertqa",
    path: str | None = None,
    limit: int | None = None,
    seed: int = 0,
    exclude: str | None = None,
    prompt: Literal["plain", "structured"] = "plain",
    keep_option_dependent: bool = False,
    rubrics: str | list[str] = DEFAULT_RUBRIC_NAMES,
    mode: Literal["json", "logprobs"] = "json",
    max_tokens: int | None = None,
    medxpertqa_subset: str = "subset-1449",
    medbullets_options: int = 4,
    judge_retries: int = 2,
    judge_max_tokens: int | None = None,
    judge_cache: bool = False,
) -> Task:
    """Open-ended clinical cases (options withheld), judged on clinical-reasoning rubrics.

    Args:
        source: Benchmarks to draw cases from: medqa, medxpertqa, medbullets, or synthetic
            (the demo's generated cases; needs `path`) (comma list).
        path: The data file, when a single source is given (else `$DIQ_DATA_DIR` / pinned HF).
        limit: Cases per source: a seeded random sample of this many.
        seed: Seed for `limit`.
        exclude: File of items never to judge (this task's case ids, or the items'
            own ids under their benchmark, as in the influence validation file).
        prompt: "plain" (reason, then answer) or "structured" (asks for differential,
            safety and evidence explicitly).
        keep_option_dependent: Keep questions that need their options to make sense.
        rubrics: Rubric names or YAML paths for the judge.
        mode: Judge verdicts as "json" or "logprobs".
        max_tokens: Generation limit for the evaluated model.
        medxpertqa_subset: MedXpertQA subset (subset-1449, sampled-244, full-2450).
        medbullets_options: MedBullets op4 or op5 file.
        judge_retries: Re-asks after an unusable judge reply.
        judge_max_tokens: Judge generation limit.
        judge_cache: Cache judge calls.
    """
    sources = as_list(source)
    loaders = _loaders(medxpertqa_subset, medbullets_options)
    unknown = [s for s in sources if s not in loaders]
    if not sources or unknown:
        raise InputError(
            f"unknown source(s) {unknown or sources}; choose from {', '.join(loaders)}",
            field="source",
        )
    if path and len(sources) > 1:
        raise InputError("-T path= needs a single -T source=", field="path")
    if prompt not in PROMPTS:
        raise InputError(f"prompt must be one of {', '.join(PROMPTS)}", field="prompt")
    load_rubrics(rubrics)  # fail on a bad rubric before loading any data
    exclusions = Exclusions.read(exclude)
    samples: list[Sample] = []
    considered: list[MCQItem] = []  # usable cases of every source, before exclusion
    allowed_count = 0
    provenance: dict[str, dict[str, object]] = {}
    for name in sources:
        items, location = loaders[name](path)
        usable = [item for item in items if keep_option_dependent or not option_dependent(item)]
        allowed = [item for item in usable if not exclusions.names(case_keys(item))]
        considered += usable
        allowed_count += len(allowed)
        kept = allowed
        if limit is not None and limit < len(allowed):
            chosen = set(random.Random(f"{seed}:{name}").sample(range(len(allowed)), limit))
            kept = [item for i, item in enumerate(allowed) if i in chosen]
        provenance[name] = {
            "source": location,
            "items": len(items),
            "option_dependent_dropped": len(items) - len(usable),
            "excluded": len(usable) - len(allowed),
            "cases": len(kept),
        }
        samples.extend(case_sample(item, prompt) for item in kept)
    scopes = {key[0] for item in considered for key in case_keys(item)}
    exclusions.check(TASK_NAME, scopes, len(considered), allowed_count)
    if not samples:
        raise InputError("clinical_reasoning: no cases left after filtering", path=exclude)
    return Task(
        name=TASK_NAME,
        dataset=MemoryDataset(samples, name="clinical_reasoning", location=",".join(sources)),
        solver=generate(),
        scorer=rubric_judge(
            rubrics=rubrics,
            mode=mode,
            retries=judge_retries,
            max_tokens=judge_max_tokens,
            cache=judge_cache,
            # the evaluated model never grades its own answers (self-preference bias)
            require_grader=True,
        ),
        config=GenerateConfig(max_tokens=max_tokens) if max_tokens else GenerateConfig(),
        metadata={
            "benchmark": "clinical_reasoning",
            "sources": provenance,
            "prompt": prompt,
            **rubric_provenance(rubrics),
        },
    )
