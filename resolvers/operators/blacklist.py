"""The blacklist: operators and staff add lost, stolen or barred IMEIs and remove recovered ones.

Each change is audited and goes to the blacklist feed in the same transaction. An operator
removes only what it reported (its operator code); staff remove any entry.
"""

from __future__ import annotations

from tortoise.transactions import in_transaction

from models.imei import clean_imei, normalise_network_imei
from models.registry import BlacklistEntry, BlacklistReason
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
    async with in_transaction():
        await registry_changes.add_to_blacklist(
            actor, [registry_changes.BlacklistAddition(imei, reason, reference, note)]
        )
        entry = await BlacklistEntry.get(imei=imei)
        await audit.record(
            actor,
            "blacklist.added",
            "BlacklistEntry",
            imei,
            {"reason": reason.value, "reference": reference, "note": note},
        )
    return entry


async def remove(actor: Actor, imei: str, note: str) -> BlacklistEntry:
    """Take a recovered IMEI off the blacklist; returns the entry as it was."""
    _require_editor(actor)
    imei = parse_imei(imei)
    note = _text(note, "note", MAX_NOTE, required=True)
    async with in_transaction():
        entry = await BlacklistEntry.get_or_none(imei=imei).select_for_update()
        # Another operator's report is not this operator's to lift: same answer as missing.
        if entry is None or (
            actor.role == Role.OPERATOR and entry.reported_by != actor.operator_code
        ):
            raise not_found("Kara listedeki IMEI", "Blacklisted IMEI", field="imei")
        await registry_changes.remove_from_blacklist(actor, [imei], note)
        await audit.record(
            actor,
            "blacklist.removed",
            "BlacklistEntry",
            imei,
            {"reason": entry.reason.value, "reference": entry.reference, "note": note},
        )
    return entry
