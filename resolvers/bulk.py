"""Set-based database work: bulk inserts and IN-list lookups in chunks.

The ORM builds one object per row; for lists of a million IMEIs that is the slow part, so
these helpers speak plain parameterised SQL through the current (transaction) connection.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from itertools import chain
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

LOOKUP_CHUNK = 900  # below SQLite's default limit of 999 bound variables
ARRAY_CHUNK = 20_000  # values per PostgreSQL `= ANY($n)` array
INSERT_CHUNK = 5000
# Bound values per SQLite statement: the default limit of SQLite builds since 3.32.
SQLITE_VARIABLES = 32_766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999
# Rows per COPY: building and encoding a chunk holds the event loop (10 ms for 5,000 rows;
# 50,000 held it for ~100 ms, the p99 of requests served during an analysis's write).
COPY_CHUNK = 5000


def is_postgres(connection: BaseDBAsyncClient) -> bool:
    return connection.capabilities.dialect == "postgres"


def placeholders(connection: BaseDBAsyncClient, count: int, start: int = 1) -> str:
    if is_postgres(connection):
        return ", ".join(f"${i}" for i in range(start, start + count))
    return ", ".join("?" for _ in range(count))


def current(connection: BaseDBAsyncClient | None = None) -> BaseDBAsyncClient:
    return connection or connections.get("default")


async def insert_rows(
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    connection: BaseDBAsyncClient | None = None,
) -> int:
    """Insert many rows (in chunks); pass the transaction's connection to stay inside it."""
    conn = current(connection)
    if is_postgres(conn):
        return await _copy_rows(conn, table, columns, rows)
    names = ", ".join(f"{c!s}" for c in columns)
    insert = f'INSERT INTO "{table}" ({names}) VALUES '
    row = f"({placeholders(conn, len(columns))})"
    per_statement = max(1, min(INSERT_CHUNK, SQLITE_VARIABLES // len(columns)))
    count = 0
    batch: list[Sequence[Any]] = []
    for values in rows:
        batch.append(values)
        if len(batch) >= per_statement:
            await _insert_sqlite(conn, insert, row, batch)
            count += len(batch)
            batch = []
    # The rest in chunks of a power of two rows: statements of the same few lengths, each
    # compiled once (a statement of thousands of rows takes about 10 ms to compile, and the
    # rest's length differs from call to call).
    size = 1 << (per_statement.bit_length() - 1)
    while batch:
        while size > len(batch):
            size >>= 1
        await _insert_sqlite(conn, insert, row, batch[:size])
        count += size
        batch = batch[size:]
    return count


async def _insert_sqlite(
    conn: BaseDBAsyncClient, insert: str, row: str, batch: list[Sequence[Any]]
) -> None:
    """A chunk as one statement of many rows (`VALUES (…), (…), …`), not bound row by row.

    `executemany` takes the interpreter's lock back for every row it binds and steps, and a
    thread that waits for the lock waits up to the switch interval while another thread
    computes: 770,000 device rows took 254 s beside a busy thread. One statement binds its
    values in C and runs with the lock released; the rows are bound as executemany binds
    them. Measured for 770,000 device rows alone: 1.7-2.0 s, against 2.7-2.9 s as a JSON
    array unpacked by SQLite (`json_each`) and 2.7 s by `executemany`."""
    await conn.execute_query(
        insert + ", ".join([row] * len(batch)), list(chain.from_iterable(batch))
    )


async def _copy_rows(
    conn: BaseDBAsyncClient, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """PostgreSQL's COPY through asyncpg: an order of magnitude faster than INSERTs."""
    count = 0
    batch: list[Sequence[Any]] = []
    async with conn.acquire_connection() as raw:
        for row in rows:
            batch.append(row)
            if len(batch) >= COPY_CHUNK:
                await raw.copy_records_to_table(table, records=batch, columns=list(columns))
                count += len(batch)
                batch = []
        if batch:
            await raw.copy_records_to_table(table, records=batch, columns=list(columns))
            count += len(batch)
    return count


async def execute_many(
    sql_sqlite: str, rows: Sequence[Sequence[Any]], connection: BaseDBAsyncClient | None = None
) -> None:
    """Run one statement for many parameter rows; written with `?`, rewritten for asyncpg."""
    conn = current(connection)
    sql = _numbered(sql_sqlite) if is_postgres(conn) else sql_sqlite
    for start in range(0, len(rows), INSERT_CHUNK):
        await conn.execute_many(sql, list(rows[start : start + INSERT_CHUNK]))


def for_connection(sql: str, connection: BaseDBAsyncClient | None = None) -> str:
    """A statement written with `?` placeholders, as the connection's dialect wants it."""
    return _numbered(sql) if is_postgres(current(connection)) else sql


async def select(
    sql_sqlite: str, params: Sequence[Any] = (), connection: BaseDBAsyncClient | None = None
) -> list[tuple[Any, ...]]:
    """The rows of one query written with `?` (rewritten to `$n` for asyncpg)."""
    conn = current(connection)
    sql = _numbered(sql_sqlite) if is_postgres(conn) else sql_sqlite
    _, rows = await conn.execute_query(sql, list(params))
    return rows  # type: ignore[return-value]  # sqlite3.Row / asyncpg.Record: both sequences


async def select_long(sql_sqlite: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """`select` for a read of seconds outside any transaction: on a connection of its own
    where the backend offers one (the SQLite client's `long_read`), so that short queries
    do not queue behind it; PostgreSQL's pool already gives it one, and runs it in one
    process: parallel workers would take the cores the requests served meanwhile need
    (the operators' p99 during an analysis)."""
    conn = current()
    if is_postgres(conn):
        async with in_transaction() as serial:
            await serial.execute_script("SET LOCAL max_parallel_workers_per_gather = 0")
            return await select(sql_sqlite, params, serial)
    long_read = getattr(conn, "long_read", None)
    if long_read is None:
        return await select(sql_sqlite, params, conn)
    return await long_read(sql_sqlite, list(params))  # type: ignore[no-any-return]


async def select_packed(
    sql_sqlite: str, params: Sequence[Any], width: int, *, long: bool = False
) -> Sequence[Sequence[Any]]:
    """`select` (or `select_long`) for many rows of `width` plain columns (text, numbers).

    On SQLite the rows come back as one JSON array built inside the database: fetching
    row by row takes the interpreter's lock back for every row, and waits up to the switch
    interval for it whenever another thread computes (the analysis's checks, the loop
    building the list), the same convoy as `_insert_sqlite`'s. Row order is the query's:
    SQLite aggregates the rows as its inner query yields them."""
    conn = current()
    if is_postgres(conn):
        return await (select_long(sql_sqlite, params) if long else select(sql_sqlite, params))
    names = ", ".join(f"c{i}" for i in range(width))
    packed = (
        f"WITH q({names}) AS ({sql_sqlite}) SELECT json_group_array(json_array({names})) FROM q"
    )
    [(text,)] = await (select_long(packed, params) if long else select(packed, params))
    return json.loads(text)  # type: ignore[no-any-return]


def _numbered(sql: str) -> str:
    parts = sql.split("?")
    out = [parts[0]]
    for i, part in enumerate(parts[1:], start=1):
        out.append(f"${i}{part}")
    return "".join(out)


async def select_in(
    sql_template: str,
    values: Iterable[Any],
    extra: Sequence[Any] = (),
    connection: BaseDBAsyncClient | None = None,
) -> AsyncIterator[tuple[Any, ...]]:
    """Rows of `sql_template`, whose `IN ({in_})` takes `values`, chunk by chunk: a list of
    placeholders on SQLite, one array (`= ANY($n)`) on PostgreSQL.

    `extra` parameters come first (placeholders written as `{p1}`, `{p2}`…).
    """
    conn = current(connection)
    values = list(values)
    if is_postgres(conn):
        # One array parameter instead of a placeholder per value: far fewer round trips.
        names = {f"p{i}": f"${i}" for i in range(1, len(extra) + 1)}
        sql = sql_template.replace("IN ({in_})", "= ANY({in_})").format(
            in_=f"${len(extra) + 1}", **names
        )
        for start in range(0, len(values), ARRAY_CHUNK):
            _, rows = await conn.execute_query(sql, [*extra, values[start : start + ARRAY_CHUNK]])
            for row in rows:
                yield tuple(row)
        return
    names = {f"p{i}": "?" for i in range(1, len(extra) + 1)}
    for start in range(0, len(values), LOOKUP_CHUNK):
        chunk = values[start : start + LOOKUP_CHUNK]
        sql = sql_template.format(in_=placeholders(conn, len(chunk)), **names)
        _, rows = await conn.execute_query(sql, [*extra, *chunk])
        for row in rows:
            yield tuple(row)  # sqlite3.Row and asyncpg.Record both iterate their values
