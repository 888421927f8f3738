"""IMEI rules: what firms type, what operators send, and the Luhn check digit."""

from __future__ import annotations

import datetime
import random

import pytest

from models.imei import (
    ImeiTextProblem,
    clean_imei,
    clean_imei_text,
    invalid_imei_positions,
    is_valid_imei,
    luhn_check_digit,
    normalise_network_imei,
    tac_of,
)

# The example IMEI of 3GPP/GSMA documents, and one written with the usual separators.
KNOWN_VALID = "490154203237518"
WITH_SEPARATORS = "35-209900-176148-1"


def reference_check_digit(payload: str) -> str:
    """Textbook Luhn, digit by digit from the right, to hold the fast version against."""
    total = 0
    for position, char in enumerate(reversed(payload)):
        digit = int(char)
        if position % 2 == 0:  # the digit next to the check digit is doubled
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def make_imei(serial: int, prefix: str = "35") -> str:
    payload = f"{prefix}{serial:0{14 - len(prefix)}d}"
    return payload + luhn_check_digit(payload)


class TestLuhn:
    def test_known_check_digits(self) -> None:
        assert luhn_check_digit("49015420323751") == "8"
        assert luhn_check_digit("35209900176148") == "1"

    def test_agrees_with_the_textbook_algorithm(self) -> None:
        generator = random.Random(2012)
        for _ in range(2_000):
            payload = "".join(generator.choice("0123456789") for _ in range(14))
            assert luhn_check_digit(payload) == reference_check_digit(payload), payload

    @pytest.mark.parametrize(
        "payload",
        [
            "4901542032375",
            "490154203237518",
            "4901542032375X",
            "٤٩٠١٥٤٢٠٣٢٣٧٥١",
            "４９０１５４２０３２３７５１",
        ],
    )
    def test_refuses_anything_but_14_ascii_digits(self, payload: str) -> None:
        with pytest.raises(ValueError):
            luhn_check_digit(payload)


class TestIsValidImei:
    def test_valid_imei(self) -> None:
        assert is_valid_imei(KNOWN_VALID)
        assert is_valid_imei(make_imei(123456))

    def test_every_single_digit_typo_is_caught(self) -> None:
        for position in range(15):
            original = int(KNOWN_VALID[position])
            for replacement in "0123456789":
                if int(replacement) == original:
                    continue
                typo = KNOWN_VALID[:position] + replacement + KNOWN_VALID[position + 1 :]
                assert not is_valid_imei(typo), typo

    @pytest.mark.parametrize(
        "value",
        [
            KNOWN_VALID[:14],
            KNOWN_VALID + "0",
            " " + KNOWN_VALID,
            "49015420323751８",  # a full-width digit
            int(KNOWN_VALID),
            None,
            "",
        ],
    )
    def test_invalid_shapes(self, value: object) -> None:
        assert not is_valid_imei(value)


class TestInvalidImeiPositions:
    """The whole list's check at once agrees with the check of each value."""

    MALFORMED = (
        "",
        "1",
        KNOWN_VALID[:14],
        KNOWN_VALID + "0",
        " " + KNOWN_VALID[1:],
        "49015420323751８",
        "4901542٠3237518",
        "49015420323751²",
        "49015420323751x",
    )

    def test_agrees_with_is_valid_imei_on_a_mixed_list(self) -> None:
        generator = random.Random(2026)
        values = []
        for serial in range(5_000):
            imei = make_imei(generator.randrange(10**12))
            roll = generator.random()
            if roll < 0.1:  # a wrong check digit
                imei = imei[:14] + str((int(imei[14]) + generator.randint(1, 9)) % 10)
            elif roll < 0.2:
                imei = generator.choice(self.MALFORMED)
            values.append(imei)
        expected = [i for i, value in enumerate(values) if not is_valid_imei(value)]
        assert 500 < len(expected) < 1_500
        assert invalid_imei_positions(values) == expected

    def test_every_single_digit_typo_is_caught(self) -> None:
        typos = [
            KNOWN_VALID[:position] + replacement + KNOWN_VALID[position + 1 :]
            for position in range(15)
            for replacement in "0123456789"
            if replacement != KNOWN_VALID[position]
        ]
        values = [KNOWN_VALID, *typos, KNOWN_VALID]
        assert invalid_imei_positions(values) == list(range(1, len(typos) + 1))

    @pytest.mark.parametrize("value", MALFORMED)
    def test_one_malformed_value_among_valid_ones(self, value: str) -> None:
        # all 15 long but one, or all 15 long and one not ASCII digits: both slower paths
        assert invalid_imei_positions([KNOWN_VALID, value, make_imei(7)]) == [1]

    def test_nothing_to_check(self) -> None:
        assert invalid_imei_positions([]) == []
        assert invalid_imei_positions([KNOWN_VALID] * 3) == []
        assert invalid_imei_positions(["000000000000000", "999999999999994"]) == []


class TestNormaliseNetworkImei:
    def test_valid_15_digits_pass_unchanged(self) -> None:
        assert normalise_network_imei(KNOWN_VALID) == KNOWN_VALID

    def test_15_digits_with_a_wrong_check_digit_are_refused(self) -> None:
        assert normalise_network_imei(KNOWN_VALID[:14] + "9") is None

    def test_14_digits_get_their_check_digit(self) -> None:
        assert normalise_network_imei(KNOWN_VALID[:14]) == KNOWN_VALID

    def test_imeisv_drops_the_software_version_and_adds_the_check_digit(self) -> None:
        assert normalise_network_imei(KNOWN_VALID[:14] + "07") == KNOWN_VALID
        assert normalise_network_imei(KNOWN_VALID[:14] + "99") == KNOWN_VALID

    @pytest.mark.parametrize(
        "raw",
        [
            "",
            "4901542032375",
            "49015420323751800",
            "4901542032375X",
            " 49015420323751",
            "٤٩٠١٥٤٢٠٣٢٣٧٥١",
        ],
    )
    def test_anything_else_is_none(self, raw: str) -> None:
        assert normalise_network_imei(raw) is None

    def test_every_result_is_a_valid_imei(self) -> None:
        for serial in range(0, 1_000_000, 9_973):
            payload = f"86{serial:012d}"
            assert is_valid_imei(normalise_network_imei(payload))
            assert is_valid_imei(normalise_network_imei(payload + "12"))


class TestCleanImei:
    @pytest.mark.parametrize(
        "raw",
        [
            WITH_SEPARATORS,
            "35 209900 176148 1",
            "35.209900.176148.1",
            "35\u00a0209900\u202f176148\u20091",  # NBSP, narrow NBSP, thin space
            "35–209900–176148–1",  # en dashes from a word processor
            "\u200b352099001761481\ufeff",
            "'352099001761481",  # the apostrophe that forces a text cell
            "  352099001761481\t",
        ],
    )
    def test_separators_people_type_are_removed(self, raw: str) -> None:
        cleaned = clean_imei(raw)
        assert cleaned.ok and cleaned.text == "352099001761481"
        assert not cleaned.from_number

    def test_integer_cells_become_digits(self) -> None:
        cleaned = clean_imei(352099001761481)
        assert (cleaned.text, cleaned.ok, cleaned.leading_zeros_lost) == (
            "352099001761481",
            True,
            False,
        )

    def test_float_cells_holding_an_integer_become_digits(self) -> None:
        cleaned = clean_imei(3.52099001761481e14)
        assert cleaned.ok and cleaned.text == "352099001761481" and cleaned.from_number

    def test_a_number_cannot_keep_a_leading_zero_and_is_not_padded(self) -> None:
        imei = make_imei(42, prefix="01")  # TACs starting with 01 are common (older iPhones)
        cleaned = clean_imei(float(int(imei)))
        assert cleaned.text == imei[1:]  # 14 digits, as the cell holds them
        assert cleaned.ok and cleaned.leading_zeros_lost

    def test_text_keeps_its_leading_zero(self) -> None:
        imei = make_imei(42, prefix="01")
        cleaned = clean_imei(imei)
        assert cleaned.text == imei and not cleaned.leading_zeros_lost

    def test_a_float_printed_by_a_script_is_one_number(self) -> None:
        assert clean_imei("352099001761481.0").text == "352099001761481"

    @pytest.mark.parametrize(
        ("raw", "problem"),
        [
            (None, ImeiTextProblem.EMPTY),
            ("", ImeiTextProblem.EMPTY),
            ("   ", ImeiTextProblem.EMPTY),
            ("-", ImeiTextProblem.EMPTY),
            ("3,52099E+14", ImeiTextProblem.SCIENTIFIC_NOTATION),
            ("3.52099e14", ImeiTextProblem.SCIENTIFIC_NOTATION),
            ("35209900176148O", ImeiTextProblem.NOT_DIGITS),  # letter O for zero
            ("IMEI yok", ImeiTextProblem.NOT_DIGITS),
            ("٣٥٢٠٩٩٠٠١٧٦١٤٨١", ImeiTextProblem.NOT_DIGITS),
            (-352099001761481, ImeiTextProblem.NOT_DIGITS),
            (352099001761481.5, ImeiTextProblem.NOT_WHOLE_NUMBER),
            (float("nan"), ImeiTextProblem.NOT_WHOLE_NUMBER),
            (1.2345678901234567e16, ImeiTextProblem.PRECISION_LOST),
            (True, ImeiTextProblem.UNSUPPORTED_VALUE),
            (datetime.date(2024, 3, 15), ImeiTextProblem.UNSUPPORTED_VALUE),
        ],
    )
    def test_what_cannot_be_cleaned_says_why(self, raw: object, problem: ImeiTextProblem) -> None:
        cleaned = clean_imei(raw)
        assert cleaned.problem is problem
        assert not cleaned.ok

    def test_digits_of_the_wrong_length_are_not_a_cleaning_problem(self) -> None:
        # Whether they form a valid IMEI is the technical checks' call (INVALID_IMEI).
        assert clean_imei("12345").ok
        assert clean_imei("1234567890123456789").text == "1234567890123456789"

    def test_clean_imei_text_returns_the_cleaned_text(self) -> None:
        assert clean_imei_text(WITH_SEPARATORS) == "352099001761481"
        assert clean_imei_text(3.52099001761481e14) == "352099001761481"


class TestTac:
    def test_tac_is_the_first_eight_digits(self) -> None:
        assert tac_of(KNOWN_VALID) == "49015420"

    @pytest.mark.parametrize("imei", ["4901542", "4901542X3237518", ""])
    def test_no_tac_without_eight_digits(self, imei: str) -> None:
        with pytest.raises(ValueError):
            tac_of(imei)
