"""A provisional registration has a deadline: unverified N days after submission it turns
BLOCK with VERIFICATION_OVERDUE until the authorities answer — in `checkImeis` on both of its
paths, and in what an operator mirroring the feed and the export decides; staff list the
overdue declarations, and a verification batch whose job dies is listed the same day."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from gateway.demo import load_demo
from models import clock
from models.imei_status import (
    VERIFICATION_OVERDUE,
    ImeiStatus,
    Verdict,
    decide,
)
from models.jobs import Job, JobStatus
from models.registry import WhitelistStatus
from models.roles import Role
from resolvers import jobs
from resolvers.actor import Actor
from resolvers.individuals import schedule_periodic, verification
from resolvers.individuals import whitelist as staff_whitelist
from resolvers.settings import updated
from tests.support.api import gql, login, make_world
from tests.support.individuals import (
    APPLE_TAC,
    BY_ID,
    EDEVLET_TOKEN,
    OPERATOR_TOKEN,
    authorities_on_loopback,
    declaration,
    imei,
    national_id,
    point_authorities_at,
    seed_tacs,
    submit_edevlet,
)

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
DEADLINE_DAYS = 10

# The fast path plans this text; the fragment sends the same check through strawberry.
FAST = "query($imeis: [String!]!) { checkImeis(imeis: $imeis) { imei verdict status reason } }"
GENERAL = (
    "query($imeis: [String!]!) { checkImeis(imeis: $imeis) { ...a } } "
    "fragment a on ImeiCheck { imei verdict status reason }"
)
FEED = """query($after: String) { whitelistChanges(after: $after, first: 1000) {
  items { op imei status reason } pageInfo { endCursor } } }"""
OVERDUE_LIST = """query { individualRegistrations(verificationOverdue: true) {
  totalCount items { id verificationDueAt overdueAt imeis { imei whitelistStatus } } } }"""
HISTORY = """query($imei: String!) { imeiHistory(imei: $imei) {
  kind source sourceId actor detail reason } }"""
FAILED_BATCHES = """query { verificationBatches(status: FAILED) {
  items { id status failedAt lastError jobId } } }"""


@pytest.fixture(autouse=True)
async def registry(db):
    clock.freeze(START)
    await load_demo()
    await seed_tacs()
    await make_world()
    updated(
        individual_device_limit=100,
        verification_interval_minutes=60,
        verification_deadline_days=DEADLINE_DAYS,
    )


async def tick():
    """What the worker does at a tick: schedule the periodic jobs, run whatever is due."""
    await schedule_periodic()
    await jobs.drain("worker-1")


async def both_paths(client, imeis):
    fast = await gql(client, FAST, {"imeis": imeis}, token=OPERATOR_TOKEN)
    general = await gql(client, GENERAL, {"imeis": imeis}, token=OPERATOR_TOKEN)
    assert fast == general
    return {a["imei"]: a for a in fast["data"]["checkImeis"]}


def eir(whitelist: dict[str, str], imei_: str) -> tuple[str, str, str | None]:
    """An operator's EIR deciding from its mirror of the whitelist (status per IMEI), as the
    feed's documentation says: OVERDUE blocks with VERIFICATION_OVERDUE."""
    status = whitelist.get(imei_)
    if status == "OVERDUE":
        return ("BLOCK", "PROVISIONAL", VERIFICATION_OVERDUE)
    if status is None:
        return ("BLOCK", "NOT_REGISTERED", None)
    return ("ALLOW", status, None)


async def export_and_follow(client, cursor=None, mirror=None):
    """The whitelist as an operator holds it: the export once, then the feed after it."""
    mirror = dict(mirror or {})
    if cursor is None:
        response = await client.get(
            "/exports/whitelist.csv", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}
        )
        assert response.status_code == 200
        rows = list(csv.reader(io.StringIO(response.text)))[1:]
        mirror = {row[0]: row[1] for row in rows}
        return mirror, response.headers["x-mcks-feed-cursor"], []
    body = await gql(client, FEED, {"after": cursor}, token=OPERATOR_TOKEN)
    page = body["data"]["whitelistChanges"]
    for item in page["items"]:
        if item["op"] == "REMOVE":
            mirror.pop(item["imei"], None)
        else:
            mirror[item["imei"]] = item["status"]
    return mirror, page["pageInfo"]["endCursor"], page["items"]


def test_overdue_blocks_before_pairing_clone_and_registration():
    common = dict(
        blacklist_reason=None,
        msisdn=None,
        removal_reason=None,
        first_seen_at=None,
        now=START,
        grace=timedelta(days=120),
    )
    for paired, clone in ((None, False), ("905331112233", False), (None, True)):
        overdue = decide(
            paired_msisdn=paired, clone_suspected=clone, whitelist_status="OVERDUE", **common
        )
        assert (overdue.verdict, overdue.status, overdue.reason) == (
            Verdict.BLOCK,
            ImeiStatus.PROVISIONAL,
            VERIFICATION_OVERDUE,
        )
    stolen = decide(
        **{**common, "blacklist_reason": "STOLEN"},
        paired_msisdn=None,
        clone_suspected=False,
        whitelist_status="OVERDUE",
    )
    assert stolen.status == ImeiStatus.BLACKLISTED  # the blacklist still comes first


async def test_an_unverified_declaration_is_blocked_at_its_deadline_until_the_answer_comes(
    client,
):
    phone = [imei(1, APPLE_TAC), imei(2, APPLE_TAC)]
    payload = await submit_edevlet(client, declaration("EDV-LATE", phone, national=national_id(1)))
    assert payload["errors"] == [], payload
    registration = payload["registration"]
    assert registration["status"] == "PENDING_VERIFICATION"
    # The operator mirrors the whitelist: the export now, the feed from then on.
    mirror, cursor, _ = await export_and_follow(client)
    assert mirror[imei(1, APPLE_TAC)] == "PROVISIONAL"

    # No authority is configured: nothing answers. A minute before the deadline: allowed.
    clock.advance(timedelta(days=DEADLINE_DAYS) - timedelta(minutes=1))
    await tick()
    answers = await both_paths(client, phone)
    assert {a["verdict"] for a in answers.values()} == {"ALLOW"}
    admin = await login(client, "staff.admin")
    listed = (await gql(client, OVERDUE_LIST, token=admin))["data"]["individualRegistrations"]
    assert listed["totalCount"] == 0

    clock.advance(timedelta(minutes=1))
    await tick()
    answers = await both_paths(client, phone)
    for answer in answers.values():
        assert (answer["verdict"], answer["status"], answer["reason"]) == (
            "BLOCK",
            "PROVISIONAL",
            VERIFICATION_OVERDUE,
        )
    # The feed announced it; the operator's EIR decides the same from its mirror.
    mirror, cursor, items = await export_and_follow(client, cursor, mirror)
    assert [(i["op"], i["status"]) for i in items] == [("UPDATE", "OVERDUE")] * 2
    assert all(i["reason"].startswith(VERIFICATION_OVERDUE) for i in items)
    for number in phone:
        answer = answers[number]
        assert eir(mirror, number) == (answer["verdict"], answer["status"], answer["reason"])
    # The public query does not call it registered any more.
    public = await gql(
        client, "query($i: String!) { imeiStatus(imei: $i) { registered status } }", {"i": phone[0]}
    )
    assert public["data"]["imeiStatus"] == {"registered": False, "status": "PROVISIONAL"}
    # A fresh export says so too.
    exported, _, _ = await export_and_follow(client)
    assert exported[imei(1, APPLE_TAC)] == exported[imei(2, APPLE_TAC)] == "OVERDUE"

    # Staff see it listed, with its deadline.
    listed = (await gql(client, OVERDUE_LIST, token=admin))["data"]["individualRegistrations"]
    assert listed["totalCount"] == 1
    item = listed["items"][0]
    assert item["id"] == registration["id"]
    assert item["verificationDueAt"].startswith("2026-03-11T09:00:00")
    assert item["overdueAt"].startswith("2026-03-11T09:00:00")
    assert {i["whitelistStatus"] for i in item["imeis"]} == {"OVERDUE"}
    # Another tick changes nothing more (no repeated feed rows).
    await tick()
    _, cursor, items = await export_and_follow(client, cursor, mirror)
    assert items == []

    # The authorities answer at last: the block lifts.
    clock.advance(timedelta(hours=1))  # the next verification slot
    async with authorities_on_loopback():
        await tick()
    answers = await both_paths(client, phone)
    assert {(a["verdict"], a["status"]) for a in answers.values()} == {("ALLOW", "REGISTERED")}
    mirror, _, items = await export_and_follow(client, cursor, mirror)
    assert [(i["op"], i["status"]) for i in items] == [("UPDATE", "REGISTERED")] * 2
    for number in phone:
        answer = answers[number]
        assert eir(mirror, number) == (answer["verdict"], answer["status"], answer["reason"])
    listed = (await gql(client, OVERDUE_LIST, token=admin))["data"]["individualRegistrations"]
    assert listed["totalCount"] == 0
    body = await gql(client, BY_ID, {"id": registration["id"]}, token=EDEVLET_TOKEN)
    assert body["data"]["individualRegistration"]["status"] == "VERIFIED"

    # Staff read the IMEI's history: the declaration, the block, the late answer.
    history = await gql(client, HISTORY, {"imei": phone[0]}, token=admin)
    events = [
        (e["kind"], e["source"], e["sourceId"], e["actor"], e["detail"], e["reason"][:20])
        for e in history["data"]["imeiHistory"]
    ]
    assert events[0][:4] == ("WHITELISTED", "REGISTRATION", registration["id"], "e-Devlet Kapısı")
    assert events[1][:2] == ("STATUS_CHANGED", "REGISTRATION")
    assert events[1][3:] == ("verification-deadline", "OVERDUE", VERIFICATION_OVERDUE)
    assert events[2][:5] == ("STATUS_CHANGED", "REGISTRATION", None, "verification", "REGISTERED")
    assert len(events) == 3


async def test_no_deadline_blocks_nothing(client):
    updated(verification_deadline_days=0)
    phone = [imei(3, APPLE_TAC), imei(4, APPLE_TAC)]
    payload = await submit_edevlet(client, declaration("EDV-NODL", phone, national=national_id(2)))
    assert payload["errors"] == []
    clock.advance(timedelta(days=400))
    await tick()
    answers = await both_paths(client, phone)
    assert {(a["verdict"], a["status"]) for a in answers.values()} == {("ALLOW", "PROVISIONAL")}


async def test_a_batch_whose_job_dies_is_listed_for_staff_at_once(client):
    async with authorities_on_loopback() as base_url:
        payload = await submit_edevlet(
            client,
            declaration(
                "EDV-DEAD", [imei(5, APPLE_TAC), imei(6, APPLE_TAC)], national=national_id(3)
            ),
        )
        assert payload["errors"] == []
        batches = await verification.dispatch()
        assert batches
        # Before the batch is sent the authorities' configuration is lost: the job cannot
        # send and gives up at once (no retry would help).
        point_authorities_at("")
        clock.advance(timedelta(minutes=3))
        await jobs.drain("worker-1")
        point_authorities_at(base_url)
    dead = await Job.filter(kind=verification.BATCH_JOB).values_list("status", flat=True)
    assert set(dead) == {JobStatus.DEAD}
    admin = await login(client, "staff.admin")
    failed = (await gql(client, FAILED_BATCHES, token=admin))["data"]["verificationBatches"]
    assert {b["id"] for b in failed["items"]} == {b.id for b in batches}
    for batch in failed["items"]:
        assert batch["status"] == "FAILED"
        assert batch["failedAt"].startswith("2026-03-01T09:03:00")
        assert "misconfigured" in batch["lastError"]


async def test_a_batch_given_up_after_its_last_attempt_is_listed_that_day(client, monkeypatch):
    updated(verification_max_attempts=1)
    async with authorities_on_loopback():
        payload = await submit_edevlet(
            client,
            declaration(
                "EDV-BUG", [imei(7, APPLE_TAC), imei(8, APPLE_TAC)], national=national_id(4)
            ),
        )
        assert payload["errors"] == []
        batches = await verification.dispatch()

        async def broken(batch_id, answers):
            raise RuntimeError("answers could not be stored")

        monkeypatch.setattr(verification, "apply_answers", broken)
        await jobs.drain("worker-1")
    admin = await login(client, "staff.admin")
    failed = (await gql(client, FAILED_BATCHES, token=admin))["data"]["verificationBatches"]
    assert {b["id"] for b in failed["items"]} == {b.id for b in batches}
    assert all("answers could not be stored" in b["lastError"] for b in failed["items"])
    assert all(b["failedAt"].startswith("2026-03-01") for b in failed["items"])
    # The IMEIs stay provisional (nothing was decided), and are still allowed.
    answers = await both_paths(client, [imei(7, APPLE_TAC)])
    assert answers[imei(7, APPLE_TAC)]["status"] == WhitelistStatus.PROVISIONAL.value


async def test_an_overdue_imei_restored_by_staff_stays_blocked(client):
    phone = [imei(9, APPLE_TAC), imei(10, APPLE_TAC)]
    payload = await submit_edevlet(client, declaration("EDV-REST", phone, national=national_id(5)))
    assert payload["errors"] == []
    clock.advance(timedelta(days=DEADLINE_DAYS))
    await tick()
    staff = Actor(kind="USER", role=Role.STAFF_ADMIN, id=1, name="staff.admin")
    await staff_whitelist.remove_whitelist_entry(staff, phone[0], "Yanlışlıkla girilmiş")
    assert (await both_paths(client, phone[:1]))[phone[0]]["status"] == "NOT_REGISTERED"
    await staff_whitelist.restore_whitelist_entry(staff, phone[0], "Kayıt doğru")
    answer = (await both_paths(client, phone[:1]))[phone[0]]
    assert (answer["verdict"], answer["reason"]) == ("BLOCK", VERIFICATION_OVERDUE)
