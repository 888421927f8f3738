"""Bulk inserts store what the rows hold: on SQLite a chunk goes as one statement of many
rows (`bulk._insert_sqlite`), and must store exactly what binding each row would."""

from __future__ import annotations

from datetime import UTC, date, datetime

from tortoise import connections

from resolvers import bulk

COLUMNS = ("application_id", "row_number", "brand", "model_code", "imei1", "imei2", "tac_match")
AWKWARD = [
    "İĞÜŞÖÇ ığüşöç",  # Turkish letters
    'quote " and \\ backslash',
    "tab\tnew\nline",
    "emoji 📱",
    "",
    "123",  # digits stay text
    "x" * 128,
]


def rows(application_id: int) -> list[tuple]:
    return [
        (
            application_id,
            n,
            text,
            f"M{n}",
            "35" + f"{n:013d}",
            None if n % 2 else text[:32],
            n % 3 == 0,
        )
        for n, text in enumerate(AWKWARD * 2)
    ]


async def stored(application_id: int) -> list[tuple]:
    conn = connections.get("default")
    listed = (
        ", ".join(f"typeof({c}), {c}" for c in COLUMNS[1:])
        if not bulk.is_postgres(conn)
        else ", ".join(COLUMNS[1:])
    )
    return await bulk.select(
        f"SELECT {listed} FROM device WHERE application_id = ? ORDER BY row_number",
        [application_id],
    )


async def test_bulk_rows_are_stored_as_bound_one_by_one(db, monkeypatch):
    conn = connections.get("default")
    bound = []
    monkeypatch.setattr(type(conn), "execute_many", lambda *a: bound.append(a))
    await bulk.insert_rows("device", COLUMNS, rows(1))
    assert not bound  # one statement, no row bound on its own
    monkeypatch.undo()
    if bulk.is_postgres(conn):
        got = [tuple(r) for r in await stored(1)]
        assert got == [r[1:] for r in rows(1)]
        return
    sql = f"INSERT INTO device ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    await conn.execute_many(sql, rows(2))  # the row-by-row binding, for comparison
    assert [tuple(r) for r in await stored(1)] == [tuple(r) for r in await stored(2)]
    assert len(await stored(1)) == len(AWKWARD) * 2


async def test_dates_blobs_and_nul_characters_are_stored_alike(db):
    conn = connections.get("default")
    if bulk.is_postgres(conn):
        return  # COPY: nothing of the SQLite path to compare
    await conn.execute_script(
        "CREATE TABLE bulk_probe (n INTEGER, at TEXT, day TEXT, blob BLOB, text TEXT)"
    )
    at = datetime(2026, 12, 2, 1, 2, 3, 456789, tzinfo=UTC)
    columns = ("n", "at", "day", "blob", "text")
    with_dates = [
        (1, at, date(2026, 12, 2), None, "a"),
        (2, at.replace(tzinfo=None), None, None, "b"),
    ]
    awkward = [
        (3, None, None, b"\x00\x01", "c"),
        (4, None, None, None, "nul \x00 inside"),
        (5, None, None, None, "\\u0000 written out"),
    ]
    await bulk.insert_rows("bulk_probe", columns, with_dates)
    await bulk.insert_rows("bulk_probe", columns, awkward)
    sql = "INSERT INTO bulk_probe VALUES (?, ?, ?, ?, ?)"
    await conn.execute_many(sql, [(n + 10, *rest) for n, *rest in with_dates + awkward])
    got = await bulk.select("SELECT n, typeof(at), at, day, blob, text FROM bulk_probe ORDER BY n")
    by_n = {r[0]: tuple(r[1:]) for r in got}
    for n in (1, 2, 3, 4, 5):
        assert by_n[n] == by_n[n + 10], n
    assert by_n[1][1] == "2026-12-02 01:02:03.456789+00:00"
    assert by_n[3][3] == b"\x00\x01" and by_n[4][4] == "nul \x00 inside"


async def test_many_rows_take_several_statements_and_keep_their_order(db, monkeypatch):
    """More rows than one statement may bind: each statement full, the rest in chunks of a
    power of two rows (statements of a few lengths, each compiled once), every row stored
    once, in order."""
    monkeypatch.setattr(bulk, "SQLITE_VARIABLES", 7 * 10)  # 10 rows of 7 columns
    conn = connections.get("default")
    statements = []
    execute = type(conn).execute_query

    async def counted(self, sql, values=None):
        if sql.startswith('INSERT INTO "device"'):
            statements.append(len(values or []) // len(COLUMNS))
        return await execute(self, sql, values)

    monkeypatch.setattr(type(conn), "execute_query", counted)
    many = [(3, n, "B", "M", f"35{n:013d}", None, False) for n in range(1, 26)]
    assert await bulk.insert_rows("device", COLUMNS, many) == 25
    monkeypatch.undo()
    if not bulk.is_postgres(conn):
        assert statements == [10, 10, 4, 1]
    got = await bulk.select(
        "SELECT row_number, imei1 FROM device WHERE application_id = ? ORDER BY id", [3]
    )
    assert [tuple(r) for r in got] == [(n, f"35{n:013d}") for n in range(1, 26)]
