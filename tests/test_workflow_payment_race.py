"""An IMEI claimed twice: whoever registers it first keeps it; the other application's device
fails with ALREADY_REGISTERED at payment, the firm sees why, its other devices go on."""

from __future__ import annotations

import asyncio

import pytest

from models.accounts import User
from models.applications import DeviceImei
from models.payments import FeeNotice, PaymentMethod
from models.registry import WhitelistEntry, WhitelistSource
from models.roles import Role
from resolvers import bulk
from resolvers.actor import Actor
from resolvers.workflow.payments import record_payment
from tests.support.api import gql, login, make_world
from tests.support.operators import whitelist
from tests.support.payments import device, to_fee_notice
from tests.support.workflow import PAY, SET_FEE, pdf_workers, step
from tests.test_application_analysis import seed_registry

# The fixtures imported from tests.support.workflow are used by name.
__all__ = ["pdf_workers"]

pytestmark = pytest.mark.usefixtures("pdf_workers")

FAILED = "query($id: Int!) { applicationDevices(applicationId: $id, passed: false) { items { rowNumber imeis reasons { code label } } } }"


async def test_an_imei_registered_elsewhere_before_the_payment_fails_that_device(client):
    await make_world()
    await seed_registry()
    await step(
        client,
        SET_FEE,
        {"input": {"year": 2026, "fee": "10.00"}},
        await login(client, "staff.admin"),
    )
    application_id = await to_fee_notice(client, "a", [device(1), device(2)])
    # Meanwhile the same phone is registered at an operator's AKM shop.
    await whitelist(device(2)[3])
    taken = await WhitelistEntry.get(imei=device(2)[3])
    taken.source = WhitelistSource.AKM
    await taken.save()

    paid = await step(
        client,
        PAY,
        {"input": {"applicationId": application_id, "method": "CARD_AT_OFFICE", "amount": "40"}},
        await login(client, "staff.archive"),
    )
    assert paid["application"]["status"] == "AWAITING_CUSTOMS_DOCUMENTS"
    assert paid["workflow"]["registeredImeiCount"] == 2
    assert (paid["application"]["passedDeviceCount"], paid["application"]["failedDeviceCount"]) == (
        1,
        1,
    )
    user = await login(client, "a.user")
    failed = (await gql(client, FAILED, {"id": application_id}, token=user))["data"][
        "applicationDevices"
    ]["items"]
    assert failed == [
        {
            "rowNumber": 3,
            "imeis": list(device(2)[2:]),
            "reasons": [{"code": "ALREADY_REGISTERED", "label": "Adada mevcut IMEI"}],
        }
    ]
    # Neither IMEI of the lost device is registered for this application.
    assert not await WhitelistEntry.filter(
        application_id=application_id, imei__in=device(2)[2:]
    ).exists()
    assert (await WhitelistEntry.get(imei=device(2)[3])).source == WhitelistSource.AKM


async def test_two_payments_racing_for_one_imei_register_it_exactly_once(client):
    await make_world()
    await seed_registry()
    await step(
        client,
        SET_FEE,
        {"input": {"year": 2026, "fee": "10.00"}},
        await login(client, "staff.admin"),
    )
    first = await to_fee_notice(client, "a", [device(11), device(12)])
    second = await to_fee_notice(client, "b", [device(21), device(22)])
    # Both passed their analyses with one shared IMEI (the checks stop this while both are
    # in progress; here the race is set up directly so that both payments meet it).
    shared, replaced = device(12)[2], device(22)[2]
    conn = bulk.current()
    p1, p2 = bulk.placeholders(conn, 1), bulk.placeholders(conn, 1, start=2)
    for table, column in (("device", "imei1"), ("device_imei", "imei")):
        await conn.execute_query(
            f"UPDATE {table} SET {column} = {p1} WHERE {column} = {p2}", [shared, replaced]
        )
    assert await DeviceImei.filter(imei=shared).count() == 2

    archive = await User.get(username="staff.archive")
    actor = Actor(kind="USER", role=Role.STAFF_ARCHIVE, id=archive.id, name=archive.username)
    notices = {n.application_id: n.amount_kurus for n in await FeeNotice.all()}
    await asyncio.gather(
        record_payment(actor, first, PaymentMethod.CARD_AT_OFFICE, notices[first]),
        record_payment(actor, second, PaymentMethod.CARD_AT_OFFICE, notices[second]),
    )

    [entry] = await WhitelistEntry.filter(imei=shared)
    winner = entry.application_id
    loser = second if winner == first else first
    assert winner in (first, second)
    assert not await WhitelistEntry.filter(
        application_id=loser, imei__in=[shared, device(12)[3], device(22)[3]]
    ).exists()
    assert await WhitelistEntry.filter(application_id=winner).count() == 4
    assert await WhitelistEntry.filter(application_id=loser).count() == 2

    # The losing firm sees which device and why.
    firm = "a" if loser == first else "b"
    token = await login(client, f"{firm}.user")
    failed = (await gql(client, FAILED, {"id": loser}, token=token))["data"]["applicationDevices"][
        "items"
    ]
    assert [(d["imeis"][0], [r["code"] for r in d["reasons"]]) for d in failed] == [
        (shared, ["ALREADY_REGISTERED"])
    ]
