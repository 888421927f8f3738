"""The sync feeds: every whitelist and blacklist change since a cursor, in commit order.

A client that replays a feed from the start (ADD/UPDATE = upsert the IMEI with the item's
attributes, REMOVE = delete it) holds exactly the current list. Gap-free because every writer
allocates change ids under the list's lock (see `resolvers.registry_changes`): an id a reader
has not seen yet is always above its cursor. Cursors are opaque (the change id inside).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models.registry import BlacklistReason, ChangeOp, WhitelistSource, WhitelistStatus
from models.roles import STAFF_ROLES, Role
from resolvers import bulk
from resolvers.actor import Actor
from resolvers.errors import DomainError, ErrorCode, invalid
from resolvers.operators.lookup import as_datetime
from resolvers.pagination import Page, decode_cursor, encode_cursor

MAX_FEED_PAGE = 10_000
FEED_READERS = frozenset({Role.OPERATOR, *STAFF_ROLES})


@dataclass(slots=True)
class WhitelistFeedItem:
    cursor: str
    op: ChangeOp
    imei: str
    status: WhitelistStatus
    source: WhitelistSource
    brand: str
    model: str
    reason: str
    at: datetime


@dataclass(slots=True)
class BlacklistFeedItem:
    cursor: str
    op: ChangeOp
    imei: str
    reason: BlacklistReason
    note: str  # why it was added or removed (e.g. "recovered")
    at: datetime


def _page_bounds(actor: Actor, after: str | None, first: int) -> int:
    if actor.role not in FEED_READERS:
        raise DomainError(ErrorCode.FORBIDDEN)
    if first < 1 or first > MAX_FEED_PAGE:
        raise invalid(
            "first",
            f"sayfa boyutu 1 ile {MAX_FEED_PAGE} arasında olmalı",
            f"page size must be between 1 and {MAX_FEED_PAGE}",
        )
    return decode_cursor(after) if after else 0


async def _rows(sql: str, after_id: int, first: int) -> list[tuple[object, ...]]:
    connection = bulk.current()
    if bulk.is_postgres(connection):
        sql = sql.replace("?", "$1", 1).replace("?", "$2", 1)
    _, rows = await connection.execute_query(sql, [after_id, first + 1])
    return [tuple(row) for row in rows]


def _page(items: list[object], rows: list[tuple[object, ...]], first: int, after_id: int) -> Page:
    # An empty page still hands back a cursor to resume from (the one given, or the start).
    last_id = int(rows[min(len(rows), first) - 1][0]) if rows else after_id  # type: ignore[call-overload]
    return Page(items=items, end_cursor=encode_cursor(last_id), has_next_page=len(rows) > first)


async def whitelist_changes(actor: Actor, after: str | None, first: int) -> Page[WhitelistFeedItem]:
    after_id = _page_bounds(actor, after, first)
    rows = await _rows(
        "SELECT id, op, imei, status, source, brand, model_code, reason, at "
        "FROM whitelist_change WHERE id > ? ORDER BY id LIMIT ?",
        after_id,
        first,
    )
    items = [
        WhitelistFeedItem(
            cursor=encode_cursor(int(id_)),  # type: ignore[call-overload]
            op=ChangeOp(str(op)),
            imei=str(imei),
            status=WhitelistStatus(str(status)),
            source=WhitelistSource(str(source)),
            brand=str(brand),
            model=str(model),
            reason=str(reason),
            at=as_datetime(at),
        )
        for id_, op, imei, status, source, brand, model, reason, at in rows[:first]
    ]
    return _page(items, rows, first, after_id)  # type: ignore[arg-type]


async def blacklist_changes(actor: Actor, after: str | None, first: int) -> Page[BlacklistFeedItem]:
    after_id = _page_bounds(actor, after, first)
    rows = await _rows(
        "SELECT id, op, imei, reason, note, at "
        "FROM blacklist_change WHERE id > ? ORDER BY id LIMIT ?",
        after_id,
        first,
    )
    items = [
        BlacklistFeedItem(
            cursor=encode_cursor(int(id_)),  # type: ignore[call-overload]
            op=ChangeOp(str(op)),
            imei=str(imei),
            reason=BlacklistReason(str(reason)),
            note=str(note),
            at=as_datetime(at),
        )
        for id_, op, imei, reason, note, at in rows[:first]
    ]
    return _page(items, rows, first, after_id)  # type: ignore[arg-type]
