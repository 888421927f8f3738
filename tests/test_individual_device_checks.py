"""An individual's device is checked as a device (AKM and e-Devlet alike): every IMEI valid,
none blacklisted, registered or pending elsewhere, as many IMEIs as the TAC's model has SIM
slots, and a declared brand/model that does not contradict the TAC. One failing IMEI refuses
the whole device, with every reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tortoise.transactions import in_transaction

from gateway.demo import load_demo
from models import clock
from models.registry import BlacklistReason, WhitelistEntry, WhitelistSource
from models.tac import TacModel
from resolvers import registry_changes
from resolvers.actor import Actor
from resolvers.settings import updated
from tests.support.individuals import (
    APPLE_TAC,
    SAMSUNG_TAC,
    check_imeis,
    declaration,
    imei,
    national_id,
    seed_tacs,
    submit_akm,
    submit_edevlet,
)

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
STAFF = Actor.system("test-staff")
NAMED_TAC = "35332211"  # a TAC whose registry entry knows the marketing name


@pytest.fixture(autouse=True)
async def registry(db):
    clock.freeze(START)
    await load_demo()
    await seed_tacs()
    await TacModel.create(
        tac=NAMED_TAC,
        brand="XIAOMI",
        model_code="2201117TG",
        marketing_name="Redmi Note 11",
        imei_count=1,
        created_at=START,
        updated_at=START,
    )
    updated(individual_device_limit=100)


def reasons(registration):
    return {i["imei"]: [r["code"] for r in i["reasons"]] for i in registration["imeis"]}


SUBMITTERS = [pytest.param(submit_akm, id="AKM"), pytest.param(submit_edevlet, id="e-Devlet")]


@pytest.mark.parametrize("submit", SUBMITTERS)
async def test_a_dual_sim_phone_with_a_stolen_imei_is_refused_whole(client, submit):
    stolen, second = imei(1, APPLE_TAC), imei(2, APPLE_TAC)
    async with in_transaction():
        await registry_changes.add_to_blacklist(
            STAFF, [registry_changes.BlacklistAddition(stolen, BlacklistReason.STOLEN, "EGM-1")]
        )
    payload = await submit(client, declaration("DEV-1", [stolen, second]))
    assert payload["errors"] == []
    registration = payload["registration"]
    assert registration["status"] == "FAILED_CHECKS"
    assert reasons(registration) == {stolen: ["BLACKLISTED"], second: ["DEVICE_REFUSED"]}
    labels = {r["label"] for i in registration["imeis"] for r in i["reasons"]}
    assert "Cihazın başka bir IMEI'si kontrollerden geçemedi" in labels
    assert not any(i["passed"] for i in registration["imeis"])
    assert not await WhitelistEntry.filter(imei__in=[stolen, second]).exists()
    answers = await check_imeis(client, [second])
    assert answers[second]["status"] != "REGISTERED"


@pytest.mark.parametrize("submit", SUBMITTERS)
async def test_the_imei_count_must_be_the_sim_count_of_the_model(client, submit):
    # Half of a dual-SIM phone, and two IMEIs of a single-SIM one.
    half = await submit(client, declaration("DEV-HALF", [imei(3, APPLE_TAC)]))
    assert reasons(half["registration"]) == {imei(3, APPLE_TAC): ["SIM_COUNT_MISMATCH"]}
    double = [imei(4, SAMSUNG_TAC), imei(5, SAMSUNG_TAC)]
    two = await submit(
        client,
        declaration("DEV-TWO", double, brand="SAMSUNG", model="SM-G9359", national=national_id(2)),
    )
    assert reasons(two["registration"]) == {i: ["SIM_COUNT_MISMATCH"] for i in double}
    assert not await WhitelistEntry.filter(imei__in=[imei(3, APPLE_TAC), *double]).exists()


async def test_every_reason_of_every_imei_is_given(client):
    registered = imei(6, APPLE_TAC)
    async with in_transaction():
        await registry_changes.add_to_whitelist(
            STAFF,
            [
                registry_changes.WhitelistAddition(
                    registered, "APPLE", "A2403", WhitelistSource.FIRM_APPLICATION
                )
            ],
        )
    invalid = imei(7, APPLE_TAC)[:-1] + str((int(imei(7, APPLE_TAC)[-1]) + 1) % 10)
    payload = await submit_akm(client, declaration("DEV-ALL", [registered, invalid]))
    assert reasons(payload["registration"]) == {
        registered: ["ALREADY_REGISTERED"],
        invalid: ["INVALID_IMEI"],
    }
    # IMEIs of two different models are not one device.
    mixed = [imei(8, APPLE_TAC), imei(9, SAMSUNG_TAC)]
    payload = await submit_akm(client, declaration("DEV-MIX", mixed, national=national_id(3)))
    codes = reasons(payload["registration"])
    assert all("IMEI_MODEL_CONFLICT" in c for c in codes.values())
    assert payload["registration"]["status"] == "FAILED_CHECKS"


async def test_a_brand_that_contradicts_the_tac_is_refused_naming_the_registry_model(client):
    phone = [imei(10, APPLE_TAC), imei(11, APPLE_TAC)]
    payload = await submit_akm(
        client, declaration("DEV-BRAND", phone, brand="Samsung", model="Galaxy S21")
    )
    registration = payload["registration"]
    assert registration["status"] == "FAILED_CHECKS"
    assert reasons(registration) == {i: ["MODEL_MISMATCH"] for i in phone}
    item = registration["imeis"][0]
    assert (item["registryBrand"], item["registryModel"]) == ("APPLE", "A2403")
    assert item["reasons"][0]["label"] == ("Marka/model TAC ile uyuşmuyor (TAC kaydı: APPLE A2403)")


@pytest.mark.parametrize(
    ("model", "passes"),
    [("Redmi Note 11", True), ("2201117TG", True), ("redmi  note 11", True), ("Mi 11", False)],
)
async def test_the_model_is_judged_by_the_registrys_code_or_marketing_name(client, model, passes):
    phone = imei(12, NAMED_TAC)
    payload = await submit_akm(
        client, declaration("DEV-MODEL", [phone], brand="Xiaomi", model=model)
    )
    registration = payload["registration"]
    if passes:
        assert registration["status"] == "REGISTERED"
        entry = await WhitelistEntry.get(imei=phone)
        assert (entry.brand, entry.model_code) == ("XIAOMI", "2201117TG")
    else:
        assert reasons(registration) == {phone: ["MODEL_MISMATCH"]}
        assert registration["imeis"][0]["registryModel"] == "2201117TG"
