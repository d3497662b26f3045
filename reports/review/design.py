"""Which responses each physician rates, under which opaque code, in which order.

- *Blinding*: each response gets a random code (`R7QK2M`); the model behind it is only
  in the key file, which never goes to raters.
- *Overlap*: a calibration subset, stratified over models and tasks, is rated by every
  rater (it feeds multi-rater alpha and the ICC); every other response goes to
  `per_item` raters, cycling through all rater subsets of that size so that every pair
  of raters shares items (a balanced incomplete block design, for the kappa matrix).
- *Order*: each rater sees their items in their own seeded random order, so position
  effects average out.
Everything is a function of the inputs and the seed.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from harness.core.errors import ConfigError
from reports.frames import Frames

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 6
RATER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


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


def check_raters(raters: Sequence[str]) -> list[str]:
    """Rater ids: at least two, unique, usable as file names."""
    names = [r.strip() for r in raters if r.strip()]
    bad = [r for r in names if not RATER_NAME.match(r)]
    if bad:
        raise ConfigError(f"rater ids must be letters, digits, '.', '_' or '-': {', '.join(bad)}")
    duplicates = sorted({r for r in names if names.count(r) > 1})
    if duplicates:
        raise ConfigError(f"duplicate rater ids: {', '.join(duplicates)}")
    if len(names) < 2:
        raise ConfigError("agreement needs at least two raters (--raters A,B,...)")
    return names


def collect_responses(
    frames: Frames, *, tasks: Sequence[str] = (), prompts: int | None = None, seed: int = 0
) -> list[Response]:
    """First-epoch responses of every model to the chosen prompts.

    A prompt qualifies when every model answered it without an error. `prompts` draws
    that many of them, spread evenly over tasks in a seeded order.
    """
    by_prompt: dict[tuple[str, str], dict[str, Response]] = {}
    known_tasks = {info.record.task for info in frames.logs}
    unknown = sorted(set(tasks) - known_tasks)
    if unknown:
        raise ConfigError(
            f"--task names no task in the logs: {', '.join(unknown)} (tasks: {', '.join(sorted(known_tasks))})"
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


def assign(
    responses: Sequence[Response],
    raters: Sequence[str],
    *,
    calibration: int,
    per_item: int,
    seed: int,
) -> Assignment:
    """Codes, a stratified calibration subset, balanced blocks for the rest, per-rater order."""
    raters = check_raters(raters)
    if not 2 <= per_item <= len(raters):
        raise ConfigError(
            f"--per-item must be between 2 and the number of raters ({len(raters)}), got {per_item}"
        )
    if calibration < 0:
        raise ConfigError(f"--calibration must be >= 0, got {calibration}")
    codes = make_codes([r.uid for r in responses], seed)
    rng = random.Random(f"{seed}:design")
    # Calibration: round-robin over (model, task) strata in a seeded order.
    strata: dict[tuple[str, str], list[Response]] = {}
    for response in responses:
        strata.setdefault((response.label, response.task), []).append(response)
    queues = [rng.sample(group, len(group)) for _, group in sorted(strata.items())]
    calibration_uids: list[str] = []
    while len(calibration_uids) < min(calibration, len(responses)):
        for queue in queues:
            if queue and len(calibration_uids) < calibration:
                calibration_uids.append(queue.pop().uid)
    chosen = set(calibration_uids)
    rest = [r.uid for r in responses if r.uid not in chosen]
    rng.shuffle(rest)
    blocks = list(itertools.combinations(raters, per_item))
    rng.shuffle(blocks)
    sheets: dict[str, list[str]] = {
        rater: [codes[uid] for uid in calibration_uids] for rater in raters
    }
    for index, uid in enumerate(rest):
        for rater in blocks[index % len(blocks)]:
            sheets[rater].append(codes[uid])
    for rater in raters:
        random.Random(f"{seed}:order:{rater}").shuffle(sheets[rater])
    return Assignment(codes, sorted(codes[uid] for uid in calibration_uids), sheets)
