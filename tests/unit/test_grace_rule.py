"""The grace rule's pure parts: which valid IMEIs are reserved, and what a no-grace reason
does in the precedence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.imei import is_reserved_imei, luhn_check_digit, normalise_network_imei
from models.imei_status import TAC_NOT_FOUND, ImeiStatus, Verdict, decide

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def valid(first14: str) -> str:
    return first14 + luhn_check_digit(first14)


@pytest.mark.parametrize(
    ("imei", "reserved"),
    [
        ("000000000000000", True),
        (valid("11111111111111"), True),  # one digit over the TAC and serial
        (valid("00123456123456"), True),  # reporting body 00: test IMEIs
        (valid("35693803000000"), False),  # a zero serial alone is a real device's
        (valid("35693803564380"), False),
        (valid("01234567000001"), False),  # reporting body 01 is a real one
    ],
)
def test_reserved_imeis(imei, reserved):
    assert normalise_network_imei(imei) == imei
    assert is_reserved_imei(imei) is reserved


def decision(**facts):
    base = {
        "blacklist_reason": None,
        "paired_msisdn": None,
        "msisdn": None,
        "clone_suspected": False,
        "whitelist_status": None,
        "removal_reason": None,
        "first_seen_at": None,
        "now": NOW,
        "grace": timedelta(days=120),
    }
    return decide(**{**base, **facts})


def test_a_no_grace_reason_blocks_an_unregistered_imei_but_nothing_above_it():
    refused = decision(no_grace_reason=TAC_NOT_FOUND)
    assert (refused.verdict, refused.status, refused.reason) == (
        Verdict.BLOCK,
        ImeiStatus.NOT_REGISTERED,
        TAC_NOT_FOUND,
    )
    assert refused.grace_ends_at is None
    # The lists come first: a registered, blacklisted or removed IMEI answers as before.
    assert decision(whitelist_status="REGISTERED", no_grace_reason=TAC_NOT_FOUND).status == (
        ImeiStatus.REGISTERED
    )
    assert decision(blacklist_reason="STOLEN", no_grace_reason=TAC_NOT_FOUND).status == (
        ImeiStatus.BLACKLISTED
    )
    removed = decision(removal_reason="Sahte belge", no_grace_reason=TAC_NOT_FOUND)
    assert removed.reason == "Sahte belge"
    # Not attached yet: the grace a first attach now would get.
    would = decision()
    assert would.status == ImeiStatus.GRACE_PERIOD and would.grace_ends_at == NOW + timedelta(
        days=120
    )
