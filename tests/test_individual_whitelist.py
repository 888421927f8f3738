"""Staff remove any whitelist entry with a reason and restore a wrongly removed one: both
audited, both in the operators' feed, the entry restored exactly as it was."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tortoise.transactions import in_transaction

from gateway.demo import load_demo
from models import clock
from models.audit import AuditEvent
from models.registry import BlacklistReason, WhitelistEntry, WhitelistSource, WhitelistStatus
from resolvers import jobs, registry_changes
from resolvers.actor import Actor
from resolvers.individuals import schedule_periodic
from resolvers.settings import updated
from tests.support.api import error_codes, gql, login, make_world
from tests.support.individuals import (
    BY_ID,
    EDEVLET_TOKEN,
    OPERATOR_TOKEN,
    authorities_on_loopback,
    check_imeis,
    declaration,
    feed,
    imei,
    seed_tacs,
    serve_gateway,
    submit_edevlet,
)

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SYSTEM = Actor.system("test")

REMOVE = """mutation($imei: String!, $reason: String!) {
  removeWhitelistEntry(imei: $imei, reason: $reason) {
    removal { imei reason removedBy status source brand model registrationId restoredAt }
    errors { code field message }
  }
}"""
RESTORE = """mutation($imei: String!, $reason: String!) {
  restoreWhitelistEntry(imei: $imei, reason: $reason) {
    removal { imei reason status source restoredAt restoredBy restoreReason }
    errors { code field message }
  }
}"""
REMOVALS = "{ whitelistRemovals { items { imei reason removedBy restoreReason } } }"


@pytest.fixture(autouse=True)
async def registry(db):
    clock.freeze(START)
    await load_demo()
    await seed_tacs()
    world = await make_world()
    updated(individual_device_limit=100)
    return world


@pytest.fixture
async def http(app):
    async with serve_gateway(app) as client:
        yield client


async def firm_entry(serial: int, firm_id: int) -> str:
    number = imei(serial)
    async with in_transaction():
        await registry_changes.add_to_whitelist(
            SYSTEM,
            [
                registry_changes.WhitelistAddition(
                    number,
                    "APPLE",
                    "A2403",
                    WhitelistSource.FIRM_APPLICATION,
                    firm_id=firm_id,
                    application_id=77,
                )
            ],
        )
    return number


async def call(http, document, token, **variables):
    body = await gql(http, document, variables, token=token)
    assert "errors" not in body, body
    return next(iter(body["data"].values()))


async def test_staff_remove_an_entry_with_a_reason_and_restore_it_as_it_was(http, registry):
    number = await firm_entry(1, registry.firm_a.id)
    reviewer = await login(http, "staff.reviewer")

    removed = await call(
        http, REMOVE, reviewer, imei=number, reason="Sahte gümrük beyannamesi tespit edildi"
    )
    assert removed["errors"] == []
    assert removed["removal"] == {
        "imei": number,
        "reason": "Sahte gümrük beyannamesi tespit edildi",
        "removedBy": "staff.reviewer",
        "status": "REGISTERED",
        "source": "FIRM_APPLICATION",
        "brand": "APPLE",
        "model": "A2403",
        "registrationId": None,
        "restoredAt": None,
    }
    answer = (await check_imeis(http, [number]))[number]
    assert (answer["verdict"], answer["status"]) == ("BLOCK", "NOT_REGISTERED")
    assert answer["reason"] == "Sahte gümrük beyannamesi tespit edildi"
    [removal] = [c for c in await feed(http) if c["op"] == "REMOVE"]
    assert removal["reason"] == "Sahte gümrük beyannamesi tespit edildi"
    listed = await call(http, REMOVALS, await login(http, "staff.archive"))
    assert listed["items"][0]["imei"] == number

    restored = await call(
        http, RESTORE, reviewer, imei=number, reason="Beyanname sonradan doğrulandı"
    )
    assert restored["errors"] == []
    assert restored["removal"]["restoreReason"] == "Beyanname sonradan doğrulandı"
    entry = await WhitelistEntry.get(imei=number)
    assert (entry.status, entry.source, entry.firm_id, entry.application_id) == (
        WhitelistStatus.REGISTERED,
        WhitelistSource.FIRM_APPLICATION,
        registry.firm_a.id,
        77,
    )
    assert (await check_imeis(http, [number]))[number]["status"] == "REGISTERED"
    changes = [(c["op"], c["reason"]) for c in await feed(http) if c["imei"] == number]
    assert changes[-2:] == [
        ("REMOVE", "Sahte gümrük beyannamesi tespit edildi"),
        ("ADD", "Beyanname sonradan doğrulandı"),
    ]
    events = await AuditEvent.filter(subject_id=number).order_by("id")
    assert [(e.action, e.actor_name, e.firm_id) for e in events] == [
        ("whitelist.removed", "staff.reviewer", registry.firm_a.id),
        ("whitelist.restored", "staff.reviewer", registry.firm_a.id),
    ]


async def test_restoring_a_rejected_declarations_imei_reinstates_the_registration(http):
    async with authorities_on_loopback():
        registration = (
            await submit_edevlet(
                http, declaration("EDV-WRONG", [imei(2)], name="Ali SIM-ENTRY-DATE Kaya")
            )
        )["registration"]
        await schedule_periodic()
        await jobs.drain()
    rejected = (await gql(http, BY_ID, {"id": registration["id"]}, token=EDEVLET_TOKEN))["data"][
        "individualRegistration"
    ]
    assert rejected["status"] == "REJECTED"

    admin = await login(http, "staff.admin")
    listed = await call(http, REMOVALS, admin)
    assert "ENTRY_DATE_MISMATCH" in listed["items"][0]["reason"]
    assert listed["items"][0]["removedBy"] == "verification"
    restored = await call(
        http, RESTORE, admin, imei=imei(2), reason="Emniyet kaydı düzeltildi, giriş doğru"
    )
    assert restored["removal"]["status"] == "PROVISIONAL"  # as it was when removed

    now = (await gql(http, BY_ID, {"id": registration["id"]}, token=EDEVLET_TOKEN))["data"][
        "individualRegistration"
    ]
    assert now["status"] == "REINSTATED"
    assert now["statusReason"] == "Emniyet kaydı düzeltildi, giriş doğru"
    assert now["imeis"][0]["whitelistStatus"] == "REGISTERED"  # staff overruled the refusal
    assert now["imeis"][0]["removalReason"] is None
    assert (await check_imeis(http, [imei(2)]))[imei(2)]["status"] == "REGISTERED"


async def test_an_imei_removed_by_another_flow_is_restored_from_the_feed(http, registry):
    number = await firm_entry(3, registry.firm_b.id)
    async with in_transaction():
        await registry_changes.remove_from_whitelist(SYSTEM, [number], "Takas cihazı ile değişti")
    restored = await call(
        http, RESTORE, await login(http, "staff.admin"), imei=number, reason="Yanlış bildirim"
    )
    assert restored["removal"]["reason"] == "Takas cihazı ile değişti"
    entry = await WhitelistEntry.get(imei=number)
    assert (entry.status, entry.source, entry.brand) == (
        WhitelistStatus.REGISTERED,
        WhitelistSource.FIRM_APPLICATION,
        "APPLE",
    )


async def test_what_cannot_be_removed_or_restored_says_why(http, registry):
    number = await firm_entry(4, registry.firm_a.id)
    reviewer = await login(http, "staff.reviewer")

    async def codes(document, **variables):
        payload = await call(http, document, reviewer, **variables)
        return [(e["code"], e["field"]) for e in payload["errors"]]

    assert await codes(REMOVE, imei=imei(5), reason="x") == [("NOT_FOUND", "imei")]
    assert await codes(REMOVE, imei="12345", reason="x") == [("INVALID_INPUT", "imei")]
    assert await codes(REMOVE, imei=number, reason="   ") == [("INVALID_INPUT", "reason")]
    assert await codes(RESTORE, imei=number, reason="x") == [("ALREADY_EXISTS", "imei")]
    assert await codes(RESTORE, imei=imei(5), reason="x") == [("NOT_FOUND", "imei")]
    await call(http, REMOVE, reviewer, imei=number, reason="Çalıntı bildirimi")
    async with in_transaction():
        await registry_changes.add_to_blacklist(
            SYSTEM, [registry_changes.BlacklistAddition(number, BlacklistReason.STOLEN, "EGM-9")]
        )
    assert await codes(RESTORE, imei=number, reason="x") == [("INVALID_STATE", None)]
    assert await WhitelistEntry.filter(imei=number).count() == 0


async def test_only_reviewers_and_admins_remove_or_restore(http, registry):
    number = await firm_entry(6, registry.firm_a.id)
    for token in (
        OPERATOR_TOKEN,
        EDEVLET_TOKEN,
        await login(http, "staff.archive"),
        await login(http, "a.super"),
    ):
        for document in (REMOVE, RESTORE):
            body = await gql(http, document, {"imei": number, "reason": "x"}, token=token)
            assert error_codes(body) == ["FORBIDDEN"]
    for document in (REMOVE, RESTORE, REMOVALS):
        assert error_codes(await gql(http, document, {"imei": number, "reason": "x"})) == [
            "UNAUTHENTICATED"
        ]
    assert await WhitelistEntry.filter(imei=number).exists()
