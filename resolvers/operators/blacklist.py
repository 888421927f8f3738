"""The blacklist: operators and staff add lost, stolen, smuggled, altered or barred IMEIs and
lift the reports of recovered ones.

Each report gets a number issued by the registry (`models.registry.new_report_number`),
returned to the reporter, who hands it to the owner. Staff lift any report; an operator lifts
its own, or any report whose number it is given — a phone lost here and recovered abroad is
brought to whichever operator's shop is at hand. Each change is audited and goes to the
blacklist feed in the same transaction; the number never goes to the feed.
"""

from __future__ import annotations

import hmac

from tortoise.transactions import in_transaction

from models.imei import clean_imei, normalise_network_imei
from models.registry import (
    BlacklistEntry,
    BlacklistReason,
    new_report_number,
    normalise_report_number,
)
from models.roles import Role
from resolvers import audit, registry_changes
from resolvers.actor import Actor
from resolvers.errors import DomainError, ErrorCode, invalid, not_found

BLACKLIST_EDITORS = frozenset({Role.OPERATOR, Role.STAFF_REVIEWER, Role.STAFF_ADMIN})
MAX_REFERENCE = 128
MAX_NOTE = 1000


def parse_imei(raw: str, field: str = "imei") -> str:
    """A typed IMEI (separators allowed; 14, 15 or 16 digits) as its 15-digit form."""
    cleaned = clean_imei(raw)
    imei = normalise_network_imei(cleaned.text) if cleaned.ok else None
    if imei is None:
        raise invalid(
            field,
            "IMEI 15 haneli olmalı ve kontrol hanesi doğru olmalı",
            "an IMEI has 15 digits and a correct check digit",
        )
    return imei


def _text(value: str, field: str, limit: int, required: bool) -> str:
    value = " ".join(value.split())
    if (required and not value) or len(value) > limit:
        raise invalid(
            field,
            f"{'boş olamaz ve ' if required else ''}en fazla {limit} karakter olabilir",
            f"{'must not be empty and ' if required else ''}at most {limit} characters",
        )
    return value


def _require_editor(actor: Actor) -> None:
    if actor.role not in BLACKLIST_EDITORS:
        raise DomainError(ErrorCode.FORBIDDEN)


async def add(
    actor: Actor, imei: str, reason: BlacklistReason, reference: str, note: str = ""
) -> BlacklistEntry:
    _require_editor(actor)
    imei = parse_imei(imei)
    reference = _text(reference, "reference", MAX_REFERENCE, required=True)
    note = _text(note, "note", MAX_NOTE, required=False)
    number = new_report_number()
    async with in_transaction():
        await registry_changes.add_to_blacklist(
            actor, [registry_changes.BlacklistAddition(imei, reason, reference, note, number)]
        )
        entry = await BlacklistEntry.get(imei=imei)
        await audit.record(
            actor,
            "blacklist.added",
            "BlacklistEntry",
            imei,
            {
                "reason": reason.value,
                "reference": reference,
                "note": note,
                "reportNumber": number,
            },
        )
    return entry


def _may_lift(actor: Actor, entry: BlacklistEntry, report_number: str | None) -> bool:
    if actor.role != Role.OPERATOR:
        return True  # staff (the editors' check let only staff editors through)
    if entry.reported_by == actor.operator_code:
        return True
    given = normalise_report_number(report_number or "")
    return bool(given and entry.report_number) and hmac.compare_digest(
        given, entry.report_number or ""
    )


async def remove(
    actor: Actor, imei: str, note: str, report_number: str | None = None
) -> BlacklistEntry:
    """Lift the report of a recovered IMEI; returns the entry as it was."""
    _require_editor(actor)
    imei = parse_imei(imei)
    note = _text(note, "note", MAX_NOTE, required=True)
    async with in_transaction():
        entry = await BlacklistEntry.get_or_none(imei=imei).select_for_update()
        # Another operator's report without its number is not this operator's to lift: the
        # same answer as missing (a wrong number tells nothing either).
        if entry is None or not _may_lift(actor, entry, report_number):
            raise not_found("Kara listedeki IMEI", "Blacklisted IMEI", field="imei")
        await registry_changes.remove_from_blacklist(actor, [imei], note)
        await audit.record(
            actor,
            "blacklist.removed",
            "BlacklistEntry",
            imei,
            {
                "reason": entry.reason.value,
                "reference": entry.reference,
                "reportNumber": entry.report_number,
                "reportedBy": entry.reported_by,
                "byReportNumber": actor.role == Role.OPERATOR
                and entry.reported_by != actor.operator_code,
                "note": note,
            },
        )
    return entry


async def get_entry(actor: Actor, imei: str) -> BlacklistEntry:
    """Staff look up one report: reason, reporter, reference, number, when."""
    if not actor.is_staff:
        raise DomainError(ErrorCode.FORBIDDEN)
    entry = await BlacklistEntry.get_or_none(imei=parse_imei(imei))
    if entry is None:
        raise not_found("Kara listedeki IMEI", "Blacklisted IMEI", field="imei")
    return entry
