"""Operators upload network observations; a registered IMEI seen with several subscribers
inside the window becomes CLONE_SUSPECTED, its firm is notified and staff see it listed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.demo import load_demo
from models import clock
from models.audit import AuditEvent
from models.grace import FirstAttach
from models.jobs import Job
from models.network import (
    CloneStatus,
    CloneSuspicion,
    ImeiPairing,
    NetworkObservation,
    ObservationBatch,
    clone_in_window,
)
from resolvers import jobs
from resolvers.job_kinds import load_handlers
from resolvers.operators import clones, schedule_periodic
from resolvers.settings import updated
from tests.support.api import error_codes, gql, login, make_world
from tests.support.operators import CHECK, OPERATOR_TOKEN, imei, register_tac, whitelist

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
SUBMIT = """
mutation($key: String!, $observations: [ObservationInput!]!) {
  submitObservations(batchKey: $key, observations: $observations) {
    receipt { batchKey accepted rejected replayed rejections { index field reason } }
    errors { code field }
  }
}"""
SUSPICIONS = "{ cloneSuspicions { items { imei firmId brand model imsiCount status } } }"


@pytest.fixture(autouse=True)
async def operator(db):
    clock.freeze(NOW)
    await load_demo()


def seen(value, imsi, minutes_ago, msisdn="905331112233"):
    at = (NOW - timedelta(minutes=minutes_ago)).isoformat()
    return {"imei": value, "imsi": imsi, "msisdn": msisdn, "seenAt": at}


async def submit(client, key, observations, token=OPERATOR_TOKEN):
    body = await gql(client, SUBMIT, {"key": key, "observations": observations}, token=token)
    return body["data"]["submitObservations"] if body.get("data") else body


async def test_a_batch_is_stored_once_whatever_the_retries(client):
    await register_tac()
    observations = [
        seen(imei(1)[:14], "286010000000001", 30),  # networks send 14 digits
        seen("123", "286010000000001", 30),
        seen(imei(2), "abc", 30),
        seen(imei(3), "286010000000003", -60),  # an hour in the future: a wrong clock
        seen(imei(4), "286010000000004", 10, msisdn=""),
    ]
    first = await submit(client, "2026-05-04T12:00/0001", observations)
    assert first["errors"] == []
    assert first["receipt"] == {
        "batchKey": "2026-05-04T12:00/0001",
        "accepted": 2,
        "rejected": 3,
        "replayed": False,
        "rejections": [
            {"index": 1, "field": "imei", "reason": "INVALID_IMEI"},
            {"index": 2, "field": "imsi", "reason": "INVALID_IMSI"},
            {"index": 3, "field": "seenAt", "reason": "IN_THE_FUTURE"},
        ],
    }
    again = await submit(client, "2026-05-04T12:00/0001", observations)
    assert again["receipt"]["replayed"] is True and again["receipt"]["accepted"] == 2
    assert await NetworkObservation.all().count() == 2
    assert await ObservationBatch.all().count() == 1
    assert sorted(await NetworkObservation.all().values_list("imei", flat=True)) == [
        imei(1),
        imei(4),
    ]
    # Observed unregistered IMEIs (of a registry TAC) start their grace period.
    [attach] = await FirstAttach.filter(imei=imei(1))
    assert (attach.operator_code, attach.source) == ("DEMOGSM", "OBSERVATION")


async def test_a_bad_batch_key_or_a_firm_is_refused(client):
    bad = await submit(client, "bad key with spaces", [])
    assert [(e["code"], e["field"]) for e in bad["errors"]] == [("INVALID_INPUT", "batchKey")]
    await make_world()
    firm = await submit(client, "k1", [], token=await login(client, "a.user"))
    assert error_codes(firm) == ["FORBIDDEN"]


async def test_a_registered_imei_seen_with_two_subscribers_becomes_a_clone_suspect(client):
    world = await make_world()
    cloned, honest, far_apart = imei(10), imei(11), imei(12)
    await whitelist(cloned, honest, far_apart, firm_id=world.firm_a.id, brand="SAMSUNG")
    await submit(
        client,
        "b1",
        [
            seen(cloned, "286010000000001", 300),
            seen(honest, "286010000000002", 300),
            seen(honest, "286010000000002", 200),  # the same subscriber again
            seen(far_apart, "286010000000003", 60 * 50),  # 50 hours ago …
            seen(imei(13), "286010000000004", 100),  # not registered: not for pairing
            seen(imei(13), "286010000000005", 90),
        ],
    )
    await submit(
        client,
        "b2",
        [
            seen(cloned, "286010000000009", 20, msisdn="905559998877"),  # another line, 24 h
            seen(far_apart, "286010000000008", 10),  # … and now another SIM: outside 24 h
        ],
    )
    opened = await clones.detect_clones()
    assert [s.imei for s in opened] == [cloned]
    assert await ObservationBatch.filter(scanned_at__isnull=True).count() == 0

    check = await gql(client, CHECK, {"imeis": [cloned, honest]}, token=OPERATOR_TOKEN)
    suspect, fine = check["data"]["checkImeis"]
    assert (suspect["verdict"], suspect["status"]) == ("ALLOW", "CLONE_SUSPECTED")
    assert (fine["verdict"], fine["status"]) == ("ALLOW", "REGISTERED")

    # The firm that registered it is notified …
    [notice] = await AuditEvent.filter(action="clone.suspected")
    assert notice.firm_id == world.firm_a.id and notice.details["imei"] == cloned
    # … and sees it, staff see it, another firm does not, nor operators.
    expected = {
        "imei": cloned,
        "firmId": world.firm_a.id,
        "brand": "SAMSUNG",
        "model": "A2403",
        "imsiCount": 2,
        "status": "OPEN",
    }
    own = await gql(client, SUSPICIONS, token=await login(client, "a.user"))
    assert own["data"]["cloneSuspicions"]["items"] == [expected]
    staff = await gql(client, SUSPICIONS, token=await login(client, "staff.reviewer"))
    assert staff["data"]["cloneSuspicions"]["items"] == [expected]
    other = await gql(client, SUSPICIONS, token=await login(client, "b.user"))
    assert other["data"]["cloneSuspicions"]["items"] == []
    assert error_codes(await gql(client, SUSPICIONS, token=OPERATOR_TOKEN)) == ["FORBIDDEN"]

    # Scanning again finds nothing new; once paired, the pairing rule applies.
    assert await clones.detect_clones() == []
    await ImeiPairing.create(imei=cloned, msisdn="905331112233", paired_at=clock.now())
    paired = await gql(
        client, CHECK, {"imeis": [cloned], "msisdn": "+905551112233"}, token=OPERATOR_TOKEN
    )
    assert paired["data"]["checkImeis"][0]["status"] == "PAIRED"
    assert paired["data"]["checkImeis"][0]["verdict"] == "BLOCK"


async def test_a_closed_suspicion_is_reopened_when_seen_cloned_again(client):
    await whitelist(imei(20))
    await CloneSuspicion.create(
        imei=imei(20), imsi_count=2, status=CloneStatus.CLOSED, detected_at=NOW, closed_at=NOW
    )
    await submit(client, "c1", [seen(imei(20), "286010000000001", 5)])
    await submit(client, "c2", [seen(imei(20), "286010000000002", 1, msisdn="905559998877")])
    [reopened] = await clones.detect_clones()
    assert reopened.status == CloneStatus.OPEN and reopened.closed_at is None


async def test_the_window_is_configurable(client):
    updated(clone_window_hours=1)
    await whitelist(imei(30))
    await submit(
        client,
        "w1",
        [
            seen(imei(30), "286010000000001", 120),
            seen(imei(30), "286010000000002", 0, msisdn="905559998877"),
        ],
    )
    assert await clones.detect_clones() == []


async def test_the_detector_runs_as_a_periodic_job_once_per_slot(client):
    load_handlers()
    await whitelist(imei(40))
    await submit(
        client,
        "p1",
        [
            seen(imei(40), "286010000000001", 5),
            seen(imei(40), "286010000000002", 4, msisdn="905559998877"),
        ],
    )
    await schedule_periodic()
    await schedule_periodic()  # the same slot: nothing more
    assert await Job.filter(kind=clones.JOB_KIND).count() == 1
    assert await jobs.drain() == 1
    assert await CloneSuspicion.filter(imei=imei(40)).exists()
    await schedule_periodic()  # done, but still the same slot
    assert await Job.filter(kind=clones.JOB_KIND).count() == 1
    clock.advance(timedelta(minutes=15))
    await schedule_periodic()
    assert await Job.filter(kind=clones.JOB_KIND).count() == 2


def test_the_window_rule_is_a_sliding_window():
    t = NOW
    hour = timedelta(hours=1)
    assert clone_in_window([], hour) == 0
    assert clone_in_window([(t, "A", ""), (t + 2 * hour, "A", "")], hour) == 1
    assert clone_in_window([(t, "A", ""), (t + hour, "B", "")], hour) == 2  # at most a window apart
    assert clone_in_window([(t, "A", ""), (t + hour + timedelta(seconds=1), "B", "")], hour) == 1
    # Unordered input; three subscribers, but never more than two within one hour.
    sightings = [
        (t + 90 * timedelta(minutes=1), "C", ""),
        (t, "A", ""),
        (t + 50 * timedelta(minutes=1), "B", ""),
    ]
    assert clone_in_window(sightings, hour) == 2
    assert clone_in_window(sightings, 2 * hour) == 3
