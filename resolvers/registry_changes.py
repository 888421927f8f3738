"""Every change to the whitelist and the blacklist goes through here: the entry and its
change-log row (the operators' sync feed) are written together, in bulk, in the caller's
transaction.

Why a lock: the feed is read by change id ("everything after cursor N"), so it is gap-free
only if a change id becomes visible after every smaller one. PostgreSQL sequences do not
promise that: transaction A may take id 10, transaction B id 11 and commit first, and a
reader that already passed 11 never sees 10. So each writer first takes a transaction-level
advisory lock per list (`pg_advisory_xact_lock`, released at commit or rollback) and only then
allocates change ids: ids are handed out in commit order, and whatever a reader has not seen
yet is above its cursor. The price is that writers of one list commit one after another —
list changes are rare next to checks, and a firm's whole application is written in one
statement batch. SQLite needs no lock: it has one writer at a time anyway.

Call these functions only inside `in_transaction()`; they refuse to run outside one. The
callers write their own audit events (they know why the change happens).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient

from models import clock
from models.imei import tac_of
from models.registry import (
    BlacklistReason,
    ChangeOp,
    WhitelistSource,
    WhitelistStatus,
)
from resolvers import bulk, events
from resolvers.actor import Actor
from resolvers.errors import already_exists

# Advisory lock keys (any bigint, fixed forever): one per feed.
WHITELIST_FEED_LOCK = 0x4D434B5357
BLACKLIST_FEED_LOCK = 0x4D434B5342


@dataclass(frozen=True, slots=True)
class WhitelistAddition:
    imei: str  # 15 digits, Luhn-valid (callers have run the technical checks)
    brand: str
    model_code: str
    source: WhitelistSource
    status: WhitelistStatus = WhitelistStatus.REGISTERED
    firm_id: int | None = None
    application_id: int | None = None
    registration_id: int | None = None


@dataclass(frozen=True, slots=True)
class BlacklistAddition:
    imei: str
    reason: BlacklistReason
    reference: str = ""
    note: str = ""
    report_number: str | None = None  # issued by the registry for a report (`blacklist.add`)


def _transaction() -> BaseDBAsyncClient:
    connection = bulk.current()
    if not isinstance(connection, TransactionalDBClient):
        raise RuntimeError("list changes must be written inside in_transaction()")
    return connection


async def lock_feed(connection: BaseDBAsyncClient, key: int) -> None:
    """Serialize this list's writers until the transaction ends (see the module docstring)."""
    if bulk.is_postgres(connection):
        await connection.execute_query("SELECT pg_advisory_xact_lock($1)", [key])


async def _rows_by_imei(
    columns: str, table: str, imeis: Sequence[str]
) -> dict[str, tuple[object, ...]]:
    """`imei` → the row of `columns` (which start with imei) for the IMEIs present."""
    sql = f"SELECT {columns} FROM {table} WHERE imei IN ({{in_}})"
    return {str(row[0]): row async for row in bulk.select_in(sql, imeis)}


def _first_repeated(imeis: Sequence[str]) -> str | None:
    seen: set[str] = set()
    for imei in imeis:
        if imei in seen:
            return imei
        seen.add(imei)
    return None


# --- whitelist ---------------------------------------------------------------------------


async def add_to_whitelist(
    actor: Actor, additions: Sequence[WhitelistAddition], reason: str = ""
) -> int:
    """Put IMEIs on the whitelist (op ADD in the feed). An IMEI already on it is refused
    with ALREADY_EXISTS (the technical checks should have caught it) and nothing is written."""
    connection = _transaction()
    if not additions:
        return 0
    await lock_feed(connection, WHITELIST_FEED_LOCK)
    imeis = [a.imei for a in additions]
    present = await _rows_by_imei("imei", "whitelist_entry", imeis)
    duplicate = min(present) if present else _first_repeated(imeis)
    if duplicate is not None:
        raise already_exists("Beyaz listedeki IMEI", "Whitelisted IMEI", duplicate, field="imei")
    now = clock.now()
    await bulk.insert_rows(
        "whitelist_entry",
        (
            "imei",
            "tac",
            "brand",
            "model_code",
            "status",
            "source",
            "firm_id",
            "application_id",
            "registration_id",
            "registered_at",
        ),
        (
            (
                a.imei,
                tac_of(a.imei),
                a.brand,
                a.model_code,
                a.status.value,
                a.source.value,
                a.firm_id,
                a.application_id,
                a.registration_id,
                now,
            )
            for a in additions
        ),
    )
    await _whitelist_changes(
        ChangeOp.ADD,
        [(a.imei, a.status.value, a.source.value, a.brand, a.model_code) for a in additions],
        reason,
        actor,
    )
    return len(additions)


async def remove_from_whitelist(actor: Actor, imeis: Sequence[str], reason: str) -> int:
    """Take IMEIs off the whitelist with the reason operators see (op REMOVE in the feed).
    IMEIs not on the list are skipped; returns how many were removed."""
    connection = _transaction()
    if not imeis:
        return 0
    await lock_feed(connection, WHITELIST_FEED_LOCK)
    current = await _rows_by_imei(
        "imei, status, source, brand, model_code", "whitelist_entry", list(dict.fromkeys(imeis))
    )
    if not current:
        return 0
    removed = list(current)
    await bulk.execute_many(
        "DELETE FROM whitelist_entry WHERE imei = ?", [(imei,) for imei in removed]
    )
    await _whitelist_changes(
        ChangeOp.REMOVE,
        [(str(i), str(s), str(src), str(b), str(m)) for i, s, src, b, m in current.values()],
        reason,
        actor,
    )
    return len(removed)


async def set_whitelist_status(
    actor: Actor, imeis: Sequence[str], status: WhitelistStatus, reason: str = ""
) -> int:
    """Change the status of whitelisted IMEIs (e.g. PROVISIONAL → REGISTERED once the
    authorities verify); op UPDATE in the feed. Returns how many changed."""
    connection = _transaction()
    if not imeis:
        return 0
    await lock_feed(connection, WHITELIST_FEED_LOCK)
    current = await _rows_by_imei(
        "imei, status, source, brand, model_code", "whitelist_entry", list(dict.fromkeys(imeis))
    )
    changing = {imei: row for imei, row in current.items() if str(row[1]) != status.value}
    if not changing:
        return 0
    await bulk.execute_many(
        "UPDATE whitelist_entry SET status = ? WHERE imei = ?",
        [(status.value, imei) for imei in changing],
    )
    await _whitelist_changes(
        ChangeOp.UPDATE,
        [(str(i), status.value, str(src), str(b), str(m)) for i, _, src, b, m in changing.values()],
        reason,
        actor,
    )
    return len(changing)


async def _whitelist_changes(
    op: ChangeOp, rows: Sequence[tuple[str, str, str, str, str]], reason: str, actor: Actor
) -> None:
    now = clock.now()
    await bulk.insert_rows(
        "whitelist_change",
        ("imei", "op", "status", "source", "brand", "model_code", "reason", "actor_name", "at"),
        (
            (imei, op.value, status, source, brand, model_code, reason, actor.name, now)
            for imei, status, source, brand, model_code in rows
        ),
    )
    await events.notify(events.WHITELIST)  # delivered when the transaction commits


# --- blacklist ---------------------------------------------------------------------------


async def add_to_blacklist(actor: Actor, additions: Sequence[BlacklistAddition]) -> int:
    """Blacklist IMEIs (op ADD in the feed). One already on the blacklist is refused with
    ALREADY_EXISTS and nothing is written. `reported_by` is the operator code or the name."""
    connection = _transaction()
    if not additions:
        return 0
    await lock_feed(connection, BLACKLIST_FEED_LOCK)
    imeis = [a.imei for a in additions]
    present = await _rows_by_imei("imei", "blacklist_entry", imeis)
    duplicate = min(present) if present else _first_repeated(imeis)
    if duplicate is not None:
        raise already_exists("Kara listedeki IMEI", "Blacklisted IMEI", duplicate, field="imei")
    now = clock.now()
    reporter = actor.operator_code or actor.name
    await bulk.insert_rows(
        "blacklist_entry",
        ("imei", "reason", "reference", "reported_by", "created_at", "report_number", "note"),
        (
            (a.imei, a.reason.value, a.reference, reporter, now, a.report_number, a.note)
            for a in additions
        ),
    )
    await _blacklist_changes(
        ChangeOp.ADD,
        [(a.imei, a.reason.value, a.reference, a.note) for a in additions],
        actor,
    )
    return len(additions)


async def remove_from_blacklist(actor: Actor, imeis: Sequence[str], note: str = "") -> int:
    """Take IMEIs off the blacklist (recovered; op REMOVE in the feed). IMEIs not on it are
    skipped; returns how many were removed."""
    connection = _transaction()
    if not imeis:
        return 0
    await lock_feed(connection, BLACKLIST_FEED_LOCK)
    current = await _rows_by_imei(
        "imei, reason, reference", "blacklist_entry", list(dict.fromkeys(imeis))
    )
    if not current:
        return 0
    await bulk.execute_many(
        "DELETE FROM blacklist_entry WHERE imei = ?", [(imei,) for imei in current]
    )
    await _blacklist_changes(
        ChangeOp.REMOVE,
        [(str(i), str(why), str(ref), note) for i, why, ref in current.values()],
        actor,
    )
    return len(current)


async def _blacklist_changes(
    op: ChangeOp, rows: Sequence[tuple[str, str, str, str]], actor: Actor
) -> None:
    now = clock.now()
    await bulk.insert_rows(
        "blacklist_change",
        ("imei", "op", "reason", "reference", "note", "actor_name", "at"),
        (
            (imei, op.value, reason, reference, note, actor.name, now)
            for imei, reason, reference, note in rows
        ),
    )
    await events.notify(events.BLACKLIST)
