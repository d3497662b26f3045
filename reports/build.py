"""Build a report: logs (and a run directory's extras) -> `index.html` + `report.json`.

Phases: read logs -> tidy frames -> statistics -> physicians (when ratings exist) ->
selection (run directories) -> render -> write. Each phase can be timed by passing a
`phase` context manager (see `bench/report.py`). The output directory is replaced
atomically, so an interrupted build leaves the previous report intact.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import platform
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.errors import ConfigError
from harness.core.io import publish_into, write_json, write_text
from harness.core.outdir import check_output_dir, claim_output_dir
from reports import html
from reports.analysis import Analysis
from reports.config import ReportConfig
from reports.frames import Frames, build_frames, check_nonempty
from reports.labels import assign_labels, select_logs
from reports.logs import find_logs, read_logs
from reports.methods import statistical_methods
from reports.planted import planted_truth
from reports.raters import agreement_section
from reports.rundir import RunDir, is_run_dir, open_run_dir, selection_methods, selection_section
from reports.view.page import render_page
from reports.view.provenance import provenance_rows

SCHEMA = "diq-report/2"
SOFTWARE = ("diq-harness", "inspect_ai", "numpy", "scipy", "statsmodels", "pandas", "jinja2")

Phase = Callable[[str], contextlib.AbstractContextManager[None]]


@contextlib.contextmanager
def _untimed(name: str) -> Iterator[None]:
    yield


@dataclass
class Inputs:
    """Resolved inputs: the log files and, for `diq report RUN_DIR`, the run directory."""

    logs: list[Path]
    run: RunDir | None
    ratings: Path | None


def resolve_inputs(paths: Sequence[str | Path], ratings: Path | None) -> Inputs:
    """Log files from paths; a single run directory also brings its scores and ratings."""
    given = [Path(p) for p in paths]
    if not given:
        raise ConfigError("give log files, log directories, or one run directory")
    run = None
    if len(given) == 1 and is_run_dir(given[0]):
        run = open_run_dir(given[0])
        given = [run.logs]
        ratings = ratings or run.ratings
    elif any(is_run_dir(p) for p in given):
        raise ConfigError("a run directory must be the only input of a report")
    return Inputs(find_logs(given), run, ratings)


def software_versions() -> dict[str, str]:
    """Versions of the software that produced the numbers."""
    versions = {"python": platform.python_version()}
    for name in SOFTWARE:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


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


def _selection_json(selection: dict[str, Any]) -> dict[str, Any]:
    """The selection section as report.json keeps it: without the plots' points."""
    planted = selection["planted"]
    return {
        **{k: v for k, v in selection.items() if k != "panels"},
        "planted": None if planted is None else {k: v for k, v in planted.items() if k != "points"},
    }


def build_report(
    paths: Sequence[str | Path],
    out: Path,
    config: ReportConfig,
    *,
    ratings: Path | None = None,
    force: bool = False,
    phase: Phase = _untimed,
) -> dict[str, Any]:
    """Write `out/index.html` and `out/report.json`; return the report's JSON data.

    `ratings` is a ratings ledger (`diq review import`); a run directory brings its own.
    `out` must be new, empty or a report diq wrote (`force`: any directory; only the
    report's own files are replaced).
    """
    check_output_dir(out, "report", force=force)
    with phase("find logs"):
        inputs = resolve_inputs(paths, ratings)
    frames = load_frames(inputs, config.labels, config.cluster_key, config.workers, phase)
    with phase("statistics"):
        analysis = Analysis(frames, config).run()
    agreement = None
    if inputs.ratings is not None:
        with phase("agreement"):
            agreement = agreement_section(
                inputs.ratings,
                frames,
                analysis,
                seed=config.seed,
                resamples=config.resamples,
                correction=config.correction,
            )
            analysis["families"].append(agreement["family"])
    selection = None
    if inputs.run is not None and (
        inputs.run.scores is not None or inputs.run.subsets or inputs.run.models
    ):
        with phase("selection"):
            selection = selection_section(inputs.run, config.seed)
            # a demo world's key: what each subset recovered of the planted truth
            selection["planted"] = planted_truth(inputs.run.root)
            if selection["planted"] is not None:
                analysis["findings"].insert(0, selection["planted"]["findings"])
    with phase("render"):
        provenance = provenance_rows(frames.logs, analysis["settings"]["reference"])
        methods = {
            "selection": selection_methods(inputs.run) if inputs.run is not None else [],
            "statistics": statistical_methods(analysis, agreement),
        }
        data = html.json_safe(
            {
                "schema": SCHEMA,
                **analysis,
                "judges": frames.judges,
                "agreement": agreement,
                "selection": None if selection is None else _selection_json(selection),
                "methods": methods,
                "logs": provenance,
                "software": software_versions(),
            }
        )
        page = render_page(frames, analysis, agreement, selection, data, config)
    with phase("write"):
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        write_text(staging / "index.html", page)
        write_json(staging / "report.json", data)
        publish_into(staging, claim_output_dir(out, "report"))
    return data
