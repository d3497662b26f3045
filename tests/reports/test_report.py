"""End-to-end reports from real Inspect logs: structure, safety, numbers, determinism."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harness.cli import main
from reports import html as report_html
from reports.build import build_report
from reports.config import ReportConfig
from tests.reports.conftest import ITEMS, PLANTED_SCRIPT
from tests.reports.report_keys import P_VALUE_KEYS, check_p_keys

SECTIONS = (
    "findings",
    "summary",
    "forest",
    "matrix",
    "benchmarks",
    "judge",
    "agreement",
    "samples",
    "provenance",
    "methods",
)
CONFIG = ReportConfig(reference="mockllm/random", resamples=999, seed=7)


class Page(HTMLParser):
    """Collects what the safety checks need: ids, scripts, URLs, the CSP."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.scripts: list[dict[str, str | None]] = []
        self.urls: list[str] = []
        self.csp: str | None = None
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append(tag)
        if attributes.get("id"):
            self.ids.add(str(attributes["id"]))
        if tag == "script":
            self.scripts.append(attributes)
        for name in ("src", "href", "action", "srcset", "data", "poster"):
            if attributes.get(name):
                self.urls.append(str(attributes[name]))
        if (
            tag == "meta"
            and (attributes.get("http-equiv") or "").lower() == "content-security-policy"
        ):
            self.csp = attributes.get("content")


@pytest.fixture(scope="module")
def built(
    scripted_logs: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("report") / "out"
    return out, build_report([scripted_logs], out, CONFIG)


def _parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def test_report_has_every_section_and_no_network(built: tuple[Path, dict[str, Any]]) -> None:
    out, _ = built
    page = _parse(out / "index.html")
    assert set(SECTIONS) <= page.ids
    assert (
        page.csp is not None and "default-src 'none'" in page.csp and "connect-src" not in page.csp
    )
    assert all(url.startswith("#") for url in page.urls), page.urls
    assert not re.search(
        r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", (out / "index.html").read_text()
    )
    # exactly three scripts: the metadata, the samples (JSON, not executable) and the app
    assert [s.get("type") for s in page.scripts] == ["application/json", "application/json", None]
    assert page.tags.count("svg") >= 5


def test_only_the_report_script_may_run(built: tuple[Path, dict[str, Any]]) -> None:
    """The CSP allows one inline script, by the hash of its text as rendered."""
    out, _ = built
    text = (out / "index.html").read_text(encoding="utf-8")
    csp = _parse(out / "index.html").csp
    assert csp is not None and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    [script] = re.findall(r"<script>(.*?)</script>", text, re.S)
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    assert f"script-src 'sha256-{digest}';" in csp
    assert script == report_html.asset("report.js")


def test_planted_script_is_escaped(built: tuple[Path, dict[str, Any]]) -> None:
    out, _ = built
    text = (out / "index.html").read_text(encoding="utf-8")
    assert PLANTED_SCRIPT not in text
    assert "alert(" not in _parse(out / "index.html").scripts.__repr__()
    # it is still there, as data, for the browser to show with textContent
    assert '\\u003cscript\\u003ealert(\\"pwned\\")\\u003c/script\\u003e' in text
    assert "innerHTML" not in report_html.asset("report.js")


def test_report_numbers(built: tuple[Path, dict[str, Any]], scripted_logs: Path) -> None:
    out, data = built
    stored = json.loads((out / "report.json").read_text())
    assert stored == json.loads(json.dumps(data))
    assert data["models"] == ["mockllm/random", "mockllm/diq", "mockllm/full"]
    keys = {m["key"]: m for m in data["measures"]}
    assert keys["medqa/mcq_answer/mcq_answer"]["kind"] == "binary"
    assert keys["clinical_cases/toy_judge/ddx_rating"]["kind"] == "graded"
    assert "clinical_cases/toy_judge/crit_ddx_leading" not in keys
    for diagnostic in ("grader_failed", "response_length"):
        assert f"clinical_cases/toy_judge/{diagnostic}" not in keys
    assert "clinical_cases/toy_judge/overall" in keys

    assert check_p_keys(stored) == P_VALUE_KEYS
    comparisons = [c for c in data["comparisons"] if c["measure"] == "medqa/mcq_answer/mcq_answer"]
    assert {c["model"] for c in comparisons} == {"mockllm/diq", "mockllm/full"}
    for row in comparisons:
        assert row["n"] == ITEMS and row["test"].startswith(
            "paired permutation"
        )  # case_id clusters
        assert row["low"] <= row["diff"] <= row["high"]
    assert [a["name"] for a in data["aggregates"] if a["model"] == "mockllm/diq"] == [
        "AvgS",
        "AvgA",
    ]
    avgs = next(
        a for a in data["aggregates"] if a["name"] == "AvgS" and a["model"] == "mockllm/diq"
    )
    assert avgs["benchmarks"] == ["medqa", "pubmedqa"] and "medmcqa" in avgs["missing"]
    # the aggregate comparison has an MDE and an effect size, like a benchmark's row
    from reports.stats import cohens_h, minimum_detectable_effect

    members = [
        next(c for c in comparisons if c["model"] == "mockllm/diq")
        if task == "medqa"
        else next(
            c
            for c in data["comparisons"]
            if c["measure"] == f"{task}/mcq_answer/mcq_answer" and c["model"] == "mockllm/diq"
        )
        for task in avgs["benchmarks"]
    ]
    aggregate = next(
        a
        for a in data["aggregate_comparisons"]
        if a["name"] == "AvgS" and a["model"] == "mockllm/diq"
    )
    se = math.sqrt(sum(m["se"] ** 2 for m in members)) / len(members)
    assert aggregate["se"] == pytest.approx(se) and aggregate["mde"] == pytest.approx(
        minimum_detectable_effect(se)
    )
    assert aggregate["n"] == sum(m["n"] for m in members)
    reference = next(
        a for a in data["aggregates"] if a["name"] == "AvgS" and a["model"] == "mockllm/random"
    )
    assert aggregate["cohens_h"] == pytest.approx(cohens_h(avgs["mean"], reference["mean"]))
    health = {(h["model"], h["task"]): h for h in data["health"]}
    assert health[("mockllm/random", "medqa")]["format_failures"] == 2
    assert health[("mockllm/random", "clinical_cases")]["unscored"]["toy_judge"]["count"] == 1
    judge = next(
        s
        for s in data["summary"]
        if s["measure"] == "clinical_cases/toy_judge/ddx" and s["model"] == "mockllm/random"
    )
    assert judge["unscored"] == 1 and judge["n"] == 23
    partial = {
        s["measure"]: s
        for s in data["summary"]
        if s["model"] == "mockllm/diq" and "toy_judge" in s["measure"]
    }
    assert (
        partial["clinical_cases/toy_judge/ddx_rating"]["n"] == 23
        and partial["clinical_cases/toy_judge/ddx"]["n"] == 24
    )
    assert health[("mockllm/diq", "clinical_cases")]["unscored"]["toy_judge"]["count"] == 1
    criteria = {(c["criterion"], c["model"]): c for c in data["criteria"]}
    assert criteria[("ddx_leading", "mockllm/diq")]["n"] == 24
    assert data["judges"]["clinical_cases/toy_judge"]["rubric_versions"] == ["test_rubric=0.1.0"]
    assert data["judges"]["clinical_cases/toy_judge"]["rubric_hashes"] == [
        "test_rubric=" + "ab" * 32
    ]
    assert "judge_prompts" not in data["judges"]["clinical_cases/toy_judge"]
    assert len(data["matrix"]) == 3 * len(data["measures"])


def test_report_is_deterministic(
    built: tuple[Path, dict[str, Any]], scripted_logs: Path, tmp_path: Path
) -> None:
    out, _ = built
    again = tmp_path / "again"
    build_report([scripted_logs], again, CONFIG)
    assert (again / "report.json").read_bytes() == (out / "report.json").read_bytes()
    strip = re.compile(r"<footer>.*?</footer>", re.S)
    first = strip.sub("", (out / "index.html").read_text())
    second = strip.sub("", (again / "index.html").read_text())
    assert first == second


def test_large_payload_is_compressed_and_decodes(
    built: tuple[Path, dict[str, Any]],
    scripted_logs: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out, _ = built
    monkeypatch.setattr(report_html, "COMPRESS_ABOVE", 1000)
    small = tmp_path / "compressed"
    build_report([scripted_logs], small, CONFIG)
    text = (small / "index.html").read_text()
    match = re.search(
        r'<script type="application/json" id="report-samples" data-encoding="gzip\+base64">([^<]+)</script>',
        text,
    )
    assert match is not None
    payload = json.loads(gzip.decompress(base64.b64decode(match.group(1))))
    plain = re.search(
        r'<script type="application/json" id="report-samples" data-encoding="json">(.+?)</script>',
        (out / "index.html").read_text(),
        re.S,
    )
    assert plain is not None and payload == json.loads(plain.group(1))
    outputs = [o["x"] for item in payload["items"] for o in item["o"] if o]
    assert any(PLANTED_SCRIPT in x for x in outputs)


def test_cli_report(scripted_logs: Path, tmp_path: Path) -> None:
    logs = sorted(scripted_logs.glob("*.eval"))
    result = CliRunner().invoke(
        main,
        ["report", *map(str, logs), "--out", str(tmp_path / "r"), "--reference", "baseline", "--resamples", "199",
         "--label", "mockllm/random=baseline", "--correction", "bh"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "r" / "report.json").read_text())
    assert data["models"][0] == "baseline" and data["settings"]["correction"] == "bh"
    bad = CliRunner().invoke(
        main, ["report", str(scripted_logs), "--out", str(tmp_path / "x"), "--reference", "nope"]
    )
    assert bad.exit_code == 2 and "not a model in the logs" in bad.output
    assert not (tmp_path / "x").exists()


def test_default_families(built: tuple[Path, dict[str, Any]]) -> None:
    """No --primary: every comparison with the reference is one family, the aggregates another."""
    from reports.stats import adjust_pvalues

    _, data = built
    families = {f["name"]: f for f in data["families"]}
    assert list(families) == ["vs reference", "aggregates", "all pairs"]
    assert {f["correction"] for f in data["families"]} == {"holm"}
    rows = data["comparisons"]
    assert families["vs reference"]["tests"] == len(rows)
    assert [r["p_adjusted"] for r in rows] == pytest.approx(
        adjust_pvalues([r["p_value"] for r in rows], "holm"), nan_ok=True
    )
    assert {(r["family"], r["correction"]) for r in data["aggregate_comparisons"]} == {
        ("aggregates", "holm")
    }


def test_primary_family_is_holm_and_the_rest_bh(scripted_logs: Path, tmp_path: Path) -> None:
    """--primary: Holm over the named measures and aggregates, BH over the other comparisons."""
    from statsmodels.stats.multitest import multipletests

    primary = "medqa/mcq_answer/mcq_answer,AvgS"
    result = CliRunner().invoke(
        main,
        ["report", str(scripted_logs), "--out", str(tmp_path / "r"), "--resamples", "199",
         "--reference", "mockllm/random", "--primary", primary,
         "--primary", "clinical_cases/toy_judge/overall"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "r" / "report.json").read_text())
    assert check_p_keys(data) == P_VALUE_KEYS
    assert data["settings"]["confirmatory"] == [
        *primary.split(","),
        "clinical_cases/toy_judge/overall",
    ]
    families = {f["name"]: f for f in data["families"]}
    assert list(families) == ["primary", "exploratory", "all pairs"]
    assert [f["correction"] for f in data["families"]] == ["holm", "bh", "holm"]
    assert families["primary"]["members"] == sorted(data["settings"]["confirmatory"])
    rows = data["comparisons"] + data["aggregate_comparisons"]
    for name, method in (("primary", "holm"), ("exploratory", "fdr_bh")):
        chosen = [r for r in rows if r["family"] == name]
        assert len(chosen) == families[name]["tests"]
        assert [r["p_adjusted"] for r in chosen] == pytest.approx(
            list(multipletests([r["p_value"] for r in chosen], method=method)[1])
        )
    assert families["primary"]["tests"] == 3 * 2  # two models vs the reference
    assert any(line.endswith("(primary)") for line in data["findings"])
    page = (tmp_path / "r" / "index.html").read_text()
    assert "primary family (medqa/mcq_answer/mcq_answer, AvgS" in " ".join(page.split())
    assert "primary · Holm" in page and "exploratory · BH" in page
    bad = CliRunner().invoke(
        main,
        ["report", str(scripted_logs), "--out", str(tmp_path / "x"), "--primary", "medqa,AvgZ"],
    )
    assert (
        bad.exit_code == 2 and "--primary: names no measure or aggregate: medqa, AvgZ" in bad.output
    )
    assert not (tmp_path / "x").exists()


OTHER = "mockllm/diq"


def test_primary_models_narrow_the_primary_family(scripted_logs: Path, tmp_path: Path) -> None:
    """--primary-models: one pre-registered contrast is the whole primary family."""

    def report(*options: str) -> tuple[int, str]:
        result = CliRunner().invoke(
            main,
            ["report", str(scripted_logs), "--out", str(tmp_path / "r"), "--resamples", "199",
             "--reference", "mockllm/random", "--force", *options],
        )  # fmt: skip
        return result.exit_code, result.output

    code, output = report("--primary", "medqa/mcq_answer/mcq_answer", "--primary-models", OTHER)
    assert code == 0, output
    data = json.loads((tmp_path / "r" / "report.json").read_text())
    primary = [r for r in data["comparisons"] if r["family"] == "primary"]
    assert [(r["measure"], r["model"]) for r in primary] == [("medqa/mcq_answer/mcq_answer", OTHER)]
    assert primary[0]["p_adjusted"] == primary[0]["p_value"]  # Holm over one test
    assert data["settings"]["confirmatory_models"] == [OTHER]
    code, output = report("--primary", "medqa/mcq_answer/mcq_answer", "--primary-models", "nope")
    assert code == 2 and "--primary-models: names no compared model: nope" in output
    code, output = report("--primary-models", OTHER)
    assert code == 2 and "--primary-models: needs primary" in output


def test_run_directory_adds_selection(scripted_logs: Path, tmp_path: Path) -> None:
    import shutil

    import numpy as np
    import pandas as pd

    run = tmp_path / "run"
    shutil.copytree(scripted_logs, run / "logs")
    rng = np.random.default_rng(0)
    ids = [f"r{i}" for i in range(500)]
    pd.DataFrame(
        {
            "id": ids,
            "difficulty": rng.random(500),
            "influence": rng.normal(size=500),
            "loss": rng.random(500),
        }
    ).to_parquet(run / "scores.parquet")
    (run / "subsets").mkdir()
    for name, chosen in (("diq-0.1", ids[:50]), ("random-0.1", ids[25:75])):
        (run / "subsets" / f"{name}.jsonl").write_text(
            "".join(json.dumps({"id": i, "question": "q"}) + "\n" for i in chosen)
        )
        (run / "subsets" / f"{name}.manifest.json").write_text(
            json.dumps({"strategy": name.split("-")[0], "ratio": 0.1})
        )
    methods = [
        {"topic": "Decontamination", "text": "8-gram overlap >= 0.5 against the paper suite: 3 removed."},
        {"topic": "Influence", "text": "Exact per-sample gradients, <b>no projection</b>."},
    ]  # fmt: skip
    (run / "select_manifest.json").write_text(json.dumps({"stages": {}, "methods": methods}))
    result = CliRunner().invoke(main, ["report", str(run), "--resamples", "199"])
    assert result.exit_code == 0, result.output
    data = json.loads((run / "report" / "report.json").read_text())
    sizes = {s["name"]: s for s in data["selection"]["subsets"]}
    assert sizes["diq-0.1"]["records"] == 50 and sizes["diq-0.1"]["fraction"] == pytest.approx(0.1)
    overlap = {(o["a"], o["b"]): o["shared"] for o in data["selection"]["overlaps"]}
    assert overlap[("diq-0.1", "random-0.1")] == 25
    page = _parse(run / "report" / "index.html")
    assert "selection" in page.ids
    # the Methods section says what selection did, as its manifest records it, escaped
    assert data["methods"]["selection"] == methods
    html_text = (run / "report" / "index.html").read_text(encoding="utf-8")
    assert "8-gram overlap &gt;= 0.5 against the paper suite: 3 removed." in html_text
    assert "&lt;b&gt;no projection&lt;/b&gt;" in html_text
    topics = [m["topic"] for m in data["methods"]["statistics"]]
    assert topics[:3] == ["Items", "Means", "Paired differences"]
    # a malformed methods entry is located, and no report is written
    (run / "select_manifest.json").write_text(json.dumps({"methods": [{"topic": "x"}]}))
    shutil.rmtree(run / "report")
    result = CliRunner().invoke(main, ["report", str(run), "--resamples", "199"])
    assert result.exit_code == 2 and "field 'methods[0].text'" in result.output
    assert not (run / "report").exists()


def test_bad_inputs_are_located(tmp_path: Path) -> None:
    broken = tmp_path / "broken.eval"
    broken.write_bytes(b"not a zip")
    result = CliRunner().invoke(main, ["report", str(broken), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "broken.eval" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(main, ["report", str(empty), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "no Inspect logs found" in result.output
    assert not (tmp_path / "o").exists()


def test_out_never_replaces_other_files(scripted_logs: Path, tmp_path: Path) -> None:
    import shutil

    logs = tmp_path / "logs"
    shutil.copytree(scripted_logs, logs)
    before = sorted(p.name for p in logs.iterdir())
    result = CliRunner().invoke(main, ["report", str(logs), "--out", str(logs)])
    assert result.exit_code == 2 and "files diq did not write" in result.output
    assert sorted(p.name for p in logs.iterdir()) == before
    forced = CliRunner().invoke(main, ["report", str(logs), "--out", str(logs), "--force"])
    assert forced.exit_code == 0, forced.output
    assert len(list(logs.glob("*.eval"))) == 9  # written beside the logs, none replaced
    assert (logs / "index.html").is_file()


def test_nice_ticks() -> None:
    from reports.svg import nice_ticks

    assert nice_ticks(-3.3, 5.6, 4) == [-2.5, 0.0, 2.5, 5.0]
    assert nice_ticks(0.0, 1.0, 5) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(1.0, 5.0, 5) == [1, 2, 3, 4, 5]


def test_json_safe_turns_nan_into_null() -> None:
    assert report_html.json_safe({"a": math.nan, "b": [math.inf, 1.0]}) == {
        "a": None,
        "b": [None, 1.0],
    }
