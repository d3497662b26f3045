"""Hostile and careless inputs across every command: one line, exit 2, nothing written.

Each case builds its inputs in a fresh directory, runs one `diq` command, and checks
that the command refused with exit status 2, exactly one line on stderr that names what
is wrong (the file and the field, as far as they exist), no traceback, and that the
directory (inputs and any output folder) is byte-for-byte what it was before the call.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from harness.cli import main
from harness.core.records import PoolRecord, write_records
from tests.selection.util import make_records


@dataclass(frozen=True)
class Shared:
    """What cases read but never write: a tiny checkpoint and a folder of finished logs."""

    checkpoint: Path
    logs: Path


Build = Callable[[Path, Shared], list[str]]  # (directory, shared inputs) -> arguments


@dataclass(frozen=True)
class Case:
    name: str
    build: Build
    says: tuple[str, ...]  # every one of these is in the error line


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under `root` with its bytes (None for a directory)."""
    return {
        str(path.relative_to(root)): path.read_bytes() if path.is_file() else None
        for path in sorted(root.rglob("*"))
    }


def pool(root: Path, name: str = "pool.jsonl") -> Path:
    path = root / name
    write_records(path, make_records(8))
    return path


def validation(root: Path) -> Path:
    path = root / "validation.jsonl"
    rows = [
        PoolRecord(f"medqa:v{i}", f"Validation vignette {i}: which drug?", "", "ANSWER: A")
        for i in range(2)
    ]
    write_records(path, rows)
    return path


def select_args(root: Path, model: Path, *extra: str, pool_file: Path | None = None) -> list[str]:
    return [
        "select",
        "--pool",
        str(pool_file or pool(root)),
        "--validation",
        str(validation(root)),
        "--model",
        str(model),
        "--out",
        str(root / "run"),
        "--quiet",
        *extra,
    ]


def experiment(root: Path, **sections: object) -> Path:
    """An experiment config over real local files, with `sections` laid over it."""
    config: dict = {
        "name": "hostile",
        "select": {
            "pool": {"path": str(pool(root))},
            "validation": {"path": str(validation(root))},
            "ratios": [0.5],
        },
        "train": {"base": "org/base-model"},
        "eval": {"suites": []},
        "judge": {"graders": []},
    }
    for key, value in sections.items():
        config[key] = {**config.get(key, {}), **value} if isinstance(value, dict) else value
    path = root / "experiment.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def check(root: Path, **sections: object) -> list[str]:
    return ["config", "--check", str(experiment(root, **sections))]


def raw_config(root: Path, text: str | bytes) -> list[str]:
    path = root / "experiment.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return ["config", "--check", str(path)]


BOMB = (
    "name: bomb\nselect: {pool: {path: p.jsonl}, validation: {path: v.jsonl}}\n"
    "train: {base: org/b}\neval:\n  model_args:\n"
    "    a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    "    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
    "    d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    "    e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
    "    f: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
)


def bad_pool(root: Path, content: bytes) -> Path:
    path = root / "bad.jsonl"
    path.write_bytes(content)
    return path


def record_line(record_id: str) -> bytes:
    row = {"id": record_id, "question": "Which drug?", "reasoning": "", "response": "A"}
    return (json.dumps(row) + "\n").encode()


def user_folder(root: Path) -> Path:
    folder = root / "mine"
    (folder / "src").mkdir(parents=True)
    (folder / "README.md").write_text("my notes\n")
    (folder / "src" / "analysis.py").write_text("print('mine')\n")
    return folder


def subsets_with_one_bad(root: Path) -> Path:
    folder = root / "subsets"
    write_records(folder / "a-good.jsonl", make_records(4))
    (folder / "b-bad.jsonl").write_text('{"id": "x", "question": "Q?"}\n')
    return folder


CASES = [
    # diq config --check: the whole study, before anything runs
    Case(
        "unknown key",
        lambda r, m: check(r, train={"base": "org/b", "lora_rank": 8}),
        ("experiment.yaml", "train.lora_rank", "unknown key"),
    ),
    Case(
        "one rater for two per item",
        lambda r, m: check(r, review={"raters": ["solo"]}),
        ("review.raters", "raters per item"),
    ),
    Case(
        "reference names no model",
        lambda r, m: check(r, report={"reference": "random-0.01"}),
        ("report.reference", "random-0.01"),
    ),
    Case(
        "primary names no measure",
        lambda r, m: check(r, report={"primary": ["medqx/a/b"]}),
        ("report.primary",),
    ),
    Case(
        "pool is not a pool file",
        lambda r, m: (
            check(r, select={"pool": {"path": str(r / "passwd")}})
            if (r / "passwd").write_text("root:x:0:0\n")
            else []
        ),
        ("passwd", "select.pool.path", "not a pool file"),
    ),
    Case(
        "pool does not exist",
        lambda r, m: check(r, select={"pool": {"path": str(r / "no.jsonl")}}),
        ("no.jsonl", "select.pool.path", "no such file"),
    ),
    Case(
        "ratio twice",
        lambda r, m: check(r, select={"ratios": [0.1, 0.1]}),
        ("select.ratios", "twice"),
    ),
    Case(
        "unknown strategy",
        lambda r, m: check(r, select={"strategies": ["diq", "best"]}),
        ("select.strategies", "best"),
    ),
    Case(
        "train.subsets names nothing selected",
        lambda r, m: check(r, train={"base": "org/b", "subsets": ["diq-0.1"]}),
        ("train.subsets", "diq-0.1"),
    ),
    Case(
        "unknown suite",
        lambda r, m: check(r, eval={"suites": ["papers"]}),
        ("eval.suites", "papers"),
    ),
    Case(
        "task argument it does not take",
        lambda r, m: check(
            r,
            judge={
                "graders": ["g/x"],
                "tasks": [{"task": "clinical_reasoning", "args": {"sauce": 1}}],
            },
        ),
        ("judge.tasks.0.args", "sauce"),
    ),
    Case(
        "unknown task",
        lambda r, m: check(r, eval={"tasks": [{"task": "medqaa"}]}),
        ("eval.tasks.0.task", "medqaa"),
    ),
    Case("eval limit 0", lambda r, m: check(r, eval={"limit": 0}), ("eval.limit",)),
    Case(
        "validation file and suites",
        lambda r, m: check(r, select={"validation": {"path": "v.jsonl", "suites": ["paper"]}}),
        ("select.validation.path",),
    ),
    Case(
        "rendering set twice",
        lambda r, m: check(r, train={"base": "org/b", "render": {"system_prompt": "x"}}),
        ("train.render",),
    ),
    Case(
        "missing base directory",
        lambda r, m: check(r, train={"base": "./no/base"}),
        ("train.base", "no such file"),
    ),
    Case("bad run name", lambda r, m: check(r, name="two words"), ("field 'name'",)),
    Case(
        "alias bomb", lambda r, m: raw_config(r, BOMB), ("experiment.yaml", "expands to more than")
    ),
    Case(
        "config not UTF-8",
        lambda r, m: raw_config(r, b"name: caf\xe9\n"),
        ("experiment.yaml", "not UTF-8"),
    ),
    Case(
        "config not a mapping",
        lambda r, m: raw_config(r, "- a\n- b\n"),
        ("experiment.yaml", "must be a YAML mapping"),
    ),
    Case(
        "config not YAML",
        lambda r, m: raw_config(r, "name: [unclosed\n"),
        ("experiment.yaml", "invalid YAML"),
    ),
    # diq run: the same checks, and its own options
    Case(
        "run --only nothing",
        lambda r, m: ["run", str(experiment(r)), "--only", ""],
        ("--only", "at least one stage"),
    ),
    Case(
        "run --from and --only",
        lambda r, m: ["run", str(experiment(r)), "--from", "eval", "--only", "report"],
        ("cannot be combined",),
    ),
    Case(
        "run into a user's folder",
        lambda r, m: ["run", str(experiment(r)), "--out", str(user_folder(r))],
        ("mine", "files diq did not write", "--force"),
    ),
    Case(
        "run with a reference that names no model",
        lambda r, m: [
            "run",
            str(experiment(r, report={"reference": "nobody"})),
            "--out",
            str(r / "run"),
        ],
        ("report.reference",),
    ),
    # diq select
    Case(
        "pool with bytes that are not UTF-8",
        lambda r, m: select_args(
            r, m, pool_file=bad_pool(r, record_line("a") + b'{"id": "\xff"}\n')
        ),
        ("bad.jsonl:2", "not UTF-8"),
    ),
    Case(
        "record id with a NUL",
        lambda r, m: select_args(r, m.checkpoint, pool_file=bad_pool(r, record_line("a\u0000b"))),
        ("bad.jsonl:1", "field 'id'", "control"),
    ),
    Case(
        "record id with a newline",
        lambda r, m: select_args(r, m.checkpoint, pool_file=bad_pool(r, record_line("a\nb"))),
        ("bad.jsonl:1", "field 'id'", "control"),
    ),
    Case(
        "record id with a bell",
        lambda r, m: select_args(r, m.checkpoint, pool_file=bad_pool(r, record_line("ding\u0007"))),
        ("bad.jsonl:1", "field 'id'", "control"),
    ),
    Case(
        "ratio twice on the command line",
        lambda r, m: select_args(r, m.checkpoint, "--ratios", "0.1,0.1"),
        ("--ratios", "twice"),
    ),
    Case(
        "ratio above one",
        lambda r, m: select_args(r, m.checkpoint, "--ratios", "1.5"),
        ("--ratios", "(0, 1]"),
    ),
    Case("count zero", lambda r, m: select_args(r, m.checkpoint, "--counts", "0"), ("--counts",)),
    Case(
        "scoring model that is not there",
        lambda r, m: select_args(r, r / "no-such-model"),
        ("no-such-model", "no such file"),
    ),
    Case(
        "external difficulty without scores",
        lambda r, m: select_args(r, m.checkpoint, "--difficulty", "external"),
        ("--difficulty-scores",),
    ),
    Case(
        "select into a user's folder",
        lambda r, m: [*select_args(r, m.checkpoint)[:-3], "--out", str(user_folder(r)), "--quiet"],
        ("mine", "files diq did not write"),
    ),
    Case(
        "select into a file",
        lambda r, m: [
            *select_args(r, m.checkpoint)[:-3],
            "--out",
            str(pool(r, "x.jsonl")),
            "--quiet",
        ],
        ("x.jsonl", "is a file"),
    ),
    Case(
        "validation file missing",
        lambda r, m: [
            "select",
            "--pool",
            str(pool(r)),
            "--validation",
            str(r / "none.jsonl"),
            "--model",
            str(m.checkpoint),
            "--out",
            str(r / "run"),
        ],
        ("none.jsonl", "not found"),
    ),
    # diq train
    Case(
        "train a folder with one malformed subset",
        lambda r, m: [
            "train",
            "--subsets",
            str(subsets_with_one_bad(r)),
            "--base",
            str(m.checkpoint),
            "--no-progress",
        ],
        ("b-bad.jsonl:1", "field 'response'"),
    ),
    Case(
        "train on a base that is not there",
        lambda r, m: [
            "train",
            "--subset",
            str(pool(r)),
            "--base",
            str(r / "nobase"),
            "--out",
            str(r / "model"),
        ],
        ("nobase", "no such directory"),
    ),
    Case(
        "train a subset that is not UTF-8",
        lambda r, m: [
            "train",
            "--subset",
            str(bad_pool(r, b'{"id": "\xfe"}\n')),
            "--base",
            str(m.checkpoint),
            "--out",
            str(r / "model"),
        ],
        ("bad.jsonl:1", "not UTF-8"),
    ),
    Case(
        "negative learning rate",
        lambda r, m: [
            "train",
            "--subset",
            str(pool(r)),
            "--base",
            str(m.checkpoint),
            "--out",
            str(r / "model"),
            "--lr",
            "-1",
        ],
        ("--lr",),
    ),
    Case(
        "train into a user's folder",
        lambda r, m: [
            "train",
            "--subset",
            str(pool(r)),
            "--base",
            str(m.checkpoint),
            "--out",
            str(user_folder(r)),
            "--no-progress",
        ],
        ("mine", "not a model"),
    ),
    # diq eval
    Case(
        "eval limit -1",
        lambda r, m: [
            "eval",
            "--model",
            f"a={m.checkpoint}",
            "--limit",
            "-1",
            "--log-dir",
            str(r / "logs"),
        ],
        ("--limit",),
    ),
    Case(
        "eval limit 0",
        lambda r, m: [
            "eval",
            "--model",
            f"a={m.checkpoint}",
            "--limit",
            "0",
            "--log-dir",
            str(r / "logs"),
        ],
        ("--limit",),
    ),
    Case(
        "eval a checkpoint that is not there",
        lambda r, m: ["eval", "--model", str(r / "nothing"), "--log-dir", str(r / "logs")],
        ("nothing",),
    ),
    Case(
        "model argument without a value",
        lambda r, m: [
            "eval",
            "--model",
            f"a={m.checkpoint}",
            "-M",
            "device",
            "--log-dir",
            str(r / "logs"),
        ],
        ("--model-arg", "KEY=VALUE"),
    ),
    Case(
        "unknown suite to evaluate",
        lambda r, m: [
            "eval",
            "--suite",
            "nope",
            "--model",
            f"a={m.checkpoint}",
            "--log-dir",
            str(r / "logs"),
        ],
        ("unknown suite 'nope'",),
    ),
    # diq tiny-model
    Case(
        "tiny model into the current folder",
        lambda r, m: ["tiny-model", "--texts", str(pool(r)), "--out", str(r)],
        ("files diq did not write",),
    ),
    Case(
        "tiny model into the parent folder",
        lambda r, m: ["tiny-model", "--texts", str(pool(r)), "--out", str(r / "sub" / "..")],
        ("files diq did not write",),
    ),
    Case(
        "tiny model into a user's folder",
        lambda r, m: ["tiny-model", "--texts", str(pool(r)), "--out", str(user_folder(r))],
        ("mine", "files diq did not write"),
    ),
    Case(
        "tiny model from texts that are not UTF-8",
        lambda r, m: [
            "tiny-model",
            "--texts",
            str(bad_pool(r, b"caf\xe9\n")),
            "--out",
            str(r / "tiny"),
        ],
        ("bad.jsonl", "not UTF-8"),
    ),
    # diq demo
    Case(
        "demo into a user's folder",
        lambda r, m: ["demo", "--smoke", "--out", str(user_folder(r))],
        ("mine", "files diq did not write"),
    ),
    Case(
        "demo with world options and --real",
        lambda r, m: ["demo", "--real", "--noise-rate", "0.1", "--out", str(r / "demo")],
        ("--noise-rate", "not --real"),
    ),
    Case(
        "demo with --base but without --real",
        lambda r, m: ["demo", "--base", str(m.checkpoint), "--out", str(r / "demo")],
        ("--base", "--real"),
    ),
    Case(
        "demo with shares that are not numbers",
        lambda r, m: ["demo", "--shares", "a,b,c,d", "--out", str(r / "demo")],
        ("--shares", "comma-separated numbers"),
    ),
]


@pytest.fixture(scope="module")
def shared(tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Shared:
    from tests.reports.conftest import write_scripted_logs

    return Shared(tiny_checkpoint, write_scripted_logs(tmp_path_factory.mktemp("logs")))


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_hostile_input_is_one_line_and_writes_nothing(
    case: Case, tmp_path: Path, shared: Shared
) -> None:
    root = tmp_path / "work"
    root.mkdir()
    (root / "sub").mkdir()
    args = case.build(root, shared)
    before = snapshot(root)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for text in case.says:
        assert text in lines[0], lines[0]
    assert snapshot(root) == before


def test_there_are_at_least_forty_cases() -> None:
    assert len(CASES) >= 40
