"""The report and review settings: defined once, every field described, errors name the field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from harness.core.config import parse_section
from harness.core.errors import InputError
from reports.config import CLINICAL_RUBRICS, ReportConfig, ReviewConfig


@pytest.mark.parametrize("section", [ReportConfig, ReviewConfig])
def test_every_field_is_described(section: type) -> None:
    missing = [name for name, f in section.model_fields.items() if not f.description]
    assert not missing


def test_report_config_names_the_field() -> None:
    cases = [
        ({"resamples": 10}, "report.resamples", "greater than or equal to 99"),
        ({"correction": "bonferroni"}, "report.correction", "'holm' or 'bh'"),
        ({"primary": ["AvgS", " "]}, "report.primary", "must not be empty"),
        ({"labels": {"a.eval": " "}}, "report.labels", "neither empty"),
        ({"max_chars": 10}, "report.max_chars", "greater than or equal to 200"),
        ({"workers": 0}, "report.workers", "greater than or equal to 1"),
    ]
    for data, field, message in cases:
        with pytest.raises(InputError) as caught:
            parse_section(ReportConfig, data, prefix="report")
        assert caught.value.field == field and message in caught.value.message, str(caught.value)
    config = ReportConfig(primary=["AvgS", "AvgS", " medqa/x/x "], cluster_key=" ")
    assert config.primary == ["AvgS", "medqa/x/x"] and config.cluster_key is None


def test_review_config_names_the_field() -> None:
    cases = [
        ({"raters": ["ann"]}, "review.raters", "1 rater(s) for 2 raters per item"),
        ({"raters": ["ann", "ben"], "raters_per_item": 3}, "review.raters", "2 rater(s) for 3"),
        ({"raters": ["ann", "ann", "ben"]}, "review.raters", "duplicate rater ids: ann"),
        ({"raters": ["ann", "../etc"]}, "review.raters", "'../etc'"),
        ({"rubrics": []}, "review.rubrics", "name at least one rubric"),
        ({"max_chars": 40_000}, "review.max_chars", "less than or equal to 32767"),
        ({"raters_per_item": 1}, "review.raters_per_item", "greater than or equal to 2"),
        ({"colour": "red"}, "review.colour", "unknown key"),
    ]
    for data, field, message in cases:
        with pytest.raises(InputError) as caught:
            parse_section(ReviewConfig, data, prefix="review")
        assert caught.value.field == field and message in caught.value.message, str(caught.value)
    with pytest.raises(ValidationError):
        ReviewConfig(raters=["x"])
    # the physicians' default rubrics are the judge's (held equal without importing Inspect there)
    from rubrics.judge import DEFAULT_RUBRICS

    assert CLINICAL_RUBRICS == DEFAULT_RUBRICS
    assert ReviewConfig().rubrics == list(DEFAULT_RUBRICS)
