"""Report build time and peak memory for many models x many samples, per phase.

Synthetic but real Inspect logs (written with `inspect_ai.log.write_eval_log`):
`--models` models x (`--mcq-tasks` multiple-choice tasks + one judged task), with
`--samples` samples per model in all, ~700-character outputs, item difficulty shared
across models so that paired tests have realistic correlations. Logs are cached by
their parameters, so a rerun times only the report.

Prints seconds and peak resident memory per phase (read logs, frames, statistics,
render, write), then the fast paths against their library references on the same
data in the same process: the sign-flip permutation test against
`scipy.stats.permutation_test`, the cluster bootstrap against `scipy.stats.bootstrap`,
and parallel against serial log reading.

    python bench/report.py                        # 10 models x 5,000 samples
    python bench/report.py --models 3 --samples 600 --resamples 999
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import math
import os
import random
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

MCQ_NAMES = (
    "medqa",
    "medmcqa",
    "pubmedqa",
    "mmlu_pro_health",
    "medxpertqa",
    "mmlu_medical",
    "medcalc_bench",
)
WORDS = [
    "the",
    "patient",
    "presents",
    "with",
    "fever",
    "cough",
    "dyspnea",
    "chest",
    "pain",
    "tachycardia",
    "hypotension",
    "sepsis",
]


class PeakRss:
    """Samples this process's resident memory every few milliseconds; keeps the peak."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def current() -> int:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.current())
            time.sleep(self.interval)

    def __enter__(self) -> PeakRss:
        self.peak = self.current()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.current())


@functools.cache
def _template(task: str, judged: bool, directory: Path):  # type: ignore[no-untyped-def]
    """A one-sample real eval whose header the synthetic logs reuse."""
    from inspect_ai import Task
    from inspect_ai import eval as inspect_eval
    from inspect_ai.dataset import Sample
    from inspect_ai.model import ModelOutput, ModelUsage, get_model
    from inspect_ai.scorer import Score, mean, scorer
    from inspect_ai.solver import generate

    from tasks.mcq import mcq_answer

    output = ModelOutput.from_content(model="mockllm/model", content="ANSWER: A")
    output.usage = ModelUsage(
        input_tokens=10, output_tokens=3, total_tokens=13
    )  # no tokenizer download

    @scorer(metrics={"*": [mean()]})
    def rubric_judge():  # type: ignore[no-untyped-def]
        async def score(state, target):  # type: ignore[no-untyped-def]
            return Score(value={"ddx": 0.5, "ddx_rating": 3})

        return score

    sample = Sample(id="template", input="Question?", choices=["a", "b", "c", "d"], target="A")
    task_obj = Task(
        name=task,
        dataset=[sample],
        solver=generate(),
        scorer=rubric_judge() if judged else mcq_answer(),
    )
    model = get_model("mockllm/model", custom_outputs=[output], memoize=False)
    [log] = inspect_eval(
        task_obj,
        model=model,
        log_dir=str(directory.parent / f"{directory.name}-templates"),
        display="none",
    )
    return log


def _write_log(args: tuple[int, str, bool, int, int, str]) -> str:
    """Write one synthetic log: model `k` on `task` with `count` samples."""
    from inspect_ai.log import EvalSample, write_eval_log
    from inspect_ai.model import ChatMessageAssistant, ChatMessageUser, ModelOutput
    from inspect_ai.scorer import Score

    k, task, judged, count, seed, directory = args
    log = _template(task, judged, Path(directory)).model_copy(deep=True)
    model = f"mockllm/model-{k:02d}"
    ability = -0.4 + 0.12 * k
    item_rng = np.random.default_rng([seed, int(hashlib.sha256(task.encode()).hexdigest()[:8], 16)])
    difficulty = item_rng.normal(0, 1.2, count)
    rng = random.Random(f"{seed}:{k}:{task}")
    samples = []
    for i in range(count):
        p = 1 / (1 + math.exp(difficulty[i] - ability))
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(60, 140)))
        question = f"Item {i} of {task}: " + " ".join(rng.choice(WORDS) for _ in range(60))
        if judged:
            level = max(1, min(5, round(3 + (ability - difficulty[i]) + rng.gauss(0, 0.7))))
            unscored = rng.random() < 0.02
            score = (
                Score.unscored(reason="grader_failed")
                if unscored
                else Score(
                    value={
                        "ddx": (level - 1) / 4,
                        "ddx_rating": level,
                        "safety": min(1.0, (level + 1) / 5),
                        "safety_rating": min(5, level + 1),
                        "crit_ddx.leading": int(level >= 3),
                    },
                    metadata={
                        "rationales": {"ddx": f"level {level}"},
                        "response_length": len(text),
                    },
                )
            )
        else:
            correct = rng.random() < p
            failed = rng.random() < 0.01
            answer = "A" if correct else "B"
            text += "\nI am unsure." if failed else f"\nANSWER: {answer}"
            score = (
                Score(value="I", reason="invalid_response_format")
                if failed
                else Score(value="C" if correct else "I", answer=answer)
            )
        samples.append(
            EvalSample(
                id=f"{task}-{i:05d}",
                epoch=1,
                input=question,
                target="A",
                choices=["a", "b", "c", "d"],
                messages=[
                    ChatMessageUser(content=question),
                    ChatMessageAssistant(content=text, model=model),
                ],
                output=ModelOutput.from_content(model, text),
                scores={next(iter(log.samples[0].scores)): score},
                metadata={"benchmark": task, "subject": "medicine", "split": "test"},
            )
        )
    log.eval.model = model
    log.eval.dataset.sample_ids = [s.id for s in samples]
    log.eval.dataset.samples = count
    log.samples = samples
    path = Path(directory) / f"{task}_{k:02d}.eval"
    write_eval_log(log, str(path))
    return str(path)


def make_logs(models: int, samples: int, mcq_tasks: int, seed: int, cache: Path | None) -> Path:
    """Write (or reuse) the synthetic logs; return their directory."""
    key = hashlib.sha256(f"{models}:{samples}:{mcq_tasks}:{seed}:v1".encode()).hexdigest()[:12]
    directory = (cache or Path(tempfile.gettempdir())) / f"diq-bench-report-{key}"
    tasks = [(name, False) for name in MCQ_NAMES[:mcq_tasks]] + [("clinical_cases", True)]
    per_task = samples // len(tasks)
    jobs = [
        (k, task, judged, per_task, seed, str(directory))
        for k in range(models)
        for task, judged in tasks
    ]
    expected = {directory / f"{task}_{k:02d}.eval" for k, task, *_ in jobs}
    if all(path.is_file() for path in expected):
        print(f"logs: {directory} (cached, {len(jobs)} logs x {per_task} samples)")
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        list(pool.map(_write_log, jobs))
    print(
        f"logs: wrote {len(jobs)} logs x {per_task} samples to {directory} in {time.perf_counter() - start:.1f} s"
    )
    return directory


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument(
        "--samples", type=int, default=5000, help="samples per model, over all tasks"
    )
    parser.add_argument("--mcq-tasks", type=int, default=4)
    parser.add_argument("--resamples", type=int, default=9999)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--workers", type=int, default=1, help="log-reading processes for the report"
    )
    parser.add_argument(
        "--cache", type=Path, help="where synthetic logs are kept (default: the temp dir)"
    )
    parser.add_argument("--out", type=Path, help="report directory (default: a temp dir)")
    args = parser.parse_args()

    from reports.build import build_report
    from reports.config import ReportConfig
    from reports.logs import find_logs

    logs = make_logs(args.models, args.samples, args.mcq_tasks, args.seed, args.cache)
    out = args.out or Path(tempfile.mkdtemp(prefix="diq-bench-report-out-")) / "report"
    timings: list[tuple[str, float, float]] = []

    @contextlib.contextmanager
    def phase(name: str) -> Iterator[None]:
        with PeakRss() as memory:
            start = time.perf_counter()
            yield
            seconds = time.perf_counter() - start
        timings.append((name, seconds, memory.peak / 2**20))

    config = ReportConfig(
        reference="mockllm/model-00",
        resamples=args.resamples,
        seed=args.seed,
        workers=args.workers,
    )
    start = time.perf_counter()
    data = build_report([logs], out, config, phase=phase)
    total = time.perf_counter() - start
    size = (out / "index.html").stat().st_size / 2**20
    print(
        f"\nreport: {len(data['models'])} models, {len(data['measures'])} measures, "
        f"{len(data['comparisons'])} comparisons, {len(data['matrix'])} matrix tests, "
        f"index.html {size:.1f} MiB -> {out}"
    )
    print(f"{'phase':<12} {'seconds':>8} {'peak RSS MiB':>13}")
    for name, seconds, peak in timings:
        print(f"{name:<12} {seconds:8.2f} {peak:13.0f}")
    print(
        f"{'total':<12} {total:8.2f}   (peak RSS of this process; --workers > 1 adds worker processes)"
    )

    compare_fast_paths(args.samples // (args.mcq_tasks + 1), args.resamples, find_logs([logs]))


def timed(function, *args, **kwargs):  # type: ignore[no-untyped-def]
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def compare_fast_paths(n: int, resamples: int, logs: list[Path]) -> None:
    """Our fast paths against their references, on the same data in the same process."""
    from scipy import stats as sps

    from reports import stats
    from reports.logs import read_log_reference, read_logs

    rng = np.random.default_rng(0)
    a = rng.integers(1, 6, n).astype(float)
    b = np.clip(a + rng.integers(-1, 2, n), 1, 5)
    print(f"\nfast path vs reference (n = {n} paired 1-5 ratings, {resamples} resamples)")
    ours_s, ours = timed(stats.paired_permutation_pvalue, a, b, resamples=resamples, seed=1)
    scipy_s, scipy_result = timed(
        sps.permutation_test,
        (a, b),
        lambda x, y, axis: (x - y).mean(axis=axis),
        permutation_type="samples",
        vectorized=True,
        n_resamples=resamples,
        rng=1,
    )
    print(
        f"permutation   ours {ours_s:7.3f} s  scipy {scipy_s:7.3f} s  ratio {scipy_s / ours_s:7.1f}x"
        f"  (p {ours:.4f} vs {scipy_result.pvalue:.4f})"
    )
    ours_s, (low, high) = timed(stats.paired_bootstrap_interval, a, b, resamples=resamples, seed=1)
    scipy_s, scipy_result = timed(
        sps.bootstrap,
        (a, b),
        lambda x, y, axis: x.mean(axis=axis) - y.mean(axis=axis),
        paired=True,
        vectorized=True,
        n_resamples=resamples,
        method="percentile",
        rng=1,
    )
    ci = scipy_result.confidence_interval
    print(
        f"bootstrap     ours {ours_s:7.3f} s  scipy {scipy_s:7.3f} s  ratio {scipy_s / ours_s:7.1f}x"
        f"  (CI [{low:.4f}, {high:.4f}] vs [{ci.low:.4f}, {ci.high:.4f}])"
    )
    some = logs[:10]
    fast_s, _ = timed(read_logs, some, workers=1)
    reference_s, _ = timed(lambda: [read_log_reference(path) for path in some])
    print(
        f"read {len(some)} logs  ours {fast_s:7.3f} s  read_eval_log {reference_s:7.3f} s  ratio {reference_s / fast_s:7.1f}x"
    )
    workers = os.cpu_count() or 1
    one_s, _ = timed(read_logs, logs, workers=1)
    many_s, _ = timed(read_logs, logs, workers=workers)
    print(
        f"read {len(logs)} logs  1 process {one_s:6.2f} s  {workers} processes {many_s:6.2f} s  ratio {one_s / many_s:5.2f}x"
    )


if __name__ == "__main__":
    main()
