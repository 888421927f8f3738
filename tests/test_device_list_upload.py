"""Device lists in every form firms and staff bring them, and the ones that are refused."""

from __future__ import annotations

import io
import zipfile

from models.applications import Application, Device
from models.workflow import ApplicationStatus
from resolvers import jobs
from resolvers.job_kinds import load_handlers
from tests.support.api import error_codes, gql, login, make_world
from tests.support.uploads import imei, upload, xlsx
from tests.support.workflow import attach_documents, record_papers
from tests.test_application_analysis import (
    APPLE,
    IMPORT_DATA,
    SAMSUNG,
    SUBMIT,
    all_devices,
    create_draft,
    seed_registry,
)

load_handlers()


async def test_a_semicolon_csv_in_windows_turkish_with_turkish_headers(client):
    await make_world()
    user = await login(client, "a.user")
    application_id = await create_draft(client, user)
    a, b = imei(APPLE + "200001"), imei(APPLE + "200002")
    text = f"Marka;Model;İmei1;ımeı2\napple;a2403;{a};{b}\n;;;\nSamsung;SM-G9359;{imei(SAMSUNG + '200003')};\n"
    body = await upload(client, user, application_id, text.encode("cp1254"), "liste.csv")
    payload = body["data"]["uploadDeviceList"]
    assert payload["errors"] == [] and (payload["deviceCount"], payload["imeiCount"]) == (2, 3)
    devices, _ = await all_devices(client, user, application_id)
    assert [(d["rowNumber"], d["brand"], d["imeis"]) for d in devices] == [
        (2, "APPLE", [a, b]),
        (4, "SAMSUNG", [imei(SAMSUNG + "200003")]),
    ]


async def test_a_broken_file_is_refused_with_row_and_column_and_the_old_list_stays(client):
    await make_world()
    user = await login(client, "a.user")
    application_id = await create_draft(client, user)
    good = xlsx([("APPLE", "A2403", imei(APPLE + "300001"), imei(APPLE + "300002"))])
    assert (await upload(client, user, application_id, good))["data"]["uploadDeviceList"][
        "errors"
    ] == []

    broken = xlsx(
        [
            ("APPLE", "A2403", imei(APPLE + "300003"), imei(APPLE + "300004")),
            ("APPLE", "A2403", None, None),  # row 3: a device without an IMEI
            ("SAMSUNG", "SM-G9359", "35A000221"),  # row 4: letters: fails later, not here
            ("SAMSUNG", None, imei(SAMSUNG + "300005")),  # row 5: no model
        ]
    )
    payload = (await upload(client, user, application_id, broken))["data"]["uploadDeviceList"]
    fields = [e["field"] for e in payload["errors"]]
    assert fields == ["file[row=3][column=C]", "file[row=5][column=B]"]
    assert "satır 3, sütun C (IMEI1)" in payload["errors"][0]["message"]
    # Nothing half-written: the previous list is still the application's.
    assert [d.row_number for d in await Device.filter(application_id=application_id)] == [2]
    application = await Application.get(id=application_id)
    assert (application.device_count, application.imei_count) == (1, 2)


async def test_a_zip_bomb_and_a_renamed_file_are_refused(client, settings):
    from dataclasses import replace

    from resolvers.settings import configure

    configure(replace(settings, max_device_file_unpacked_bytes=4 * 1024 * 1024))
    await make_world()
    user = await login(client, "a.user")
    application_id = await create_draft(client, user)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (20 * 1024 * 1024))
    payload = (await upload(client, user, application_id, bomb.getvalue()))["data"][
        "uploadDeviceList"
    ]
    assert (
        payload["errors"][0]["code"] == "INVALID_INPUT" and payload["errors"][0]["field"] == "file"
    )
    assert len(bomb.getvalue()) < 100_000  # 20 MB unpacked from a few KB

    renamed = await upload(client, user, application_id, b"\x00\x01binary junk" * 100, "liste.xlsx")
    assert renamed["data"]["uploadDeviceList"]["errors"][0]["field"] == "file"
    assert await Device.filter(application_id=application_id).count() == 0


async def test_a_file_over_the_size_limit_is_refused(client, settings):
    from dataclasses import replace

    from resolvers.settings import configure

    configure(replace(settings, max_device_file_bytes=2000))
    await make_world()
    user = await login(client, "a.user")
    application_id = await create_draft(client, user)
    rows = [
        ("APPLE", "A2403", imei(APPLE + f"4{n:05d}"), imei(APPLE + f"5{n:05d}")) for n in range(300)
    ]
    payload = (await upload(client, user, application_id, xlsx(rows)))["data"]["uploadDeviceList"]
    assert (
        payload["errors"][0]["code"] == "INVALID_INPUT" and "KB" in payload["errors"][0]["message"]
    )


async def test_a_list_over_the_configured_row_limit_is_refused_and_one_at_it_is_taken(
    client, settings
):
    from dataclasses import replace

    from resolvers.settings import configure

    configure(replace(settings, max_device_rows=3))
    await make_world()
    user = await login(client, "a.user")
    application_id = await create_draft(client, user)
    lines = ["MARKA;MODEL;IMEI1"] + [
        f"SAMSUNG;SM-G9359;{imei(SAMSUNG + f'7{n:05d}')}" for n in range(4)
    ]
    over = "\n".join(lines).encode()
    payload = (await upload(client, user, application_id, over, "liste.csv"))["data"][
        "uploadDeviceList"
    ]
    [error] = payload["errors"]
    assert error["code"] == "INVALID_INPUT" and "3" in error["message"], error
    assert await Device.filter(application_id=application_id).count() == 0
    at_limit = "\n".join(lines[:4]).encode()
    payload = (await upload(client, user, application_id, at_limit, "liste.csv"))["data"][
        "uploadDeviceList"
    ]
    assert payload["errors"] == [] and payload["deviceCount"] == 3


async def test_the_list_is_frozen_once_submitted_and_other_firms_cannot_touch_it(client):
    await seed_registry()
    await make_world()
    user = await login(client, "a.user")
    application_id = await create_draft(client, user)
    content = xlsx([("APPLE", "A2403", imei(APPLE + "600001"), imei(APPLE + "600002"))])
    await upload(client, user, application_id, content)
    await attach_documents(client, user, application_id)
    assert (await gql(client, SUBMIT, {"id": application_id}, token=user))["data"][
        "submitApplication"
    ]["errors"] == []
    late = (await upload(client, user, application_id, content))["data"]["uploadDeviceList"]
    assert late["errors"][0]["code"] == "INVALID_STATE"

    intruder = await login(client, "b.user")
    other = (await upload(client, intruder, application_id, content))["data"]["uploadDeviceList"]
    assert other["errors"][0]["code"] == "NOT_FOUND"


PAPER = """mutation($firm: Int!) {
  createApplication(input: {kind: IMPORT, channel: PAPER, firmId: $firm, data: {
    importDate: "2026-11-02", customsDeclarationNo: "26341300IM000777", originCountry: "DE"}}) {
    application { id channel status } errors { code field }
  }
}"""


def ek2(imeis: list[str]) -> bytes:
    lines = [
        "Ek-2",
        "ANADOLU MOBİL A.Ş., SAMSUNG SM-G9359",
        "02.11.2026",
        "IMEI NUMARALARI",
        *imeis,
    ]
    return "\n".join(lines).encode("utf-8")


async def test_staff_enter_a_paper_application_from_ek2_and_it_passes_to_review(client):
    world = await make_world()
    await seed_registry()
    staff = await login(client, "staff.archive")
    created = (await gql(client, PAPER, {"firm": world.firm_a.id}, token=staff))["data"][
        "createApplication"
    ]
    assert created["application"]["channel"] == "PAPER"
    application_id = created["application"]["id"]
    content = ek2([imei(SAMSUNG + "700001"), imei(SAMSUNG + "700002")])
    payload = (await upload(client, staff, application_id, content, "ek2.txt"))["data"][
        "uploadDeviceList"
    ]
    assert payload["errors"] == [] and payload["deviceCount"] == 2
    await record_papers(client, staff, application_id, [("SAMSUNG", "SM-G9359", 2)])
    submitted = await gql(client, SUBMIT, {"id": application_id}, token=staff)
    assert submitted["data"]["submitApplication"]["application"]["status"] == "IN_ANALYSIS"
    await jobs.drain()
    assert (await Application.get(id=application_id)).status == ApplicationStatus.UNDER_REVIEW

    # A firm cannot create a paper application, nor edit one.
    firm_user = await login(client, "a.user")
    refused = await gql(client, PAPER, {"firm": world.firm_a.id}, token=firm_user)
    assert refused["data"]["createApplication"]["errors"][0]["code"] == "FORBIDDEN"


async def test_one_failing_device_rejects_a_paper_application_as_a_whole(client):
    world = await make_world()
    ids = await seed_registry()
    staff = await login(client, "staff.reviewer")
    created = (await gql(client, PAPER, {"firm": world.firm_a.id}, token=staff))["data"][
        "createApplication"
    ]
    application_id = created["application"]["id"]
    await upload(
        client,
        staff,
        application_id,
        ek2([imei(SAMSUNG + "700003"), ids["blacklisted"]]),
        "ek2.txt",
    )
    await record_papers(client, staff, application_id, [("SAMSUNG", "SM-G9359", 2)])
    await gql(client, SUBMIT, {"id": application_id}, token=staff)
    await jobs.drain()
    application = await Application.get(id=application_id)
    assert application.status == ApplicationStatus.REJECTED
    assert "1 cihaz" in (application.status_reason or "")
    firm_view = await gql(
        client,
        "query($id: Int!) { application(id: $id) { status statusReason } }",
        {"id": application_id},
        token=await login(client, "a.user"),
    )
    assert firm_view["data"]["application"]["status"] == "REJECTED"
    assert error_codes(firm_view) == []
    assert IMPORT_DATA["originCountry"] == "cn"
