"""Operators mirror the lists: a gap-free change feed and a streamed CSV export."""

from __future__ import annotations

import asyncio
import csv
import io
import random

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from gateway.demo import load_demo
from models.registry import (
    BlacklistEntry,
    BlacklistReason,
    WhitelistChange,
    WhitelistEntry,
    WhitelistStatus,
)
from models.roles import Role
from resolvers import registry_changes
from resolvers.actor import Actor
from resolvers.operators import exports
from resolvers.pagination import decode_cursor, encode_cursor
from tests.conftest import ON_POSTGRES
from tests.support.api import error_codes, gql, login, make_world
from tests.support.operators import OPERATOR_TOKEN, STAFF, blacklist, imei, unlist, whitelist

WHITELIST_FEED = """
query($after: String, $first: Int!) {
  whitelistChanges(after: $after, first: $first) {
    items { cursor op imei status source brand model reason at }
    pageInfo { endCursor hasNextPage }
  }
}"""
BLACKLIST_FEED = """
query($after: String, $first: Int!) {
  blacklistChanges(after: $after, first: $first) {
    items { cursor op imei reason note at }
    pageInfo { endCursor hasNextPage }
  }
}"""


@pytest.fixture(autouse=True)
async def operator(db):
    await load_demo()


async def replay(client, query, field, after=None, first=7):
    """Follow a feed to its end like an operator's EIR; returns the items and the cursor."""
    items = []
    while True:
        body = await gql(client, query, {"after": after, "first": first}, token=OPERATOR_TOKEN)
        assert "errors" not in body, body
        page = body["data"][field]
        items += page["items"]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            return items, after


def mirror_whitelist(items, mirror=None):
    mirror = dict(mirror or {})
    for item in items:
        if item["op"] == "REMOVE":
            del mirror[item["imei"]]
        else:
            mirror[item["imei"]] = (item["status"], item["source"], item["brand"], item["model"])
    return mirror


def mirror_blacklist(items, mirror=None):
    mirror = dict(mirror or {})
    for item in items:
        if item["op"] == "REMOVE":
            del mirror[item["imei"]]
        else:
            mirror[item["imei"]] = item["reason"]
    return mirror


async def current_whitelist():
    rows = await WhitelistEntry.all().values_list("imei", "status", "source", "brand", "model_code")
    return {r[0]: (r[1].value, r[2].value, r[3], r[4]) for r in rows}


async def current_blacklist():
    return {
        imei: reason.value
        for imei, reason in await BlacklistEntry.all().values_list("imei", "reason")
    }


async def churn(rng: random.Random, rounds: int) -> None:
    """Additions, status changes, removals and re-additions, as the other flows make them."""
    for step in range(rounds):
        listed = await WhitelistEntry.all().values_list("imei", flat=True)
        roll = rng.random()
        if roll < 0.5 or not listed:
            fresh = [imei(rng.randrange(10**6)) for _ in range(rng.randint(1, 5))]
            fresh = [i for i in dict.fromkeys(fresh) if i not in listed]
            await whitelist(
                *fresh,
                status=rng.choice(list(WhitelistStatus)),
                brand=rng.choice(["APPLE", "SAMSUNG"]),
                model=f"M{step}",
            )
        elif roll < 0.7:
            chosen = await WhitelistEntry.get(imei=rng.choice(listed))
            flipped = (
                WhitelistStatus.REGISTERED
                if chosen.status == WhitelistStatus.PROVISIONAL
                else WhitelistStatus.PROVISIONAL
            )
            async with in_transaction():
                await registry_changes.set_whitelist_status(
                    STAFF, [chosen.imei], flipped, "doğrulama"
                )
        else:
            await unlist(*rng.sample(listed, min(2, len(listed))), reason=f"ret {step}")
        blacklisted = await BlacklistEntry.all().values_list("imei", flat=True)
        if rng.random() < 0.4:
            candidate = imei(rng.randrange(10**6), tac="86891504")
            if candidate not in blacklisted:
                await blacklist(candidate, reason=rng.choice(list(BlacklistReason)))
        elif blacklisted and rng.random() < 0.3:
            async with in_transaction():
                await registry_changes.remove_from_blacklist(
                    STAFF, [rng.choice(blacklisted)], "bulundu"
                )


async def test_replaying_the_feeds_from_the_start_gives_exactly_the_current_lists(client):
    rng = random.Random(5)
    await churn(rng, 40)
    items, cursor = await replay(client, WHITELIST_FEED, "whitelistChanges")
    assert {i["op"] for i in items} == {"ADD", "UPDATE", "REMOVE"}
    assert mirror_whitelist(items) == await current_whitelist() != {}
    removals = [i for i in items if i["op"] == "REMOVE"]
    assert all(i["reason"].startswith("ret ") for i in removals)  # with the reason

    # Later changes arrive after the cursor the client kept, and nothing else.
    mirror = mirror_whitelist(items)
    await churn(rng, 15)
    more, cursor2 = await replay(client, WHITELIST_FEED, "whitelistChanges", after=cursor)
    assert more and mirror_whitelist(more, mirror) == await current_whitelist()
    nothing, cursor3 = await replay(client, WHITELIST_FEED, "whitelistChanges", after=cursor2)
    assert nothing == [] and cursor3 == cursor2  # an empty page keeps the position

    black, _ = await replay(client, BLACKLIST_FEED, "blacklistChanges", first=3)
    assert mirror_blacklist(black) == await current_blacklist() != {}


async def test_feed_pages_are_bounded_and_cursors_checked(client):
    await whitelist(imei(1), imei(2), imei(3))
    body = await gql(client, WHITELIST_FEED, {"first": 2}, token=OPERATOR_TOKEN)
    page = body["data"]["whitelistChanges"]
    assert [i["imei"] for i in page["items"]] == [imei(1), imei(2)]
    assert page["pageInfo"]["hasNextPage"] is True
    assert page["items"][-1]["cursor"] == page["pageInfo"]["endCursor"]
    too_big = await gql(client, WHITELIST_FEED, {"first": 10_001}, token=OPERATOR_TOKEN)
    assert error_codes(too_big) == ["INVALID_INPUT"]
    garbage = await gql(
        client, WHITELIST_FEED, {"first": 5, "after": "bm9wZQ"}, token=OPERATOR_TOKEN
    )
    assert error_codes(garbage) == ["INVALID_INPUT"]


async def test_the_feeds_are_for_operators_and_staff_only(client):
    await make_world()
    firm = await gql(client, WHITELIST_FEED, {"first": 5}, token=await login(client, "a.user"))
    assert error_codes(firm) == ["FORBIDDEN"]
    assert error_codes(await gql(client, BLACKLIST_FEED, {"first": 5})) == ["UNAUTHENTICATED"]
    staff = await gql(
        client, BLACKLIST_FEED, {"first": 5}, token=await login(client, "staff.archive")
    )
    assert staff["data"]["blacklistChanges"]["items"] == []


async def test_concurrent_writers_never_leave_a_gap_behind_a_reader(client):
    """On PostgreSQL change ids may commit out of order; the feed lock keeps them in order.
    A reader polling while writers commit must still see every change (SQLite serializes)."""
    seen: list[dict] = []
    done = asyncio.Event()

    async def writer(offset: int) -> None:
        for n in range(12):
            async with in_transaction():
                await registry_changes.add_to_whitelist(
                    STAFF,
                    [
                        registry_changes.WhitelistAddition(
                            imei(offset + n), "APPLE", "A1", registry_changes.WhitelistSource.AKM
                        )
                    ],
                )
                await asyncio.sleep(0.002 * ((n + offset) % 3))  # commit at different times

    async def reader() -> None:
        after = None
        while True:
            finished = done.is_set()
            items, after = await replay(client, WHITELIST_FEED, "whitelistChanges", after=after)
            seen.extend(items)
            if finished:
                return
            await asyncio.sleep(0.001)

    reading = asyncio.create_task(reader())
    await asyncio.gather(*(writer(1000 * w) for w in range(1, 5)))
    done.set()
    await reading
    assert sorted(i["imei"] for i in seen) == sorted(
        await WhitelistEntry.all().values_list("imei", flat=True)
    )
    assert len(seen) == 48
    if ON_POSTGRES:  # ids are handed out in commit order under the lock
        ids = [decode_cursor(i["cursor"]) for i in seen]
        assert ids == sorted(ids)


async def test_list_changes_refuse_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError, match="in_transaction"):
        await registry_changes.remove_from_whitelist(STAFF, [imei(1)], "x")


async def test_adding_an_already_listed_imei_writes_nothing(client):
    await whitelist(imei(1))
    with pytest.raises(Exception, match="already exists"):
        await whitelist(imei(2), imei(1))
    assert await WhitelistEntry.filter(imei=imei(2)).count() == 0
    items, _ = await replay(client, WHITELIST_FEED, "whitelistChanges")
    assert [i["imei"] for i in items] == [imei(1)]


# --- the export --------------------------------------------------------------------------


async def download(client, name, token=OPERATOR_TOKEN):
    return await client.get(
        f"/exports/{name}.csv", headers={"Authorization": f"Bearer {token}"} if token else {}
    )


async def test_the_export_is_the_current_list_at_a_feed_position_to_follow_from(client):
    rng = random.Random(9)
    await churn(rng, 25)
    response = await download(client, "whitelist")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    cursor = response.headers["x-mcks-feed-cursor"]
    assert cursor in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["imei", "status", "source", "brand", "model"]
    exported = {r[0]: tuple(r[1:]) for r in rows[1:]}
    assert exported == await current_whitelist()
    assert [r[0] for r in rows[1:]] == sorted(exported)
    # The cursor is the last change the file includes: the feed continues from it exactly.
    last_id = await connections.get("default").execute_query("SELECT MAX(id) FROM whitelist_change")
    assert decode_cursor(cursor) == last_id[1][0][0]
    await churn(rng, 10)
    more, _ = await replay(client, WHITELIST_FEED, "whitelistChanges", after=cursor)
    assert mirror_whitelist(more, exported) == await current_whitelist()

    blacklist_file = await download(client, "blacklist")
    rows = list(csv.reader(io.StringIO(blacklist_file.text)))
    assert rows[0] == ["imei", "reason", "listed_at"]
    assert {r[0]: r[1] for r in rows[1:]} == await current_blacklist()


async def test_a_large_export_streams_in_chunks_and_an_abandoned_one_is_released():
    async with in_transaction():
        await registry_changes.add_to_whitelist(
            STAFF,
            [
                registry_changes.WhitelistAddition(
                    imei(n), "SAMSUNG", "SM-G9359", registry_changes.WhitelistSource.STAFF
                )
                for n in range(5000)
            ],
        )
    operator = Actor(kind="CLIENT", role=Role.OPERATOR, name="op", operator_code="OP")
    snapshot = await exports.open_export(operator, "whitelist")
    last = await WhitelistChange.all().order_by("-id").first()
    assert snapshot.cursor == encode_cursor(last.id)
    chunks = [chunk async for chunk in snapshot.csv_chunks()]
    assert len(chunks) == 3  # rows go out as they are fetched, FETCH_ROWS at a time
    assert max(c.count(b"\n") for c in chunks) <= exports.FETCH_ROWS + 1
    assert b"".join(chunks).count(b"\n") == 5001

    # A client that hangs up: the snapshot is closed and writers carry on.
    abandoned = await exports.open_export(operator, "whitelist")
    stream = abandoned.csv_chunks()
    await anext(stream)
    await stream.aclose()
    await whitelist(imei(999_999))
    assert await WhitelistEntry.all().count() == 5001


async def test_the_export_needs_an_operator_or_staff(client):
    await make_world()
    assert (await download(client, "whitelist", token=None)).status_code == 401
    firm = await download(client, "blacklist", token=await login(client, "a.user"))
    assert firm.status_code == 403
    assert firm.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    staff = await download(client, "blacklist", token=await login(client, "staff.reviewer"))
    assert staff.status_code == 200 and staff.text == "imei,reason,listed_at\n"
