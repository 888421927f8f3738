"""Grace from real attaches only, and the grey list operators mirror.

An unregistered IMEI's grace clock starts at its first attach to a network (an operator's
check with the subscriber's msisdn, or an observation), records which operator and when, and
is on the grey list (export, feed, subscription) from then on. Nothing else writes a clock;
an IMEI that cannot be a real device of a registered model gets no grace at all.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from gateway.demo import load_demo
from models import clock
from models.audit import AuditEvent
from models.grace import FirstAttach, GreylistChange
from models.progress import HeldImei
from models.workflow import ApplicationKind
from resolvers.operators import greylist
from resolvers.pagination import decode_cursor
from resolvers.settings import updated
from tests.support.api import error_codes, gql, login, make_world
from tests.support.individuals import serve_gateway
from tests.support.operators import (
    CHECK,
    OPERATOR_TOKEN,
    blacklist,
    brief,
    check,
    imei,
    make_operator,
    register_tac,
    unlist,
    whitelist,
)
from tests.support.push import feed_items, listening, session, subscribe

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
NUMBER = "905331112233"
OTHER_TOKEN = "operator-token-2"

GREY_FEED = """query($after: String, $first: Int!) {
  greylistChanges(after: $after, first: $first) {
    items { cursor op status imei operator firstAttachAt graceEndsAt detectedAt reason at }
    pageInfo { endCursor hasNextPage }
  }
}"""
SOON = """query($within: Int, $first: Int!, $after: String) {
  graceEndingSoon(withinDays: $within, first: $first, after: $after) {
    items { imei firstAttachAt graceEndsAt msisdn } pageInfo { endCursor hasNextPage }
  }
}"""


@pytest.fixture(autouse=True)
async def operator(db):
    clock.freeze(START)
    await load_demo()
    await register_tac()


async def grey_feed(client, after=None, first=1000, token=OPERATOR_TOKEN):
    items = []
    while True:
        body = await gql(client, GREY_FEED, {"after": after, "first": first}, token=token)
        page = body["data"]["greylistChanges"]
        items += page["items"]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            return items, after


async def test_only_an_operators_attach_starts_the_clock_and_records_who_and_when(client):
    staff = await login(client, (await make_world()).users["reviewer"].username)
    # A check without msisdn, a staff check and the public query say what the verdict
    # would be: the grace an attach now would get. They write nothing.
    [asked] = await check(client, [imei(1)])
    assert brief(asked) == ("ALLOW", "GRACE_PERIOD", None)
    assert asked["graceEndsAt"] == "2026-06-29T09:00:00+00:00"
    [by_staff] = await check(client, [imei(1)], msisdn=NUMBER, token=staff)
    assert brief(by_staff) == ("ALLOW", "GRACE_PERIOD", None)
    public = await gql(
        client, "query($i: String!) { imeiStatus(imei: $i) { status } }", {"i": imei(1)}
    )
    assert public["data"]["imeiStatus"]["status"] == "NOT_REGISTERED"
    assert not await FirstAttach.exists() and not await GreylistChange.exists()

    clock.advance(timedelta(days=30))  # nothing started: a later question still gets 120 days
    [later] = await check(client, [imei(1)])
    assert later["graceEndsAt"] == "2026-07-29T09:00:00+00:00"

    # The attach: the operator's check with the subscriber's number.
    attached_at = clock.now()
    [attach] = await check(client, [imei(1)], msisdn="+90 533 111 22 33")
    assert attach["graceEndsAt"] == "2026-07-29T09:00:00+00:00"
    await make_operator("Test GSM", "TGSM", OTHER_TOKEN)
    clock.advance(timedelta(days=1))
    [again] = await check(client, [imei(1)], msisdn="905559998877", token=OTHER_TOKEN)
    assert again["graceEndsAt"] == attach["graceEndsAt"]  # the first attach wins
    [record] = await FirstAttach.all()
    assert (record.imei, record.operator_code, record.msisdn, record.attached_at) == (
        imei(1),
        "DEMOGSM",
        NUMBER,
        attached_at,
    )
    assert record.client_id is not None and record.source == "CHECK"


async def test_no_grace_for_what_cannot_be_a_real_device_of_a_registered_model(client):
    unknown_tac = imei(1, tac="35999999")
    await HeldImei.create(
        imei=imei(2),
        application_id=1,
        firm_id=1,
        brand="APPLE",
        model_code="A2403",
        kind=ApplicationKind.MAINBOARD,
        held_at=clock.now(),
    )
    await register_tac("123456", brand="NOKIA", model="3310")  # a legacy 6-digit TAC
    legacy = imei(3, tac="12345678")
    inputs = [unknown_tac, imei(2), "000000000000000", "00000000000000", imei(4, tac="00123456")]
    answers = await check(client, [*inputs, legacy], msisdn=NUMBER)
    assert [brief(a) for a in answers] == [
        ("BLOCK", "NOT_REGISTERED", "TAC_NOT_FOUND"),
        ("BLOCK", "NOT_REGISTERED", "HELD_REPLACEMENT"),
        ("BLOCK", "NOT_REGISTERED", "RESERVED_IMEI"),
        ("BLOCK", "NOT_REGISTERED", "RESERVED_IMEI"),  # 14 digits: the check digit added
        ("BLOCK", "NOT_REGISTERED", "RESERVED_IMEI"),  # reporting body 00: test IMEIs
        ("ALLOW", "GRACE_PERIOD", None),
    ]
    assert [a["graceEndsAt"] for a in answers[:5]] == [None] * 5
    assert await FirstAttach.all().values_list("imei", flat=True) == [legacy]
    # The same in English: the reason codes are machine-readable, not translated.
    body = await gql(
        client, CHECK, {"imeis": [unknown_tac]}, OPERATOR_TOKEN, {"Accept-Language": "en"}
    )
    assert body["data"]["checkImeis"][0]["reason"] == "TAC_NOT_FOUND"


async def test_the_grey_list_export_and_feed_give_the_same_list_at_its_cursor(client):
    await make_operator("Test GSM", "TGSM", OTHER_TOKEN)
    await check(client, [imei(n) for n in range(1, 4)], msisdn=NUMBER)
    clock.advance(timedelta(hours=2))
    await check(client, [imei(3), imei(4)], msisdn="905559998877", token=OTHER_TOKEN)

    response = await client.get(
        "/exports/greylist.csv", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    )
    assert response.status_code == 200
    cursor = response.headers["x-mcks-feed-cursor"]
    rows = list(csv.reader(io.StringIO(response.text)))
    grace = ["GRACE_PERIOD", "2026-03-01 09:00:00+00:00", "2026-06-29 09:00:00+00:00"]
    later = ["GRACE_PERIOD", "2026-03-01 11:00:00+00:00", "2026-06-29 11:00:00+00:00"]
    assert rows == [
        ["imei", "status", "first_attach", "grace_ends_at", "operator", "detected_at"],
        [imei(1), *grace, "DEMOGSM", ""],
        [imei(2), *grace, "DEMOGSM", ""],
        [imei(3), *grace, "DEMOGSM", ""],
        [imei(4), *later, "TGSM", ""],
    ]
    items, end = await grey_feed(client, first=3)  # several pages, no gap, no repeat
    last = await GreylistChange.all().order_by("-id").first()
    assert end == cursor and last is not None and decode_cursor(cursor) == last.id
    assert [(i["op"], i["imei"], i["operator"]) for i in items] == [
        ("ADD", imei(1), "DEMOGSM"),
        ("ADD", imei(2), "DEMOGSM"),
        ("ADD", imei(3), "DEMOGSM"),
        ("ADD", imei(4), "TGSM"),
    ]
    assert items[3]["graceEndsAt"] == "2026-06-29T11:00:00+00:00"
    # The subscriber's number is personal data: never in the list or the feed.
    assert NUMBER not in response.text and NUMBER not in str(items)

    firm = await login(client, (await make_world()).users["a_user"].username)
    denied = await client.get("/exports/greylist.csv", headers={"Authorization": f"Bearer {firm}"})
    assert denied.status_code == 403
    assert error_codes(await gql(client, GREY_FEED, {"first": 1}, token=firm)) == ["FORBIDDEN"]


async def test_operators_list_their_own_attaches_whose_grace_ends_soon(client):
    await make_operator("Test GSM", "TGSM", OTHER_TOKEN)
    await check(client, [imei(1), imei(2)], msisdn=NUMBER)  # grace ends 29 June 09:00
    clock.advance(timedelta(days=10))
    await check(client, [imei(3)], msisdn=NUMBER)  # 9 July
    await check(client, [imei(4)], msisdn="905559998877", token=OTHER_TOKEN)  # not ours
    await whitelist(imei(2))  # registered meanwhile: nothing to warn about

    clock.freeze(datetime(2026, 6, 20, 9, 0, tzinfo=UTC))
    body = await gql(client, SOON, {"first": 10}, token=OPERATOR_TOKEN)  # default: 15 days
    page = body["data"]["graceEndingSoon"]
    assert [(i["imei"], i["graceEndsAt"], i["msisdn"]) for i in page["items"]] == [
        (imei(1), "2026-06-29T09:00:00+00:00", NUMBER)
    ]
    clock.freeze(datetime(2026, 6, 28, 10, 0, tzinfo=UTC))
    one_day = await gql(client, SOON, {"within": 1, "first": 10}, token=OPERATOR_TOKEN)
    assert [i["imei"] for i in one_day["data"]["graceEndingSoon"]["items"]] == [imei(1)]
    fifteen = await gql(client, SOON, {"within": 15, "first": 1}, token=OPERATOR_TOKEN)
    page = fifteen["data"]["graceEndingSoon"]
    assert [i["imei"] for i in page["items"]] == [imei(1)] and page["pageInfo"]["hasNextPage"]
    rest = await gql(
        client,
        SOON,
        {"within": 15, "first": 1, "after": page["pageInfo"]["endCursor"]},
        token=OPERATOR_TOKEN,
    )
    assert [i["imei"] for i in rest["data"]["graceEndingSoon"]["items"]] == [imei(3)]
    clock.freeze(datetime(2026, 6, 29, 9, 0, tzinfo=UTC))  # imei(1)'s grace is over
    over = await gql(client, SOON, {"within": 15, "first": 10}, token=OPERATOR_TOKEN)
    assert [i["imei"] for i in over["data"]["graceEndingSoon"]["items"]] == [imei(3)]

    bad = await gql(
        client, SOON, {"within": 0, "first": 10}, OPERATOR_TOKEN, {"Accept-Language": "en"}
    )
    assert error_codes(bad) == ["INVALID_INPUT"]
    assert "between 1 and 120" in bad["errors"][0]["message"]
    garbage = await gql(client, SOON, {"first": 1, "after": "nope"}, token=OPERATOR_TOKEN)
    assert error_codes(garbage) == ["INVALID_INPUT"]


async def test_first_attaches_are_deleted_after_their_grace_and_the_retention(client):
    updated(first_attach_retention_days=30)
    await check(client, [imei(1)], msisdn=NUMBER)
    clock.advance(timedelta(days=1))
    await check(client, [imei(2)], msisdn=NUMBER)
    clock.freeze(START + timedelta(days=120 + 30, hours=1))  # imei(1): 30 days after its end
    assert await greylist.purge_first_attaches() == 1
    assert await FirstAttach.all().values_list("imei", flat=True) == [imei(2)]
    items, _ = await grey_feed(client)
    assert [(i["op"], i["imei"], i["reason"]) for i in items] == [
        ("ADD", imei(1), ""),
        ("ADD", imei(2), ""),
        ("REMOVE", imei(1), "RETENTION"),
    ]
    event = await AuditEvent.get(action="grace.first_attaches_purged")
    assert event.details["count"] == 1 and event.actor_name == "grace-retention"
    assert await greylist.purge_first_attaches() == 0  # nothing more is due
    # Forgotten: a later attach is a new first attach.
    [back] = await check(client, [imei(1)], msisdn=NUMBER)
    assert brief(back) == ("ALLOW", "GRACE_PERIOD", None)
    updated(first_attach_retention_days=0)
    clock.advance(timedelta(days=1000))
    assert await greylist.purge_first_attaches() == 0


async def test_an_attach_of_a_listed_or_removed_imei_starts_no_clock(client):
    await whitelist(imei(1))
    await blacklist(imei(2))
    await whitelist(imei(3))
    await unlist(imei(3), reason="Sahte belge")
    answers = await check(client, [imei(1), imei(2), imei(3)], msisdn=NUMBER)
    assert [brief(a) for a in answers] == [
        ("ALLOW", "REGISTERED", None),
        ("BLOCK", "BLACKLISTED", "STOLEN"),
        ("BLOCK", "NOT_REGISTERED", "Sahte belge"),
    ]
    assert not await FirstAttach.exists()


GREY_SUBSCRIPTION = """subscription($after: String) {
  greylistChanges(after: $after, first: 100) {
    items { cursor op status imei operator graceEndsAt } pageInfo { endCursor }
  }
}"""


async def test_an_eir_follows_the_grey_list_live_from_its_cursor(app, client):
    await check(client, [imei(1)], msisdn=NUMBER)
    _, cursor = await grey_feed(client)
    async with listening(), serve_gateway(app) as http:
        url = f"ws://127.0.0.1:{http.base_url.port}/graphql"
        socket = await session(url, OPERATOR_TOKEN)
        await subscribe(socket, GREY_SUBSCRIPTION, {"after": cursor})
        await check(http, [imei(2), imei(3)], msisdn=NUMBER)  # committed after the cursor
        items, _ = await feed_items(socket, "greylistChanges", 2)
        assert [(i["op"], i["status"], i["imei"], i["operator"]) for i in items] == [
            ("ADD", "GRACE_PERIOD", imei(2), "DEMOGSM"),
            ("ADD", "GRACE_PERIOD", imei(3), "DEMOGSM"),
        ]
        assert items[0]["graceEndsAt"] == "2026-06-29T09:00:00+00:00"
        await socket.close()
