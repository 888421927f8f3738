"""The paper channel keeps its papers (Tebliğ art. 9(2)): staff record the scans of what the
firm delivered — the Ek-1 petition with its MARKA/MODEL/ADET table, the certified customs
declaration copy, the capacity report, a new TAC's letter, the original fee receipt, the
signature circular — and the Ek-2 list's header is checked against the application."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models import clock
from models.applications import DeclaredDevice
from models.audit import AuditEvent
from resolvers import jobs
from tests.support.api import error_codes, gql, login, make_world
from tests.support.uploads import imei, upload
from tests.support.workflow import (
    RECORD_PAPER,
    WORKFLOW,
    jpeg,
    pdf_workers,
    record_paper,
    record_papers,
)
from tests.test_application_analysis import SAMSUNG, SUBMIT, create_draft, seed_registry
from tests.test_device_list_upload import PAPER

__all__ = ["pdf_workers"]
pytestmark = pytest.mark.usefixtures("pdf_workers")

UPLOAD_LIST = """mutation($id: Int!, $file: Upload!) {
  uploadDeviceList(applicationId: $id, file: $file) {
    deviceCount warnings { row column message } errors { code field message }
  }
}"""
PAPER_VIEW = """query($id: Int!) {
  applicationWorkflow(applicationId: $id) { documents { kind kindLabel } petition { brand model count } }
}"""


def ek2(firm: str, day: str, imeis: list[str]) -> bytes:
    lines = ["Ek-2", f"{firm}, SAMSUNG SM-G9359", day, "IMEI NUMARALARI", *imeis]
    return "\n".join(lines).encode("utf-8")


DEVICES = [imei(SAMSUNG + "900001"), imei(SAMSUNG + "900002")]


@pytest.fixture
async def paper_application(client):
    clock.freeze(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    world = await make_world()
    await seed_registry()
    staff = await login(client, "staff.archive")
    created = (await gql(client, PAPER, {"firm": world.firm_a.id}, token=staff))["data"][
        "createApplication"
    ]
    return created["application"]["id"], staff


async def submit_errors(client, token, application_id) -> list[tuple[str, str]]:
    body = await gql(client, SUBMIT, {"id": application_id}, token=token)
    return [(e["field"], e["message"]) for e in body["data"]["submitApplication"]["errors"]]


async def test_the_ek2_header_is_checked_against_the_application(client, paper_application):
    application_id, staff = paper_application

    # The Ek-2 names another firm and another day than the application (02.11.2026).
    body = await upload(
        client,
        staff,
        application_id,
        ek2("Başka Ticaret Ltd.", "03.11.2026", DEVICES),
        "ek2.txt",
        query=UPLOAD_LIST,
    )

    payload = body["data"]["uploadDeviceList"]
    assert payload["errors"] == [] and payload["deviceCount"] == 2
    assert [(w["row"], w["message"]) for w in payload["warnings"]] == [
        (
            2,
            "Ek-2 başlığı başvuruyla uyuşmuyor: SAMSUNG SM-G9359 başlığındaki firma adı "
            "(«Başka Ticaret Ltd.») başvurunun firmasıyla («Anadolu Mobil A.Ş.») aynı değil",
        ),
        (
            2,
            "Ek-2 başlığı başvuruyla uyuşmuyor: SAMSUNG SM-G9359 başlığındaki tarih "
            "(03.11.2026) başvurudaki ithalat tarihinden (02.11.2026) farklı",
        ),
    ]
    event = await AuditEvent.filter(action="application.device_list_uploaded").first()
    assert event is not None and len(event.details["ek2HeaderDifferences"]) == 2
    in_english = await upload(
        client,
        staff,
        application_id,
        ek2("Anadolu Mobil", "", DEVICES),
        "ek2.txt",
        query=UPLOAD_LIST,
    )
    assert [w["message"] for w in in_english["data"]["uploadDeviceList"]["warnings"]] == [
        "Ek-2 başlığı başvuruyla uyuşmuyor: SAMSUNG SM-G9359 başlığındaki firma adı "
        "(«Anadolu Mobil») başvurunun firmasıyla («Anadolu Mobil A.Ş.») aynı değil",
        "Ek-2 başlığı başvuruyla uyuşmuyor: SAMSUNG SM-G9359 başlığında tarih yok; "
        "başvurudaki ithalat tarihi: 02.11.2026",
    ]

    # Written as on paper (capitals, dotted İ, no dots in A.Ş.): the same firm and day.
    matching = await upload(
        client,
        staff,
        application_id,
        ek2("ANADOLU MOBİL AŞ", "02/11/2026", DEVICES),
        "ek2.txt",
        query=UPLOAD_LIST,
    )
    assert matching["data"]["uploadDeviceList"]["warnings"] == []


async def test_a_paper_application_goes_on_only_with_its_papers_recorded(client, paper_application):
    application_id, staff = paper_application
    await upload(client, staff, application_id, ek2("Anadolu Mobil A.Ş.", "02.11.2026", DEVICES))

    missing = await submit_errors(client, staff, application_id)
    assert [field for field, _ in missing] == [
        "paperDocuments.PETITION",
        "paperDocuments.CUSTOMS_DECLARATION_COPY",
        "paperDocuments.FEE_RECEIPT",
        "paperDocuments.SIGNATURE_CIRCULAR",
    ]
    assert "Gümrük beyannamesinin noter ya da gümrük onaylı kopyasının taraması" in missing[1][1]

    # The petition comes with its table, every row readable.
    no_table = await record_paper(client, staff, application_id, "PETITION")
    assert [e["field"] for e in no_table["errors"]] == ["petition"]
    bad_rows = await record_paper(
        client,
        staff,
        application_id,
        "PETITION",
        petition=[
            {"brand": "SAMSUNG", "model": "SM-G9359", "count": 0},
            {"brand": " ", "model": "X", "count": 1},
            {"brand": "samsung", "model": "sm-g9359 ", "count": 1},
        ],
    )
    assert [e["field"] for e in bad_rows["errors"]] == [
        "petition[0].count",
        "petition[1].brand",
        "petition[2].model",
    ]
    assert "SAMSUNG SM-G9359 1. satırda zaten beyan edildi" in bad_rows["errors"][2]["message"]
    wrong_kind = await record_paper(client, staff, application_id, "CAPACITY_REPORT")
    assert "imal edilen cihazlar" in wrong_kind["errors"][0]["message"]
    not_a_scan = await record_paper(client, staff, application_id, "FEE_RECEIPT", b"GIF89a....")
    assert [e["field"] for e in not_a_scan["errors"]] == ["file"]

    # The petition says 3 devices, the list has 2: refused until they agree (art. 10(3)).
    await record_papers(client, staff, application_id, [("SAMSUNG", "SM-G9359", 3)])
    [(field, message)] = await submit_errors(client, staff, application_id)
    assert field == "petition"
    assert message.endswith(": SAMSUNG SM-G9359: 3 adet beyan edildi, listede 2 cihaz var")
    corrected = await record_paper(
        client,
        staff,
        application_id,
        "PETITION",
        petition=[{"brand": "Samsung", "model": "SM-G9359", "count": 2}],
    )
    assert corrected["errors"] == []
    assert await DeclaredDevice.filter(application_id=application_id).count() == 1
    tac_letter = await record_paper(client, staff, application_id, "TAC_LETTER", jpeg())
    assert tac_letter["errors"] == []

    view = (await gql(client, PAPER_VIEW, {"id": application_id}, token=staff))["data"]
    workflow = view["applicationWorkflow"]
    assert workflow["petition"] == [{"brand": "SAMSUNG", "model": "SM-G9359", "count": 2}]
    assert [d["kindLabel"] for d in workflow["documents"]] == [
        "Gümrük beyannamesinin onaylı kopyası",
        "Kayıt ücreti dekontunun aslı",
        "Firma imza sirküleri",
        "Başvuru dilekçesi (Ek-1)",
        "Yeni TAC için üretici resmi yazısı",
    ]
    recorded = await AuditEvent.filter(action="application.paper_document_recorded").count()
    assert recorded == 6  # every scan recorded (the petition twice), the refused ones not
    # The firm sees the scans of its application too, but records none.
    firm_user = await login(client, "a.user")
    firm_view = await gql(client, WORKFLOW, {"id": application_id}, token=firm_user)
    assert len(firm_view["data"]["applicationWorkflow"]["documents"]) == 5
    refused = await upload(
        client,
        firm_user,
        application_id,
        jpeg(),
        "dekont.jpg",
        query=RECORD_PAPER,
        variables={"id": application_id, "kind": "FEE_RECEIPT"},
    )
    assert error_codes(refused) == ["FORBIDDEN"]

    assert await submit_errors(client, staff, application_id) == []
    await jobs.drain()
    late = await record_paper(client, staff, application_id, "FEE_RECEIPT", jpeg())
    assert [e["code"] for e in late["errors"]] == ["INVALID_STATE"]


async def test_only_paper_applications_take_paper_scans(client, paper_application):
    user = await login(client, "a.user")
    electronic = await create_draft(client, user)
    staff = await login(client, "staff.archive")

    refused = await record_paper(client, staff, electronic, "FEE_RECEIPT", jpeg())

    assert [e["code"] for e in refused["errors"]] == ["INVALID_STATE"]
    assert "yalnızca evrak yoluyla" in refused["errors"][0]["message"]
