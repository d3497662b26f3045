from datetime import date

import pytest

from tasks.answers import extract_choice, extract_date, extract_number, extract_weeks_days

CHOICES = [
    "Disclose the error to the patient and put it in the operative report",
    "Tell the attending that he cannot fail to disclose this mistake",
    "Report the physician to the ethics committee",
    "Refuse to dictate the operative report",
]


@pytest.mark.parametrize(
    ("text", "expected", "method"),
    [
        ("ANSWER: B", "B", "answer_line"),
        ("Some reasoning.\nANSWER: (C)", "C", "answer_line"),
        ("**Answer:** (B) Tell the attending", "B", "answer_line"),
        ("Final answer: D.", "D", "answer_line"),
        ("answer: b", "B", "answer_line"),
        ("The answer is (D).", "D", "answer_is"),
        ("So the correct answer is option C because of the history.", "C", "answer_is"),
        ("Thus the answer would be A) Disclose the error.", "A", "answer_is"),
        ("\\boxed{A}", "A", "boxed"),
        ("The answer is: $\\boxed{\\text{C}}$", "C", "boxed"),
        ("Long reasoning about each option...\n\nB", "B", "last_line"),
        ("Reasoning...\n(C)", "C", "last_line"),
    ],
)
def test_extracts_common_formats(text: str, expected: str, method: str) -> None:
    result = extract_choice(text, 4, CHOICES)
    assert (result.answer, result.method) == (expected, method)


def test_reasoning_model_output_uses_text_after_think_block() -> None:
    text = (
        "<think>Option A looks tempting. ANSWER: A? No, wait."
        + " hmm" * 5000
        + "</think>\nANSWER: C"
    )
    assert extract_choice(text, 4).answer == "C"


def test_last_answer_statement_wins() -> None:
    text = "At first the answer is A.\nOn reflection, the answer is D."
    assert extract_choice(text, 4).answer == "D"


def test_option_text_without_letter() -> None:
    text = "The answer is Tell the attending that he cannot fail to disclose this mistake."
    assert extract_choice(text, 4, CHOICES).answer == "B"


@pytest.mark.parametrize(
    "text",
    [
        "The answer is A or B.",
        "ANSWER: A, C",
        "ANSWER: B and D",
        "The answer is a rare complication.",
        "I cannot decide.",
        "",
        "ANSWER: E",  # outside the four options
        "I agree with the attending.",
    ],
)
def test_ambiguous_or_missing_answers_are_unparsed(text: str) -> None:
    result = extract_choice(text, 4, CHOICES)
    assert result.answer is None
    assert result.problem


def test_negation_names_the_other_option() -> None:
    assert extract_choice("The answer is not A but B.", 4).answer == "B"
    assert extract_choice("ANSWER: C, not A", 4).answer == "C"


def test_ten_option_letters() -> None:
    assert extract_choice("ANSWER: I", 10).answer == "I"
    assert extract_choice("ANSWER: J", 10).answer == "J"
    assert extract_choice("ANSWER: J", 4).answer is None


def test_numbers() -> None:
    assert extract_number("Weight 70 kg, so CrCl = 25.2 mL/min.\nANSWER: 25.238") == pytest.approx(
        25.238
    )
    assert extract_number("The score is 4 points.") == 4
    assert extract_number("ANSWER: 1,250.5 mg") == pytest.approx(1250.5)
    assert extract_number("The answer is −3.5") == pytest.approx(-3.5)
    assert extract_number("no numbers here") is None


def test_dates_and_durations() -> None:
    assert extract_date("LMP 12/17/2013, so ANSWER: 09/23/2014") == date(2014, 9, 23)
    assert extract_date("Due date: 2014-09-23") == date(2014, 9, 23)
    assert extract_date("ANSWER: 13/45/2014") is None
    assert extract_weeks_days("ANSWER: 0 weeks, 6 days") == (0, 6)
    assert extract_weeks_days("It is 14 weeks and 1 day.") == (14, 1)
