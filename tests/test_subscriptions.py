"""The push channel: GraphQL subscriptions over a real uvicorn on loopback, with a
graphql-transport-ws client. Each subscription delivers what its use cases commit, feeds
resume from a cursor without gaps or repeats, a consumer that cannot keep up is closed
(4413), and subscriptions end with their session. Both backends (on PostgreSQL the
notifications travel through LISTEN/NOTIFY)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from tortoise.transactions import in_transaction
from websockets.asyncio.client import connect

from models import clock
from models.applications import Application
from models.events import EventLog
from models.registry import BlacklistReason, WhitelistSource
from models.roles import ClientKind, Role
from models.workflow import Action, ApplicationKind, ApplicationStatus
from resolvers import jobs, push, registry_changes
from resolvers.actor import Actor
from resolvers.after import pairing_changes
from resolvers.applications import transitions
from resolvers.pagination import encode_cursor
from resolvers.settings import updated
from tests.support.api import gql, login, make_firm, make_user
from tests.support.individuals import (
    EDEVLET_TOKEN,
    OPERATOR_TOKEN,
    declaration,
    imei,
    make_machine_client,
    seed_tacs,
    serve_gateway,
    submit_edevlet,
)
from tests.support.push import (
    SYSTEM,
    WHITELIST,
    close_code,
    data,
    feed_items,
    listening,
    message,
    session,
    subscribe,
)


@dataclass
class Live:
    http: Any
    url: str
    firm_a: Any
    firm_b: Any
    users: dict[str, Any]


@pytest.fixture
async def live(app) -> AsyncIterator[Live]:
    firm_a = await make_firm("Anadolu Mobil A.Ş.", "1111111111")
    firm_b = await make_firm("Kıbrıs Cihaz Ltd.", "2222222222")
    users = {
        "a": await make_user("a.user", Role.FIRM_USER, firm_a),
        "b": await make_user("b.user", Role.FIRM_USER, firm_b),
        "reviewer": await make_user("staff.reviewer", Role.STAFF_REVIEWER),
    }
    await make_machine_client("DEMOGSM", ClientKind.OPERATOR, OPERATOR_TOKEN, "DEMOGSM")
    await make_machine_client("e-Devlet", ClientKind.E_DEVLET, EDEVLET_TOKEN)
    async with listening(), serve_gateway(app) as http:
        yield Live(http, f"ws://127.0.0.1:{http.base_url.port}/graphql", firm_a, firm_b, users)


async def whitelist(*serials: int, reason: str = "") -> list[str]:
    """Put IMEIs on the whitelist in one transaction, as a payment does."""
    numbers = [imei(serial) for serial in serials]
    async with in_transaction():
        await registry_changes.add_to_whitelist(
            SYSTEM,
            [
                registry_changes.WhitelistAddition(n, "APPLE", "A2403", WhitelistSource.STAFF)
                for n in numbers
            ],
            reason=reason,
        )
    return numbers


# --- the operators' feeds ------------------------------------------------------------------


async def test_a_feed_sends_the_changes_after_the_cursor_then_the_live_ones(live):
    first = await whitelist(1)
    earlier = await whitelist(2, 3)
    body = await gql(live.http, "{ whitelistChanges { pageInfo { endCursor } } }", {}, token=None)
    assert body["errors"]  # the feed is for operators and staff only
    start = await gql(
        live.http,
        "{ whitelistChanges(first: 1) { pageInfo { endCursor } } }",
        {},
        token=OPERATOR_TOKEN,
    )
    cursor = start["data"]["whitelistChanges"]["pageInfo"]["endCursor"]

    socket = await session(live.url, OPERATOR_TOKEN)
    await subscribe(socket, WHITELIST, {"after": cursor})
    items, _ = await feed_items(socket, "whitelistChanges", 2)
    assert [i["imei"] for i in items] == earlier
    later = await whitelist(4, 5, 6)
    items, _ = await feed_items(socket, "whitelistChanges", 3)
    assert [i["imei"] for i in items] == later
    assert all(i["op"] == "ADD" and i["status"] == "REGISTERED" for i in items)
    assert first[0] not in {i["imei"] for i in items}
    await socket.close()


async def test_a_dropped_subscriber_resumes_from_its_cursor_without_gaps_or_repeats(live):
    await whitelist(7, 8, 9)
    socket = await session(live.url, OPERATOR_TOKEN)
    await subscribe(socket, WHITELIST, {"first": 2})
    delivered, cursor = await feed_items(socket, "whitelistChanges", 3)
    await socket.close()  # the connection drops (the client goes away)
    # Changes made while nobody listened, in several transactions.
    missed = await whitelist(10, 11) + await whitelist(12)
    socket = await session(live.url, OPERATOR_TOKEN)
    await subscribe(socket, WHITELIST, {"after": cursor, "first": 2})
    items, _ = await feed_items(socket, "whitelistChanges", 3)
    assert [i["imei"] for i in items] == missed
    # Nothing is sent twice: the next item after the missed ones is the next change.
    marker = await whitelist(13)
    items, _ = await feed_items(socket, "whitelistChanges", 1)
    assert [i["imei"] for i in items] == marker
    assert not {i["imei"] for i in delivered} & set(missed)
    await socket.close()


async def test_the_blacklist_and_pairing_feeds(live):
    socket = await session(live.url, OPERATOR_TOKEN)
    await subscribe(
        socket,
        "subscription { blacklistChanges { items { op imei reason } pageInfo { endCursor } } }",
        id="bl",
    )
    await subscribe(
        socket,
        "subscription { pairingChanges { items { op imei msisdn } pageInfo { endCursor } } }",
        id="pr",
    )
    number = imei(20)
    async with in_transaction():
        await registry_changes.add_to_blacklist(
            SYSTEM, [registry_changes.BlacklistAddition(number, BlacklistReason.STOLEN)]
        )
    assert (await data(socket, "bl"))["blacklistChanges"]["items"] == [
        {"op": "ADD", "imei": number, "reason": "STOLEN"}
    ]
    async with in_transaction():
        await pairing_changes.pair(SYSTEM, number, "905321234567", live.firm_a.id, "klon")
    assert (await data(socket, "pr"))["pairingChanges"]["items"] == [
        {"op": "ADD", "imei": number, "msisdn": "905321234567"}
    ]
    await socket.close()


async def test_a_firm_may_not_follow_the_feeds(live):
    token = await login(live.http, "a.user")
    socket = await session(live.url, token)
    await subscribe(socket, WHITELIST)
    received = await message(socket)
    assert received["type"] in ("error", "next")
    errors = received["payload"] if received["type"] == "error" else received["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    await socket.close()


# --- applications --------------------------------------------------------------------------

# Fresh database per test: from the first event on (without a cursor a subscription starts
# "from now", which a test could only race against).
START = encode_cursor(0)

STATUSES = """subscription($id: Int, $after: String = "START") {
  applicationStatusChanges(applicationId: $id, after: $after) {
    cursor applicationId status statusLabel reason
  }
}""".replace("START", START)


async def application(firm: Any, status: ApplicationStatus) -> Application:
    now = clock.now()
    return await Application.create(
        firm_id=firm.id,
        kind=ApplicationKind.IMPORT,
        status=status,
        created_by="seed",
        import_date=date(2026, 3, 2),
        customs_declaration_no="26340100IM000123",
        created_at=now,
        updated_at=now,
    )


async def move(actor: Actor, application_id: int, action: Action, reason: str | None = None):
    async with in_transaction():
        row = await Application.get(id=application_id)
        await transitions.apply(actor, row, action, reason=reason)


def person(user: Any, role: Role) -> Actor:
    return Actor(kind="USER", role=role, id=user.id, name=user.username, firm_id=user.firm_id)


async def test_a_firm_follows_its_own_applications_and_staff_follow_all(live):
    mine = await application(live.firm_a, ApplicationStatus.DRAFT)
    theirs = await application(live.firm_b, ApplicationStatus.DRAFT)
    reviewed = await application(live.firm_a, ApplicationStatus.UNDER_REVIEW)
    firm = await session(live.url, await login(live.http, "a.user"))
    await subscribe(firm, STATUSES, {})
    await subscribe(firm, STATUSES, {"id": reviewed.id}, id="one")
    staff = await session(live.url, await login(live.http, "staff.reviewer"))
    await subscribe(staff, STATUSES, {})
    # Subscriptions start from now on: wait until both are running (an event reaches them).
    a_user = person(live.users["a"], Role.FIRM_USER)
    await move(a_user, mine.id, Action.SUBMIT)
    first = (await data(firm))["applicationStatusChanges"]
    assert first["applicationId"] == mine.id
    assert first["status"] == "AWAITING_SUPERVISOR_APPROVAL"
    assert first["statusLabel"] == "Üst Kullanıcı Onayında"
    assert (await data(staff))["applicationStatusChanges"]["applicationId"] == mine.id

    await move(person(live.users["b"], Role.FIRM_USER), theirs.id, Action.SUBMIT)
    reviewer = person(live.users["reviewer"], Role.STAFF_REVIEWER)
    await move(reviewer, reviewed.id, Action.REJECT, reason="Fatura okunaksız")
    # Firm A's next event is its own rejection: firm B's submission never reached it.
    rejected = (await data(firm))["applicationStatusChanges"]
    assert rejected["applicationId"] == reviewed.id
    assert (rejected["status"], rejected["statusLabel"], rejected["reason"]) == (
        "REJECTED",
        "Reddedildi",
        "Fatura okunaksız",
    )
    assert (await data(firm, "one"))["applicationStatusChanges"]["status"] == "REJECTED"
    seen = [(await data(staff))["applicationStatusChanges"]["applicationId"] for _ in range(2)]
    assert seen == [theirs.id, reviewed.id]
    await firm.close()
    await staff.close()


async def test_a_firm_cannot_follow_another_firms_application(live):
    theirs = await application(live.firm_b, ApplicationStatus.DRAFT)
    socket = await session(live.url, await login(live.http, "a.user"))
    await subscribe(socket, STATUSES, {"id": theirs.id})
    received = await message(socket)
    errors = received["payload"] if received["type"] == "error" else received["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"
    await socket.close()


# --- individual registrations and the job queue ------------------------------------------

OUTCOMES = """subscription($after: String) {
  registrationOutcomes(after: $after) { cursor registrationId outcome outcomeLabel reason }
}"""


async def staff_list_change(live: Live, mutation: str, number: str, reason: str) -> None:
    reviewer = await login(live.http, "staff.reviewer")
    body = await gql(
        live.http,
        f"mutation($i: String!, $r: String!) {{ {mutation}(imei: $i, reason: $r) "
        "{ errors { code } } }",
        {"i": number, "r": reason},
        token=reviewer,
    )
    assert body["data"][mutation]["errors"] == [], body


async def test_the_edevlet_client_follows_its_registrations_outcomes(live):
    await seed_tacs()
    updated(individual_device_limit=100)
    clock.freeze(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))  # within 120 days of the entry
    number = imei(30)
    submitted = await submit_edevlet(live.http, declaration("EDV-1", [number]))
    registration_id = int(submitted["registration"]["id"])
    socket = await session(live.url, EDEVLET_TOKEN)
    await subscribe(socket, OUTCOMES, {"after": START})
    await staff_list_change(live, "removeWhitelistEntry", number, "Sahte belge")
    event = (await data(socket))["registrationOutcomes"]
    assert event["registrationId"] == registration_id
    assert (event["outcome"], event["outcomeLabel"], event["reason"]) == (
        "REMOVED",
        "IMEI beyaz listeden çıkarıldı",
        "Sahte belge",
    )
    await staff_list_change(live, "restoreWhitelistEntry", number, "Hatalı çıkarma")
    assert (await data(socket))["registrationOutcomes"]["outcome"] == "RESTORED"
    await socket.close()
    # Another client sees none of them; from the first event's cursor, only the second.
    operator = await session(live.url, OPERATOR_TOKEN)
    await subscribe(operator, OUTCOMES, {"after": START}, id="op")
    again = await session(live.url, EDEVLET_TOKEN)
    await subscribe(again, OUTCOMES, {"after": event["cursor"]})
    assert (await data(again))["registrationOutcomes"]["outcome"] == "RESTORED"
    await staff_list_change(live, "removeWhitelistEntry", number, "Yine sahte")
    assert (await data(again))["registrationOutcomes"]["reason"] == "Yine sahte"
    assert await EventLog.filter(client_id=None, topic="REGISTRATION").count() == 0
    await again.close()
    await operator.close()


async def test_staff_follow_the_job_queue(live):
    socket = await session(live.url, await login(live.http, "staff.reviewer"))
    await subscribe(
        socket,
        "subscription($a: String) { jobQueueEvents(after: $a) "
        "{ kind label jobId batchId detail error } }",
        {"a": START},
    )
    job = await jobs.enqueue("no.such.kind", {}, max_attempts=1)
    await jobs.run_next("test-worker")
    event = (await data(socket))["jobQueueEvents"]
    assert (event["kind"], event["jobId"], event["batchId"], event["detail"]) == (
        "DEAD",
        job.id,
        None,
        "no.such.kind",
    )
    assert event["label"] == "İş bırakıldı"
    await socket.close()


# --- flow control and the session's end ---------------------------------------------------


async def test_a_consumer_that_cannot_keep_up_is_closed_and_resumes_from_its_cursor(live):
    updated(subscription_queue_pages=2)
    # A client that stops reading: its library holds one message, then TCP buffers fill.
    # (No compression: the repeated reasons below would shrink to nothing.)
    socket = await session(live.url, OPERATOR_TOKEN, max_queue=1, compression=None)
    await subscribe(socket, WHITELIST, {"first": 50})
    await whitelist(100)
    cursor = (await data(socket))["whitelistChanges"]["pageInfo"]["endCursor"]
    before = push.overflows
    serial = 101
    while push.overflows == before:
        assert serial < 40_000, "the subscriber was never closed"
        await whitelist(*range(serial, serial + 50), reason="x" * 4000)
        serial += 50
    assert await close_code(socket) == 4413
    # It resumes from the last cursor it received: nothing lost, nothing twice.
    socket = await session(live.url, OPERATOR_TOKEN)
    await subscribe(socket, WHITELIST, {"after": cursor, "first": 100})
    items, _ = await feed_items(socket, "whitelistChanges", serial - 101)
    assert [i["imei"] for i in items] == [imei(n) for n in range(101, serial)]
    await socket.close()


async def test_subscriptions_end_with_the_session_at_logout(live):
    token = await login(live.http, "a.user")
    socket = await session(live.url, token)
    await subscribe(socket, STATUSES, {})
    mine = await application(live.firm_a, ApplicationStatus.DRAFT)
    await move(person(live.users["a"], Role.FIRM_USER), mine.id, Action.SUBMIT)
    assert (await data(socket))["applicationStatusChanges"]["applicationId"] == mine.id
    body = await gql(live.http, "mutation { logout { errors { code } } }", {}, token=token)
    assert "errors" not in body, body
    assert await close_code(socket) == 4401


async def test_connections_per_client_are_limited(live):
    updated(ws_max_connections_per_client=2)
    first = await session(live.url, OPERATOR_TOKEN)
    second = await session(live.url, OPERATOR_TOKEN)
    third = await connect(live.url, subprotocols=["graphql-transport-ws"])
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {OPERATOR_TOKEN}"}}
    await third.send(json.dumps(init))
    assert await close_code(third) == 4420
    await first.close()
    await second.close()
    fourth = await session(live.url, OPERATOR_TOKEN)  # a closed one frees its place
    await fourth.close()


async def test_an_idle_socket_is_closed(live):
    updated(ws_idle_timeout_seconds=1)
    socket = await session(live.url, OPERATOR_TOKEN)
    assert await close_code(socket) == 4410


async def test_the_feed_fast_path_answers_as_the_general_executor(live, monkeypatch):
    from gateway.feed_fast_path import FeedFastPath

    planned: list[str] = []
    build = FeedFastPath._build

    def spy(self, query, operation_name):
        plan = build(self, query, operation_name)
        planned.append("fast" if plan is not None else "general")
        return plan

    monkeypatch.setattr(FeedFastPath, "_build", spy)
    await whitelist(40, 41, reason="İade")
    fields = "items { cursor op imei status source brand model reason at } "
    fields += "pageInfo { endCursor hasNextPage }"
    fast = f"subscription {{ whitelistChanges(first: 1) {{ {fields} }} }}"
    # An inline fragment: the general executor's document.
    general = (
        "subscription { whitelistChanges(first: 1) { ... on WhitelistChangeConnection "
        f"{{ {fields} }} }} }}"
    )
    socket = await session(live.url, OPERATOR_TOKEN)
    await subscribe(socket, fast, id="fast")
    await subscribe(socket, general, id="general")
    for _ in range(2):
        assert await data(socket, "fast") == await data(socket, "general")
    assert planned == ["fast", "general"]
    await socket.close()


async def test_old_events_are_purged_after_the_retention(db, settings):
    from datetime import timedelta

    from resolvers import events
    from resolvers.event_retention import purge_events

    updated(event_retention_days=30)
    await events.job_died(1, "old.kind", "boom")
    clock.freeze(clock.now() + timedelta(days=31))
    await events.job_died(2, "new.kind", "boom")
    assert await purge_events() == 1
    assert await EventLog.all().values_list("subject_id", flat=True) == [2]
