"""Entry point for Inspect: registers the judge scorers as `rubrics/<name>` and the reference grader.

With `rubrics = "rubrics._registry"` under `[project.entry-points.inspect_ai]`, a
finished log can be re-judged without regenerating:
`inspect score LOG --scorer rubrics/rubric_judge --model-role grader=MODEL`.
"""

# ruff: noqa: F401

from rubrics.healthbench import healthbench_judge, healthbench_meta_judge
from rubrics.judge import rubric_judge
from rubrics.reference_grader import reference_grader
