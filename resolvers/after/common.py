"""Small pieces the after-registration use cases share: who the firm is, typed IMEIs, texts,
uploads and the numbers of the letters."""

from __future__ import annotations

from datetime import datetime

from models.imei import clean_imei, is_valid_imei
from resolvers.actor import Actor
from resolvers.documents.layout import regulator_zone
from resolvers.errors import DomainError, ErrorCode, invalid

MAX_REASON = 1000
MAX_NOTE = 2000


def require_firm(actor: Actor) -> int:
    """The acting firm's id: these reports are the firm's own word (staff do not file them)."""
    if not actor.is_firm or actor.firm_id is None:
        raise DomainError(ErrorCode.FORBIDDEN)
    return actor.firm_id


def typed_imei(raw: str) -> str:
    """What a person typed, cleaned of separators; the text as given when it is no number
    (whether it is a valid IMEI is the checks' call)."""
    cleaned = clean_imei(raw)
    return cleaned.text if cleaned.ok else raw.strip()[:32]


def parse_imei(raw: str, field: str = "imei") -> str:
    """A typed IMEI that must be valid (15 digits, right check digit)."""
    imei = typed_imei(raw)
    if not is_valid_imei(imei):
        raise invalid(
            field,
            "IMEI 15 haneli olmalı ve kontrol hanesi doğru olmalı",
            "an IMEI has 15 digits and a correct check digit",
        )
    return imei


def text(value: str, field: str, limit: int, required: bool) -> str:
    """A reason or note: spaces collapsed, within `limit` characters."""
    value = " ".join(value.split())
    if (required and not value) or len(value) > limit:
        raise invalid(
            field,
            f"{'boş olamaz ve ' if required else ''}en fazla {limit} karakter olabilir",
            f"{'must not be empty and ' if required else ''}at most {limit} characters",
        )
    return value


def letter_number(prefix: str, record_id: int, created_at: datetime) -> str:
    """A decision letter's number ("Sayı"): `MCKS-<prefix>-<year>-<id>`, the Turkish year."""
    return f"MCKS-{prefix}-{created_at.astimezone(regulator_zone()).year}-{record_id:06d}"
