from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
        ("All findings fit, yes. ANSWER: B", "B", "answer_line"),  # not at line start
        ("My answer: B", "B", "answer_line"),
        ("The answer is option b", "B", "answer_is"),
        ("Therefore, B is the correct answer.", "B", "answer_is"),
        ("Option c is the best answer.", "C", "answer_is"),
        ("The answer is B because A is wrong", "B", "answer_is"),  # a reason after the letter
        ("answer: A (B is wrong)", "A", "answer_line"),
        ("ANSWER: \\boxed{C}", "C", "boxed"),
        ("Final answer: the answer is C", "C", "answer_line"),
        ("Answer: D is incorrect, so the answer is A", "A", "answer_line"),  # D ruled out
        ("ANSWER: C. Option A is wrong.", "C", "answer_line"),
        ("The answer is A, B-cell lymphoma.", "A", "answer_is"),  # B starts a word
        ("ANSWER: (B), T-cell leukemia", "B", "answer_line"),
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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("At first the answer is A.\nOn reflection, the answer is D.", "D"),
        ("The answer is (A) — no, the answer is (D).", "D"),  # within one line
        ("So the answer is A. No wait, ANSWER: D", "D"),
        ("ANSWER: A\nHmm, no.\nANSWER: C", "C"),
        ("\\boxed{A} ... on reflection ANSWER: B", "B"),
    ],
)
def test_last_answer_statement_wins(text: str, expected: str) -> None:
    assert extract_choice(text, 4).answer == expected


@pytest.mark.parametrize(
    "text",
    [
        "ANSWER: C\nThis answer is consistent with option A being wrong.",
        "ANSWER: C\nThe answer is A if the patient were pregnant.",
        "The answer is probably A.\nANSWER: C",
    ],
)
def test_explicit_statement_beats_prose_around_it(text: str) -> None:
    assert extract_choice(text, 4).answer == "C"


def test_statements_naming_no_option_are_skipped() -> None:
    assert extract_choice("ANSWER: B\nThe answer is clear from the history.", 4).answer == "B"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("The answer is A. Wait, the answer is actually not A.", "only rules an option out"),
        ("The answer is B.\nANSWER: E", "names a letter outside the options"),
        ("ANSWER: B\nANSWER: A or C", "names more than one option"),
        ("ANSWER: B\nAnswer: D is incorrect.", "only rules an option out"),
        ("The answer is C.\nFinal answer: option (A) was ruled out", "only rules an option out"),
        ("The answer is A, B.", "names more than one option"),
    ],
)
def test_a_last_statement_that_is_unusable_is_decisive(text: str, problem: str) -> None:
    result = extract_choice(text, 4)
    assert (result.answer, result.problem) == (None, problem)


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
        "The answer is B-cell lymphoma.",  # a word, not option B
        "B is not the answer.",
        "answer: a or b",  # lowercase letters joined
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
    assert extract_choice("I is the correct answer.", 10).answer == "I"
    assert extract_choice("The answer is I because of the rash.", 10).answer == "I"


@pytest.mark.parametrize(
    "text",
    [
        "ANSWER: I think B",
        "The answer is B as I said",
        "ANSWER: B, I'm fairly sure",
        "I believe the answer is B.",
        "ANSWER: I'd say B",
    ],
)
def test_pronoun_i_is_not_option_i(text: str) -> None:
    assert extract_choice(text, 10).answer == "B"


LETTERS = "ABCDEFGHIJ"


@settings(max_examples=300, deadline=None)
@given(st.text(), st.integers(min_value=2, max_value=10), st.data())
def test_any_text_then_a_final_answer_line_parses_to_that_letter(
    prefix: str, n_choices: int, data: st.DataObject
) -> None:
    letter = data.draw(st.sampled_from(LETTERS[:n_choices]))
    assert extract_choice(f"{prefix}\nANSWER: {letter}", n_choices).answer == letter


ADVERSARIAL = st.sampled_from(
    ["ANSWER:", "the answer is", "\\boxed{", "}", "</think>", "not", "or", "I think", "(", ")"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(ADVERSARIAL, st.sampled_from(list(" \n.AB")), st.text(max_size=4))))
def test_answer_like_fragments_never_override_the_final_answer_line(parts: list[str]) -> None:
    assert extract_choice("".join(parts) + "\nANSWER: D", 4).answer == "D"


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
