"""People register phones brought from abroad at an operator's AKM shop or through e-Devlet
(Tebliğ art. 5): the technical checks decide which IMEIs enter the whitelist, every retry is
answered from what was stored, and policy limits say which one refused.

Everything goes over real HTTP on loopback (the gateway under uvicorn)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from tortoise.transactions import in_transaction

from gateway.demo import load_demo
from models import clock
from models.audit import AuditEvent
from models.individuals import Registration, RegistrationImei, VerificationRequest
from models.registry import WhitelistEntry
from models.roles import ClientKind
from resolvers import registry_changes
from resolvers.actor import Actor
from resolvers.settings import updated
from tests.support.api import error_codes, gql, login, make_world
from tests.support.individuals import (
    APPLE_TAC,
    EDEVLET_TOKEN,
    OTHER_OPERATOR_TOKEN,
    SAMSUNG_TAC,
    SUBMIT_AKM,
    SUBMIT_EDEVLET,
    UNKNOWN_TAC,
    check_imeis,
    declaration,
    feed,
    imei,
    make_machine_client,
    national_id,
    seed_tacs,
    serve_gateway,
    submit_akm,
    submit_edevlet,
)

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
STAFF = Actor.system("test-staff")


@pytest.fixture(autouse=True)
async def registry(db):
    clock.freeze(START)
    await load_demo()
    await seed_tacs()
    updated(individual_device_limit=10)


@pytest.fixture
async def http(app):
    async with serve_gateway(app) as client:
        yield client


def codes(registration):
    return {i["imei"]: [r["code"] for r in i["reasons"]] for i in registration["imeis"]}


# --- AKM -----------------------------------------------------------------------------------


async def test_an_akm_registration_lists_the_device_at_once(http):
    # A dual-SIM phone: both IMEIs, as the TAC's model has two (a stolen one would refuse
    # the whole device: tests/test_individual_device_checks.py).
    listed, second = imei(1, APPLE_TAC), imei(2, APPLE_TAC)
    payload = await submit_akm(http, declaration("AKM-0001", [listed, second]))

    assert payload["errors"] == [] and payload["replayed"] is False
    registration = payload["registration"]
    assert registration["channel"] == "AKM" and registration["operatorCode"] == "DEMOGSM"
    assert registration["status"] == "REGISTERED"
    assert registration["statusLabel"] == "Kayıt altına alındı"
    assert registration["reference"] == f"IND-{registration['id']}"
    assert codes(registration) == {listed: [], second: []}
    assert [i["whitelistStatus"] for i in registration["imeis"]] == ["REGISTERED", "REGISTERED"]
    assert registration["verifications"] == []  # the operator checked the documents

    # The operator's network lets the phone on; the entry names the registry's model.
    answers = await check_imeis(http, [listed, second])
    assert answers[listed]["status"] == "REGISTERED" and answers[listed]["verdict"] == "ALLOW"
    assert answers[second]["status"] == "REGISTERED"
    entry = await WhitelistEntry.get(imei=listed)
    assert (entry.brand, entry.model_code, entry.source) == ("APPLE", "A2403", "AKM")
    assert entry.registration_id == registration["id"]
    [change] = [c for c in await feed(http) if c["imei"] == listed]
    assert (change["op"], change["source"], change["status"]) == ("ADD", "AKM", "REGISTERED")
    assert await AuditEvent.filter(action="individual.submitted").count() == 1


async def test_failing_imeis_get_the_codes_and_nothing_is_listed(http):
    await registry_changes_whitelist(imei(3))
    bad_check_digit = imei(4)[:-1] + str((int(imei(4)[-1]) + 1) % 10)
    unknown = imei(5, tac=UNKNOWN_TAC)
    payload = await submit_akm(
        http, declaration("AKM-0002", [bad_check_digit, unknown, imei(3), "35-693803-0000 06-x"])
    )
    registration = payload["registration"]
    assert registration["status"] == "FAILED_CHECKS"
    assert list(codes(registration).values()) == [
        ["INVALID_IMEI"],
        ["TAC_NOT_FOUND"],
        ["ALREADY_REGISTERED"],
        ["INVALID_IMEI"],
    ]
    labels = {r["label"] for i in registration["imeis"] for r in i["reasons"]}
    assert {"Geçersiz IMEI", "TAC kayıtlı değil", "Adada mevcut IMEI"} <= labels
    assert not await WhitelistEntry.filter(imei__in=[bad_check_digit, unknown]).exists()


async def registry_changes_whitelist(*imeis: str) -> None:
    from models.registry import WhitelistSource

    async with in_transaction():
        await registry_changes.add_to_whitelist(
            STAFF,
            [
                registry_changes.WhitelistAddition(
                    i, "APPLE", "A2403", WhitelistSource.FIRM_APPLICATION
                )
                for i in imeis
            ],
        )


# --- e-Devlet ------------------------------------------------------------------------------


async def test_a_declaration_verified_through_edevlet_is_registered_at_once(http):
    verified_at = "2026-02-28T15:30:00+00:00"
    payload = await submit_edevlet(
        http,
        declaration(
            "EDV-1",
            [imei(10, SAMSUNG_TAC)],
            passport=("C01X00T47", "de"),
            name="Hans Müller",
            brand="Samsung",
            model="Galaxy S7",
            verification={"reference": "EDV-DOGRULAMA-778", "verifiedAt": verified_at},
        ),
    )
    registration = payload["registration"]
    assert registration["status"] == "VERIFIED"
    assert registration["edevletVerificationReference"] == "EDV-DOGRULAMA-778"
    assert registration["verifiedAt"] == "2026-02-28T15:30:00+00:00"
    assert registration["applicant"] == {
        "identityKind": "PASSPORT",
        "nationalIdNumber": None,
        "passportNumber": "C01X00T47",
        "nationality": "DE",
        "fullName": "Hans Müller",
        "birthDate": "1990-04-01",
    }
    assert registration["imeis"][0]["whitelistStatus"] == "REGISTERED"
    assert registration["verifications"] == []  # nothing owed: art. 5(3)(a)
    entry = await WhitelistEntry.get(imei=imei(10, SAMSUNG_TAC))
    assert (entry.source, entry.brand, entry.model_code) == ("E_DEVLET", "SAMSUNG", "SM-G9359")


async def test_an_unverified_declaration_is_provisional_until_the_authorities_answer(http):
    payload = await submit_edevlet(
        http,
        declaration(
            "EDV-2", [imei(11, APPLE_TAC), imei(12, APPLE_TAC)], customs="26341300IM000123"
        ),
    )
    registration = payload["registration"]
    assert registration["status"] == "PENDING_VERIFICATION"
    assert [i["whitelistStatus"] for i in registration["imeis"]] == ["PROVISIONAL"] * 2
    # A citizen with a customs declaration: all three authorities are asked.
    assert sorted((v["authority"], v["status"]) for v in registration["verifications"]) == [
        ("BORDER_RECORDS", "PENDING"),
        ("CUSTOMS", "PENDING"),
        ("POPULATION_REGISTRY", "PENDING"),
    ]
    answers = await check_imeis(http, [imei(11, APPLE_TAC)])
    assert (answers[imei(11, APPLE_TAC)]["verdict"], answers[imei(11, APPLE_TAC)]["status"]) == (
        "ALLOW",
        "PROVISIONAL",
    )

    foreigner = await submit_edevlet(
        http, declaration("EDV-3", [imei(13)], passport=("X1234567", "GB"))
    )
    assert [v["authority"] for v in foreigner["registration"]["verifications"]] == [
        "BORDER_RECORDS"
    ]


# --- idempotency ---------------------------------------------------------------------------


async def test_a_sequential_retry_answers_the_stored_result_and_registers_nothing_twice(http):
    data = declaration("AKM-RETRY-1", [imei(20, APPLE_TAC), imei(21, APPLE_TAC)])
    first = await submit_akm(http, data)
    clock.advance(timedelta(hours=1))
    again = await submit_akm(http, data)

    assert again["replayed"] is True and again["errors"] == []
    assert again["registration"] == first["registration"]
    assert await Registration.all().count() == 1
    assert await RegistrationImei.all().count() == 2
    adds = [c for c in await feed(http) if c["op"] == "ADD"]
    assert sorted(c["imei"] for c in adds) == [imei(20, APPLE_TAC), imei(21, APPLE_TAC)]
    assert await AuditEvent.filter(action="individual.submitted").count() == 1


async def test_a_retry_by_status_query_finds_the_registration_by_the_clients_reference(http):
    await submit_edevlet(http, declaration("EDV-STATUS-9", [imei(22)]))
    from tests.support.individuals import BY_REFERENCE

    body = await gql(http, BY_REFERENCE, {"ref": "EDV-STATUS-9"}, token=EDEVLET_TOKEN)
    assert body["data"]["individualRegistration"]["status"] == "PENDING_VERIFICATION"


async def test_the_same_reference_with_other_content_is_refused_not_answered_with_the_old(http):
    await submit_akm(http, declaration("AKM-REUSED", [imei(23)]))
    other = await submit_akm(http, declaration("AKM-REUSED", [imei(24)]))
    assert other["registration"] is None
    [error] = other["errors"]
    assert (error["code"], error["field"]) == ("IDEMPOTENCY_CONFLICT", "clientReference")
    assert "AKM-REUSED" in error["message"]
    assert not await WhitelistEntry.filter(imei=imei(24)).exists()
    # References are per client: another operator may use the same one.
    await make_machine_client(
        "Başka GSM", ClientKind.OPERATOR, OTHER_OPERATOR_TOKEN, operator_code="OTHERGSM"
    )
    theirs = await submit_akm(
        http, declaration("AKM-REUSED", [imei(24)]), token=OTHER_OPERATOR_TOKEN
    )
    assert theirs["registration"]["status"] == "REGISTERED"


async def test_concurrent_retries_store_one_registration_and_one_set_of_entries(http):
    data = declaration(
        "EDV-CONCURRENT", [imei(30, APPLE_TAC), imei(31, APPLE_TAC)], customs="26341300IM000777"
    )
    answers = await asyncio.gather(*(submit_edevlet(http, data) for _ in range(6)))

    assert all(a["errors"] == [] for a in answers)
    assert len({a["registration"]["id"] for a in answers}) == 1
    assert sorted(a["replayed"] for a in answers) == [False] + [True] * 5
    assert await Registration.all().count() == 1
    assert (
        await WhitelistEntry.filter(imei__in=[imei(30, APPLE_TAC), imei(31, APPLE_TAC)]).count()
        == 2
    )
    assert await VerificationRequest.all().count() == 3
    adds = [c["imei"] for c in await feed(http) if c["op"] == "ADD"]
    assert sorted(adds) == [imei(30, APPLE_TAC), imei(31, APPLE_TAC)]


async def test_two_clients_registering_one_phone_at_once_list_it_once(http):
    await make_machine_client(
        "Başka GSM", ClientKind.OPERATOR, OTHER_OPERATOR_TOKEN, operator_code="OTHERGSM"
    )
    phone = [imei(40)]
    mine, theirs = await asyncio.gather(
        submit_akm(http, declaration("A-1", phone, national=national_id(2))),
        submit_akm(
            http, declaration("B-1", phone, national=national_id(3)), token=OTHER_OPERATOR_TOKEN
        ),
    )
    statuses = sorted(p["registration"]["status"] for p in (mine, theirs))
    assert statuses == ["FAILED_CHECKS", "REGISTERED"]
    loser = mine if mine["registration"]["status"] == "FAILED_CHECKS" else theirs
    assert codes(loser["registration"]) == {imei(40): ["ALREADY_REGISTERED"]}
    assert await WhitelistEntry.filter(imei=imei(40)).count() == 1


# --- policy limits -------------------------------------------------------------------------


async def test_one_device_per_person_per_period_and_the_refusal_names_the_limit(http):
    updated(individual_device_limit=1, individual_limit_period_days=1095)
    person = national_id(7)
    first = await submit_akm(http, declaration("AKM-L1", [imei(50)], national=person))
    assert first["registration"]["status"] == "REGISTERED"

    second = await submit_edevlet(http, declaration("EDV-L2", [imei(51)], national=person))
    [error] = second["errors"]
    assert (error["code"], error["field"]) == ("DEVICE_LIMIT_EXCEEDED", "applicant")
    assert "1095 gün içinde en fazla 1 cihaz" in error["message"]
    assert not await WhitelistEntry.filter(imei=imei(51)).exists()
    english = await gql(
        http,
        SUBMIT_EDEVLET,
        {"input": declaration("EDV-L2", [imei(51)], national=person)},
        token=EDEVLET_TOKEN,
        headers={"Accept-Language": "en"},
    )
    assert (
        "at most 1 device(s) per person in 1095 days"
        in (english["data"]["submitEdevletDeclaration"]["errors"][0]["message"])
    )

    # Another person is not limited; a registration that listed nothing does not count.
    other = await submit_akm(http, declaration("AKM-L3", [imei(52)], national=national_id(8)))
    assert other["registration"]["status"] == "REGISTERED"
    failed = await submit_akm(
        http, declaration("AKM-L4", [imei(53, UNKNOWN_TAC)], national=national_id(9))
    )
    assert failed["registration"]["status"] == "FAILED_CHECKS"
    retry = await submit_akm(http, declaration("AKM-L5", [imei(54)], national=national_id(9)))
    assert retry["registration"]["status"] == "REGISTERED"

    # Three years later the same person may register again.
    clock.advance(START.replace(year=2029) - START)
    later = await submit_akm(
        http, declaration("AKM-L6", [imei(55)], national=person, entry=date(2029, 2, 20))
    )
    assert later["registration"]["status"] == "REGISTERED"


async def test_concurrent_submissions_for_one_person_respect_the_limit(http):
    updated(individual_device_limit=1)
    person = national_id(12)
    answers = await asyncio.gather(
        *(
            submit_edevlet(http, declaration(f"EDV-P{n}", [imei(60 + n)], national=person))
            for n in range(4)
        )
    )
    accepted = [a for a in answers if a["registration"]]
    refused = [a["errors"][0]["code"] for a in answers if a["errors"]]
    assert len(accepted) == 1 and refused == ["DEVICE_LIMIT_EXCEEDED"] * 3
    assert await Registration.filter(person_key=f"TC:{person}").count() == 1


async def test_registering_long_after_entering_the_country_is_refused(http):
    updated(individual_max_days_after_entry=120)
    late = await submit_akm(http, declaration("AKM-LATE", [imei(70)], entry=date(2025, 10, 1)))
    [error] = late["errors"]
    assert (error["code"], error["field"]) == ("REGISTRATION_PERIOD_OVER", "entryDate")
    assert "120 gün" in error["message"] and "2025-10-01" in error["message"]
    updated(individual_max_days_after_entry=0)  # 0: no such limit
    accepted = await submit_akm(http, declaration("AKM-LATE", [imei(70)], entry=date(2025, 10, 1)))
    assert accepted["registration"]["status"] == "REGISTERED"


# --- input and roles -----------------------------------------------------------------------


async def test_every_input_problem_is_reported_with_its_field(http):
    data = declaration(
        "bad reference!", [imei(80), imei(80), "", "1" * 50 + "e5"], national="12345678901"
    )
    data["applicant"]["birthDate"] = "2030-01-01"
    data["purchaseCountry"] = "Germany"
    payload = await submit_akm(http, data)
    assert sorted(e["field"] for e in payload["errors"]) == [
        "applicant.birthDate",
        "applicant.nationalIdNumber",
        "clientReference",
        "device.imeis[1]",
        "device.imeis[2]",
        "device.imeis[3]",
        "entryDate",
        "purchaseCountry",
    ]
    passport_without_country = declaration("AKM-P", [imei(81)], passport=("AB12345", ""))
    payload = await submit_akm(http, passport_without_country)
    assert [e["field"] for e in payload["errors"]] == ["applicant.nationality"]
    assert await Registration.all().count() == 0


async def test_only_operators_submit_akm_and_only_e_devlet_declares(http):
    await make_world()
    data = declaration("X-1", [imei(90)])
    wrong_channel = await gql(http, SUBMIT_AKM, {"input": data}, token=EDEVLET_TOKEN)
    assert error_codes(wrong_channel) == ["FORBIDDEN"]
    operator_declaring = await gql(
        http, SUBMIT_EDEVLET, {"input": data}, token="mcks_demo_operator_token"
    )
    assert error_codes(operator_declaring) == ["FORBIDDEN"]
    firm = await gql(http, SUBMIT_AKM, {"input": data}, token=await login(http, "a.user"))
    assert error_codes(firm) == ["FORBIDDEN"]
    anonymous = await gql(http, SUBMIT_EDEVLET, {"input": data})
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]
    assert await Registration.all().count() == 0
