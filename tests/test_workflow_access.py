"""Who may take which step (the one transition table, checked per role), another firm's
application, the e-signature checks, and the document rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from models import clock
from models.applications import Application
from models.roles import Role
from models.workflow import TRANSITIONS, Action, ApplicationStatus, actions_available
from resolvers import jobs
from resolvers.actor import Actor
from resolvers.applications import transitions
from resolvers.errors import DomainError, ErrorCode
from resolvers.settings import configure
from tests.support.api import error_codes, gql, login, make_world
from tests.support.signing import TestCa, append_content, tamper
from tests.support.uploads import imei, upload, xlsx
from tests.support.workflow import (
    APPROVE,
    CHOOSE,
    PAY,
    TAKE,
    UPLOAD_CE,
    UPLOAD_SIGNED,
    WORKFLOW,
    attach_documents,
    download,
    jpeg,
    pdf_workers,
    plain_pdf,
    refused,
    step,
    upload_document,
    upload_signed_by_firm,
)
from tests.test_application_analysis import (
    APPLE,
    SUBMIT,
    TO_ANALYSIS,
    create_draft,
    seed_registry,
)

# The fixtures imported from tests.support.workflow are used by name.
__all__ = ["pdf_workers"]

pytestmark = pytest.mark.usefixtures("pdf_workers")

CANCEL = "mutation($id: Int!) { cancelApplication(applicationId: $id) { application { status } errors { code } } }"


async def analysed(client, rows) -> tuple[int, str]:
    """Firm A's application with `rows`, through analysis (AWAITING_SIGNATURE_CHOICE)."""
    user, supervisor = await login(client, "a.user"), await login(client, "a.super")
    application_id = await create_draft(client, user)
    await upload(client, user, application_id, xlsx(rows))
    await attach_documents(client, user, application_id)
    assert (await gql(client, SUBMIT, {"id": application_id}, token=user))["data"][
        "submitApplication"
    ]["errors"] == []
    await gql(client, TO_ANALYSIS, {"id": application_id}, token=supervisor)
    await jobs.drain()
    return application_id, user


GOOD = [("APPLE", "A2403", imei(APPLE + "800001"), imei(APPLE + "800002"))]


def test_every_action_is_refused_to_every_role_the_table_does_not_name():
    application = type("A", (), {"status": None})()
    for transition in TRANSITIONS:
        for role in Role:
            for status in ApplicationStatus:
                application.status = status
                actor = Actor(kind="USER", role=role, name="x")
                allowed = role in transition.roles and status in transition.sources
                try:
                    transitions.check(actor, application, transition.action)  # type: ignore[arg-type]
                    assert allowed, (transition.action, role, status)
                except DomainError as error:
                    assert not allowed
                    expected = (
                        ErrorCode.FORBIDDEN
                        if role not in transition.roles
                        else ErrorCode.INVALID_STATE
                    )
                    assert error.code == expected
    # The firm never decides its own review or payment (it may only withdraw, until a
    # reviewer takes it: art. 8(5)); staff never sign for a firm.
    assert set(actions_available(ApplicationStatus.UNDER_REVIEW, Role.FIRM_SUPERVISOR)) == {
        Action.CANCEL,
        Action.WITHDRAW_TO_DRAFT,
    }
    assert actions_available(ApplicationStatus.AWAITING_PAYMENT, Role.STAFF_REVIEWER) == []
    assert actions_available(ApplicationStatus.AWAITING_SIGNATURE_CHOICE, Role.STAFF_ADMIN) == []
    assert actions_available(ApplicationStatus.AWAITING_PAYMENT, Role.STAFF_ARCHIVE) == [
        Action.RECORD_PAYMENT,
        Action.RECORD_PAYMENT_WITHOUT_CUSTOMS,
    ]


async def test_wrong_roles_and_another_firm_are_refused_at_every_step(client):
    clock.freeze(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    await make_world()
    await seed_registry()
    draft = await create_draft(client, await login(client, "a.user"))
    application_id, user = await analysed(client, GOOD)
    intruder = await login(client, "b.user")
    reviewer, archive = await login(client, "staff.reviewer"), await login(client, "staff.archive")

    choose = {"id": application_id, "method": "E_SIGNATURE"}
    assert await refused(client, CHOOSE, choose, intruder) == ["NOT_FOUND"]
    assert error_codes(await gql(client, WORKFLOW, {"id": application_id}, token=intruder)) == [
        "NOT_FOUND"
    ]
    assert await refused(client, CHOOSE, choose, reviewer) == ["FORBIDDEN"]
    assert await refused(client, CHOOSE, {"id": draft, "method": "E_SIGNATURE"}, user) == [
        "INVALID_STATE"
    ]
    assert await refused(client, TAKE, {"id": application_id}, user) == ["FORBIDDEN"]
    assert await refused(client, TAKE, {"id": application_id}, reviewer) == ["INVALID_STATE"]

    chosen = await step(client, CHOOSE, choose, await login(client, "a.super"))
    form_id = chosen["workflow"]["applicationForm"]
    assert (await download(client, intruder, form_id)).status_code == 404
    assert (await download(client, reviewer, form_id)).status_code == 200
    form = (await download(client, user, form_id)).content
    await upload_signed_by_firm(client, user, application_id, form)

    assert await refused(client, APPROVE, {"id": application_id}, archive) == ["FORBIDDEN"]
    assert await refused(client, APPROVE, {"id": application_id}, user) == ["FORBIDDEN"]
    payment = {"applicationId": application_id, "method": "CARD_AT_OFFICE", "amount": "1"}
    assert await refused(client, PAY, {"input": payment}, reviewer) == ["FORBIDDEN"]
    assert await refused(client, PAY, {"input": payment}, archive) == ["INVALID_STATE"]
    # Too late to withdraw once a reviewer took it (art. 8(5)).
    await step(client, TAKE, {"id": application_id}, reviewer)
    assert (await gql(client, CANCEL, {"id": application_id}, token=user))["data"][
        "cancelApplication"
    ]["errors"] == [{"code": "INVALID_STATE"}]


async def test_no_passing_device_means_no_signature_step(client):
    await make_world()
    ids = await seed_registry()
    application_id, user = await analysed(client, [("APPLE", "A2403", ids["registered"])])
    assert await refused(
        client, CHOOSE, {"id": application_id, "method": "WET_SIGNATURE"}, user
    ) == ["NO_PASSING_DEVICES"]
    cancelled = (await gql(client, CANCEL, {"id": application_id}, token=user))["data"]
    assert cancelled["cancelApplication"]["application"]["status"] == "CANCELLED"


async def test_the_signed_application_must_be_intact_ours_and_trusted_when_configured(
    client, settings, tmp_path
):
    await make_world()
    await seed_registry()
    application_id, user = await analysed(client, GOOD)
    chosen = await step(client, CHOOSE, {"id": application_id, "method": "E_SIGNATURE"}, user)
    form = (await download(client, user, chosen["workflow"]["applicationForm"])).content
    firm_ca, other_ca = TestCa.create(), TestCa.create("Başka Sağlayıcı", "Mehmet Öztürk")
    await firm_ca.register_for((await Application.get(id=application_id)).firm_id)
    signed = await firm_ca.sign(form)

    async def codes(content: bytes) -> list[str]:
        body = await upload(client, user, application_id, content, "s.pdf", query=UPLOAD_SIGNED)
        return [e["code"] for e in body["data"]["uploadSignedApplication"]["errors"]]

    assert await codes(jpeg()) == ["INVALID_INPUT"]
    assert await codes(tamper(signed)) == ["SIGNATURE_INVALID"]
    assert await codes(append_content(signed)) == ["SIGNATURE_INVALID"]
    assert await codes(await firm_ca.sign(plain_pdf())) == ["DOCUMENT_MISMATCH"]

    # With trust roots configured, only signatures chaining to them are accepted.
    configure(replace(settings, signature_trust_roots=tmp_path / "roots"))
    firm_ca.write_root(tmp_path / "roots")
    assert await codes(await other_ca.sign(form)) == ["SIGNATURE_UNTRUSTED"]
    body = await upload(client, user, application_id, signed, "s.pdf", query=UPLOAD_SIGNED)
    accepted = body["data"]["uploadSignedApplication"]
    assert accepted["errors"] == [] and accepted["workflow"]["signatureTrusted"] is True
    assert accepted["application"]["status"] == "UNDER_REVIEW"


async def test_document_rules(client):
    await make_world()
    user = await login(client, "a.user")
    application_id = await create_draft(client, user)
    too_big = await upload_document(client, user, application_id, "INVOICE", jpeg(301 * 1024))
    assert (
        too_big["errors"][0]["code"] == "INVALID_INPUT"
        and "300 KB" in too_big["errors"][0]["message"]
    )
    report = await upload_document(client, user, application_id, "CAPACITY_REPORT", plain_pdf())
    assert report["errors"][0]["field"] == "kind"  # imports have no capacity report
    staff = await login(client, "staff.archive")
    body = await upload(
        client,
        staff,
        0,
        jpeg(),
        "ce.jpg",
        query=UPLOAD_CE,
        variables={"brand": "APPLE", "model": "A2403"},
    )
    assert error_codes(body) == ["FORBIDDEN"]
    english = await client.post(
        "/graphql",
        json={"query": SUBMIT, "variables": {"id": application_id}},
        headers={"Authorization": f"Bearer {user}", "Accept-Language": "en"},
    )
    messages = {
        e["field"]: e["message"] for e in english.json()["data"]["submitApplication"]["errors"]
    }
    assert (
        messages["invoiceScan"] == "Invalid value: the invoice scan is required (JPEG under 300 KB)"
    )
