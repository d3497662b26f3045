"""Reading judge replies: JSON verdicts validated against their schema, and logprob verdicts."""

from __future__ import annotations

import math

import pytest

from rubrics.verdicts import NOT_APPLICABLE, AnswerSpec, VerdictError, read_json, read_logprobs
from tests.helpers import mock_output
from tests.rubrics.judges import logprob_output

BINARY = AnswerSpec("binary")
CONDITIONAL = AnswerSpec("binary", conditional=True)
LEVEL = AnswerSpec("level")
RATING = AnswerSpec("rating")


@pytest.mark.parametrize(
    ("reply", "vote"),
    [
        ('```json\n{"explanation": "named", "criteria_met": true}\n```', True),
        ('{"explanation": "no", "criteria_met": false}', False),
        ('Reasoning first.\n```\n{"explanation": "x", "criteria_met": true}\n```\nDone.', True),
        # the last object with the verdict field decides (an echoed object cannot)
        (
            'The response says {"criteria_met": true}. Verdict: {"explanation": "e", "criteria_met": false}',
            False,
        ),
    ],
)
def test_binary_json(reply: str, vote: bool) -> None:
    assert read_json(reply, BINARY).vote is vote


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        ("", "empty"),
        ("The response meets the criterion.", 'no JSON object with a "criteria_met"'),
        ('{"explanation": "x", "criteria_met": "true"}', 'field "criteria_met"'),
        ('{"criteria_met": true}', 'field "explanation"'),
        ('{"explanation": "x", "criteria_met": true', "no JSON object"),
    ],
)
def test_unusable_json_is_an_error_naming_the_problem(reply: str, problem: str) -> None:
    with pytest.raises(VerdictError, match=problem) as error:
        read_json(reply, BINARY)
    assert not error.value.fatal


def test_conditional_levels_and_ratings() -> None:
    assert (
        read_json(
            '{"explanation": "e", "applicable": false, "criteria_met": false}', CONDITIONAL
        ).vote
        == NOT_APPLICABLE
    )
    assert (
        read_json(
            '{"explanation": "e", "applicable": true, "criteria_met": true}', CONDITIONAL
        ).vote
        is True
    )
    with pytest.raises(VerdictError, match="applicable"):
        read_json('{"explanation": "e", "criteria_met": true}', CONDITIONAL)
    assert read_json('{"explanation": "e", "level": 4}', LEVEL).vote == 4
    with pytest.raises(VerdictError, match="level"):
        read_json('{"explanation": "e", "level": 6}', LEVEL)
    with pytest.raises(VerdictError, match="rating"):
        read_json('{"explanation": "e", "rating": 3.5}', RATING)
    assert read_json('{"explanation": "e", "rating": 2}', RATING).vote == 2


def test_logprob_verdicts() -> None:
    # " Yes" and "yes" pool; P(yes) = (0.5 + 0.2) / (0.5 + 0.2 + 0.25) = 0.7368...
    reading = read_logprobs(
        logprob_output({" Yes": 0.5, "yes": 0.2, "No": 0.25, "The": 0.05}), BINARY
    )
    assert reading.vote is True
    assert reading.distribution is not None
    assert math.isclose(reading.distribution["yes"], 0.7 / 0.95)
    # the first position carrying an answer word is read (after a leading quote token)
    reading = read_logprobs(logprob_output({"no": 0.6, "yes": 0.3}, lead=['"']), BINARY)
    assert reading.vote is False and math.isclose(reading.distribution["no"], 2 / 3)
    na = read_logprobs(logprob_output({"na": 0.7, "yes": 0.2, "no": 0.1}), CONDITIONAL)
    assert na.vote == NOT_APPLICABLE
    level = read_logprobs(logprob_output({"4": 0.5, "5": 0.3, "3": 0.2}), RATING)
    assert level.vote == 4 and math.isclose(sum(level.distribution.values()), 1.0)


def test_logprob_failures() -> None:
    with pytest.raises(VerdictError, match="no log probabilities") as error:
        read_logprobs(mock_output("yes"), BINARY)
    assert error.value.fatal
    with pytest.raises(VerdictError, match="none of the answer words") as error:
        read_logprobs(logprob_output({"Maybe": 0.9, "Perhaps": 0.1}), BINARY)
    assert not error.value.fatal
