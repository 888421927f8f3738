"""Reads are not held up by another request's long transaction.

A firm's upload of a big list is one transaction of many seconds. On SQLite tortoise gives a
process one connection, so every other query waited for that transaction's end; an
operator's check at network attach must not (gateway.sqlite_client). PostgreSQL serves the
check from another pool connection: the same test holds there.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from tortoise.transactions import in_transaction

from gateway.demo import load_demo
from models import clock
from models.registry import WhitelistEntry, WhitelistStatus
from resolvers.operators.rate_limit import PUBLIC_QUERIES
from tests.support.operators import brief, check, imei, register_tac, whitelist

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
async def operator(db):
    clock.freeze(START)
    await load_demo()
    await register_tac()
    PUBLIC_QUERIES.clear()


async def test_an_operator_check_is_answered_while_an_upload_transaction_is_open(client):
    await whitelist(imei(1), brand="SAMSUNG", model="SM-G9359")
    # The operator's quota block is reserved before the long transaction starts: the check
    # under test then only reads.
    assert brief((await check(client, [imei(1)]))[0]) == ("ALLOW", "REGISTERED", None)
    opened, release = asyncio.Event(), asyncio.Event()

    async def long_transaction() -> None:
        async with in_transaction():
            # Written but not committed: the check must neither wait for it nor see it.
            await WhitelistEntry.filter(imei=imei(1)).update(status=WhitelistStatus.PROVISIONAL)
            opened.set()
            await release.wait()

    holder = asyncio.create_task(long_transaction())
    await opened.wait()
    try:
        # Answered while the transaction is still open (it ends only once `release` is set,
        # after the answer); the timeout turns a regression into a failure, not a hang.
        [answer] = await asyncio.wait_for(check(client, [imei(1)]), timeout=120)
        assert not holder.done()
        assert brief(answer) == ("ALLOW", "REGISTERED", None)
    finally:
        release.set()
        await holder
    [after] = await check(client, [imei(1)])
    assert brief(after) == ("ALLOW", "PROVISIONAL", None)


async def test_an_operator_check_is_answered_while_an_analysis_read_of_seconds_runs(client):
    """The analysis's joins against the big tables run for seconds outside any transaction
    (`bulk.select_long`); a check must not queue behind one."""
    import threading

    from tortoise import connections

    from resolvers import bulk

    await whitelist(imei(1), brand="SAMSUNG", model="SM-G9359")
    assert brief((await check(client, [imei(1)]))[0]) == ("ALLOW", "REGISTERED", None)
    conn = connections.get("default")
    release = asyncio.Event()
    if bulk.is_postgres(conn):
        # The long read waits for an advisory lock a transaction holds until released.
        holding = asyncio.Event()

        async def hold() -> None:
            async with in_transaction() as tx:
                await tx.execute_query("SELECT pg_advisory_xact_lock(4242)")
                holding.set()
                await release.wait()

        holder = asyncio.create_task(hold())
        await holding.wait()
        long_read = asyncio.create_task(
            bulk.select_long("SELECT pg_advisory_xact_lock(4242) IS NULL, 1")
        )
    else:
        # The long read's connection runs a function that returns once released.
        reader = await conn._reading("long")  # type: ignore[attr-defined]
        started, go_on = threading.Event(), threading.Event()

        def held() -> int:
            started.set()
            go_on.wait(120)
            return 1

        await reader.create_function("held", 0, held)
        holder = None
        long_read = asyncio.create_task(bulk.select_long("SELECT 1, held()"))
        await asyncio.to_thread(started.wait, 120)
    try:
        [answer] = await asyncio.wait_for(check(client, [imei(1)]), timeout=120)
        assert not long_read.done()
        assert brief(answer) == ("ALLOW", "REGISTERED", None)
    finally:
        release.set()
        if holder is None:
            go_on.set()
        else:
            await holder
    rows = await long_read
    assert tuple(rows[0])[-1] == 1
