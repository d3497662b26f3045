"""Build a report: logs (and a run directory's extras) -> `index.html` + `report.json`.

Phases: read logs -> tidy frames -> statistics -> agreement (when ratings exist) ->
selection (run directories) -> render -> write. Each phase can be timed by passing a
`phase` context manager (see `bench/report.py`). The output directory is replaced
atomically, so an interrupted build leaves the previous report intact.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib.metadata
import math
import platform
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from harness.core.errors import ConfigError
from harness.core.io import atomic_directory, sha256_file, write_json, write_text
from reports import agreement as agree
from reports import html, stats
from reports.compare import EXPLORATORY_CORRECTION, PRIMARY_CORRECTION, Analysis, Settings
from reports.frames import Frames, assign_labels, build_frames, check_nonempty, select_logs
from reports.logs import find_logs, read_logs
from reports.rundir import RunDir, is_run_dir, open_run_dir, selection_section
from reports.view import (
    ViewBuilder,
    agreement_view,
    families_note,
    provenance_rows,
    selection_view,
)

SCHEMA = "diq-report/1"
SOFTWARE = ("diq-harness", "inspect_ai", "numpy", "scipy", "statsmodels", "pandas", "jinja2")

Phase = Callable[[str], contextlib.AbstractContextManager[None]]


@contextlib.contextmanager
def _untimed(name: str) -> Iterator[None]:
    yield


@dataclass(frozen=True)
class ReportOptions:
    """What to compare and how; `settings` holds everything that changes the numbers."""

    settings: Settings = field(default_factory=Settings)
    labels: dict[str, str] = field(default_factory=dict)
    ratings: Path | None = None
    max_chars: int = 4000
    title: str = "Model comparison report"
    workers: int | None = None


@dataclass
class Inputs:
    """Resolved inputs: the log files and, for `diq report RUN_DIR`, the run directory."""

    logs: list[Path]
    run: RunDir | None
    ratings: Path | None


def resolve_inputs(paths: Sequence[str | Path], ratings: Path | None) -> Inputs:
    """Log files from paths; a single run directory also brings its scores and ratings."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise ConfigError("give log files, log directories, or one run directory")
    run = None
    if len(paths) == 1 and is_run_dir(paths[0]):
        run = open_run_dir(paths[0])
        paths = [run.logs]
        ratings = ratings or run.ratings
    elif any(is_run_dir(p) for p in paths):
        raise ConfigError("a run directory must be the only input of `diq report`")
    return Inputs(find_logs(paths), run, ratings)


def software_versions() -> dict[str, str]:
    """Versions of the software that produced the numbers."""
    versions = {"python": platform.python_version()}
    for name in SOFTWARE:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def agreement_section(
    ledger_path: Path, frames: Frames, analysis: dict[str, Any], seed: int
) -> dict[str, Any]:
    """Physician agreement per axis, judge-vs-physician agreement, physician means per model."""
    from reports.review.importer import read_ledger

    ledger = read_ledger(ledger_path)
    label_of = {info.record.eval_id: info.label for info in frames.logs}
    ledger["model_label"] = [
        label_of.get(e, lab) for e, lab in zip(ledger["eval_id"], ledger["label"], strict=True)
    ]
    axes = sorted(ledger["axis"].unique())
    physicians = [
        agree.axis_agreement(ledger, axis, seed=stats_seed(seed, "alpha", axis)) for axis in axes
    ]
    judge = []
    ratings = frames.items[frames.items["metric"].str.endswith("_rating")]
    for axis in axes:
        rows = ratings[ratings["metric"] == f"{axis}_rating"]
        if rows.empty:
            continue
        lookup = {(r.label, r.task, r.sample_id): r.value for r in rows.itertuples(index=False)}
        codes = ledger[ledger["axis"] == axis].drop_duplicates("code")
        judged = pd.DataFrame(
            {
                "item": codes["code"],
                "value": [
                    lookup.get((m, t, s), math.nan)
                    for m, t, s in zip(
                        codes["model_label"], codes["task"], codes["sample_id"], strict=True
                    )
                ],
            }
        )
        result = agree.judge_agreement(ledger, judged, axis, seed=stats_seed(seed, "judge", axis))
        if result is not None:
            judge.append(result)
    human_means: dict[str, list[dict[str, Any]]] = {}
    for axis in axes:
        per_item = (
            ledger[ledger["axis"] == axis].groupby(["model_label", "code"])["value"].mean().dropna()
        )
        rows = []
        for model in analysis["models"]:
            if model not in per_item.index.get_level_values(0):
                continue
            interval = stats.mean_interval(per_item.loc[model].to_numpy(), binary=False)
            rows.append({"model": model, **interval.to_dict()})
        human_means[axis] = rows
    return {
        "ledger": {
            "path": str(ledger_path),
            "sha256": sha256_file(ledger_path),
            "rows": len(ledger),
            "raters": sorted(ledger["rater"].unique()),
            "exports": sorted(ledger["export_id"].unique()),
            "rubrics": sorted(
                {
                    f"{r} v{v}"
                    for r, v in zip(ledger["rubric"], ledger["rubric_version"], strict=True)
                }
            ),
            "responses": int(ledger["code"].nunique()),
        },
        "axes": physicians,
        "judge": judge,
        "human_means": human_means,
    }


def stats_seed(seed: int, *parts: str) -> int:
    """A 32-bit seed derived from the report seed (numpy accepts any non-negative int)."""
    from reports.compare import derive_seed

    return derive_seed(seed, *parts) % (2**32)


def load_frames(
    inputs: Inputs,
    labels: dict[str, str],
    cluster_key: str | None,
    workers: int | None = None,
    phase: Phase = _untimed,
) -> Frames:
    """Read the logs and build labelled, epoch-reduced frames."""
    with phase("read logs"):
        records = read_logs(inputs.logs, workers)
    with phase("frames"):
        models_dir = inputs.run.models if inputs.run and inputs.run.models else None
        assigned = assign_labels(records, labels, models_dir)
        logs, warnings = select_logs(records, assigned)
        frames = build_frames(logs, cluster_key)
        frames.warnings[:0] = warnings
        check_nonempty(frames)
    return frames


REPORT_FILES = frozenset({"index.html", "report.json"})


def check_output_dir(out: Path) -> None:
    """Refuse to replace a directory that holds anything but a previous report.

    The output directory is swapped in whole, so `--out logs` would otherwise delete
    the logs.
    """
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file, not a directory")
    if out.is_dir():
        other = sorted(p.name for p in out.iterdir() if p.name not in REPORT_FILES)
        if other:
            shown = ", ".join(other[:5]) + (" ..." if len(other) > 5 else "")
            raise ConfigError(
                f"--out {out} holds other files ({shown}); choose an empty or report directory"
            )


def build_report(
    paths: Sequence[str | Path], out: Path, options: ReportOptions, phase: Phase = _untimed
) -> dict[str, Any]:
    """Write `out/index.html` and `out/report.json`; return the report's JSON data."""
    check_output_dir(out)
    with phase("find logs"):
        inputs = resolve_inputs(paths, options.ratings)
    frames = load_frames(
        inputs, options.labels, options.settings.cluster_key, options.workers, phase
    )
    with phase("statistics"):
        analysis = Analysis(frames, options.settings).run()
    agreement = None
    if inputs.ratings is not None:
        with phase("agreement"):
            agreement = agreement_section(inputs.ratings, frames, analysis, options.settings.seed)
    selection = None
    if inputs.run is not None and (
        inputs.run.scores is not None or inputs.run.subsets or inputs.run.models
    ):
        with phase("selection"):
            selection = selection_section(inputs.run, options.settings.seed)
    with phase("render"):
        provenance = provenance_rows(frames.logs, analysis["settings"]["reference"])
        data = html.json_safe(
            {
                "schema": SCHEMA,
                **analysis,
                "judges": frames.judges,
                "agreement": agreement,
                "selection": None
                if selection is None
                else {k: v for k, v in selection.items() if k != "panels"},
                "logs": provenance,
                "software": software_versions(),
            }
        )
        page = render_page(frames, analysis, agreement, selection, provenance, data, options)
    with phase("write"), atomic_directory(out) as staging:
        write_text(staging / "index.html", page)
        write_json(staging / "report.json", data)
    return data


def render_page(
    frames: Frames,
    analysis: dict[str, Any],
    agreement: dict[str, Any] | None,
    selection: dict[str, Any] | None,
    provenance: list[dict[str, Any]],
    data: dict[str, Any],
    options: ReportOptions,
) -> str:
    """The HTML page for an analysis."""
    view = ViewBuilder(analysis)
    payload = html.drilldown(frames, analysis, options.max_chars)
    settings = analysis["settings"]
    sections = [
        ("findings", "Findings"),
        ("summary", "Summary"),
        ("forest", "Differences"),
        ("matrix", "Pairwise"),
        ("benchmarks", "Per benchmark"),
        ("judge", "Judge health"),
        ("agreement", "Raters"),
    ]
    if selection is not None:
        sections.append(("selection", "Selection"))
    sections += [("samples", "Samples"), ("provenance", "Provenance"), ("methods", "Methods")]
    context = {
        "title": options.title,
        "nav": sections,
        "models": [
            {"name": m, "colour": view.colours[m], "reference": m == view.reference}
            for m in analysis["models"]
        ],
        "reference": view.reference,
        "settings": settings,
        "correction": stats.CORRECTION_NAMES[settings["correction"]],
        "primary_correction": stats.CORRECTION_NAMES[PRIMARY_CORRECTION],
        "exploratory_correction": stats.CORRECTION_NAMES[EXPLORATORY_CORRECTION],
        "primary": list(settings["confirmatory"]),
        "families_note": families_note(analysis["families"]),
        "findings": analysis["findings"],
        "warnings": analysis["warnings"] + (selection["warnings"] if selection else []),
        "summary_tables": view.summary_tables(),
        "forest_panels": view.forest_panels(),
        "paired_tasks": sorted(t for t, d in frames.designs.items() if d == "paired"),
        "independent_tasks": sorted(t for t, d in frames.designs.items() if d == "independent"),
        "comparison_rows": view.comparison_rows(),
        "matrices": view.matrices(),
        "bar_charts": view.bar_charts(),
        "health_rows": view.health_rows(),
        "length_rows": view.length_rows(),
        "criteria_tables": view.criteria_tables(),
        "judges": frames.judges,
        "agreement": agreement_view(agreement, view.colours),
        "selection": selection_view(selection),
        "logs": provenance,
        "software": data["software"],
        "meta": {
            "models": analysis["models"],
            "colours": [view.colours[m] for m in analysis["models"]],
            "reference": view.reference,
        },
        "samples": html.embed(payload),
        "sample_count": len(payload["items"]),
        "max_chars": options.max_chars,
        "generated": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    return html.render(context)
