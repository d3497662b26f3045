"""The report's Methods: what was done to get each number, in sentences, from what was run.

Two lists of `{topic, text}`: the selection's own account of itself (from a run
directory's `select_manifest.json`, `reports.rundir.selection_methods`), and the
statistics, written here from the analysis as it was actually run: which interval each
kind of measure got, which tests, which families and corrections, how many intervals had
to be widened to agree with their tests, and which sets are partial.
"""

from __future__ import annotations

from typing import Any

from reports import stats
from reports.families import EXPLORATORY_CORRECTION, PRIMARY_CORRECTION


def statistical_methods(
    analysis: dict[str, Any], agreement: dict[str, Any] | None
) -> list[dict[str, str]]:
    """Sentences on the statistics of this report (see the module docstring)."""
    settings = analysis["settings"]
    measures = analysis["measures"]
    rows = analysis["comparisons"] + analysis["aggregate_comparisons"]
    cluster = settings["cluster_key"]
    methods = [
        (
            "Items",
            "Each model's epochs are averaged per item first; every interval and test is over "
            'items (Miller 2024, "Adding Error Bars to Evals")'
            + (
                f", with items that share a case (sample metadata field '{cluster}') resampled and "
                "permuted as whole clusters and clustered standard errors."
                if cluster
                else "; items are independent units (no cluster key)."
            ),
        ),
        (
            "Means",
            "Accuracy: a Wilson interval below 300 items or outside 10-90%, a t interval "
            "otherwise; with clusters, on the Korn & Graubard (1998) effective sample size. "
            "Bounded scores (0-1 judge scores, 1-5 ratings) get a Wilson interval on the score "
            "rescaled to [0, 1], at the effective sample size that gives it the t interval's "
            "width, so both ends stay inside the scale"
            + _listing([m["label"] for m in measures if m["kind"] == "graded" and m["bounds"]])
            + "; where the values do not vary, each end moves toward its bound by Wilson's limit "
            "for 0 departures in n, z^2 / (n + z^2) of the distance. Unbounded scores: a t "
            "interval.",
        ),
        (
            "Paired differences",
            "Binary outcomes: exact McNemar test (a cluster permutation test when items share a "
            "case) and Tango's (1998) score interval for the difference of proportions, with "
            "counts scaled by the design effect when clustered. Graded scores: paired "
            "permutation test (sign flips of per-item differences); on a known scale [lo, hi], "
            "the bounded Wilson interval of the mean difference on [-(hi - lo), hi - lo] (with "
            "no spread, +-(hi - lo) z^2 / (n + z^2), what Tango's interval gives 0 discordant "
            "pairs), otherwise a paired percentile bootstrap interval, or none when every "
            f"paired difference is the same ({_no_interval(analysis['comparisons'])}). Effect "
            "sizes: Cohen's h, the discordant odds ratio with its exact interval, d_z.",
        ),
        (
            "Intervals and tests",
            "An interval that excluded 0 while its test's p-value was 0.05 or more had its "
            "nearer end moved to 0 (it only widens), so that no interval contradicts its test: "
            f"{sum(bool(row.get('widened')) for row in rows)} of {len(rows)} difference "
            "intervals in this report. " + analysis["intervals"]["statement"],
        ),
        ("Multiple comparisons", _families_sentence(analysis)),
        (
            "Minimum detectable effect",
            "(z_0.975 + z_0.80) x the SE of the difference: the smallest true difference found "
            "with 80% power; where the difference has a score interval (binary, or on a known "
            "scale) the SE that interval implies, so it stays positive with no discordant pairs "
            "or no spread. A non-significant result smaller than its MDE is not evidence of no "
            "difference.",
        ),
    ]
    if any(m["design"] == "independent" for m in measures):
        methods.append(
            (
                "Independent samples",
                "Tasks whose logs each hold their own items are compared as two samples: the "
                "difference of means; on a known scale, the two means' intervals combined by "
                "MOVER (Newcombe's 1998 hybrid score interval for two proportions) and the SE it "
                "implies, otherwise a bootstrap interval resampling each side on its own and "
                "the Welch standard error; a two-sample permutation test; Cohen's d (h for "
                "binary outcomes).",
            )
        )
    if analysis["aggregate_comparisons"] or analysis["aggregates"]:
        notes = sorted({f"{r['name']}: {r['coverage_note']}" for r in analysis["aggregates"]})
        methods.append(
            (
                "Averages",
                "AvgS, AvgC and AvgA are unweighted means over the member benchmarks every "
                "model was evaluated on. Their intervals combine the members' own intervals by "
                "MOVER (Zou & Donner 2008; Newcombe 2011): a model's from its members' mean "
                "intervals, a difference's from their Tango intervals, so an average of one set "
                "is that set's interval and an average is never zero-width. Differences are "
                "tested with a stratified paired permutation test (one set: its own test). "
                "Here: " + "; ".join(notes) + ".",
            )
        )
    partial = [m for m in measures if not m["complete"]]
    if partial:
        methods.append(
            (
                "Partial sets",
                "Not the published sets: "
                + "; ".join(
                    sorted(
                        {
                            f"{m['task']} uses {m['coverage']['items']:,} of "
                            f"{m['coverage']['full_set']:,} items ({m['coverage']['note']})"
                            for m in partial
                        }
                    )
                )
                + ".",
            )
        )
    if agreement is not None:
        methods.append(
            (
                "Physician ratings",
                "Agreement: Krippendorff's alpha (ordinal) with a bootstrap interval, Gwet's AC2, "
                "quadratic-weighted kappa, ICCs on the fully crossed answers. Models against the "
                "reference: within-rater differences paired by prompt, a sign-flip permutation "
                "test swapping the two answers to a prompt for every rater at once, the bounded "
                "Wilson interval of the mean difference clustered by prompt, and a Wilcoxon "
                "signed-rank test of per-prompt mean "
                f"differences; {stats.CORRECTION_NAMES[agreement['family']['correction']]} over "
                f"the {agreement['family']['tests']} tests of this family.",
            )
        )
    methods += [
        (
            "Caveats",
            "Item-level tests measure evaluation noise only: with one training run per "
            "condition, a difference between selection strategies can lie within training-seed "
            "variance (Madaan et al. 2024). An LLM judge is a measuring instrument with known "
            "biases (verbosity, self-preference); compare it with physicians before relying "
            "on it.",
        ),
    ]
    return [{"topic": topic, "text": text} for topic, text in methods]


def _families_sentence(analysis: dict[str, Any]) -> str:
    names = stats.CORRECTION_NAMES
    settings = analysis["settings"]
    if settings["confirmatory"]:
        models = settings.get("confirmatory_models") or []
        whose = f" of {', '.join(models)} against {settings['reference']}" if models else ""
        lead = (
            f"Declared primary family ({', '.join(settings['confirmatory'])}{whose}): "
            f"{names[PRIMARY_CORRECTION]}; every other comparison with the reference: "
            f"{names[EXPLORATORY_CORRECTION]}."
        )
    else:
        lead = (
            "No primary family declared: every comparison with the reference is one family, "
            f"the averages another, both {names[analysis['settings']['correction']]}."
        )
    sizes = "; ".join(
        f"{f['name']}: {names[f['correction']]} over {f['tests']} tests"
        for f in analysis["families"]
    )
    return f"{lead} Families: {sizes}."


def _no_interval(rows: list[dict[str, Any]]) -> str:
    """How many comparisons were left without an interval for lack of spread."""
    count = sum(1 for row in rows if row.get("interval") == stats.NO_INTERVAL)
    return f"{count} of {len(rows)} comparisons here"


def _listing(labels: list[str]) -> str:
    return f" ({', '.join(sorted(set(labels)))})" if labels else ""
