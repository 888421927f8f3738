"""An individual's personal data reaches staff and the client that submitted it, nobody else:
another operator, e-Devlet, firms and anonymous callers get nothing; operators' checks never
show it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.demo import load_demo
from models import clock
from models.roles import ClientKind
from resolvers.settings import updated
from tests.support.api import error_codes, gql, login, make_world
from tests.support.individuals import (
    APPLE_TAC,
    BY_ID,
    BY_REFERENCE,
    EDEVLET_TOKEN,
    OPERATOR_TOKEN,
    OTHER_OPERATOR_TOKEN,
    check_imeis,
    declaration,
    imei,
    make_machine_client,
    national_id,
    seed_tacs,
    serve_gateway,
    submit_akm,
    submit_edevlet,
)

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LIST = (
    "query($status: RegistrationStatus) { individualRegistrations(status: $status) {"
    " items { id clientReference applicant { fullName nationalIdNumber } } } }"
)


@pytest.fixture(autouse=True)
async def registry(db):
    clock.freeze(START)
    await load_demo()
    await seed_tacs()
    await make_world()
    await make_machine_client(
        "Başka GSM", ClientKind.OPERATOR, OTHER_OPERATOR_TOKEN, operator_code="OTHERGSM"
    )
    updated(individual_device_limit=10)


@pytest.fixture
async def http(app):
    async with serve_gateway(app) as client:
        yield client


async def test_each_client_reads_only_what_it_submitted(http):
    person = national_id(41)
    akm = (
        await submit_akm(
            http, declaration("SHARED-REF", [imei(1)], name="Zeynep Kaya", national=person)
        )
    )["registration"]
    edevlet = (await submit_edevlet(http, declaration("SHARED-REF", [imei(2)], name="Emre Doğan")))[
        "registration"
    ]

    # The submitter reads its own, by our id and by its own reference, personal data included.
    mine = await gql(http, BY_ID, {"id": akm["id"]}, token=OPERATOR_TOKEN)
    assert mine["data"]["individualRegistration"]["applicant"]["nationalIdNumber"] == person
    by_reference = await gql(http, BY_REFERENCE, {"ref": "SHARED-REF"}, token=OPERATOR_TOKEN)
    assert by_reference["data"]["individualRegistration"]["id"] == akm["id"]
    by_reference = await gql(http, BY_REFERENCE, {"ref": "SHARED-REF"}, token=EDEVLET_TOKEN)
    assert by_reference["data"]["individualRegistration"]["id"] == edevlet["id"]

    # Another operator: the same answer as for a registration that does not exist.
    for registration in (akm, edevlet):
        other = await gql(http, BY_ID, {"id": registration["id"]}, token=OTHER_OPERATOR_TOKEN)
        assert error_codes(other) == ["NOT_FOUND"] and other["data"] is None
    missing = await gql(http, BY_REFERENCE, {"ref": "SHARED-REF"}, token=OTHER_OPERATOR_TOKEN)
    assert error_codes(missing) == ["NOT_FOUND"]
    listed = await gql(http, LIST, {}, token=OTHER_OPERATOR_TOKEN)
    assert listed["data"]["individualRegistrations"]["items"] == []
    # e-Devlet does not read the operator's, nor the operator e-Devlet's.
    crossed = await gql(http, BY_ID, {"id": akm["id"]}, token=EDEVLET_TOKEN)
    assert error_codes(crossed) == ["NOT_FOUND"]
    crossed = await gql(http, BY_ID, {"id": edevlet["id"]}, token=OPERATOR_TOKEN)
    assert error_codes(crossed) == ["NOT_FOUND"]
    own_list = await gql(http, LIST, {}, token=OPERATOR_TOKEN)
    assert [r["id"] for r in own_list["data"]["individualRegistrations"]["items"]] == [akm["id"]]

    # Firms and anonymous callers reach none; nothing personal leaks in the refusals.
    firm = await login(http, "a.super")
    for query, variables in ((BY_ID, {"id": akm["id"]}), (LIST, {})):
        refused = await gql(http, query, variables, token=firm)
        assert error_codes(refused) == ["FORBIDDEN"]
        anonymous = await gql(http, query, variables)
        assert error_codes(anonymous) == ["UNAUTHENTICATED"]
        assert "Zeynep" not in str(refused) + str(anonymous)

    # Staff read everything.
    staff = await login(http, "staff.archive")
    everything = await gql(http, LIST, {}, token=staff)
    names = {
        r["applicant"]["fullName"] for r in everything["data"]["individualRegistrations"]["items"]
    }
    assert names == {"Zeynep Kaya", "Emre Doğan"}
    one = await gql(http, BY_ID, {"id": edevlet["id"]}, token=staff)
    assert one["data"]["individualRegistration"]["clientReference"] == "SHARED-REF"


async def test_operator_checks_and_the_feed_never_carry_personal_data(http):
    await submit_edevlet(
        http, declaration("EDV-PD", [imei(3)], name="Gizli Kişi", national=national_id(42))
    )
    answers = await check_imeis(http, [imei(3)], token=OTHER_OPERATOR_TOKEN)
    body = await gql(
        http,
        "{ whitelistChanges(first: 100) { items { imei reason source } } }",
        token=OTHER_OPERATOR_TOKEN,
    )
    assert answers[imei(3)]["status"] == "PROVISIONAL"
    for text in (str(answers), str(body)):
        assert "Gizli" not in text and national_id(42) not in text


async def test_staff_look_registrations_up_by_id_and_by_imei(http):
    registration = (
        await submit_akm(http, declaration("AKM-S1", [imei(4, APPLE_TAC), imei(5, APPLE_TAC)]))
    )["registration"]
    staff = await login(http, "staff.reviewer")
    by_imei = await gql(
        http,
        "query($imei: String!) { individualRegistrations(imei: $imei) { items { id } } }",
        {"imei": imei(5, APPLE_TAC)},
        token=staff,
    )
    assert by_imei["data"]["individualRegistrations"]["items"] == [{"id": registration["id"]}]
    by_reference = await gql(http, BY_REFERENCE, {"ref": "AKM-S1"}, token=staff)
    assert error_codes(by_reference) == ["INVALID_INPUT"]  # references are per client
