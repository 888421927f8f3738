"""API comfort: every input error at once with its field, Accept-Language with q-weights,
times in the regulator's time zone, totalCount on staff queues."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from integrations.mail.simulator import Mailbox, SimulatedMailer
from models import clock
from models.jobs import Job, JobStatus
from resolvers.settings import configure
from resolvers.workflow import notifications
from schema.context import preferred_language
from tests.support.api import gql, login, make_world
from tests.support.workflow import deliver_mail
from tests.test_admin import CREATE_CLIENT, CREATE_FIRM, CREATE_USER
from tests.test_after_pairing import CHANGE as CHANGE_PAIRING
from tests.test_after_pairing import PAIR
from tests.test_after_pairing import REMOVE as REMOVE_PAIRING
from tests.test_application_analysis import CREATE
from tests.test_individual_whitelist import REMOVE as REMOVE_WHITELIST
from tests.test_tac_requests import GALAXY, PNG, request_tac
from tests.test_workflow_mail import submitted_application


def fields_and_codes(errors: list[dict]) -> list[tuple[str, str]]:
    return sorted((e["field"], e["code"]) for e in errors)


async def test_create_application_reports_every_input_error_at_once(client):
    await make_world()
    user = await login(client, "a.user")
    data = {
        "importDate": "2999-01-01",
        "originCountry": "Çin",
        "customsDeclarationNo": "26/3413 00IM;",
        "invoiceNo": "F 2026/118!",
        "invoiceDate": "2999-01-02",
    }
    body = await gql(client, CREATE, {"kind": "IMPORT", "data": data}, token=user)
    payload = body["data"]["createApplication"]
    assert payload["application"] is None
    assert fields_and_codes(payload["errors"]) == [
        ("customsDeclarationNo", "INVALID_INPUT"),
        ("importDate", "INVALID_INPUT"),
        ("invoiceDate", "INVALID_INPUT"),
        ("invoiceNo", "INVALID_INPUT"),
        ("originCountry", "INVALID_INPUT"),
    ]
    # A single problem still answers alone.
    body = await gql(
        client, CREATE, {"kind": "IMPORT", "data": {"originCountry": "CHN"}}, token=user
    )
    assert fields_and_codes(body["data"]["createApplication"]["errors"]) == [
        ("originCountry", "INVALID_INPUT")
    ]


async def test_create_user_and_create_firm_report_every_input_error_at_once(client):
    await make_world()
    admin = await login(client, "staff.admin")
    user = {
        "username": "a b",
        "fullName": "  ",
        "email": "not-an-address",
        "role": "FIRM_USER",
    }
    body = await gql(client, CREATE_USER, {"i": user}, token=admin)
    assert fields_and_codes(body["data"]["createUser"]["errors"]) == [
        ("email", "INVALID_INPUT"),
        ("firmId", "INVALID_INPUT"),
        ("fullName", "INVALID_INPUT"),
        ("username", "INVALID_INPUT"),
    ]
    taken = {**user, "username": "a.user", "fullName": "Ali Veli", "email": "x@example.com"}
    body = await gql(client, CREATE_USER, {"i": {**taken, "firmId": 999999}}, token=admin)
    assert fields_and_codes(body["data"]["createUser"]["errors"]) == [
        ("firmId", "NOT_FOUND"),
        ("username", "ALREADY_EXISTS"),
    ]
    firm = {
        "name": " ",
        "taxNumber": "12",
        "kind": "IMPORTER",
        "contactEmail": "nope",
        "allowedIps": ["999.1.1.1"],
    }
    body = await gql(client, CREATE_FIRM, {"i": firm}, token=admin)
    assert fields_and_codes(body["data"]["createFirm"]["errors"]) == [
        ("allowedIps", "INVALID_INPUT"),
        ("contactEmail", "INVALID_INPUT"),
        ("name", "INVALID_INPUT"),
        ("taxNumber", "INVALID_INPUT"),
    ]


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "tr"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("tr;q=0.5, en;q=0.8", "en"),
        ("en;q=0.3, tr;q=0.9", "tr"),
        ("fr-FR, fr;q=0.9, en;q=0.5", "en"),
        ("de", "tr"),
        ("*", "tr"),
        ("tr;q=0, *;q=0.1", "en"),
        ("en;q=0", "tr"),
        ("en-GB;q=0.9, tr-TR;q=0.9", "tr"),  # a tie: Turkish
        ("EN-us", "en"),
        ("en;q=abc, tr;q=0.2", "tr"),
    ],
)
def test_accept_language_is_read_with_its_weights(header, language):
    assert preferred_language(header) == language


async def test_the_api_answers_in_the_language_weighed_highest(client):
    login_failure = 'mutation { login(username: "kimse", password: "yanlis-sifre-1") { errors { code message } } }'
    english = await gql(client, login_failure, headers={"Accept-Language": "tr;q=0.4, en-GB;q=0.8"})
    turkish = await gql(client, login_failure, headers={"Accept-Language": "en;q=0.4, tr;q=0.8"})
    assert english["data"]["login"]["errors"][0]["message"] == "Wrong username or password."
    assert turkish["data"]["login"]["errors"][0]["message"] == "Kullanıcı adı ya da şifre hatalı."


@pytest.mark.parametrize(
    ("zone", "shown"),
    [("Europe/Istanbul", "24.11.2026 00:30"), ("Asia/Nicosia", "23.11.2026 23:30")],
)
async def test_times_in_mails_are_on_the_regulators_clock(client, settings, zone, shown):
    configure(replace(settings, time_zone=zone))
    clock.freeze(datetime(2026, 11, 23, 21, 30, tzinfo=UTC))
    mailer = SimulatedMailer(Mailbox())
    notifications.use_mailer(mailer)
    try:
        await submitted_application(client)
        await deliver_mail()
        [mail] = mailer.mailbox.to("firma@example.com")
        assert f"{shown} itibarıyla" in mail.text and f"on {shown}." in mail.text
    finally:
        notifications.use_mailer(None)


async def test_staff_queues_carry_their_total_count(client):
    await make_world()
    now = clock.now()
    for _ in range(3):
        await Job.create(kind="x", payload={}, status=JobStatus.DEAD, run_after=now, created_at=now)
    await Job.create(kind="x", payload={}, run_after=now, created_at=now)
    staff = await login(client, "staff.reviewer")
    query = "query($after: String) { jobs(status: DEAD, first: 2, after: $after) { totalCount items { id } pageInfo { endCursor } } }"
    first = (await gql(client, query, token=staff))["data"]["jobs"]
    assert first["totalCount"] == 3 and len(first["items"]) == 2
    second = await gql(client, query, {"after": first["pageInfo"]["endCursor"]}, token=staff)
    assert second["data"]["jobs"]["totalCount"] == 3
    for queue in ("applications", "auditEvents", "individualRegistrations", "verificationBatches"):
        body = await gql(client, f"{{ {queue}(first: 1) {{ totalCount }} }}", token=staff)
        assert isinstance(body["data"][queue]["totalCount"], int), body


UPDATE_FIRM = """mutation($i: UpdateFirmInput!) {
  updateFirm(input: $i) { firm { name contactEmail allowedIps } errors { code field } }
}"""
CHANGE_PASSWORD = """mutation($c: String!, $n: String!) {
  changePassword(currentPassword: $c, newPassword: $n) { user { id } errors { code field } }
}"""


async def test_staff_and_firm_mutations_report_every_input_error_at_once(client):
    world = await make_world()
    admin = await login(client, "staff.admin")
    before = {"name": world.firm_a.name, "contactEmail": world.firm_a.contact_email}
    body = await gql(
        client,
        UPDATE_FIRM,
        {"i": {"firmId": world.firm_a.id, "name": " ", "contactEmail": "x", "allowedIps": ["1.2"]}},
        token=admin,
    )
    assert fields_and_codes(body["data"]["updateFirm"]["errors"]) == [
        ("allowedIps", "INVALID_INPUT"),
        ("contactEmail", "INVALID_INPUT"),
        ("name", "INVALID_INPUT"),
    ]
    firms = await gql(client, "{ firms { items { id name contactEmail } } }", token=admin)
    firm = next(f for f in firms["data"]["firms"]["items"] if f["id"] == world.firm_a.id)
    assert {"name": firm["name"], "contactEmail": firm["contactEmail"]} == before

    bad_client = {"name": "", "kind": "OPERATOR", "operatorCode": "x", "allowedIps": ["nope"]}
    body = await gql(client, CREATE_CLIENT, {"i": bad_client}, token=admin)
    assert fields_and_codes(body["data"]["createMachineClient"]["errors"]) == [
        ("allowedIps", "INVALID_INPUT"),
        ("name", "INVALID_INPUT"),
        ("operatorCode", "INVALID_INPUT"),
    ]
    first = {"name": "Operatör A", "kind": "OPERATOR", "operatorCode": "OPA"}
    assert not (await gql(client, CREATE_CLIENT, {"i": first}, token=admin))["data"][
        "createMachineClient"
    ]["errors"]
    body = await gql(client, CREATE_CLIENT, {"i": first}, token=admin)
    assert fields_and_codes(body["data"]["createMachineClient"]["errors"]) == [
        ("name", "ALREADY_EXISTS"),
        ("operatorCode", "ALREADY_EXISTS"),
    ]

    reviewer = await login(client, "staff.reviewer")
    for mutation, variables, expected in [
        (
            CHANGE_PAIRING,
            {"imei": "123", "msisdn": "5", "reason": " "},
            [("imei", "INVALID_INPUT"), ("msisdn", "INVALID_INPUT"), ("reason", "INVALID_INPUT")],
        ),
        (
            REMOVE_PAIRING,
            {"imei": "123", "reason": ""},
            [("imei", "INVALID_INPUT"), ("reason", "INVALID_INPUT")],
        ),
        (
            REMOVE_WHITELIST,
            {"imei": "12x", "reason": ""},
            [("imei", "INVALID_INPUT"), ("reason", "INVALID_INPUT")],
        ),
    ]:
        body = await gql(client, mutation, variables, token=reviewer)
        (payload,) = body["data"].values()
        assert fields_and_codes(payload["errors"]) == expected, mutation

    firm_user = await login(client, "a.user")
    body = await gql(client, PAIR, {"imei": "1", "msisdn": "abc"}, token=firm_user)
    assert fields_and_codes(body["data"]["pairImei"]["errors"]) == [
        ("imei", "INVALID_INPUT"),
        ("msisdn", "INVALID_INPUT"),
    ]
    bad_tac = {**GALAXY, "tac": "12", "brand": "", "imeiCount": 0}
    payload = await request_tac(client, firm_user, bad_tac, letter=PNG, name="yazi.png")
    assert fields_and_codes(payload["errors"]) == [
        ("brand", "INVALID_INPUT"),
        ("imeiCount", "INVALID_INPUT"),
        ("letter", "INVALID_INPUT"),
        ("tac", "INVALID_INPUT"),
    ]


async def test_a_wrong_current_password_and_a_weak_new_one_are_told_together(client):
    await make_world()
    user = await login(client, "a.user")
    body = await gql(client, CHANGE_PASSWORD, {"c": "not-it-123", "n": "short"}, token=user)
    assert fields_and_codes(body["data"]["changePassword"]["errors"]) == [
        ("currentPassword", "INVALID_CREDENTIALS"),
        ("newPassword", "WEAK_PASSWORD"),
    ]


async def test_a_ce_certificate_upload_reports_its_brand_model_and_file_problems_together(client):
    from tests.test_tac_registry import upload as multipart

    await make_world()
    user = await login(client, "a.user")
    mutation = """mutation($f: Upload!) {
      uploadCeCertificate(brand: " ", model: "", file: $f) { certificate { id } errors { code field } }
    }"""
    body = await multipart(client, mutation, {}, {"f": ("ce.png", PNG, "image/png")}, user)
    assert fields_and_codes(body["data"]["uploadCeCertificate"]["errors"]) == [
        ("brand", "INVALID_INPUT"),
        ("file", "INVALID_INPUT"),
        ("model", "INVALID_INPUT"),
    ]
