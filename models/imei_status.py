"""What an operator's network does with an IMEI: the one precedence rule of `checkImeis`.

Pure: the caller looks up the facts (set-based, for a whole batch) and asks `decide` per
IMEI. The first matching line wins:

1. `INVALID` (BLOCK) — not an IMEI (see `models.imei.normalise_network_imei`).
2. `BLACKLISTED` (BLOCK) — lost, stolen or barred; `reason` is the blacklist reason.
2a. `PROVISIONAL` (BLOCK, `reason` `VERIFICATION_OVERDUE`) — an individual's registration
   whose verification is overdue (whitelist status `OVERDUE`), whatever number it comes with.
3. `PAIRED` — on the whitelist and paired with one MSISDN (Tebliğ art. 14): ALLOW only with
   that MSISDN, BLOCK without one or with another (`reason` says which; the paired number
   is never shown). A paired IMEI taken off the whitelist falls to line 6.
4. `CLONE_SUSPECTED` (ALLOW) — a registered IMEI seen with several subscribers; allowed
   until it is paired, so the legitimate owner is not cut off before the firm acts.
5. `REGISTERED` / `PROVISIONAL` (ALLOW) — on the whitelist (provisional: an individual's
   registration still awaiting the authorities' verification).
6. `NOT_REGISTERED` (BLOCK) — removed from the whitelist (non-compliant, replaced,
   corrected): a removed IMEI gets no new grace period; `reason` is the removal reason.
7. `NOT_REGISTERED` (BLOCK) — an IMEI that can have no grace period: `reason` is
   `RESERVED_IMEI` (all-zero or test values), `TAC_NOT_FOUND` (no active registry model has
   its TAC) or `HELD_REPLACEMENT` (a mainboard/swap IMEI held until its importer reports
   which registered IMEI it replaces, Tebliğ art. 11(2)).
8. `GRACE_PERIOD` (ALLOW) — never registered, first attached to a network less than the
   grace period ago (the rule for visitors' phones); `grace_ends_at` says until when. An
   IMEI not attached yet is answered as if it attached now (what its first attach would get).
9. `NOT_REGISTERED` (BLOCK) — never registered and the grace period is over (or is 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from models.labels import register
from models.registry import WhitelistStatus


class Verdict(StrEnum):
    ALLOW = "ALLOW"
    BLOCK = "BLOCK"


class ImeiStatus(StrEnum):
    REGISTERED = "REGISTERED"
    PROVISIONAL = "PROVISIONAL"
    GRACE_PERIOD = "GRACE_PERIOD"
    BLACKLISTED = "BLACKLISTED"
    CLONE_SUSPECTED = "CLONE_SUSPECTED"
    PAIRED = "PAIRED"
    NOT_REGISTERED = "NOT_REGISTERED"
    INVALID = "INVALID"


# Machine-readable `reason`s of a PAIRED block (operators switch on them).
MSISDN_REQUIRED = "MSISDN_REQUIRED"
MSISDN_MISMATCH = "MSISDN_MISMATCH"
# Machine-readable `reason`s of an IMEI that gets no grace period (line 7).
RESERVED_IMEI = "RESERVED_IMEI"
TAC_NOT_FOUND = "TAC_NOT_FOUND"
HELD_REPLACEMENT = "HELD_REPLACEMENT"
# The `reason` of a provisional registration blocked because its verification is overdue.
VERIFICATION_OVERDUE = "VERIFICATION_OVERDUE"
# The whitelist status that blocks with it, as the plain text the lookup gives (a cheap compare).
_OVERDUE_STATUS: str = WhitelistStatus.OVERDUE.value

register(Verdict, {"ALLOW": ("İzin ver", "Allow"), "BLOCK": ("Engelle", "Block")})
register(
    ImeiStatus,
    {
        "REGISTERED": ("Kayıtlı", "Registered"),
        "PROVISIONAL": ("Geçici kayıtlı (doğrulama bekleniyor)", "Provisional (awaiting check)"),
        "GRACE_PERIOD": ("Kayıt için tanınan süre içinde", "In the grace period"),
        "BLACKLISTED": ("Kara listede", "Blacklisted"),
        "CLONE_SUSPECTED": ("Klon şüphesi", "Suspected clone"),
        "PAIRED": ("Numarayla eşleştirilmiş", "Paired with a number"),
        "NOT_REGISTERED": ("Kayıtlı değil", "Not registered"),
        "INVALID": ("Geçersiz IMEI", "Invalid IMEI"),
    },
)


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    status: ImeiStatus
    reason: str | None = None
    grace_ends_at: datetime | None = None


INVALID = Decision(Verdict.BLOCK, ImeiStatus.INVALID)
_REGISTERED = Decision(Verdict.ALLOW, ImeiStatus.REGISTERED)
_PROVISIONAL = Decision(Verdict.ALLOW, ImeiStatus.PROVISIONAL)
_CLONE = Decision(Verdict.ALLOW, ImeiStatus.CLONE_SUSPECTED)
_PAIRED_OK = Decision(Verdict.ALLOW, ImeiStatus.PAIRED)
_PAIRED_NO_MSISDN = Decision(Verdict.BLOCK, ImeiStatus.PAIRED, MSISDN_REQUIRED)
_PAIRED_OTHER = Decision(Verdict.BLOCK, ImeiStatus.PAIRED, MSISDN_MISMATCH)
_NOT_REGISTERED = Decision(Verdict.BLOCK, ImeiStatus.NOT_REGISTERED)
_OVERDUE = Decision(Verdict.BLOCK, ImeiStatus.PROVISIONAL, VERIFICATION_OVERDUE)


def normalise_msisdn(raw: str | None) -> str | None:
    """A phone number as digits in international form, for comparing two of them.

    Drops spaces, dashes, brackets and a leading `+` or `00`; a national `0…` number gets no
    country code (both sides are normalised the same way, so `0533…` and `0533…` still
    match; operators send E.164). None for empty or non-numeric input.
    """
    if raw is None:
        return None
    digits = "".join(ch for ch in raw if ch not in " -()./+\t")
    if digits.startswith("00"):
        digits = digits[2:]
    if not digits or not (digits.isascii() and digits.isdigit()):
        return None
    return digits


def decide(
    *,
    blacklist_reason: str | None,
    paired_msisdn: str | None,
    msisdn: str | None,
    clone_suspected: bool,
    whitelist_status: str | None,
    removal_reason: str | None,
    first_seen_at: datetime | None,
    now: datetime,
    grace: timedelta,
    no_grace_reason: str | None = None,
) -> Decision:
    """The decision for one valid IMEI (invalid input is `INVALID` without asking).

    `msisdn` and `paired_msisdn` are already normalised (`normalise_msisdn`);
    `removal_reason` is given only for an IMEI that was removed from the whitelist and is
    not on it now (it may be "" when none was recorded); `first_seen_at` is the first attach
    (None: not attached yet, answered as "now"); `no_grace_reason` is line 7's reason.
    """
    if blacklist_reason is not None:
        return Decision(Verdict.BLOCK, ImeiStatus.BLACKLISTED, blacklist_reason)
    if whitelist_status == _OVERDUE_STATUS:
        return _OVERDUE
    # A pairing governs a registered IMEI only: once the IMEI leaves the whitelist (rejected,
    # removed by staff, replaced, corrected) it is blocked whatever number it comes with.
    if paired_msisdn is not None and whitelist_status is not None:
        if msisdn is None:
            return _PAIRED_NO_MSISDN
        return _PAIRED_OK if msisdn == paired_msisdn else _PAIRED_OTHER
    if whitelist_status is not None:
        if clone_suspected:
            return _CLONE
        return _PROVISIONAL if whitelist_status == ImeiStatus.PROVISIONAL else _REGISTERED
    if removal_reason is not None:
        return Decision(Verdict.BLOCK, ImeiStatus.NOT_REGISTERED, removal_reason or None)
    if no_grace_reason is not None:
        return Decision(Verdict.BLOCK, ImeiStatus.NOT_REGISTERED, no_grace_reason)
    if grace <= timedelta(0):
        return _NOT_REGISTERED
    ends_at = (first_seen_at or now) + grace
    if now < ends_at:
        return Decision(Verdict.ALLOW, ImeiStatus.GRACE_PERIOD, grace_ends_at=ends_at)
    return _NOT_REGISTERED
