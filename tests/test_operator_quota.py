"""Operators' quotas: IMEIs checked per machine client per minute, counted in the database.

(Two gateway processes sharing one quota: tests/test_serve.py.)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from tortoise.transactions import in_transaction

from gateway.demo import load_demo
from models import clock
from models.accounts import MachineClient
from models.audit import AuditEvent
from models.quotas import CheckQuotaWindow
from models.registry import WhitelistEntry
from resolvers.operators import quota
from resolvers.settings import updated
from tests.support.api import error_codes, gql, login, make_world
from tests.support.operators import CHECK, OPERATOR_TOKEN, imei, make_operator

START = datetime(2026, 3, 1, 20, 59, 20, tzinfo=UTC)  # 23:59:20 in Istanbul
ALIASES = """query($a: [String!]!, $b: [String!]!) {
  one: checkImeis(imeis: $a) { status } two: checkImeis(imeis: $b) { status }
}"""
SET_QUOTA = """mutation($id: Int!, $n: Int) {
  setClientCheckQuota(clientId: $id, checksPerMinute: $n) {
    clientId checksPerMinute effectiveChecksPerMinute errors { code field message }
  }
}"""
USAGE = """query($from: Date!, $to: Date, $id: Int) {
  clientCheckUsage(from: $from, to: $to, clientId: $id) {
    clientId clientName operatorCode day imeisChecked checksPerMinute
  }
}"""


@pytest.fixture(autouse=True)
async def operator(db):
    clock.freeze(START)
    await load_demo()


async def ask(client, count, token=OPERATOR_TOKEN, headers=None):
    imeis = [imei(n) for n in range(count)]
    return await gql(client, CHECK, {"imeis": imeis}, token=token, headers=headers)


async def test_a_client_over_its_quota_waits_for_the_next_minute(client):
    updated(check_quota_per_minute=10)
    assert len((await ask(client, 4))["data"]["checkImeis"]) == 4
    assert len((await ask(client, 6))["data"]["checkImeis"]) == 6  # duplicates count too
    refused = await ask(client, 1, headers={"Accept-Language": "en"})
    assert error_codes(refused) == ["RATE_LIMITED"] and refused["data"] is None
    assert refused["errors"][0]["extensions"]["retryAfter"] == 40  # the minute ends at :00
    assert "try again in 40 seconds" in refused["errors"][0]["message"]
    # The general executor (aliases: every alias's IMEIs count) refuses the same way.
    both = await gql(client, ALIASES, {"a": [imei(1)], "b": [imei(2)]}, token=OPERATOR_TOKEN)
    assert error_codes(both)[0] == "RATE_LIMITED"

    clock.advance(timedelta(seconds=40))
    answered = await gql(
        client, ALIASES, {"a": [imei(1)] * 6, "b": [imei(2)] * 4}, token=OPERATOR_TOKEN
    )
    assert len(answered["data"]["one"]) == 6 and len(answered["data"]["two"]) == 4
    assert error_codes(await ask(client, 1)) == ["RATE_LIMITED"]

    # More than a minute's quota at once can never pass: a clear refusal, not a wait.
    clock.advance(timedelta(minutes=1))
    too_many = await ask(client, 11, headers={"Accept-Language": "en"})
    assert error_codes(too_many) == ["INVALID_INPUT"]
    assert "may check 10 IMEIs a minute; 11 cannot be asked at once" in str(too_many)
    # Staff are not limited (their checks write nothing and are few).
    staff = await login(client, (await make_world()).users["reviewer"].username)
    assert "errors" not in await ask(client, 11, token=staff)


async def test_the_quota_is_counted_in_the_database_in_blocks(client):
    updated(check_quota_per_minute=200)  # blocks of 4
    for _ in range(5):
        assert "errors" not in await ask(client, 1)
    await quota.settled()
    [window] = await CheckQuotaWindow.all()
    # Two blocks taken; the next process to ask sees them as spent.
    assert (window.reserved, window.minute) == (8, int(START.timestamp() // 60))
    await quota.flush_all()
    await window.refresh_from_db()
    assert window.checked == 5 and window.day == "2026-03-01"
    # Another process (a fresh lease here) shares the same 200: only 192 are left.
    quota.reset()
    assert error_codes(await ask(client, 193)) == ["RATE_LIMITED"]
    assert "errors" not in await ask(client, 192)


async def test_staff_admins_set_each_clients_quota_audited_and_see_usage_per_day(client):
    world = await make_world()
    admin = await login(client, world.users["admin"].username)
    reviewer = await login(client, world.users["reviewer"].username)
    demo = await MachineClient.get(operator_code="DEMOGSM")
    other = await make_operator("Test GSM", "TGSM", "operator-token-2")

    body = await gql(client, SET_QUOTA, {"id": demo.id, "n": 3}, token=admin)
    assert body["data"]["setClientCheckQuota"] == {
        "clientId": demo.id,
        "checksPerMinute": 3,
        "effectiveChecksPerMinute": 3,
        "errors": [],
    }
    event = await AuditEvent.get(action="client.check_quota_set")
    assert event.subject_id == str(demo.id) and event.actor_name == "staff.admin"
    assert (event.details["before"], event.details["after"]) == (None, 3)
    assert "errors" not in await ask(client, 3)
    assert error_codes(await ask(client, 1)) == ["RATE_LIMITED"]
    assert "errors" not in await ask(client, 5, token="operator-token-2")  # its own quota

    clock.advance(timedelta(minutes=1))  # 00:00:20 in Istanbul: the next day
    assert "errors" not in await ask(client, 2)
    await gql(client, SET_QUOTA, {"id": demo.id, "n": 0}, token=admin)  # unlimited
    assert "errors" not in await ask(client, 500)
    usage = await gql(client, USAGE, {"from": "2026-03-01", "to": "2026-03-02"}, token=reviewer)
    assert usage["data"]["clientCheckUsage"] == [
        {
            "clientId": demo.id,
            "clientName": demo.name,
            "operatorCode": "DEMOGSM",
            "day": "2026-03-01",
            "imeisChecked": 3,
            "checksPerMinute": 0,
        },
        {
            "clientId": other.id,
            "clientName": "Test GSM",
            "operatorCode": "TGSM",
            "day": "2026-03-01",
            "imeisChecked": 5,
            "checksPerMinute": quota.get_settings().check_quota_per_minute,
        },
        {
            "clientId": demo.id,
            "clientName": demo.name,
            "operatorCode": "DEMOGSM",
            "day": "2026-03-02",
            "imeisChecked": 502,
            "checksPerMinute": 0,
        },
    ]
    one = await gql(client, USAGE, {"from": "2026-03-02", "id": other.id}, token=reviewer)
    assert one["data"]["clientCheckUsage"] == []

    # Back to the default; refusals name the field.
    reset = await gql(client, SET_QUOTA, {"id": demo.id, "n": None}, token=admin)
    assert reset["data"]["setClientCheckQuota"]["checksPerMinute"] is None
    assert reset["data"]["setClientCheckQuota"]["effectiveChecksPerMinute"] == (
        quota.get_settings().check_quota_per_minute
    )
    bad = await gql(client, SET_QUOTA, {"id": demo.id, "n": -1}, token=admin)
    assert [(e["code"], e["field"]) for e in bad["data"]["setClientCheckQuota"]["errors"]] == [
        ("INVALID_INPUT", "checksPerMinute")
    ]
    missing = await gql(client, SET_QUOTA, {"id": 9999, "n": 5}, token=admin)
    assert missing["data"]["setClientCheckQuota"]["errors"][0]["code"] == "NOT_FOUND"
    backwards = await gql(client, USAGE, {"from": "2026-03-02", "to": "2026-03-01"}, reviewer)
    assert error_codes(backwards) == ["INVALID_INPUT"]


async def test_old_usage_rows_are_deleted_after_the_retention(client):
    updated(check_usage_retention_days=2)
    assert "errors" not in await ask(client, 2)
    await quota.flush_all()
    clock.advance(timedelta(days=2, minutes=1))
    assert await quota.purge_usage() == 1
    assert not await CheckQuotaWindow.exists()
    event = await AuditEvent.get(action="check_usage.purged")
    assert event.details == {"count": 1, "retentionDays": 2}


@contextlib.asynccontextmanager
async def writer_held() -> AsyncIterator[asyncio.Task[None]]:
    """A transaction that has written and stays open (a firm's upload of many seconds): on
    SQLite every other write waits for its end."""
    opened, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with in_transaction():
            await WhitelistEntry.filter(imei="none").delete()
            opened.set()
            await release.wait()

    holder = asyncio.create_task(hold())
    await opened.wait()
    try:
        yield holder
    finally:
        release.set()
        await holder


async def answered_beside(holder: asyncio.Task[None], client, count: int) -> None:
    # Answered while the transaction is open; the timeout turns a wait into a failure.
    answer = await asyncio.wait_for(ask(client, count), timeout=120)
    assert "errors" not in answer and not holder.done()


async def test_the_next_block_is_reserved_before_checks_need_it(client):
    updated(check_quota_per_minute=200)  # blocks of 4, the next taken at half a block spent
    for _ in range(3):
        assert "errors" not in await ask(client, 1)
    await quota.settled()
    [window] = await CheckQuotaWindow.all()
    assert window.reserved == 8  # the second block, taken when the first had 1 left
    async with writer_held() as holder:
        # 5 IMEIs were reserved and unspent: none of these checks needs the writer.
        for _ in range(5):
            await answered_beside(holder, client, 1)
    await quota.settled()  # the third block, asked for meanwhile, is taken after it
    await quota.flush_all()
    await window.refresh_from_db()
    assert (window.reserved, window.checked) == (12, 8)


async def test_the_next_minutes_block_is_reserved_before_the_minute_ends(client):
    updated(check_quota_per_minute=200)
    clock.freeze(datetime(2026, 3, 1, 20, 59, 52, tzinfo=UTC))  # 8 s left in the minute
    assert "errors" not in await ask(client, 2)
    await quota.settled()
    minute = int(clock.now().timestamp() // 60)
    reserved = dict(await CheckQuotaWindow.all().values_list("minute", "reserved"))
    assert reserved == {minute: 4, minute + 1: 4}
    async with writer_held() as holder:
        clock.advance(timedelta(seconds=10))
        # The new minute's lease was reserved ahead, the old minute's count is written
        # in the background: the first check of the minute does not wait for the writer.
        await answered_beside(holder, client, 1)
    await quota.settled()
    await quota.flush_all()
    rows = await CheckQuotaWindow.all().order_by("minute").values_list("minute", "checked")
    assert rows == [(minute, 2), (minute + 1, 1)]
    assert (await CheckQuotaWindow.get(minute=minute + 1)).day == "2026-03-02"  # Istanbul
