"""Personal-details detection: each identifier kind is caught, ordinary questions pass."""

from __future__ import annotations

import pytest

from rag.understand.privacy import (
    REDACTED,
    describe,
    find_personal_details,
    has_personal_details,
    nhs_number_valid,
    redact,
)


def kinds(text: str) -> list[str]:
    return [f.kind for f in find_personal_details(text)]


@pytest.mark.parametrize("number", ["9434765919", "4010232137", "9876543210"])
def test_valid_nhs_numbers_pass_the_checksum(number):
    assert nhs_number_valid(number)


@pytest.mark.parametrize(
    "number",
    [
        "9434765918",  # check digit off by one
        "9434765910",
        "1234567890",  # weighted sum leaves 10: never issued
        "943476591",  # nine digits
        "94347659a9",
    ],
)
def test_invalid_nhs_numbers_fail_the_checksum(number):
    assert not nhs_number_valid(number)


@pytest.mark.parametrize(
    "text",
    [
        "What happened to the baby with NHS number 943 476 5919?",
        "nhs no 9434765919 mother",
        "patient 943-476-5919",
    ],
)
def test_nhs_number_is_found_in_any_common_format(text):
    assert kinds(text) == ["nhs_number"]


def test_ten_digits_failing_the_checksum_are_not_an_nhs_number():
    assert kinds("reference 943 476 5918 in the log") == []


@pytest.mark.parametrize(
    "text",
    [
        "child born 03/04/2019, what should I do?",
        "DOB 12/03/2015",
        "date of birth: 1 March 2016",
        "She was born on 14th February 2020",
        "born in March 2016",
        "seen on 2019-03-12",
        "March 5, 2020 incident",
        "12.03.15",
    ],
)
def test_dates_of_birth_and_full_dates_are_found(text):
    assert kinds(text) == ["date_of_birth"]


@pytest.mark.parametrize("text", ["family at SO14 7LU", "lives in so14 7lu", "EC1A1BB", "W1A 0AX"])
def test_uk_postcodes_are_found(text):
    assert kinds(text) == ["postcode"]


@pytest.mark.parametrize(
    "text",
    [
        "call mum on 07700 900123",
        "ring 020 7946 0000",
        "+44 7700 900123",
        "+44 (0)20 7946 0000",
        "01632 960 001",
        "+1 202 555 0143",
    ],
)
def test_phone_numbers_are_found(text):
    assert kinds(text) == ["phone"]


@pytest.mark.parametrize("text", ["email jo.bloggs@nhs.net about it", "a+b@example.co.uk"])
def test_email_addresses_are_found(text):
    assert kinds(text) == ["email"]


@pytest.mark.parametrize(
    "text",
    [
        "What did the Child P review recommend for GPs?",
        "What did Recommendation 3 say in 2019?",
        "Level 3 training for the 0-19 service",
        "Section 47 enquiries under Working Together 2018",
        "How did the COVID-19 pandemic affect visits?",
        "What happened in March 2019?",
        "the M25 and the A1 road",
        "Child P was aged 3 in 2015",
        "Recommendation 1.2 of the briefing",
        "ratio 1/2/3 of cases",
        "What about health visitors?",
    ],
)
def test_ordinary_questions_are_not_flagged(text):
    assert find_personal_details(text) == ()
    assert not has_personal_details(text)


def test_several_details_are_all_reported_in_order_with_spans():
    text = "Jo (DOB 01/02/2018) at SO14 7LU, NHS 943 476 5919, jo@example.com, 07700 900123"
    found = find_personal_details(text)
    assert [f.kind for f in found] == ["date_of_birth", "postcode", "nhs_number", "email", "phone"]
    assert [text[f.start : f.end] for f in found] == [
        "DOB 01/02/2018",
        "SO14 7LU",
        "943 476 5919",
        "jo@example.com",
        "07700 900123",
    ]
    assert describe(found) == (
        "a date of birth (or another full date), a postcode, an NHS number, "
        "an email address and a phone number"
    )


def test_a_valid_nhs_number_is_not_also_reported_as_a_phone_number():
    # Both patterns match "+44 943 476 5919"; the overlap is reported once, as the NHS number.
    assert kinds("+44 943 476 5919") == ["nhs_number"]
    assert kinds("+44 943 476 5918") == ["phone"]


def test_describe_names_each_kind_once():
    found = find_personal_details("07700 900123 or 07700 900124")
    assert len(found) == 2
    assert describe(found) == "a phone number"


def test_redact_removes_every_detail_and_keeps_the_question():
    text = "Jo, NHS 943 476 5919, born 01/02/2018, at SO14 7LU: what did Child P recommend?"
    out = redact(text)
    # "born" is part of the date-of-birth finding, so it goes too.
    assert out == f"Jo, NHS {REDACTED}, {REDACTED}, at {REDACTED}: what did Child P recommend?"
    assert not has_personal_details(out)
    assert out.endswith("what did Child P recommend?")
    assert redact("What did Child P recommend?") == "What did Child P recommend?"
