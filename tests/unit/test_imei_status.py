"""The operators' precedence rule for the cases that involve a pairing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models.imei_status import ImeiStatus, Verdict, decide

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def paired(whitelist_status: str | None, removal_reason: str | None, msisdn: str | None):
    return decide(
        blacklist_reason=None,
        paired_msisdn="905321234567",
        msisdn=msisdn,
        clone_suspected=True,
        whitelist_status=whitelist_status,
        removal_reason=removal_reason,
        first_seen_at=None,
        now=NOW,
        grace=timedelta(days=120),
    )


def test_a_registered_paired_imei_is_allowed_only_with_its_number():
    assert paired("REGISTERED", None, "905321234567").verdict == Verdict.ALLOW
    other = paired("REGISTERED", None, "905559999999")
    assert (other.verdict, other.status) == (Verdict.BLOCK, ImeiStatus.PAIRED)


def test_a_paired_imei_removed_from_the_whitelist_is_blocked_even_with_its_number():
    decision = paired(None, "Giriş kaydı bulunamadı", "905321234567")
    assert decision.verdict == Verdict.BLOCK
    assert decision.status == ImeiStatus.NOT_REGISTERED
    assert decision.reason == "Giriş kaydı bulunamadı"
