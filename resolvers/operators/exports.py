"""Full exports of the white, black and grey lists as CSV, streamed in constant memory.

An export is one consistent snapshot: the rows and the feed position it corresponds to (the
last change id it includes) are read in one read-only transaction, so a client that loads
the file and then follows the feed from that position mirrors the list exactly.
- PostgreSQL: a REPEATABLE READ, READ ONLY transaction on a connection of its own, rows read
  through a server-side cursor.
- SQLite: a second connection to the same file (WAL mode: readers see the snapshot of their
  transaction's first read and never block the gateway's writer), rows read with fetchmany.
The snapshot is held while the client downloads: a slow client keeps one connection busy.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import aiosqlite

from models.grace import grace_ends_at
from models.names import spreadsheet_safe
from resolvers import bulk
from resolvers.actor import Actor
from resolvers.errors import DomainError, ErrorCode
from resolvers.operators.feed import FEED_READERS
from resolvers.operators.greylist import CLONE, GRACE
from resolvers.operators.lookup import as_datetime
from resolvers.pagination import encode_cursor
from resolvers.settings import get_settings

FETCH_ROWS = 2000  # rows per round trip and per CSV chunk


@dataclass(frozen=True)
class ListExport:
    name: str
    feed_table: str
    header: Sequence[str]
    select: str  # ordered by imei, so the file is stable and diffable
    # Turns a selected row into the file's row, when they differ.
    shape: Callable[[Sequence[Any]], Sequence[Any]] | None = None


def _greylist_row(row: Sequence[Any]) -> Sequence[Any]:
    imei, status, since, operator = row
    since_at = as_datetime(since)
    if status == GRACE.value:
        ends_at = grace_ends_at(since_at, get_settings().grace_period_days)
        return (imei, status, since_at, ends_at, operator, "")
    return (imei, status, "", "", operator, since_at)


WHITELIST = ListExport(
    name="whitelist",
    feed_table="whitelist_change",
    header=("imei", "status", "source", "brand", "model"),
    select="SELECT imei, status, source, brand, model_code FROM whitelist_entry ORDER BY imei",
)
BLACKLIST = ListExport(
    name="blacklist",
    feed_table="blacklist_change",
    header=("imei", "reason", "listed_at"),
    select="SELECT imei, reason, created_at FROM blacklist_entry ORDER BY imei",
)
GREYLIST = ListExport(
    name="greylist",
    feed_table="greylist_change",
    header=("imei", "status", "first_attach", "grace_ends_at", "operator", "detected_at"),
    select=(
        f"SELECT imei, '{GRACE.value}', attached_at, operator_code FROM imei_first_attach "
        f"UNION ALL SELECT imei, '{CLONE.value}', detected_at, '' FROM clone_suspicion "
        "WHERE status = 'OPEN' ORDER BY 1, 2"
    ),
    shape=_greylist_row,
)
EXPORTS = {export.name: export for export in (WHITELIST, BLACKLIST, GREYLIST)}


class Snapshot:
    """An open export: `cursor` is the feed position; iterate `csv_chunks()` once."""

    def __init__(
        self, export: ListExport, stack: AsyncExitStack, rows: AsyncIterator[Sequence[Any]]
    ) -> None:
        self.export = export
        self.cursor = ""
        self._stack = stack
        self._rows = rows

    async def csv_chunks(self) -> AsyncIterator[bytes]:
        """CSV text in chunks of rows; the snapshot is closed when done or abandoned."""
        try:
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(self.export.header)
            shape = self.export.shape
            count = 0
            async for row in self._rows:
                writer.writerow(_cells(shape(row) if shape else row))
                count += 1
                if count % FETCH_ROWS == 0:
                    yield buffer.getvalue().encode()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue().encode()
        finally:
            await self.close()

    async def close(self) -> None:
        await self._stack.aclose()


def _cells(row: Sequence[Any]) -> list[str]:
    # Datetimes as SQLite stores them (`2026-01-02 03:04:05.000006+00:00`) on both backends.
    # Text that a spreadsheet would run as a formula (a brand stored before the registry
    # refused such values) gets OWASP's leading quote: these files are opened in Excel too.
    return [
        value.isoformat(" ") if hasattr(value, "isoformat") else spreadsheet_safe(str(value))
        for value in row
    ]


async def open_export(actor: Actor, name: str) -> Snapshot:
    """Operators and staff; the caller must iterate or close the snapshot."""
    if actor.role not in FEED_READERS:
        raise DomainError(ErrorCode.FORBIDDEN)
    export = EXPORTS[name]
    position_sql = f"SELECT COALESCE(MAX(id), 0) FROM {export.feed_table}"
    stack = AsyncExitStack()
    try:
        connection = bulk.current()
        if bulk.is_postgres(connection):
            pg = await stack.enter_async_context(connection.acquire_connection())
            transaction = pg.transaction(isolation="repeatable_read", readonly=True)
            await stack.enter_async_context(transaction)
            position = int(await pg.fetchval(position_sql))
            rows: AsyncIterator[Sequence[Any]] = pg.cursor(export.select, prefetch=FETCH_ROWS)
        else:
            sqlite = await stack.enter_async_context(
                aiosqlite.connect(connection.filename, isolation_level=None)  # type: ignore[attr-defined]
            )
            await sqlite.execute("BEGIN")
            stack.push_async_callback(_rollback, sqlite)
            async with sqlite.execute(position_sql) as cursor:
                position = int((await cursor.fetchone())[0])  # type: ignore[index]
            rows = _sqlite_rows(sqlite, export.select)
    except BaseException:
        await stack.aclose()
        raise
    snapshot = Snapshot(export, stack, rows)
    snapshot.cursor = encode_cursor(position)
    return snapshot


async def _rollback(sqlite: aiosqlite.Connection) -> None:
    with contextlib.suppress(Exception):
        await sqlite.execute("ROLLBACK")


async def _sqlite_rows(sqlite: aiosqlite.Connection, sql: str) -> AsyncIterator[Sequence[Any]]:
    async with sqlite.execute(sql) as cursor:
        while batch := await cursor.fetchmany(FETCH_ROWS):
            for row in batch:
                yield row


__all__ = ["EXPORTS", "Snapshot", "open_export"]
