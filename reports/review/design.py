"""Which responses each physician rates, under which opaque code, in which order.

- *Blinding*: each response gets a random code (`R7QK2M`); the model behind it is only
  in the key file, which never goes to raters.
- *Overlap*: a calibration subset of prompts, stratified over tasks, is rated by every
  rater (it feeds multi-rater alpha and the ICC); every other prompt goes to
  `raters_per_item` raters, cycling through all rater subsets of that size so that every
  pair of raters shares items (a balanced incomplete block design, for the kappa matrix).
  A prompt travels with all its answers, one per model: whoever rates one model's answer
  rates the others' too, which lets the report compare models within rater.
- *Order*: each rater sees their items in their own seeded random order, so position
  effects average out.
Everything is a function of the inputs and the seed.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass

from harness.core.errors import ConfigError
from reports.config import ReviewConfig, SettingError
from reports.frames import Frames

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 6


@dataclass(frozen=True)
class Response:
    """One model's answer to one prompt: the unit a physician rates."""

    task: str
    sample_id: str
    epoch: int
    label: str
    model: str
    log: str
    eval_id: str
    prompt: str
    response: str
    reference: str

    @property
    def uid(self) -> str:
        return f"{self.task}/{self.sample_id}/{self.label}"


@dataclass(frozen=True)
class Assignment:
    """Codes, the calibration subset, and each rater's ordered list of codes."""

    codes: dict[str, str]  # response uid -> code
    calibration: list[str]  # codes rated by everyone
    sheets: dict[str, list[str]]  # rater -> codes in presentation order


def collect_responses(frames: Frames, config: ReviewConfig) -> list[Response]:
    """First-epoch responses of every model to the chosen prompts.

    A prompt qualifies when every model answered it without an error (in `config.tasks`,
    or any task). `config.prompts` draws that many of them, spread evenly over tasks in
    a seeded order.
    """
    tasks, prompts, seed = config.tasks, config.prompts, config.seed
    by_prompt: dict[tuple[str, str], dict[str, Response]] = {}
    known_tasks = {info.record.task for info in frames.logs}
    unknown = sorted(set(tasks) - known_tasks)
    if unknown:
        raise SettingError(
            "tasks",
            f"names no task in the logs: {', '.join(unknown)} "
            f"(tasks: {', '.join(sorted(known_tasks))})",
        )
    for info in frames.logs:
        record = info.record
        if tasks and record.task not in tasks:
            continue
        for sample in record.samples:
            if sample.epoch != 1 or sample.error is not None:
                continue
            by_prompt.setdefault((record.task, sample.id), {})[info.label] = Response(
                task=record.task,
                sample_id=sample.id,
                epoch=sample.epoch,
                label=info.label,
                model=record.model,
                log=record.path,
                eval_id=record.eval_id,
                prompt=sample.input,
                response=sample.output,
                reference=sample.target,
            )
    labels = sorted({info.label for info in frames.logs if not tasks or info.record.task in tasks})
    complete = sorted(key for key, found in by_prompt.items() if set(found) == set(labels))
    if not complete:
        raise ConfigError("no prompt was answered by every model without an error")
    if prompts is not None and prompts < len(complete):
        rng = random.Random(f"{seed}:prompts")
        per_task: dict[str, list[tuple[str, str]]] = {}
        for key in complete:
            per_task.setdefault(key[0], []).append(key)
        queues = [rng.sample(keys, len(keys)) for _, keys in sorted(per_task.items())]
        chosen: list[tuple[str, str]] = []
        while len(chosen) < prompts:
            for queue in queues:
                if queue and len(chosen) < prompts:
                    chosen.append(queue.pop())
        complete = sorted(chosen)
    return [by_prompt[key][label] for key in complete for label in labels]


def make_codes(uids: Sequence[str], seed: int) -> dict[str, str]:
    """A distinct random code per response, drawn in sorted-uid order from the seed."""
    rng = random.Random(f"{seed}:codes")
    codes: dict[str, str] = {}
    used: set[str] = set()
    for uid in sorted(uids):
        while True:
            code = "R" + "".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            if code not in used:
                break
        used.add(code)
        codes[uid] = code
    return codes


def assign(responses: Sequence[Response], config: ReviewConfig) -> Assignment:
    """Codes, a calibration subset of prompts, balanced blocks for the rest, per-rater order.

    A prompt's answers (one per model) always go to the same raters, so every rater rates
    every model's answer to their prompts: models can be compared within rater.
    """
    codes = make_codes([r.uid for r in responses], config.seed)
    rng = random.Random(f"{config.seed}:design")
    by_prompt: dict[tuple[str, str], list[str]] = {}
    for response in responses:
        by_prompt.setdefault((response.task, response.sample_id), []).append(response.uid)
    # Calibration: round-robin over tasks in a seeded order.
    per_task: dict[str, list[tuple[str, str]]] = {}
    for key in sorted(by_prompt):
        per_task.setdefault(key[0], []).append(key)
    queues = [rng.sample(keys, len(keys)) for _, keys in sorted(per_task.items())]
    calibration: list[tuple[str, str]] = []
    while len(calibration) < min(config.calibration, len(by_prompt)):
        for queue in queues:
            if queue and len(calibration) < config.calibration:
                calibration.append(queue.pop())
    chosen = set(calibration)
    rest = [key for key in sorted(by_prompt) if key not in chosen]
    rng.shuffle(rest)
    blocks = list(itertools.combinations(config.raters, config.raters_per_item))
    rng.shuffle(blocks)
    calibration_codes = [codes[uid] for key in calibration for uid in by_prompt[key]]
    sheets: dict[str, list[str]] = {rater: list(calibration_codes) for rater in config.raters}
    for index, key in enumerate(rest):
        for rater in blocks[index % len(blocks)]:
            sheets[rater] += [codes[uid] for uid in by_prompt[key]]
    for rater in config.raters:
        random.Random(f"{config.seed}:order:{rater}").shuffle(sheets[rater])
    return Assignment(codes, sorted(calibration_codes), sheets)
