"""Statistics for comparing models on benchmark items: intervals, paired tests, corrections.

Thin, explicit wrappers around scipy and statsmodels, following Miller (2024), "Adding
Error Bars to Evals": one value per item (epochs already reduced), intervals over items,
clustered when items share a case, and comparisons on *paired* per-item differences, or,
for tasks whose logs each hold their own items, on two *independent* samples.

- `clusters`: standard errors, clustered when items share a case;
- `intervals`: one model's mean (Wilson, bounded Wilson, t) and `reach_zero`, which keeps
  a difference interval in step with its test;
- `paired_binary`: exact McNemar and Tango's score interval for paired 0/1 outcomes;
- `differences`: the score-type interval of a paired difference (Tango for 0/1 outcomes,
  bounded Wilson for bounded scores) and MOVER, which combines independent intervals;
- `resampling`: cluster bootstraps and permutation tests (fast paths with references);
- `effects`: effect sizes and the minimum detectable effect;
- `multiplicity`: Holm and Benjamini-Hochberg.

The names below are the package's public surface (`from reports import stats`).
"""

from reports.stats.clusters import (
    cluster_totals,
    clustered_se,
    independent_se,
    macro_se,
    mean_se,
)
from reports.stats.differences import (
    NO_INTERVAL,
    DifferenceInterval,
    difference_bounds,
    mover,
    paired_difference_interval,
)
from reports.stats.effects import (
    cohens_d,
    cohens_h,
    minimum_detectable_effect,
    paired_d,
    spearman,
)
from reports.stats.intervals import (
    LEVEL,
    POWER,
    Bounds,
    Interval,
    bounded_interval,
    effective_sample_size,
    mean_interval,
    reach_zero,
    wilson_interval,
    z_quantile,
)
from reports.stats.multiplicity import (
    CORRECTION_ABBREVIATIONS,
    CORRECTION_NAMES,
    Correction,
    adjust_pvalues,
)
from reports.stats.paired_binary import (
    McNemar,
    mcnemar_exact,
    tango_interval,
)
from reports.stats.resampling import (
    bootstrap_macro_means,
    independent_bootstrap_interval,
    paired_bootstrap_interval,
    paired_permutation_pvalue,
    percentile_interval,
    sign_flip_pvalue,
    two_sample_permutation_pvalue,
)

__all__ = [
    "CORRECTION_ABBREVIATIONS",
    "CORRECTION_NAMES",
    "LEVEL",
    "NO_INTERVAL",
    "POWER",
    "Bounds",
    "Correction",
    "DifferenceInterval",
    "Interval",
    "McNemar",
    "adjust_pvalues",
    "bootstrap_macro_means",
    "bounded_interval",
    "cluster_totals",
    "clustered_se",
    "cohens_d",
    "cohens_h",
    "difference_bounds",
    "effective_sample_size",
    "independent_bootstrap_interval",
    "independent_se",
    "macro_se",
    "mcnemar_exact",
    "mean_interval",
    "mean_se",
    "minimum_detectable_effect",
    "mover",
    "paired_bootstrap_interval",
    "paired_d",
    "paired_difference_interval",
    "paired_permutation_pvalue",
    "percentile_interval",
    "reach_zero",
    "sign_flip_pvalue",
    "spearman",
    "tango_interval",
    "two_sample_permutation_pvalue",
    "wilson_interval",
    "z_quantile",
]
