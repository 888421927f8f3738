"""The pure rules behind individual registrations: identity numbers and the person key."""

from __future__ import annotations

import pytest

from models.individuals import (
    IdentityKind,
    is_valid_national_id,
    is_valid_passport_number,
    normalise_passport_number,
    person_key,
)
from tests.support.individuals import national_id


@pytest.mark.parametrize("number", ["10000000146", "11111111110", national_id(123456)])
def test_valid_national_id_numbers(number):
    assert is_valid_national_id(number)


@pytest.mark.parametrize(
    "number",
    [
        "10000000147",  # wrong 11th digit
        "10000000136",  # wrong 10th digit
        "01000000146",  # cannot start with 0
        "1000000014",  # 10 digits
        "１0000000146",  # a full-width digit is not an ASCII digit
        "1000000014a",
    ],
)
def test_invalid_national_id_numbers(number):
    assert not is_valid_national_id(number)


def test_passport_numbers_are_compared_without_spaces_and_case():
    assert normalise_passport_number(" c01x 00t-47 ") == "C01X00T47"
    assert is_valid_passport_number("C01X00T47")
    assert not is_valid_passport_number("AB1")  # too short
    assert not is_valid_passport_number("AB12345Ş")


def test_a_person_is_one_key_across_channels():
    assert person_key(IdentityKind.NATIONAL_ID, "10000000146") == "TC:10000000146"
    # Passport numbers are unique only within their issuing country.
    assert person_key(IdentityKind.PASSPORT, "C01X00T47", "DE") != person_key(
        IdentityKind.PASSPORT, "C01X00T47", "FR"
    )
