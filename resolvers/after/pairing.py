"""Pairing (Tebliğ art. 14): an IMEI whose identity was altered or cloned is allowed on the
networks only with one GSM number.

* Which IMEIs may be paired: those under an open clone suspicion (the detector in
  `resolvers.operators.clones`) and those staff flag (`flag_for_pairing`).
* Who pairs: the firm that registered the IMEI (its whitelist entry's firm), once
  (`pair_imei`); the suspicion and the flag close with it.
* From then on only staff change or end a pairing (`change_pairing`, `remove_pairing`).

Every change is audited and reaches operators through the pairing feed
(`resolvers.after.pairing_changes`); `checkImeis` then ALLOWs the IMEI only with that number.
When a replacement or a correction takes IMEIs off the whitelist, `release_removed` ends what
hung on them — above all the pairing, which the precedence rule would otherwise still honour.

Locking: a use case reads the whitelist entry FOR UPDATE, then takes the pairing feed's
lock; replacements and corrections hold the whitelist feed's lock, delete entries, then take
the pairing lock. Nobody waits for the whitelist lock while holding the pairing lock, so the
two orders cannot deadlock.
"""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.transactions import in_transaction

from models import clock
from models.after import PairingFlag, pairing_msisdn
from models.network import CloneStatus, CloneSuspicion, ImeiPairing
from models.registry import WhitelistEntry
from models.roles import Role
from resolvers import audit, bulk
from resolvers.actor import Actor
from resolvers.after import pairing_changes
from resolvers.after.common import MAX_REASON, parse_imei, require_firm, text
from resolvers.errors import (
    DomainError,
    ErrorCode,
    Problems,
    already_exists,
    invalid,
    not_found,
)
from resolvers.operators import greylist
from resolvers.pagination import Page, paginate
from resolvers.scoping import visible_to

PAIRING_STAFF = frozenset({Role.STAFF_REVIEWER, Role.STAFF_ADMIN})
# The pairing feed's reason when a firm pairs: why the IMEI could be paired.
BY_CLONE_SUSPICION = "CLONE_SUSPECTED"
BY_FLAG = "FLAGGED"


def parse_msisdn(raw: str, field: str = "msisdn") -> str:
    number = pairing_msisdn(raw)
    if number is None:
        raise invalid(
            field,
            "GSM numarası ülke koduyla (+90 5xx xxx xx xx) ya da 0 5xx xxx xx xx biçiminde olmalı",
            "a GSM number with its country code (+90 5xx xxx xx xx) or as 0 5xx xxx xx xx",
        )
    return number


def _imei_and_reason(imei: str, reason: str, problems: Problems | None = None) -> tuple[str, str]:
    """Both checked, with the problems found so far: every input error at once."""
    problems = problems if problems is not None else Problems()
    imei = problems.check(parse_imei, imei) or imei
    reason = problems.check(text, reason, "reason", MAX_REASON, required=True) or reason
    problems.raise_any()
    return imei, reason


def _require_staff(actor: Actor) -> None:
    if actor.role not in PAIRING_STAFF:
        raise DomainError(ErrorCode.FORBIDDEN)


async def _entry_for_update(imei: str) -> WhitelistEntry:
    entry = await WhitelistEntry.filter(imei=imei).select_for_update().first()
    if entry is None:
        raise DomainError(ErrorCode.IMEI_NOT_REGISTERED, field="imei", imei=imei)
    return entry


async def _open_flag(imei: str) -> PairingFlag | None:
    return await PairingFlag.filter(imei=imei, closed_at__isnull=True).first()


async def flag_for_pairing(actor: Actor, imei: str, reason: str) -> PairingFlag:
    """Staff mark a registered IMEI for pairing; the firm that registered it is told through
    the audit trail (the event carries its id, as the clone detector's notice does)."""
    _require_staff(actor)
    imei, reason = _imei_and_reason(imei, reason)
    async with in_transaction():
        entry = await _entry_for_update(imei)
        if entry.firm_id is None:
            raise invalid(
                "imei",
                "IMEI bir firma başvurusuyla kaydedilmemiş; eşleştirmeyi ithalatçı ya da "
                "imalatçı yapar",
                "the IMEI was not registered by a firm; pairing is the importer's or "
                "manufacturer's step",
            )
        if await ImeiPairing.exists(imei=imei):
            raise DomainError(ErrorCode.ALREADY_PAIRED, field="imei", imei=imei)
        if await _open_flag(imei) is not None:
            raise already_exists("Eşleştirme işareti", "Pairing flag", imei, field="imei")
        flag = await PairingFlag.create(
            imei=imei,
            firm_id=entry.firm_id,
            reason=reason,
            flagged_by=actor.name,
            flagged_at=clock.now(),
        )
        await audit.record(
            actor,
            "pairing.flagged",
            "PairingFlag",
            flag.id,
            {"imei": imei, "reason": reason, "brand": entry.brand, "model": entry.model_code},
            firm_id=entry.firm_id,
        )
    return flag


async def pair_imei(actor: Actor, imei: str, msisdn: str) -> ImeiPairing:
    """The registering firm pairs a suspected or flagged IMEI with one GSM number."""
    firm_id = require_firm(actor)
    problems = Problems()  # every input error at once, each with its field
    imei = problems.check(parse_imei, imei) or imei
    number = problems.check(parse_msisdn, msisdn) or msisdn
    problems.raise_any()
    async with in_transaction():
        entry = await _entry_for_update(imei)
        # In this order: another firm learns nothing about the IMEI's suspicion.
        if entry.firm_id != firm_id:
            raise DomainError(ErrorCode.IMEI_OF_ANOTHER_FIRM, field="imei", imei=imei)
        if await ImeiPairing.exists(imei=imei):
            raise DomainError(ErrorCode.ALREADY_PAIRED, field="imei", imei=imei)
        suspicion = await CloneSuspicion.filter(imei=imei, status=CloneStatus.OPEN).first()
        flag = await _open_flag(imei)
        if suspicion is None and flag is None:
            raise DomainError(ErrorCode.IMEI_NOT_PAIRABLE, field="imei", imei=imei)
        why = BY_CLONE_SUSPICION if suspicion is not None else BY_FLAG
        pairing = await pairing_changes.pair(actor, imei, number, firm_id, why)
        now = clock.now()
        if suspicion is not None:
            await greylist.suspicions_closed([imei], "PAIRED")
            suspicion.status = CloneStatus.CLOSED
            suspicion.closed_at = now
            await suspicion.save(update_fields=["status", "closed_at"])
        if flag is not None:
            flag.closed_at = now
            await flag.save(update_fields=["closed_at"])
        await audit.record(
            actor,
            "pairing.paired",
            "ImeiPairing",
            imei,
            {
                "msisdn": number,
                "because": why,
                "cloneSuspicionId": suspicion.id if suspicion else None,
                "pairingFlagId": flag.id if flag else None,
            },
        )
    return pairing


async def _current(imei: str) -> ImeiPairing:
    pairing = await pairing_changes.current(imei)
    if pairing is None:
        raise not_found("Eşleştirme", "Pairing", field="imei")
    return pairing


async def change_pairing(actor: Actor, imei: str, msisdn: str, reason: str) -> ImeiPairing:
    """Staff give a paired IMEI another number (the subscriber changed their number)."""
    _require_staff(actor)
    problems = Problems()  # every input error at once, each with its field
    number = problems.check(parse_msisdn, msisdn) or msisdn
    imei, reason = _imei_and_reason(imei, reason, problems)
    async with in_transaction():
        pairing = await _current(imei)
        previous = pairing.msisdn
        if previous == number:
            return pairing  # a retried request changes nothing
        await pairing_changes.change(actor, pairing, number, reason)
        await audit.record(
            actor,
            "pairing.changed",
            "ImeiPairing",
            imei,
            {"msisdn": number, "previousMsisdn": previous, "reason": reason},
            firm_id=pairing.firm_id,
        )
    return pairing


async def remove_pairing(actor: Actor, imei: str, reason: str) -> ImeiPairing:
    """Staff end a pairing (e.g. the clone was found and barred); returns it as it was."""
    _require_staff(actor)
    imei, reason = _imei_and_reason(imei, reason)
    async with in_transaction():
        pairing = await _current(imei)
        await pairing_changes.unpair(actor, [imei], reason)
        await audit.record(
            actor,
            "pairing.removed",
            "ImeiPairing",
            imei,
            {"msisdn": pairing.msisdn, "reason": reason},
            firm_id=pairing.firm_id,
        )
    return pairing


async def release_removed(actor: Actor, imeis: Sequence[str], reason: str) -> list[str]:
    """IMEIs just taken off the whitelist (inside that transaction): end their pairings
    (feed REMOVE with `reason`), close their open clone suspicions and pairing flags.
    Returns the IMEIs whose pairing ended (for the caller's audit event)."""
    ended = await pairing_changes.unpair(actor, imeis, reason)
    distinct = list(dict.fromkeys(imeis))
    suspicion_ids = [
        int(row[0])
        async for row in bulk.select_in(
            "SELECT id FROM clone_suspicion WHERE status = 'OPEN' AND imei IN ({in_})", distinct
        )
    ]
    flag_ids = [
        int(row[0])
        async for row in bulk.select_in(
            "SELECT id FROM pairing_flag WHERE closed_at IS NULL AND imei IN ({in_})", distinct
        )
    ]
    now = clock.now()
    if suspicion_ids:
        await greylist.suspicions_closed(distinct, "REMOVED_FROM_WHITELIST")
        await CloneSuspicion.filter(id__in=suspicion_ids).update(
            status=CloneStatus.CLOSED, closed_at=now
        )
    if flag_ids:
        await PairingFlag.filter(id__in=flag_ids).update(closed_at=now)
    return [pairing.imei for pairing in ended]


async def list_pairings(
    actor: Actor, firm_id: int | None, imei: str | None, first: int, after: str | None
) -> Page[ImeiPairing]:
    """Staff see every pairing, a firm those of the IMEIs it registered (newest first)."""
    if not (actor.is_staff or actor.is_firm):
        raise DomainError(ErrorCode.FORBIDDEN)
    query = visible_to(ImeiPairing.all(), actor)
    if firm_id is not None:
        query = query.filter(firm_id=firm_id)
    if imei:
        query = query.filter(imei=parse_imei(imei))
    return await paginate(query, first, after, count=True)


async def list_flags(
    actor: Actor, open_only: bool, firm_id: int | None, first: int, after: str | None
) -> Page[PairingFlag]:
    """The IMEIs staff flagged for pairing: a firm sees those it is to pair (newest first)."""
    if not (actor.is_staff or actor.is_firm):
        raise DomainError(ErrorCode.FORBIDDEN)
    query = visible_to(PairingFlag.all(), actor)
    if open_only:
        query = query.filter(closed_at__isnull=True)
    if firm_id is not None:
        query = query.filter(firm_id=firm_id)
    return await paginate(query, first, after, count=True)
