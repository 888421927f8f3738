"""Staff read one IMEI's history: every event about it in time order, each with its kind,
actor, source and reason — first attach, whitelist entry, clone suspicion and its dismissal,
pairing, blacklist report and lifting, removal and restore."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.demo import load_demo
from models import clock
from models.roles import Role
from resolvers.actor import Actor
from resolvers.after import pairing
from resolvers.individuals import whitelist as staff_whitelist
from resolvers.operators import blacklist, clones
from tests.support.after import imei, register, registered_application
from tests.support.api import gql, login, make_world
from tests.support.operators import CHECK, OPERATOR_TOKEN

START = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
HISTORY = """query($imei: String!) { imeiHistory(imei: $imei) {
  at kind kindLabel actor source sourceLabel sourceId reason detail } }"""
OBSERVE = """mutation($key: String!, $observations: [ObservationInput!]!) {
  submitObservations(batchKey: $key, observations: $observations) { errors { code } } }"""


@pytest.fixture(autouse=True)
async def seeded(db):
    clock.freeze(START)
    await load_demo()


def later(minutes=10):
    clock.advance(timedelta(minutes=minutes))


async def test_one_imeis_whole_life_in_order(client):
    world = await make_world()
    reviewer = Actor(kind="USER", role=Role.STAFF_REVIEWER, id=1, name="staff.reviewer")
    supervisor = Actor(
        kind="USER",
        role=Role.FIRM_SUPERVISOR,
        id=world.users["a_super"].id,
        name="a.super",
        firm_id=world.firm_a.id,
    )
    phone = imei(7)

    # Seen on the network before it was registered (a visitor's attach).
    await gql(client, CHECK, {"imeis": [phone], "msisdn": "905331112233"}, token=OPERATOR_TOKEN)
    later()
    application = await registered_application(world.firm_a)
    await register(application, phone)
    later()
    observations = [
        {"imei": phone, "imsi": imsi, "msisdn": msisdn, "seenAt": clock.now().isoformat()}
        for imsi, msisdn in (
            ("286010000000001", "905331112233"),
            ("286010000000002", "905559998877"),
        )
    ]
    await gql(client, OBSERVE, {"key": "h1", "observations": observations}, token=OPERATOR_TOKEN)
    [suspicion] = await clones.detect_clones()
    later()
    await clones.dismiss(reviewer, suspicion.id, "Aynı abonenin iş hattı")
    later()
    await pairing.flag_for_pairing(reviewer, phone, "Şikâyet: iki hatta görülüyor")
    later()
    await pairing.pair_imei(supervisor, phone, "+90 532 123 45 67")
    later()
    entry = await blacklist.add(
        Actor(kind="CLIENT", role=Role.OPERATOR, id=9, name="DEMOGSM", operator_code="DEMOGSM"),
        phone,
        blacklist.BlacklistReason.STOLEN,
        "EGM-2026/5",
        "sahibi bildirdi",
    )
    later()
    await blacklist.remove(reviewer, phone, "bulundu, sahibine verildi")
    later()
    await staff_whitelist.remove_whitelist_entry(reviewer, phone, "Gümrük kaydı uyuşmuyor")
    later()
    await staff_whitelist.restore_whitelist_entry(reviewer, phone, "Gümrük kaydı düzeltildi")

    token = await login(client, "staff.archive")
    body = await gql(client, HISTORY, {"imei": phone[:14]}, token=token)
    assert "errors" not in body, body
    events = body["data"]["imeiHistory"]
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)
    summary = [(e["kind"], e["source"], e["actor"]) for e in events]
    assert (
        summary
        == [
            ("FIRST_ATTACH", "NETWORK", "DEMOGSM"),  # the operator that attached it
            ("WHITELISTED", "APPLICATION", "test-staff"),
            ("CLONE_SUSPECTED", "NETWORK", "clone-detector"),
            ("CLONE_DISMISSED", "STAFF", "staff.reviewer"),
            ("PAIRING_REQUESTED", "PAIRING", "staff.reviewer"),
            ("PAIRED", "PAIRING", "a.super"),
            ("BLACKLISTED", "REPORT", "DEMOGSM"),
            ("BLACKLIST_LIFTED", "REPORT", "staff.reviewer"),
            ("REMOVED", "STAFF", "staff.reviewer"),
            ("RESTORED", "STAFF", "staff.reviewer"),
        ][: len(summary)]
        and len(summary) >= 10
    )
    by_kind = {e["kind"]: e for e in events}
    assert by_kind["WHITELISTED"]["sourceId"] == application.id
    assert by_kind["WHITELISTED"]["sourceLabel"] == "Firma başvurusu"
    assert by_kind["CLONE_SUSPECTED"]["detail"] == "2 abone"
    assert by_kind["CLONE_DISMISSED"]["reason"] == "Aynı abonenin iş hattı"
    assert by_kind["PAIRING_REQUESTED"]["reason"] == "Şikâyet: iki hatta görülüyor"
    assert by_kind["PAIRED"]["detail"] == "905321234567"
    assert by_kind["BLACKLISTED"]["reason"] == "STOLEN — sahibi bildirdi"
    assert by_kind["BLACKLISTED"]["detail"].startswith("EGM-2026/5")
    assert entry.report_number  # lifted since: the number is not shown any more
    assert by_kind["BLACKLIST_LIFTED"]["reason"].endswith("bulundu, sahibine verildi")
    assert by_kind["REMOVED"]["reason"] == "Gümrük kaydı uyuşmuyor"
    assert by_kind["RESTORED"]["reason"] == "Gümrük kaydı düzeltildi"
    assert by_kind["FIRST_ATTACH"]["kindLabel"] == "Şebekede ilk görülme"

    english = await gql(
        client, HISTORY, {"imei": phone}, token=token, headers={"Accept-Language": "en"}
    )
    labels = {e["kind"]: e["kindLabel"] for e in english["data"]["imeiHistory"]}
    assert labels["BLACKLIST_LIFTED"] == "Blacklisting lifted"


async def test_the_history_is_for_staff_and_needs_an_imei(client):
    await make_world()
    refused = await gql(client, HISTORY, {"imei": imei(8)}, token=OPERATOR_TOKEN)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    token = await login(client, "staff.reviewer")
    bad = await gql(client, HISTORY, {"imei": "12345"}, token=token)
    [error] = bad["errors"]
    assert error["extensions"] == {"code": "INVALID_INPUT", "field": "imei"}
    assert "15 haneli" in error["message"]
    empty = await gql(client, HISTORY, {"imei": imei(8)}, token=token)
    assert empty["data"]["imeiHistory"] == []
