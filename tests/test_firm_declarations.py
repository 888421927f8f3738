"""What the firm declares (Tebliğ art. 8(2), Ek-1) and what it may still change (art. 8(5)):
the declared MARKA / MODEL / ADET table against the device list, taking an application back
to draft or withdrawing it until a reviewer takes it, the kinds of application each kind of
firm files, and a rejected paper application taken up again (art. 10(4), 10(5))."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models import clock
from models.applications import Application, DeclarationDifference
from models.audit import AuditEvent
from models.roles import FirmKind
from models.workflow import ApplicationStatus
from resolvers import jobs
from resolvers.applications import declarations
from tests.support.api import gql, login, make_world
from tests.support.uploads import imei, upload, xlsx
from tests.support.workflow import (
    CHOOSE,
    HARDCOPY,
    SET_FEE,
    TAKE,
    attach_documents,
    declare_as_listed,
    deliver_mail,
    download,
    jpeg,
    mailbox,
    pdf_text,
    pdf_workers,
    record_papers,
    step,
    upload_ce,
    upload_document,
)
from tests.test_application_analysis import (
    APPLE,
    IMPORT_DATA,
    SAMSUNG,
    SUBMIT,
    TO_ANALYSIS,
    create_draft,
    seed_registry,
)
from tests.test_device_list_upload import PAPER, ek2

__all__ = ["mailbox", "pdf_workers"]  # fixtures

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
APPLICATION = """query($id: Int!) { application(id: $id) {
  status statusReason availableActions
  declaredDevices { brand model count }
  declarationDifferences { brand model declaredCount listedCount message }
} }"""
UPDATE = """mutation($id: Int!, $data: ApplicationDataInput!) {
  updateApplication(applicationId: $id, data: $data) {
    application { id declaredDevices { brand model count } } errors { code field message }
  }
}"""
CREATE = """mutation($kind: ApplicationKind!, $data: ApplicationDataInput!) {
  createApplication(input: {kind: $kind, data: $data}) {
    application { id declaredDevices { brand model count } } errors { code field message }
  }
}"""
WITHDRAW = """mutation($id: Int!) { withdrawApplicationToDraft(applicationId: $id, reason: "adet") {
  application { status statusReason } errors { code field message } } }"""
CANCEL = """mutation($id: Int!) { cancelApplication(applicationId: $id) {
  application { status } errors { code field message } } }"""
REOPEN = """mutation($id: Int!) { reopenApplication(applicationId: $id) {
  application { status } errors { code field message } } }"""
EN = {"Accept-Language": "en"}


@pytest.fixture
async def world(client):
    clock.freeze(NOW)
    world = await make_world()
    await seed_registry()
    await step(
        client,
        SET_FEE,
        {"input": {"year": 2026, "fee": "10.00"}},
        await login(client, "staff.admin"),
    )
    return world


def apple(serial: int) -> tuple[str, str, str, str]:
    return ("APPLE", "A2403", imei(f"{APPLE}{serial:06d}"), imei(f"{APPLE}{serial + 1:06d}"))


def samsung(serial: int) -> tuple[str, str, str]:
    return ("SAMSUNG", "SM-G9359", imei(f"{SAMSUNG}{serial:06d}"))


async def analysed(client, user: str, supervisor: str, application_id: int) -> dict:
    assert (await gql(client, SUBMIT, {"id": application_id}, token=user))["data"][
        "submitApplication"
    ]["errors"] == []
    await gql(client, TO_ANALYSIS, {"id": application_id}, token=supervisor)
    await jobs.drain()
    return (await gql(client, APPLICATION, {"id": application_id}, token=user))["data"][
        "application"
    ]


async def test_every_difference_between_the_declaration_and_the_list_is_an_inconsistency(
    client, world, mailbox
):
    user, supervisor = await login(client, "a.user"), await login(client, "a.super")
    # Ek-1's table: three APPLE A2403 (written loosely), one NOKIA 3310 that is not shipped.
    declared = [
        {"brand": " apple", "model": "a2403 ", "count": 3},
        {"brand": "NOKIA", "model": "3310", "count": 1},
    ]
    created = await gql(
        client,
        CREATE,
        {"kind": "IMPORT", "data": {**IMPORT_DATA, "declaredDevices": declared}},
        token=user,
    )
    payload = created["data"]["createApplication"]
    assert payload["errors"] == []
    application_id = payload["application"]["id"]
    assert payload["application"]["declaredDevices"] == [
        {"brand": "APPLE", "model": "A2403", "count": 3},
        {"brand": "NOKIA", "model": "3310", "count": 1},
    ]
    # The list: two APPLE A2403 and one SAMSUNG nobody declared.
    rows = [apple(100001), apple(100003), samsung(100005)]
    assert (await upload(client, user, application_id, xlsx(rows)))["data"]["uploadDeviceList"][
        "errors"
    ] == []
    invoice = await upload_document(client, user, application_id, "INVOICE", jpeg(), "f.jpg")
    assert invoice["errors"] == []
    for brand, model in (("APPLE", "A2403"), ("SAMSUNG", "SM-G9359")):
        assert (await upload_ce(client, user, brand, model))["errors"] == []

    application = await analysed(client, user, supervisor, application_id)
    assert application["status"] == "AWAITING_SIGNATURE_CHOICE"
    assert [
        (d["brand"], d["model"], d["declaredCount"], d["listedCount"])
        for d in application["declarationDifferences"]
    ] == [("APPLE", "A2403", 3, 2), ("NOKIA", "3310", 1, 0), ("SAMSUNG", "SM-G9359", 0, 1)]
    messages = [d["message"] for d in application["declarationDifferences"]]
    assert messages[0] == "APPLE A2403: 3 adet beyan edildi, listede 2 cihaz var"
    english = (await gql(client, APPLICATION, {"id": application_id}, token=user, headers=EN))[
        "data"
    ]["application"]["declarationDifferences"]
    assert english[2]["message"] == "SAMSUNG SM-G9359: 1 device(s) in the list, none declared"
    event = await AuditEvent.filter(action="application.finish_analysis").order_by("-id").first()
    assert event is not None and event.details["declarationDifferences"] == 3

    await deliver_mail()
    told = mailbox.to("firma@example.com")[-1]
    assert "3 marka/modelde cihaz listesiyle tutarsız" in told.text
    assert "differ from the device list for 3 brand/model(s)" in told.text

    # Nothing is signed while the two disagree (art. 10(3)).
    chosen = await gql(
        client, CHOOSE, {"id": application_id, "method": "WET_SIGNATURE"}, token=user
    )
    [error] = chosen["data"]["chooseSignatureMethod"]["errors"]
    assert error["code"] == "DECLARATION_INCONSISTENT" and error["field"] == "declaredDevices"
    assert "NOKIA 3310: 1 adet beyan edildi, listede yok" in error["message"]

    # Art. 8(5): the firm takes it back to draft, corrects the declaration, submits again.
    back = await step(client, WITHDRAW, {"id": application_id}, user)
    assert back["application"] == {"status": "DRAFT", "statusReason": "adet"}
    await declare_as_listed(client, user, application_id)
    application = await analysed(client, user, supervisor, application_id)
    assert application["declarationDifferences"] == []
    assert await DeclarationDifference.filter(application_id=application_id).count() == 0

    # The application document prints the declared table beside the passing groups.
    chosen = await step(client, CHOOSE, {"id": application_id, "method": "WET_SIGNATURE"}, user)
    form = pdf_text((await download(client, user, chosen["workflow"]["applicationForm"])).content)
    assert "Beyan edilen cihazlar" in form
    declared_part = form[form.index("Beyan edilen cihazlar") :]
    assert "APPLE" in declared_part and "SAMSUNG" in declared_part and "TOPLAM" in declared_part


async def test_a_declaration_is_required_and_each_bad_line_is_named(client, world):
    user = await login(client, "a.user")
    application_id = await create_draft(client, user)
    bad = [
        {"brand": "APPLE", "model": "A2403", "count": 0},
        {"brand": "", "model": "X", "count": 2},
        {"brand": "Apple", "model": "a2403", "count": 1},
    ]
    body = await gql(
        client, UPDATE, {"id": application_id, "data": {"declaredDevices": bad}}, token=user
    )
    errors = body["data"]["updateApplication"]["errors"]
    assert {e["field"] for e in errors} == {
        "declaredDevices[0].count",
        "declaredDevices[1].brand",
        "declaredDevices[2].model",
    }
    duplicate = next(e for e in errors if e["field"] == "declaredDevices[2].model")
    assert "1. satırda zaten beyan edildi" in duplicate["message"]
    english = await gql(
        client,
        UPDATE,
        {"id": application_id, "data": {"declaredDevices": bad}},
        token=user,
        headers=EN,
    )
    assert "already declared on line 1" in " ".join(
        e["message"] for e in english["data"]["updateApplication"]["errors"]
    )
    # Nothing was stored: the declaration is still missing at submission.
    submitted = await gql(client, SUBMIT, {"id": application_id}, token=user)
    missing = {e["field"]: e["message"] for e in submitted["data"]["submitApplication"]["errors"]}
    assert "Ek-1" in missing["declaredDevices"]


async def test_an_inconsistent_paper_application_is_not_sent_to_analysis(client, world):
    """A paper application's declaration is its petition's table (art. 9(2)(a)): staff who
    typed it learn every difference with the list before it goes on (art. 10(3))."""
    staff = await login(client, "staff.reviewer")
    created = (await gql(client, PAPER, {"firm": world.firm_a.id}, token=staff))["data"][
        "createApplication"
    ]
    application_id = created["application"]["id"]
    content = ek2([imei(SAMSUNG + "500011"), imei(SAMSUNG + "500012")])
    await upload(client, staff, application_id, content, "ek2.txt")
    await record_papers(client, staff, application_id, [("SAMSUNG", "SM-G9359", 3)])
    body = await gql(client, SUBMIT, {"id": application_id}, token=staff)
    errors = next(iter(body["data"].values()))["errors"]
    assert [(e["field"], e["message"]) for e in errors] == [
        ("petition", "Geçersiz değer: SAMSUNG SM-G9359: 3 adet beyan edildi, listede 2 cihaz var")
    ]
    # The corrected petition is the declaration the analysis compares: no inconsistency.
    await record_papers(client, staff, application_id, [("SAMSUNG", "SM-G9359", 2)], kinds=())
    await step(client, SUBMIT, {"id": application_id}, staff)
    await jobs.drain()
    assert (await Application.get(id=application_id)).status == ApplicationStatus.UNDER_REVIEW
    assert await declarations.differences(application_id) == []


async def actions(client, token: str, application_id: int) -> set[str]:  # type: ignore[no-untyped-def]
    body = await gql(client, APPLICATION, {"id": application_id}, token=token)
    return set(body["data"]["application"]["availableActions"])


async def test_the_firm_changes_its_application_until_a_reviewer_takes_it(client, world):
    user, supervisor = await login(client, "a.user"), await login(client, "a.super")
    application_id = await create_draft(client, user)
    await upload(client, user, application_id, xlsx([apple(200001)]))
    await attach_documents(client, user, application_id)
    await analysed(client, user, supervisor, application_id)
    # Submitted data is changed by taking it back to draft, not in place.
    in_place = await gql(
        client, UPDATE, {"id": application_id, "data": {"invoiceNo": "F-2"}}, token=user
    )
    [error] = in_place["data"]["updateApplication"]["errors"]
    assert error["code"] == "INVALID_STATE" and "taslağa geri alabilirsiniz" in error["message"]

    await step(client, CHOOSE, {"id": application_id, "method": "WET_SIGNATURE"}, user)
    archive, reviewer = await login(client, "staff.archive"), await login(client, "staff.reviewer")
    await step(client, HARDCOPY, {"id": application_id}, archive)
    # Under review but nobody took it yet: the firm may still take it back (art. 8(5)).
    assert await actions(client, user, application_id) == {"CANCEL", "WITHDRAW_TO_DRAFT"}
    assert (await step(client, WITHDRAW, {"id": application_id}, user))["application"][
        "status"
    ] == "DRAFT"
    await step(client, UPDATE, {"id": application_id, "data": {"invoiceNo": "F-2"}}, user)
    await analysed(client, user, supervisor, application_id)
    await step(client, CHOOSE, {"id": application_id, "method": "WET_SIGNATURE"}, user)
    await step(client, HARDCOPY, {"id": application_id}, archive)
    await step(client, TAKE, {"id": application_id}, reviewer)
    # Taken: neither withdrawn nor taken back any more, and the firm is not offered either.
    assert await actions(client, user, application_id) == set()
    assert {"APPROVE", "REJECT"} <= await actions(client, reviewer, application_id)
    for mutation in (WITHDRAW, CANCEL):
        body = await gql(client, mutation, {"id": application_id}, token=user)
        [error] = next(iter(body["data"].values()))["errors"]
        assert error["code"] == "INVALID_STATE"
        assert "incelemeye alındı" in error["message"]
    assert (await Application.get(id=application_id)).status == ApplicationStatus.UNDER_REVIEW
    # Another draft, under review and untaken, is cancelled.
    other = await create_draft(client, user)
    await upload(client, user, other, xlsx([apple(200011)]))
    await attach_documents(client, user, other)
    await analysed(client, user, supervisor, other)
    await step(client, CHOOSE, {"id": other, "method": "WET_SIGNATURE"}, user)
    await step(client, HARDCOPY, {"id": other}, archive)
    assert (await step(client, CANCEL, {"id": other}, user))["application"]["status"] == (
        "CANCELLED"
    )


MANUFACTURE = {"productionDate": "2026-11-10"}


async def test_each_kind_of_firm_files_its_own_kinds_of_application(client, world):
    importer = await login(client, "a.user")
    body = await gql(client, CREATE, {"kind": "MANUFACTURE", "data": MANUFACTURE}, token=importer)
    [error] = body["data"]["createApplication"]["errors"]
    assert (error["code"], error["field"]) == ("APPLICATION_KIND_NOT_ALLOWED", "kind")
    assert error["message"] == (
        "Firma türü İthalatçı: İmalat başvurusu yapılamaz; yapılabilecek başvurular: "
        "İthalat, Anakart, Takas Cihaz, Test Cihazı."
    )
    english = await gql(
        client, CREATE, {"kind": "MANUFACTURE", "data": MANUFACTURE}, token=importer, headers=EN
    )
    assert english["data"]["createApplication"]["errors"][0]["message"].startswith(
        "The firm is registered as importer: it cannot file a manufacture application"
    )
    # An importer's mainboards are imported: no production date.
    body = await gql(client, CREATE, {"kind": "MAINBOARD", "data": MANUFACTURE}, token=importer)
    assert [e["field"] for e in body["data"]["createApplication"]["errors"]] == ["productionDate"]

    world.firm_b.kind = FirmKind.MANUFACTURER
    await world.firm_b.save(update_fields=["kind"])
    maker = await login(client, "b.user")
    body = await gql(client, CREATE, {"kind": "IMPORT", "data": IMPORT_DATA}, token=maker)
    assert body["data"]["createApplication"]["errors"][0]["code"] == "APPLICATION_KIND_NOT_ALLOWED"
    # A manufacturer's own mainboards are made here: the production date, no customs data.
    mainboard = await create_draft(client, maker, "MAINBOARD", {})
    body = await gql(client, SUBMIT, {"id": mainboard}, token=maker)
    fields = {e["field"] for e in body["data"]["submitApplication"]["errors"]}
    assert "productionDate" in fields and "customsDeclarationNo" not in fields

    # A manufacture shows its capacity report, not an invoice (art. 8(3)).
    manufacture = await create_draft(client, maker, "MANUFACTURE", MANUFACTURE)
    body = await gql(client, SUBMIT, {"id": manufacture}, token=maker)
    fields = {e["field"] for e in body["data"]["submitApplication"]["errors"]}
    assert "capacityReport" in fields
    assert not fields & {"invoiceNo", "invoiceDate", "invoiceScan"}
    invoice = await upload_document(client, maker, manufacture, "INVOICE", jpeg(), "f.jpg")
    [error] = invoice["errors"]
    assert error["field"] == "kind" and "kapasite raporu" in error["message"]
