"""Clones: a SIM swap (the same MSISDN with a new IMSI) raises no suspicion, several MSISDNs
or IMSIs in use at the same time do, for unregistered IMEIs too; staff run the detector now
and dismiss a suspicion with a reason; the firm that registered a suspect gets an e-mail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.demo import load_demo
from models import clock
from models.audit import AuditEvent
from models.network import CloneStatus, CloneSuspicion, clone_in_window
from models.notifications import Notification
from resolvers.operators import clones
from tests.support.api import error_codes, gql, login, make_world
from tests.support.operators import CHECK, OPERATOR_TOKEN, imei, register_tac, whitelist
from tests.support.workflow import deliver_mail, smtp_on_loopback

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
SUBMIT = """
mutation($key: String!, $observations: [ObservationInput!]!) {
  submitObservations(batchKey: $key, observations: $observations) { errors { code } }
}"""
RUN = "mutation { runCloneDetection { opened { id imei firmId status } errors { code } } }"
DISMISS = """mutation($id: Int!, $reason: String!) {
  dismissCloneSuspicion(id: $id, reason: $reason) {
    suspicion { id status closedAt dismissedAt dismissedBy dismissReason }
    errors { code field message } } }"""
LIST = "{ cloneSuspicions { items { id imei firmId status imsiCount } } }"
LINE, OTHER_LINE = "905331112233", "905559998877"


@pytest.fixture(autouse=True)
async def operator(db):
    clock.freeze(NOW)
    await load_demo()


def seen(value, imsi, minutes_ago, msisdn=LINE):
    at = (clock.now() - timedelta(minutes=minutes_ago)).isoformat()
    return {"imei": value, "imsi": imsi, "msisdn": msisdn, "seenAt": at}


async def observe(client, key, observations):
    body = await gql(
        client, SUBMIT, {"key": key, "observations": observations}, token=OPERATOR_TOKEN
    )
    assert body["data"]["submitObservations"]["errors"] == [], body


async def run(client, token):
    body = await gql(client, RUN, token=token)
    payload = body["data"]["runCloneDetection"]
    assert payload["errors"] == []
    return payload["opened"]


def test_a_sim_swap_is_one_subscriber_overlap_and_several_numbers_are_not():
    t, hour = NOW, timedelta(hours=1)
    swap = [(t, "A", "1"), (t + hour, "A", "1"), (t + 2 * hour, "B", "1")]
    assert clone_in_window(swap, 24 * hour) == 1
    # Both SIMs in use at the same time on one number: two phones.
    overlap = [(t, "A", "1"), (t + hour, "B", "1"), (t + 2 * hour, "A", "1")]
    assert clone_in_window(overlap, 24 * hour) == 2
    # One SIM, two numbers; and two SIMs with two numbers.
    assert clone_in_window([(t, "A", "1"), (t + hour, "A", "2")], 24 * hour) == 2
    assert clone_in_window([(t, "A", "1"), (t + hour, "B", "2")], 24 * hour) == 2
    # Without numbers the IMSIs are all there is to go by.
    assert clone_in_window([(t, "A", ""), (t + hour, "B", "")], 24 * hour) == 2
    # A swap followed by a third number within the window.
    assert clone_in_window([*swap, (t + 3 * hour, "C", "2")], 24 * hour) == 2


async def test_a_sim_swap_raises_nothing_and_overlapping_sims_do(client):
    world = await make_world()
    swapped, twin, numbers = imei(1), imei(2), imei(3)
    await whitelist(swapped, twin, numbers, firm_id=world.firm_a.id)
    await observe(
        client,
        "n1",
        [
            seen(swapped, "286010000000001", 300),
            seen(swapped, "286010000000002", 100),  # a new SIM on the same number
            seen(twin, "286010000000003", 300),
            seen(twin, "286010000000004", 200),
            seen(twin, "286010000000003", 100),  # the first SIM again: both in use
            seen(numbers, "286010000000005", 300, msisdn=LINE),
            seen(numbers, "286010000000005", 100, msisdn=OTHER_LINE),
        ],
    )
    reviewer = await login(client, "staff.reviewer")
    opened = await run(client, reviewer)
    assert sorted(s["imei"] for s in opened) == sorted([twin, numbers])
    [event] = await AuditEvent.filter(action="clone.detection_run")
    assert event.actor_name == "staff.reviewer"
    assert sorted(event.details["opened"]) == sorted([twin, numbers])
    check = await gql(client, CHECK, {"imeis": [swapped, twin]}, token=OPERATOR_TOKEN)
    assert [a["status"] for a in check["data"]["checkImeis"]] == ["REGISTERED", "CLONE_SUSPECTED"]


async def test_an_unregistered_imei_seen_with_two_subscribers_is_listed_for_staff(client):
    await make_world()
    await register_tac()  # a valid IMEI of a registered TAC: its attaches start a grace clock
    stranger = imei(10)
    await observe(
        client,
        "u1",
        [
            seen(stranger, "286010000000011", 30, msisdn=LINE),
            seen(stranger, "286010000000012", 20, msisdn=OTHER_LINE),
        ],
    )
    opened = await run(client, await login(client, "staff.admin"))
    assert [(s["imei"], s["firmId"], s["status"]) for s in opened] == [(stranger, None, "OPEN")]
    assert await Notification.filter(event=clones.CLONE_MAIL_EVENT).count() == 0  # no firm
    # The verdict stays the unregistered one (grace, not a pairing matter).
    check = await gql(client, CHECK, {"imeis": [stranger]}, token=OPERATOR_TOKEN)
    assert check["data"]["checkImeis"][0]["status"] == "GRACE_PERIOD"


async def test_the_registering_firm_gets_an_email(client, settings):
    world = await make_world()
    cloned = imei(20)
    await whitelist(cloned, firm_id=world.firm_a.id, brand="SAMSUNG", model="SM-G9359")
    await observe(
        client,
        "m1",
        [
            seen(cloned, "286010000000021", 30, msisdn=LINE),
            seen(cloned, "286010000000022", 20, msisdn=OTHER_LINE),
        ],
    )
    async with smtp_on_loopback(settings) as server:
        await clones.detect_clones()
        queued = await Notification.filter(event=clones.CLONE_MAIL_EVENT)
        assert {n.recipient for n in queued} == {"firma@example.com", "a.super@example.com"}
        assert await deliver_mail() >= 1
        [mail] = server.mailbox.to("firma@example.com")
        assert mail.subject == f"MCKS klon şüphesi: IMEI {cloned}"
        assert "SAMSUNG SM-G9359" in mail.text and "eşleştirmeniz" in mail.text
        assert "pair the IMEI with a single phone number" in mail.text
        assert server.mailbox.to("a.super@example.com")
    # Another firm's suspect does not mail firm A.
    assert {n.firm_id for n in await Notification.filter(event=clones.CLONE_MAIL_EVENT)} == {
        world.firm_a.id
    }


async def test_staff_dismiss_a_suspicion_with_a_reason_and_only_new_sightings_reopen_it(client):
    world = await make_world()
    phone = imei(30)
    await whitelist(phone, firm_id=world.firm_a.id)
    await observe(
        client,
        "d1",
        [
            seen(phone, "286010000000031", 60, msisdn=LINE),
            seen(phone, "286010000000032", 50, msisdn=OTHER_LINE),
        ],
    )
    reviewer = await login(client, "staff.reviewer")
    [opened] = await run(client, reviewer)

    # Who may dismiss, and with what.
    firm = await login(client, "a.super")
    assert error_codes(
        await gql(client, DISMISS, {"id": opened["id"], "reason": "x"}, token=firm)
    ) == ["FORBIDDEN"]
    blank = await gql(client, DISMISS, {"id": opened["id"], "reason": "  "}, token=reviewer)
    [error] = blank["data"]["dismissCloneSuspicion"]["errors"]
    assert error["field"] == "reason" and "boş olamaz" in error["message"]

    reason = "Abone aynı kişi: ikinci hat kurumsal hat (operatör teyidi)"
    body = await gql(client, DISMISS, {"id": opened["id"], "reason": reason}, token=reviewer)
    suspicion = body["data"]["dismissCloneSuspicion"]["suspicion"]
    assert suspicion["status"] == "CLOSED" and suspicion["dismissReason"] == reason
    assert suspicion["dismissedBy"] and suspicion["dismissedAt"] == suspicion["closedAt"]
    [event] = await AuditEvent.filter(action="clone.dismissed")
    assert event.firm_id == world.firm_a.id and event.details["reason"] == reason
    again = await gql(client, DISMISS, {"id": opened["id"], "reason": reason}, token=reviewer)
    assert [e["code"] for e in again["data"]["dismissCloneSuspicion"]["errors"]] == [
        "INVALID_STATE"
    ]
    check = await gql(client, CHECK, {"imeis": [phone]}, token=OPERATOR_TOKEN)
    assert check["data"]["checkImeis"][0]["status"] == "REGISTERED"

    # The same subscribers seen again later do not reopen it…
    clock.advance(timedelta(minutes=10))
    await observe(client, "d2", [seen(phone, "286010000000031", 1, msisdn=LINE)])
    assert await run(client, reviewer) == []
    # …but a second subscriber after the dismissal does.
    clock.advance(timedelta(minutes=10))
    await observe(client, "d3", [seen(phone, "286010000000099", 1, msisdn="905001112233")])
    [reopened] = await run(client, reviewer)
    assert reopened["imei"] == phone and reopened["status"] == "OPEN"
    assert (await CloneSuspicion.get(imei=phone)).status == CloneStatus.OPEN
