"""Every change to the IMEI pairings (Tebliğ art. 14) goes through here: the `imei_pairing`
row and its `pairing_change` row — the operators' pairing feed — are written together, in the
caller's transaction.

Gap-free for the same reason as the list feeds (`resolvers.registry_changes`): a writer takes
the pairing feed's transaction-level lock before it allocates change ids, so ids become
visible in order and whatever a reader has not seen yet is above its cursor.

Why a feed of its own, not items in the whitelist feed: replaying the whitelist feed rebuilds
the whitelist (one shape: status, source, brand, model); pairings are a separate list an EIR
enforces (IMEI → the one number allowed with it), replayed the same way: ADD and UPDATE =
upsert the IMEI with the item's number, REMOVE = delete it.

The feed carries the paired number because an operator's EIR cannot enforce a pairing without
it; `checkImeis` answers never show it. Reading it follows the list feeds' paging rules
(readers, page size, cursors), taken from `resolvers.operators.feed` rather than copied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import TransactionalDBClient

from models import clock
from models.after import PairingChange
from models.network import ImeiPairing
from models.registry import ChangeOp
from resolvers import bulk, events, registry_changes
from resolvers.actor import Actor
from resolvers.errors import DomainError, ErrorCode
from resolvers.operators.feed import _page, _page_bounds, _rows
from resolvers.operators.lookup import as_datetime
from resolvers.pagination import Page, encode_cursor

# Advisory lock key of the pairing feed (fixed forever, like the list feeds' keys).
PAIRING_FEED_LOCK = 0x4D434B5350


@dataclass(slots=True)
class PairingFeedItem:
    cursor: str
    op: ChangeOp
    imei: str
    msisdn: str  # the number allowed from now on (REMOVE: the one no longer required)
    reason: str
    at: datetime


async def _lock() -> None:
    connection = bulk.current()
    if not isinstance(connection, TransactionalDBClient):
        raise RuntimeError("pairing changes must be written inside in_transaction()")
    await registry_changes.lock_feed(connection, PAIRING_FEED_LOCK)


async def _log(op: ChangeOp, pairing: ImeiPairing, reason: str, actor: Actor) -> None:
    await PairingChange.create(
        imei=pairing.imei,
        op=op,
        msisdn=pairing.msisdn,
        firm_id=pairing.firm_id,
        reason=reason,
        actor_name=actor.name,
        at=clock.now(),
    )
    await events.notify(events.PAIRING)


async def pair(actor: Actor, imei: str, msisdn: str, firm_id: int, reason: str) -> ImeiPairing:
    """Pair an IMEI with one number (op ADD). An IMEI already paired is refused with
    ALREADY_PAIRED: only staff change a pairing (`change`)."""
    await _lock()
    if await ImeiPairing.exists(imei=imei):
        raise DomainError(ErrorCode.ALREADY_PAIRED, field="imei", imei=imei)
    pairing = await ImeiPairing.create(
        imei=imei, msisdn=msisdn, firm_id=firm_id, paired_by=actor.name, paired_at=clock.now()
    )
    await _log(ChangeOp.ADD, pairing, reason, actor)
    return pairing


async def current(imei: str) -> ImeiPairing | None:
    """The IMEI's pairing, read under the pairing lock (call inside the transaction)."""
    await _lock()
    return await ImeiPairing.get_or_none(imei=imei)


async def change(actor: Actor, pairing: ImeiPairing, msisdn: str, reason: str) -> ImeiPairing:
    """Give a pairing (read with `current`) another number (op UPDATE)."""
    await _lock()
    pairing.msisdn = msisdn
    pairing.paired_by = actor.name
    pairing.paired_at = clock.now()
    await pairing.save(update_fields=["msisdn", "paired_by", "paired_at"])
    await _log(ChangeOp.UPDATE, pairing, reason, actor)
    return pairing


async def unpair(actor: Actor, imeis: Sequence[str], reason: str) -> list[ImeiPairing]:
    """End the pairings of these IMEIs (op REMOVE); unpaired IMEIs are skipped. Returns the
    pairings as they were."""
    if not imeis:
        return []
    await _lock()
    ids = [
        int(row[0])
        async for row in bulk.select_in(
            "SELECT id FROM imei_pairing WHERE imei IN ({in_})", list(dict.fromkeys(imeis))
        )
    ]
    if not ids:
        return []
    ended = await ImeiPairing.filter(id__in=ids).order_by("imei")
    await ImeiPairing.filter(id__in=ids).delete()
    for pairing in ended:
        await _log(ChangeOp.REMOVE, pairing, reason, actor)
    return list(ended)


async def pairing_changes(actor: Actor, after: str | None, first: int) -> Page[PairingFeedItem]:
    """The pairing feed: operators and staff, like the list feeds (the same paging rules)."""
    after_id = _page_bounds(actor, after, first)
    rows = await _rows(
        "SELECT id, op, imei, msisdn, reason, at "
        "FROM pairing_change WHERE id > ? ORDER BY id LIMIT ?",
        after_id,
        first,
    )
    items = [
        PairingFeedItem(
            cursor=encode_cursor(int(id_)),  # type: ignore[call-overload]
            op=ChangeOp(str(op)),
            imei=str(imei),
            msisdn=str(msisdn),
            reason=str(reason),
            at=as_datetime(at),
        )
        for id_, op, imei, msisdn, reason, at in rows[:first]
    ]
    return _page(items, rows, first, after_id)  # type: ignore[arg-type]
