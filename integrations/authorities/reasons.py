"""The reason codes authorities answer with, and what we tell people for each.

Authorities send a code and, optionally, a note in their own words. We show our own Turkish
and English wording for the codes we know; a code we do not know still counts as "not
verified" (an authority may add codes before we learn them), with generic wording and the
authority's note kept for staff.
"""

from __future__ import annotations

from enum import StrEnum

from integrations.authorities.interface import Reason


class ReasonCode(StrEnum):
    # Entry/exit records
    NO_ENTRY_RECORD = "NO_ENTRY_RECORD"
    ENTRY_DATE_MISMATCH = "ENTRY_DATE_MISMATCH"
    # Customs
    CUSTOMS_DECLARATION_NOT_FOUND = "CUSTOMS_DECLARATION_NOT_FOUND"
    DEVICE_NOT_IN_CUSTOMS_DECLARATION = "DEVICE_NOT_IN_CUSTOMS_DECLARATION"
    # Population registry
    IDENTITY_NOT_FOUND = "IDENTITY_NOT_FOUND"
    IDENTITY_MISMATCH = "IDENTITY_MISMATCH"


_MESSAGES: dict[str, tuple[str, str]] = {
    ReasonCode.NO_ENTRY_RECORD: (
        "Başvuru sahibinin ülkeye giriş kaydı bulunamadı.",
        "No record of the applicant entering the country was found.",
    ),
    ReasonCode.ENTRY_DATE_MISMATCH: (
        "Beyan edilen giriş tarihi giriş-çıkış kayıtlarıyla uyuşmuyor.",
        "The declared entry date does not match the entry/exit records.",
    ),
    ReasonCode.CUSTOMS_DECLARATION_NOT_FOUND: (
        "Gümrük beyannamesi bulunamadı.",
        "The customs declaration was not found.",
    ),
    ReasonCode.DEVICE_NOT_IN_CUSTOMS_DECLARATION: (
        "Cihaz gümrük beyannamesinde yer almıyor.",
        "The device is not listed in the customs declaration.",
    ),
    ReasonCode.IDENTITY_NOT_FOUND: (
        "Kimlik bilgileri nüfus kayıtlarında bulunamadı.",
        "The identity was not found in the population registry.",
    ),
    ReasonCode.IDENTITY_MISMATCH: (
        "Ad, soyad veya doğum tarihi nüfus kayıtlarıyla uyuşmuyor.",
        "The name or birth date does not match the population registry.",
    ),
}

_UNKNOWN = (
    "Beyan ilgili merci tarafından doğrulanmadı.",
    "The declaration was not verified by the authority.",
)


def reason_for(code: str, authority_note: str | None = None) -> Reason:
    """Our wording for an authority's reason code (generic wording for unknown codes)."""
    message_tr, message_en = _MESSAGES.get(code, _UNKNOWN)
    return Reason(code, message_tr, message_en, authority_note)
