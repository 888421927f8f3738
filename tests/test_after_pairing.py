"""Pairing (art. 14): a clone-suspected or flagged IMEI is paired by the firm that registered
it with one GSM number; operators then allow it only with that number; only staff change
pairings, and operators follow every change through the pairing feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.demo import load_demo
from models import clock
from models.after import pairing_msisdn
from models.audit import AuditEvent
from models.network import CloneSuspicion
from resolvers.operators import clones
from resolvers.settings import updated
from tests.support.after import imei, operator_view, register, registered_application
from tests.support.api import error_codes, gql, login, make_world
from tests.support.operators import OPERATOR_TOKEN

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
SUBMIT = """mutation($key: String!, $observations: [ObservationInput!]!) {
  submitObservations(batchKey: $key, observations: $observations) { errors { code } }
}"""
PAIR = """mutation($imei: String!, $msisdn: String!) {
  pairImei(imei: $imei, msisdn: $msisdn) {
    pairing { imei msisdn firmId pairedBy } errors { code field message }
  }
}"""
CHANGE = """mutation($imei: String!, $msisdn: String!, $reason: String!) {
  changeImeiPairing(imei: $imei, msisdn: $msisdn, reason: $reason) {
    pairing { imei msisdn pairedBy } errors { code field }
  }
}"""
REMOVE = """mutation($imei: String!, $reason: String!) {
  removeImeiPairing(imei: $imei, reason: $reason) { pairing { imei msisdn } errors { code field } }
}"""
FLAG = """mutation($imei: String!, $reason: String!) {
  flagImeiForPairing(imei: $imei, reason: $reason) {
    flag { id imei firmId reason flaggedBy closedAt } errors { code field }
  }
}"""
FLAGS = "{ pairingFlags { items { imei closedAt } } }"
PAIRINGS = """query($imei: String, $firm: Int) {
  imeiPairings(imei: $imei, firmId: $firm) { items { imei msisdn firmId } }
}"""
FEED = """query($after: String) {
  pairingChanges(after: $after, first: 2) {
    items { cursor op imei msisdn reason } pageInfo { endCursor hasNextPage }
  }
}"""
SUSPICIONS = "{ cloneSuspicions { items { imei status } } }"

CLONED, FLAGGED, PLAIN, B_CLONED = imei(1), imei(2), imei(3), imei(4)
NUMBER, E164 = "0532 111 22 33", "+905321112233"


@pytest.fixture
async def world(db, settings):
    clock.freeze(NOW)
    updated(grace_period_days=0)
    world = await make_world()
    await load_demo()
    application = await registered_application(world.firm_a)
    await register(application, CLONED, FLAGGED, PLAIN)
    b_application = await registered_application(world.firm_b)
    await register(b_application, B_CLONED)
    await CloneSuspicion.create(
        imei=B_CLONED, firm_id=world.firm_b.id, imsi_count=2, detected_at=NOW
    )
    return world


async def detect_clone(client, value):
    """Two subscribers with one IMEI within the hour, as the operator reports it."""
    observations = [
        {
            "imei": value,
            "imsi": imsi,
            "msisdn": "",
            "seenAt": (NOW - timedelta(minutes=m)).isoformat(),
        }
        for imsi, m in (("286010000000001", 50), ("286010000000002", 20))
    ]
    body = await gql(
        client,
        SUBMIT,
        {"key": f"batch-{value}", "observations": observations},
        token=OPERATOR_TOKEN,
    )
    assert body["data"]["submitObservations"]["errors"] == []
    await clones.detect_clones()


async def pair(client, token, value, number=NUMBER):
    body = await gql(client, PAIR, {"imei": value, "msisdn": number}, token=token)
    assert "errors" not in body, body
    return body["data"]["pairImei"]


async def feed(client, after=None):
    """The whole pairing feed, followed page by page like an EIR does."""
    items = []
    while True:
        body = await gql(client, FEED, {"after": after}, token=OPERATOR_TOKEN)
        page = body["data"]["pairingChanges"]
        items += page["items"]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            return items, after


async def test_a_clone_suspected_imei_is_paired_and_allowed_only_with_its_number(client, world):
    await detect_clone(client, CLONED)
    assert await operator_view(client, CLONED) == {CLONED: ("ALLOW", "CLONE_SUSPECTED", None)}
    token = await login(client, "a.user")

    paired = await pair(client, token, CLONED)

    assert paired["errors"] == []
    assert paired["pairing"] == {
        "imei": CLONED,
        "msisdn": "905321112233",
        "firmId": world.firm_a.id,
        "pairedBy": "a.user",
    }
    assert await operator_view(client, CLONED, msisdn=E164) == {CLONED: ("ALLOW", "PAIRED", None)}
    assert await operator_view(client, CLONED, msisdn="+905329998877") == {
        CLONED: ("BLOCK", "PAIRED", "MSISDN_MISMATCH")
    }
    assert await operator_view(client, CLONED) == {CLONED: ("BLOCK", "PAIRED", "MSISDN_REQUIRED")}
    suspicions = await gql(client, SUSPICIONS, token=token)
    assert suspicions["data"]["cloneSuspicions"]["items"] == [{"imei": CLONED, "status": "CLOSED"}]
    items, _ = await feed(client)
    assert [(i["op"], i["imei"], i["msisdn"], i["reason"]) for i in items] == [
        ("ADD", CLONED, "905321112233", "CLONE_SUSPECTED")
    ]
    event = await AuditEvent.get(action="pairing.paired")
    assert (event.subject_id, event.firm_id, event.details["msisdn"]) == (
        CLONED,
        world.firm_a.id,
        "905321112233",
    )
    # Once only: a change is the regulator's.
    again = await pair(client, token, CLONED, "+90 533 444 55 66")
    assert [e["code"] for e in again["errors"]] == ["ALREADY_PAIRED"]


async def test_an_imei_that_is_not_clone_suspected_is_not_paired(client, world):
    token = await login(client, "a.super")

    refused = await pair(client, token, PLAIN)

    [error] = refused["errors"]
    assert (error["code"], error["field"]) == ("IMEI_NOT_PAIRABLE", "imei")
    assert "klon şüphesi" in error["message"]
    assert await operator_view(client, PLAIN, msisdn=E164) == {PLAIN: ("ALLOW", "REGISTERED", None)}
    assert (await feed(client))[0] == []


async def test_a_firm_pairs_only_imeis_it_registered(client, world):
    token = await login(client, "a.user")

    others = await pair(client, token, B_CLONED)
    unknown = await pair(client, token, imei(90))

    assert [e["code"] for e in others["errors"]] == ["IMEI_OF_ANOTHER_FIRM"]
    assert [e["code"] for e in unknown["errors"]] == ["IMEI_NOT_REGISTERED"]
    assert await operator_view(client, B_CLONED) == {B_CLONED: ("ALLOW", "CLONE_SUSPECTED", None)}


async def test_staff_flag_an_imei_the_firm_then_pairs(client, world):
    reviewer = await login(client, "staff.reviewer")
    flagged = await gql(
        client,
        FLAG,
        {"imei": FLAGGED, "reason": "Emniyet yazısı: IMEI değiştirilmiş"},
        token=reviewer,
    )
    flag = flagged["data"]["flagImeiForPairing"]
    assert flag["errors"] == []
    assert (flag["flag"]["firmId"], flag["flag"]["flaggedBy"]) == (
        world.firm_a.id,
        "staff.reviewer",
    )
    twice = await gql(client, FLAG, {"imei": FLAGGED, "reason": "tekrar"}, token=reviewer)
    assert [e["code"] for e in twice["data"]["flagImeiForPairing"]["errors"]] == ["ALREADY_EXISTS"]
    token = await login(client, "a.user")
    assert (await gql(client, FLAGS, token=token))["data"]["pairingFlags"]["items"] == [
        {"imei": FLAGGED, "closedAt": None}
    ]
    assert (await gql(client, FLAGS, token=await login(client, "b.user")))["data"]["pairingFlags"][
        "items"
    ] == []

    paired = await pair(client, token, FLAGGED, "5321112233")

    assert paired["errors"] == []
    assert await operator_view(client, FLAGGED, msisdn=E164) == {FLAGGED: ("ALLOW", "PAIRED", None)}
    assert (await gql(client, FLAGS, token=token))["data"]["pairingFlags"]["items"] == []
    assert (await feed(client))[0][0]["reason"] == "FLAGGED"


async def test_only_staff_change_or_end_a_pairing_and_operators_follow(client, world):
    await detect_clone(client, CLONED)
    token = await login(client, "a.user")
    assert (await pair(client, token, CLONED))["errors"] == []
    _, cursor = await feed(client)
    firm_change = await gql(
        client, CHANGE, {"imei": CLONED, "msisdn": "05334445566", "reason": "x"}, token=token
    )
    assert error_codes(firm_change) == ["FORBIDDEN"]
    admin = await login(client, "staff.admin")

    changed = await gql(
        client,
        CHANGE,
        {"imei": CLONED, "msisdn": "+90 533 444 55 66", "reason": "Abone numara değiştirdi"},
        token=admin,
    )

    assert changed["data"]["changeImeiPairing"]["pairing"] == {
        "imei": CLONED,
        "msisdn": "905334445566",
        "pairedBy": "staff.admin",
    }
    assert await operator_view(client, CLONED, msisdn=E164) == {
        CLONED: ("BLOCK", "PAIRED", "MSISDN_MISMATCH")
    }
    assert await operator_view(client, CLONED, msisdn="+905334445566") == {
        CLONED: ("ALLOW", "PAIRED", None)
    }

    removed = await gql(
        client, REMOVE, {"imei": CLONED, "reason": "Klon cihaz bulundu"}, token=admin
    )

    assert removed["data"]["removeImeiPairing"]["pairing"]["msisdn"] == "905334445566"
    assert await operator_view(client, CLONED) == {CLONED: ("ALLOW", "REGISTERED", None)}
    since, _ = await feed(client, cursor)
    assert [(i["op"], i["msisdn"], i["reason"]) for i in since] == [
        ("UPDATE", "905334445566", "Abone numara değiştirdi"),
        ("REMOVE", "905334445566", "Klon cihaz bulundu"),
    ]
    # An EIR replaying the feed from the start holds no pairing now.
    mirror: dict[str, str] = {}
    for item in (await feed(client))[0]:
        if item["op"] == "REMOVE":
            del mirror[item["imei"]]
        else:
            mirror[item["imei"]] = item["msisdn"]
    assert mirror == {}
    assert await AuditEvent.filter(action__in=["pairing.changed", "pairing.removed"]).count() == 2


async def test_pairings_are_listed_per_firm_and_per_imei(client, world):
    await detect_clone(client, CLONED)
    assert (await pair(client, await login(client, "a.user"), CLONED))["errors"] == []
    b_token = await login(client, "b.user")
    assert (await pair(client, b_token, B_CLONED, "+90 542 000 11 22"))["errors"] == []

    staff = await login(client, "staff.archive")
    by_firm = await gql(client, PAIRINGS, {"firm": world.firm_b.id}, token=staff)
    by_imei = await gql(client, PAIRINGS, {"imei": CLONED}, token=staff)
    firm_b_sees = await gql(client, PAIRINGS, {}, token=b_token)

    assert by_firm["data"]["imeiPairings"]["items"] == [
        {"imei": B_CLONED, "msisdn": "905420001122", "firmId": world.firm_b.id}
    ]
    assert by_imei["data"]["imeiPairings"]["items"] == [
        {"imei": CLONED, "msisdn": "905321112233", "firmId": world.firm_a.id}
    ]
    assert [p["imei"] for p in firm_b_sees["data"]["imeiPairings"]["items"]] == [B_CLONED]


@pytest.mark.parametrize("number", ["12345", "+90 212 555 11 22", "0532 111 22", "abc", "+0 532"])
async def test_a_pairing_needs_a_gsm_number(client, world, number):
    refused = await pair(client, await login(client, "b.user"), B_CLONED, number)
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("INVALID_INPUT", "msisdn")]


async def test_operators_read_the_pairing_feed_and_firms_do_not(client, world):
    assert "errors" not in await gql(client, FEED, {}, token=OPERATOR_TOKEN)
    body = await gql(client, FEED, {}, token=await login(client, "a.user"))
    assert error_codes(body) == ["FORBIDDEN"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+90 532 111 22 33", "905321112233"),
        ("0090 (532) 111-22-33", "905321112233"),
        ("0532 111 22 33", "905321112233"),
        ("532 111 22 33", "905321112233"),
        ("905321112233", "905321112233"),
        ("+44 7700 900123", "447700900123"),
        ("+90 392 228 00 00", None),  # a landline
        ("+90 532 111 22 3", None),
        ("+4412345", None),
        ("+1234567890123456", None),
        ("", None),
    ],
)
def test_the_pairing_number_rule(raw, expected):
    assert pairing_msisdn(raw) == expected
