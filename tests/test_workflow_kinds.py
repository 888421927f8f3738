"""The other kinds and channels: manufacture (capacity report, no customs), paper
applications entered by staff from Ek-2, test devices (art. 12) and mainboards (held)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models import clock
from models.applications import Application
from models.progress import HeldImei
from models.registry import WhitelistEntry
from models.roles import FirmKind
from models.workflow import ApplicationStatus
from resolvers import jobs
from tests.support.api import gql, login, make_world
from tests.support.operators import CHECK, make_operator
from tests.support.signing import sign_as_firm
from tests.support.uploads import imei, upload, xlsx
from tests.support.workflow import (
    APPROVE,
    CHOOSE,
    PAY,
    RECEIVE_CUSTOMS,
    SET_FEE,
    TAKE,
    UPLOAD_CUSTOMS,
    UPLOAD_SIGNED,
    WORKFLOW,
    attach_documents,
    deliver_mail,
    download,
    mailbox,
    pdf_text,
    pdf_workers,
    plain_pdf,
    record_papers,
    refused,
    step,
    upload_document,
    upload_signed_by_firm,
)
from tests.test_application_analysis import (
    APPLE,
    SAMSUNG,
    SUBMIT,
    TO_ANALYSIS,
    create_draft,
    seed_registry,
)
from tests.test_device_list_upload import PAPER, ek2

# The fixtures imported from tests.support.workflow are used by name.
__all__ = ["mailbox", "pdf_workers"]

pytestmark = pytest.mark.usefixtures("pdf_workers")

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
EN = {"Accept-Language": "en"}
STATUS_REASON = "query($id: Int!) { application(id: $id) { status statusReason } }"
REOPEN = """mutation($id: Int!) { reopenApplication(applicationId: $id) {
  application { status } errors { code field message } } }"""
OVERDUE = "{ overdueApplications { items { application { id } customsDueAt overdue } } }"
DEADLINES = "{ customsDeadlines { items { application { id } customsDueAt overdue } } }"
MANUFACTURE_DATA = {"productionDate": "2026-11-10"}


@pytest.fixture
async def world(client):
    clock.freeze(NOW)
    world = await make_world()
    # One firm that imports and manufactures, so it files every kind of application.
    world.firm_a.kind = FirmKind.IMPORTER_MANUFACTURER
    await world.firm_a.save(update_fields=["kind"])
    await seed_registry()
    await step(
        client,
        SET_FEE,
        {"input": {"year": 2026, "fee": "10.00"}},
        await login(client, "staff.admin"),
    )
    return world


async def to_review(client, user: str, supervisor: str, application_id: int, method: str) -> dict:
    assert (await gql(client, SUBMIT, {"id": application_id}, token=user))["data"][
        "submitApplication"
    ]["errors"] == []
    await gql(client, TO_ANALYSIS, {"id": application_id}, token=supervisor)
    await jobs.drain()
    chosen = await step(client, CHOOSE, {"id": application_id, "method": method}, user)
    return chosen


async def review_and_pay(client, application_id: int, amount: str) -> dict:
    reviewer, archive = await login(client, "staff.reviewer"), await login(client, "staff.archive")
    await step(client, TAKE, {"id": application_id}, reviewer)
    await step(client, APPROVE, {"id": application_id}, reviewer)
    payment = {"applicationId": application_id, "method": "CARD_AT_OFFICE", "amount": amount}
    return await step(client, PAY, {"input": payment}, archive)


async def test_manufacture_needs_a_capacity_report_reuses_ce_and_completes_at_payment(
    client, world
):
    user, supervisor = await login(client, "a.user"), await login(client, "a.super")
    first = await create_draft(client, user, "MANUFACTURE", MANUFACTURE_DATA)
    await upload(
        client,
        user,
        first,
        xlsx([("APPLE", "A2403", imei(APPLE + "400001"), imei(APPLE + "400002"))]),
    )
    await attach_documents(client, user, first)  # the declaration, the APPLE A2403 certificate
    body = await gql(client, SUBMIT, {"id": first}, token=user)
    assert [e["field"] for e in body["data"]["submitApplication"]["errors"]] == ["capacityReport"]
    report = await upload_document(
        client, user, first, "CAPACITY_REPORT", plain_pdf("Kapasite"), "kapasite.pdf"
    )
    assert report["errors"] == []

    # A later application of the same model needs no new CE certificate (guide §3).
    second = await create_draft(client, user, "MANUFACTURE", MANUFACTURE_DATA)
    await upload(
        client,
        user,
        second,
        xlsx([("APPLE", "A2403", imei(APPLE + "400003"), imei(APPLE + "400004"))]),
    )
    requirements = (await gql(client, WORKFLOW, {"id": second}, token=user))["data"][
        "applicationWorkflow"
    ]["requiredCeCertificates"]
    assert [(r["brand"], r["model"], r["certificate"] is not None) for r in requirements] == [
        ("APPLE", "A2403", True)
    ]

    chosen = await to_review(client, user, supervisor, first, "E_SIGNATURE")
    form = (await download(client, user, chosen["workflow"]["applicationForm"])).content
    assert "10.11.2026 tarihinde imalatı gerçekleştirilen toplam 1 adet" in pdf_text(form)
    signed = await upload(
        client, user, first, await sign_as_firm(first, form), "s.pdf", query=UPLOAD_SIGNED
    )
    assert signed["data"]["uploadSignedApplication"]["application"]["status"] == "UNDER_REVIEW"

    # Made here: no customs documents; the payment completes the application.
    paid = await review_and_pay(client, first, "20.00")
    assert paid["application"]["status"] == "COMPLETED"
    assert paid["workflow"]["customsDueAt"] is None and paid["workflow"]["registeredImeiCount"] == 2
    permit = pdf_text((await download(client, user, paid["workflow"]["permit"])).content)
    assert "MCKS Kayıt Belgesi" in permit and "10.11.2026 tarihinde imal edilen" in permit
    assert await WhitelistEntry.filter(application_id=first).count() == 2


async def test_staff_enter_a_paper_application_that_goes_through_on_paper(client, world, mailbox):
    staff = await login(client, "staff.archive")
    created = (await gql(client, PAPER, {"firm": world.firm_a.id}, token=staff))["data"][
        "createApplication"
    ]
    application_id = created["application"]["id"]
    content = ek2([imei(SAMSUNG + "500001"), imei(SAMSUNG + "500002")])
    await upload(client, staff, application_id, content, "ek2.txt")
    # Staff record the scans of the papers the firm delivered (art. 9(2)).
    await record_papers(client, staff, application_id, [("SAMSUNG", "SM-G9359", 2)])
    submitted = await gql(client, SUBMIT, {"id": application_id}, token=staff)
    assert submitted["data"]["submitApplication"]["application"]["status"] == "IN_ANALYSIS"
    await jobs.drain()
    assert (await Application.get(id=application_id)).status == ApplicationStatus.UNDER_REVIEW

    paid = await review_and_pay(client, application_id, "20.00")
    assert paid["application"]["status"] == "AWAITING_CUSTOMS_DOCUMENTS"
    assert paid["workflow"]["signatureMethod"] == "WET_SIGNATURE"
    user = await login(client, "a.user")
    portal = await upload(client, user, application_id, plain_pdf(), "g.pdf", query=UPLOAD_CUSTOMS)
    assert portal["data"]["uploadCustomsDocuments"]["errors"][0]["code"] == "INVALID_STATE"

    # Six months pass without the copies: staff see it overdue, the firm sees its deadline.
    clock.advance(timedelta(days=200))
    staff, user = await login(client, "staff.archive"), await login(client, "a.user")
    overdue = (await gql(client, OVERDUE, token=staff))["data"]["overdueApplications"]["items"]
    assert overdue == [
        {
            "application": {"id": application_id},
            "customsDueAt": "2027-05-23T09:00:00+00:00",
            "overdue": True,
        }
    ]
    mine = (await gql(client, DEADLINES, token=user))["data"]["customsDeadlines"]["items"]
    assert mine == overdue
    # The firm sees its own overdue applications too (guide §6), another firm none.
    assert (await gql(client, OVERDUE, token=user))["data"]["overdueApplications"][
        "items"
    ] == overdue
    other_firm = await login(client, "b.user")
    assert (await gql(client, DEADLINES, token=other_firm))["data"]["customsDeadlines"][
        "items"
    ] == []
    assert (await gql(client, OVERDUE, token=other_firm))["data"]["overdueApplications"][
        "items"
    ] == []
    done = await step(client, RECEIVE_CUSTOMS, {"id": application_id}, staff)
    assert done["application"]["status"] == "COMPLETED"
    await deliver_mail()
    assert [m.subject.rsplit(": ", 1)[1] for m in mailbox.to("firma@example.com")] == [
        "Analiz Sürecinde",
        "İncelemede",
        "Ödeme Bekleniyor",
        "Gümrük Belgesi Bekleniyor",
        "Tamamlandı",
    ]


async def test_one_failing_device_rejects_a_paper_application_and_the_firm_is_told(
    client, world, mailbox
):
    staff = await login(client, "staff.reviewer")
    created = (await gql(client, PAPER, {"firm": world.firm_a.id}, token=staff))["data"][
        "createApplication"
    ]
    application_id = created["application"]["id"]
    registered = imei(SAMSUNG + "000001")  # on the whitelist already (seed_registry)
    await upload(
        client, staff, application_id, ek2([imei(SAMSUNG + "500003"), registered]), "ek2.txt"
    )
    await record_papers(client, staff, application_id, [("SAMSUNG", "SM-G9359", 2)])
    await gql(client, SUBMIT, {"id": application_id}, token=staff)
    await jobs.drain()
    assert (await Application.get(id=application_id)).status == ApplicationStatus.REJECTED
    await deliver_mail()
    [*_, rejection] = mailbox.to("firma@example.com")
    assert rejection.subject.endswith(": Reddedildi")
    assert "Gerekçe: 1 cihaz teknik kontrollerden geçemedi" in rejection.text
    assert "Reason: 1 device(s) failed the technical checks" in rejection.text

    # The firm reads the reason in English too (art. 10(5)).
    firm_user = await login(client, "a.user")
    english = await gql(client, STATUS_REASON, {"id": application_id}, token=firm_user, headers=EN)
    assert english["data"]["application"]["statusReason"] == (
        "1 device(s) failed the technical checks; a paper application is rejected as a whole "
        "(art. 10(5))"
    )
    # It brings the corrected CD (art. 10(4)); the staff who enter paper applications
    # reopen it, put in the fixed list and submit it again.
    assert await refused(client, REOPEN, {"id": application_id}, firm_user) == ["FORBIDDEN"]
    # What each is offered says the same: the firm nothing, the staff who enter it REOPEN.
    offered = "query($id: Int!) { application(id: $id) { availableActions } }"
    for token, expected in ((firm_user, []), (staff, ["REOPEN"])):
        body = await gql(client, offered, {"id": application_id}, token=token)
        assert body["data"]["application"]["availableActions"] == expected
    reopened = await step(client, REOPEN, {"id": application_id}, staff)
    assert reopened["application"]["status"] == "DRAFT"
    body = await gql(client, offered, {"id": application_id}, token=staff)
    assert body["data"]["application"]["availableActions"] == ["SUBMIT_PAPER"]
    fixed = ek2([imei(SAMSUNG + "500003"), imei(SAMSUNG + "500004")])
    await upload(client, staff, application_id, fixed, "ek2.txt")
    await step(client, SUBMIT, {"id": application_id}, staff)
    await jobs.drain()
    assert (await Application.get(id=application_id)).status == ApplicationStatus.UNDER_REVIEW


PAPER_TEST = """mutation($firm: Int!) {
  createApplication(input: {kind: TEST, channel: PAPER, firmId: $firm, data: {
    importDate: "2026-11-02", customsDeclarationNo: "26341300IM000888", originCountry: "DE",
    testDevicesDeclared: true}}) {
    application { id channel status } errors { code field }
  }
}"""


async def test_paper_test_devices_are_registered_even_off_the_imei_standard(client, world):
    # Art. 12(2), 12(4): test devices off the standard come by paper, and pass there.
    staff = await login(client, "staff.archive")
    created = (await gql(client, PAPER_TEST, {"firm": world.firm_a.id}, token=staff))["data"][
        "createApplication"
    ]
    application_id = created["application"]["id"]
    prototype = imei(SAMSUNG + "600001")
    off_standard = prototype[:-1] + str((int(prototype[-1]) + 1) % 10)  # wrong check digit
    await upload(
        client,
        staff,
        application_id,
        xlsx([("PROTOTIP", "X1", prototype), ("PROTOTIP", "X1", off_standard)]),
    )
    # On paper the petition's table is the declaration (art. 9(2)); its papers are scanned.
    await record_papers(client, staff, application_id, [("PROTOTIP", "X1", 2)])
    await step(client, SUBMIT, {"id": application_id}, staff)
    await jobs.drain()
    application = await Application.get(id=application_id)
    assert (application.status, application.passed_device_count) == (
        ApplicationStatus.UNDER_REVIEW,
        2,
    )
    paid = await review_and_pay(client, application_id, "20.00")
    assert paid["workflow"]["registeredImeiCount"] == 2
    assert await WhitelistEntry.filter(imei=off_standard, application_id=application_id).exists()


async def test_mainboard_imeis_are_held_off_the_whitelist(client, world):
    user, supervisor = await login(client, "a.user"), await login(client, "a.super")
    application_id = await create_draft(client, user, "MAINBOARD")
    boards = [imei(SAMSUNG + "700001"), imei(SAMSUNG + "700002")]
    await upload(client, user, application_id, xlsx([("SAMSUNG", "SM-G9359", b) for b in boards]))
    await attach_documents(client, user, application_id)  # no CE for spare mainboards
    chosen = await to_review(client, user, supervisor, application_id, "E_SIGNATURE")
    form = (await download(client, user, chosen["workflow"]["applicationForm"])).content
    await upload_signed_by_firm(client, user, application_id, form)
    paid = await review_and_pay(client, application_id, "20.00")
    assert paid["workflow"]["heldImeiCount"] == 2 and paid["workflow"]["registeredImeiCount"] == 0
    held = (
        await HeldImei.filter(application_id=application_id)
        .order_by("imei")
        .values_list("imei", flat=True)
    )
    assert held == sorted(boards)
    await make_operator("Test GSM", "TGSM", "operator-token-2")
    checked = await gql(client, CHECK, {"imeis": boards}, token="operator-token-2")
    # Held (Tebliğ art. 11(2)): not on a network until the original's importer reports which
    # IMEI each one replaces; no grace period either.
    assert {(a["status"], a["reason"]) for a in checked["data"]["checkImeis"]} == {
        ("NOT_REGISTERED", "HELD_REPLACEMENT")
    }
    permit = pdf_text((await download(client, user, paid["workflow"]["permit"])).content)
    assert "bekletilmektedir" in permit
