"""A firm uploads a messy device list; the technical checks give every device its result."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from models import clock
from models.applications import Application, DeviceImei
from models.jobs import Job, JobStatus
from models.registry import (
    BlacklistEntry,
    BlacklistReason,
    WhitelistEntry,
    WhitelistSource,
    WhitelistStatus,
)
from models.tac import TacModel
from models.workflow import ApplicationKind, ApplicationStatus
from resolvers import jobs
from resolvers.job_kinds import load_handlers
from tests.support.api import error_codes, gql, login, make_world
from tests.support.uploads import imei, upload, xlsx
from tests.support.workflow import attach_documents

load_handlers()

APPLE = "35000011"
SAMSUNG = "35000022"
NOKIA_LEGACY = "350033"  # a 6-digit legacy TAC: matches IMEIs by prefix

CREATE = """mutation($kind: ApplicationKind!, $data: ApplicationDataInput!) {
  createApplication(input: {kind: $kind, data: $data}) { application { id status statusLabel } errors { code field message } }
}"""
SUBMIT = "mutation($id: Int!) { submitApplication(applicationId: $id) { application { status availableActions } errors { code field message } } }"
TO_ANALYSIS = "mutation($id: Int!) { sendApplicationToAnalysis(applicationId: $id) { application { status } errors { code message } } }"
APPLICATION = "query($id: Int!) { application(id: $id) { status statusLabel passedDeviceCount failedDeviceCount deviceCount imeiCount } }"
DEVICES = """query($id: Int!, $passed: Boolean, $reason: CheckCode, $after: String) {
  applicationDevices(applicationId: $id, passed: $passed, reason: $reason, first: 100, after: $after) {
    totalCount items { rowNumber brand model imeis passed reasons { code label } registryBrand registryModel }
    pageInfo { endCursor hasNextPage }
  }
}"""
GROUPS = "query($id: Int!) { applicationDeviceGroups(applicationId: $id) { brand model color deviceCount passedCount failedCount reasons { code count } } }"

IMPORT_DATA = {
    "importDate": "2026-11-02",
    "customsDeclarationNo": "26341300IM012345",
    "originCountry": "cn",
    "invoiceNo": "INV-2026/118",
    "invoiceDate": "2026-10-28",
}


async def seed_registry() -> dict[str, str]:
    now = clock.now()
    for tac, brand, model, count in (
        (APPLE, "APPLE", "A2403", 2),
        (SAMSUNG, "SAMSUNG", "SM-G9359", 1),
        (NOKIA_LEGACY, "NOKIA", "3310", 1),
    ):
        await TacModel.create(
            tac=tac, brand=brand, model_code=model, imei_count=count, created_at=now, updated_at=now
        )
    ids = {
        "registered": imei(SAMSUNG + "000001"),
        "blacklisted": imei(SAMSUNG + "000002"),
        "pending": imei(SAMSUNG + "000003"),
    }
    await WhitelistEntry.create(
        imei=ids["registered"],
        tac=SAMSUNG,
        brand="SAMSUNG",
        model_code="SM-G9359",
        status=WhitelistStatus.REGISTERED,
        source=WhitelistSource.FIRM_APPLICATION,
        registered_at=now,
    )
    await BlacklistEntry.create(
        imei=ids["blacklisted"], reason=BlacklistReason.STOLEN, reported_by="op", created_at=now
    )
    other = await Application.create(
        firm_id=999,
        kind=ApplicationKind.IMPORT,
        status=ApplicationStatus.UNDER_REVIEW,
        created_by="x",
        created_at=now,
        updated_at=now,
    )
    await DeviceImei.create(application_id=other.id, row_number=2, imei=ids["pending"])
    return ids


def messy_list(ids: dict[str, str]) -> tuple[bytes, dict[int, list[str]]]:
    """Rows of every kind a real file has, with what the analysis must say of each row."""
    a1, a2 = imei(APPLE + "100001"), imei(APPLE + "100002")
    dup = imei(SAMSUNG + "100009")
    bad_luhn = SAMSUNG + "1000040" if imei(SAMSUNG + "100004")[-1] != "0" else SAMSUNG + "1000041"
    rows = [
        ("APPLE", "A2403", a1, a2),  # 2 pass
        (
            "  apple ",
            "a2403",
            int(imei(APPLE + "100003")),
            imei(APPLE + "100004"),
        ),  # 3 pass: numeric cell, padded lower case
        (
            "Samsung",
            "SM-G9359",
            "35 000022-100005-" + imei(SAMSUNG + "100005")[-1],
        ),  # 4 pass: spaces and hyphens
        ("SAMSUNG", "SM-G9359", bad_luhn),  # 5
        ("APPLE", "A2403", imei(APPLE + "100006")),  # 6 one IMEI for a dual-SIM model
        ("SAMSUNG", "SM-G9359", ids["registered"]),  # 7
        ("SAMSUNG", "SM-G9359", ids["blacklisted"]),  # 8
        ("SAMSUNG", "SM-G9359", imei("99999999100007")),  # 9 unknown TAC
        ("SAMSUNG", "SM-G9359", imei(NOKIA_LEGACY + "00123456")),  # 10 a Nokia TAC
        ("SAMSUNG", "SM-G9359", dup),  # 11
        ("SAMSUNG", "SM-G9359", dup),  # 12 the same IMEI again
        ("SAMSUNG", "SM-G9359", ids["pending"]),  # 13
        (
            "APPLE",
            "A2403",
            imei(APPLE + "100010"),
            imei(SAMSUNG + "100011"),
        ),  # 14 IMEIs of two models
        (None, None, None, None),  # 15 empty row: skipped
        ("NOKIA", "3310", imei(NOKIA_LEGACY + "00999999")),  # 16 pass: legacy TAC
        (
            "@apple",
            "A2403",
            imei(APPLE + "100012"),
            imei(APPLE + "100013"),
        ),  # 17 formula-looking brand
    ]
    expected = {
        2: [],
        3: [],
        4: [],
        16: [],
        5: ["INVALID_IMEI"],
        6: ["SIM_COUNT_MISMATCH"],
        7: ["ALREADY_REGISTERED"],
        8: ["BLACKLISTED"],
        9: ["TAC_NOT_FOUND"],
        10: ["MODEL_MISMATCH"],
        11: ["DUPLICATE_IN_LIST"],
        12: ["DUPLICATE_IN_LIST"],
        13: ["PENDING_ELSEWHERE"],
        14: ["IMEI_MODEL_CONFLICT", "MODEL_MISMATCH"],
        17: ["MODEL_MISMATCH"],
    }
    return xlsx(rows), expected


async def create_draft(client, token, kind="IMPORT", data=None) -> int:
    body = await gql(
        client,
        CREATE,
        {"kind": kind, "data": data if data is not None else IMPORT_DATA},
        token=token,
    )
    payload = body["data"]["createApplication"]
    assert payload["errors"] == [], payload
    return payload["application"]["id"]


async def messy_list_in_analysis(client) -> tuple[str, int, dict[int, list[str]]]:
    """The messy list uploaded by firm A, submitted and sent to analysis (not yet run):
    the firm user's token, the application, what the analysis must say of each row."""
    await make_world()
    content, expected = messy_list(await seed_registry())
    user, supervisor = await login(client, "a.user"), await login(client, "a.super")
    application_id = await create_draft(client, user)
    await upload(client, user, application_id, content)
    await attach_documents(client, user, application_id)
    await gql(client, SUBMIT, {"id": application_id}, token=user)
    await gql(client, TO_ANALYSIS, {"id": application_id}, token=supervisor)
    return user, application_id, expected


async def all_devices(client, token, application_id, **filters):
    items, after = [], None
    while True:
        body = await gql(
            client, DEVICES, {"id": application_id, "after": after, **filters}, token=token
        )
        page = body["data"]["applicationDevices"]
        items += page["items"]
        if not page["pageInfo"]["hasNextPage"]:
            return items, page["totalCount"]
        after = page["pageInfo"]["endCursor"]


async def test_a_messy_shipment_is_analysed_device_by_device(client):
    world = await make_world()
    ids = await seed_registry()
    content, expected = messy_list(ids)
    user = await login(client, "a.user")
    supervisor = await login(client, "a.super")
    application_id = await create_draft(client, user)

    uploaded = (await upload(client, user, application_id, content))["data"]["uploadDeviceList"]
    assert uploaded["errors"] == []
    assert uploaded["deviceCount"] == 15 and uploaded["imeiCount"] == 19

    await attach_documents(client, user, application_id)
    submitted = (await gql(client, SUBMIT, {"id": application_id}, token=user))["data"][
        "submitApplication"
    ]
    assert submitted["application"]["status"] == "AWAITING_SUPERVISOR_APPROVAL"
    # Only the supervisor sends it to analysis.
    refused = await gql(client, TO_ANALYSIS, {"id": application_id}, token=user)
    assert error_codes(refused) == ["FORBIDDEN"]
    sent = (await gql(client, TO_ANALYSIS, {"id": application_id}, token=supervisor))["data"][
        "sendApplicationToAnalysis"
    ]
    assert sent["application"]["status"] == "IN_ANALYSIS"

    assert await jobs.drain() == 1
    app = (await gql(client, APPLICATION, {"id": application_id}, token=user))["data"][
        "application"
    ]
    assert app["status"] == "AWAITING_SIGNATURE_CHOICE"
    assert app["statusLabel"] == "İmza Seçimi Beklenmektedir"
    assert (app["passedDeviceCount"], app["failedDeviceCount"]) == (4, 11)

    devices, total = await all_devices(client, user, application_id)
    assert total == 15
    assert {d["rowNumber"]: [r["code"] for r in d["reasons"]] for d in devices} == expected
    by_row = {d["rowNumber"]: d for d in devices}
    assert by_row[3]["brand"] == "APPLE" and by_row[3]["passed"] is True
    assert by_row[10]["registryBrand"] == "NOKIA" and by_row[10]["registryModel"] == "3310"
    assert by_row[5]["reasons"] == [{"code": "INVALID_IMEI", "label": "Geçersiz IMEI"}]
    assert by_row[17]["brand"] == "@APPLE"

    failing, failing_total = await all_devices(client, user, application_id, passed=False)
    assert failing_total == 11 and all(not d["passed"] for d in failing)
    duplicates, _ = await all_devices(client, user, application_id, reason="DUPLICATE_IN_LIST")
    assert [d["rowNumber"] for d in duplicates] == [11, 12]

    groups = (await gql(client, GROUPS, {"id": application_id}, token=user))["data"][
        "applicationDeviceGroups"
    ]
    by_group = {(g["brand"], g["model"]): g for g in groups}
    # Red only when none of its devices can pass the TAC and model match (guide §3): rows
    # 2 and 3 do, though row 14's IMEIs belong to two models.
    apple = by_group[("APPLE", "A2403")]
    assert apple["color"] == "GREEN"
    assert sorted(apple["reasons"], key=lambda r: r["code"]) == [
        {"code": "IMEI_MODEL_CONFLICT", "count": 1},
        {"code": "MODEL_MISMATCH", "count": 1},
        {"code": "SIM_COUNT_MISMATCH", "count": 1},
    ]
    assert by_group[("@APPLE", "A2403")]["color"] == "RED"  # its one device is an APPLE
    assert by_group[("NOKIA", "3310")] == {
        "brand": "NOKIA",
        "model": "3310",
        "color": "GREEN",
        "deviceCount": 1,
        "passedCount": 1,
        "failedCount": 0,
        "reasons": [],
    }
    samsung = by_group[("SAMSUNG", "SM-G9359")]
    assert (samsung["deviceCount"], samsung["passedCount"], samsung["failedCount"]) == (9, 1, 8)

    # Firm B sees none of it.
    other = await login(client, "b.user")
    assert error_codes(await gql(client, DEVICES, {"id": application_id}, token=other)) == [
        "NOT_FOUND"
    ]
    assert world.firm_a.id == (await Application.get(id=application_id)).firm_id


@pytest.mark.parametrize("listed", [0, 10**9], ids=["from-the-list", "from-the-registers"])
async def test_the_lookups_find_the_same_from_either_side(client, monkeypatch, listed):
    """Each lookup probes from the smaller side: the list's IMEIs, or the rows of the
    register (whitelist, held IMEIs, blacklist) and of the other lists in progress. Either
    way the same devices fail for the same reasons, an IMEI pending in two other lists
    once."""
    from resolvers.applications.checks import AnalysisContext

    async def listed_imeis(self: AnalysisContext) -> int:
        return listed  # 0: every register counts as bigger than the list

    probed_from_registers: list[str] = []

    def recorded(name: str) -> Any:
        real = getattr(AnalysisContext, name)

        async def probe(self: AnalysisContext, *args: Any) -> Any:
            probed_from_registers.append(args[0] if args else "other lists")
            return await real(self, *args)

        return probe

    monkeypatch.setattr(AnalysisContext, "_listed_imeis", listed_imeis)
    for name in ("_staged_from_small", "_pending_from_others"):
        monkeypatch.setattr(AnalysisContext, name, recorded(name))
    user, application_id, expected = await messy_list_in_analysis(client)
    pending = await DeviceImei.exclude(application_id=application_id).first()
    assert pending is not None
    second = await Application.create(
        firm_id=998,
        kind=ApplicationKind.IMPORT,
        status=ApplicationStatus.AWAITING_PAYMENT,
        created_by="x",
        imei_count=1,
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    await DeviceImei.create(application_id=second.id, row_number=1, imei=pending.imei)

    assert await jobs.drain() == 1
    devices, _ = await all_devices(client, user, application_id)
    assert {d["rowNumber"]: [r["code"] for r in d["reasons"]] for d in devices} == expected
    if listed:
        assert sorted(probed_from_registers) == [
            "blacklist_entry",
            "held_imei",
            "other lists",
            "whitelist_entry",
        ]
    else:
        assert probed_from_registers == []


async def test_running_the_analysis_again_gives_the_same_results(client):
    user, application_id, expected = await messy_list_in_analysis(client)
    await jobs.drain()
    first, _ = await all_devices(client, user, application_id)

    from resolvers.applications.analysis import analyse

    application = await Application.get(id=application_id)
    application.status = ApplicationStatus.IN_ANALYSIS
    await application.save()
    await analyse(application_id, application.analysis_run)
    again, _ = await all_devices(client, user, application_id)
    assert again == first
    assert {d["rowNumber"]: [r["code"] for r in d["reasons"]] for d in again} == expected


async def test_an_analysis_interrupted_by_a_dead_worker_is_finished_by_another(client, monkeypatch):
    user, application_id, expected = await messy_list_in_analysis(client)
    clock.freeze(clock.now())

    # The first worker dies in the middle of the checks (here: while asking the blacklist).
    from resolvers.applications import checks

    real = checks.AnalysisContext.blacklisted

    async def die(self):
        raise SystemExit("worker killed")

    monkeypatch.setattr(checks.AnalysisContext, "blacklisted", die)
    [job] = await jobs.claim("doomed-worker", lease_seconds=300)
    with pytest.raises(SystemExit):
        await jobs.HANDLERS[job.kind](job)
    monkeypatch.setattr(checks.AnalysisContext, "blacklisted", real)
    devices, _ = await all_devices(client, user, application_id)
    assert all(d["passed"] is None for d in devices)  # no half results
    assert (await Application.get(id=application_id)).status == ApplicationStatus.IN_ANALYSIS

    clock.advance(timedelta(seconds=301))  # the lease runs out; another worker takes it
    assert await jobs.drain("rescuer") == 1
    devices, _ = await all_devices(client, user, application_id)
    assert {d["rowNumber"]: [r["code"] for r in d["reasons"]] for d in devices} == expected
    assert (await Job.get(id=job.id)).status == JobStatus.DONE


async def test_electronic_test_devices_meet_the_imei_standard(client):
    # Art. 12(4): an electronic test application is one whose IMEIs meet the standard with
    # TACs in the registry; every check applies (off-standard test devices come by paper).
    await make_world()
    ids = await seed_registry()
    content, expected = messy_list(ids)
    user, supervisor = await login(client, "a.user"), await login(client, "a.super")
    application_id = await create_draft(
        client, user, "TEST", {**IMPORT_DATA, "testDevicesDeclared": True}
    )
    await upload(client, user, application_id, content)
    await attach_documents(client, user, application_id)
    submitted = await gql(client, SUBMIT, {"id": application_id}, token=user)
    assert submitted["data"]["submitApplication"]["errors"] == []
    await gql(client, TO_ANALYSIS, {"id": application_id}, token=supervisor)
    await jobs.drain()
    devices, _ = await all_devices(client, user, application_id)
    assert {d["rowNumber"]: [r["code"] for r in d["reasons"]] for d in devices} == expected


async def test_an_incomplete_application_is_not_submitted_and_says_what_is_missing(client):
    await make_world()
    user = await login(client, "a.user")
    application_id = await create_draft(client, user, "TEST", {"importDate": "2026-11-02"})
    body = await gql(client, SUBMIT, {"id": application_id}, token=user)
    fields = {e["field"] for e in body["data"]["submitApplication"]["errors"]}
    assert fields == {
        "customsDeclarationNo",
        "originCountry",
        "invoiceNo",
        "invoiceDate",
        "invoiceScan",
        "testDevicesDeclared",
        "deviceList",
        "declaredDevices",
    }
    assert (await Application.get(id=application_id)).status == ApplicationStatus.DRAFT


async def test_the_firm_downloads_the_template_and_its_failing_devices(client):
    import io

    from openpyxl import load_workbook

    await make_world()
    ids = await seed_registry()
    content, expected = messy_list(ids)
    user, supervisor = await login(client, "a.user"), await login(client, "a.super")
    headers = {"Authorization": f"Bearer {user}"}

    template = await client.get("/templates/device-list.xlsx", headers=headers)
    assert template.status_code == 200
    sheet = load_workbook(io.BytesIO(template.content)).worksheets[0]
    assert [c.value for c in sheet[1]] == ["MARKA", "MODEL", "IMEI1", "IMEI2", "IMEI3", "IMEI4"]
    assert (await client.get("/templates/device-list.xlsx")).status_code == 401

    application_id = await create_draft(client, user)
    await upload(client, user, application_id, content)
    await attach_documents(client, user, application_id)
    await gql(client, SUBMIT, {"id": application_id}, token=user)
    await gql(client, TO_ANALYSIS, {"id": application_id}, token=supervisor)
    await jobs.drain()

    failed = await client.get(
        f"/applications/{application_id}/devices.xlsx?outcome=failed", headers=headers
    )
    assert failed.status_code == 200
    rows = list(load_workbook(io.BytesIO(failed.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[0] == (
        "SATIR",
        "MARKA",
        "MODEL",
        "IMEI1",
        "IMEI2",
        "IMEI3",
        "IMEI4",
        "SONUÇ",
        "NEDENLER",
        "HATALI IMEI'LER",
        "AÇIKLAMA",
    )
    assert [int(r[0]) for r in rows[1:]] == sorted(row for row, codes in expected.items() if codes)
    formula_row = next(r for r in rows if r[0] == "17")
    assert formula_row[1] == "@APPLE" and formula_row[7] == "Kaldı"
    # Per row, which IMEI fails and why.
    bad_luhn = next(r for r in rows if r[0] == "5")
    assert bad_luhn[9] == bad_luhn[3]
    assert bad_luhn[10].startswith(f"Geçersiz IMEI: IMEI1 {bad_luhn[3]}: kontrol hanesi")
    cells = load_workbook(io.BytesIO(failed.content)).worksheets[0]
    assert all(c.data_type == "s" for row in cells.iter_rows(min_row=2) for c in row if c.value)

    english = await client.get(
        f"/applications/{application_id}/devices.xlsx?outcome=failed&reason=DUPLICATE_IN_LIST",
        headers={**headers, "Accept-Language": "en"},
    )
    rows = list(
        load_workbook(io.BytesIO(english.content)).worksheets[0].iter_rows(values_only=True)
    )
    assert [r[0] for r in rows[1:]] == ["11", "12"] and rows[1][8] == "IMEI repeated in the list"

    other = {"Authorization": f"Bearer {await login(client, 'b.user')}"}
    assert (
        await client.get(f"/applications/{application_id}/devices.xlsx", headers=other)
    ).status_code == 404


@pytest.mark.parametrize(
    ("small_table_rows", "window_rows"),
    [(None, None), (1, None), (None, 1)],
    ids=["probed-from-the-held", "probed-from-the-list", "a-window-at-a-time"],
)
async def test_an_imei_held_for_a_mainboard_replacement_counts_as_registered(
    client, monkeypatch, small_table_rows, window_rows
):
    """Held IMEIs are few: on PostgreSQL they are probed from their side unless there are
    many; the list a row at a time (windows of one row) finds them too."""
    from models.progress import HeldImei
    from resolvers.applications import analysis, checks

    if small_table_rows is not None:
        monkeypatch.setattr(checks, "SMALL_TABLE_ROWS", small_table_rows)
    if window_rows is not None:
        monkeypatch.setattr(analysis, "WHOLE_LIST_ROWS", window_rows)
        monkeypatch.setattr(analysis, "WINDOW_ROWS", window_rows)

    world = await make_world()
    await seed_registry()
    held = imei(SAMSUNG + "800001")
    await HeldImei.create(
        imei=held,
        application_id=999,
        firm_id=world.firm_b.id,
        brand="SAMSUNG",
        model_code="SM-G9359",
        kind=ApplicationKind.MAINBOARD,
        held_at=clock.now(),
    )
    user, supervisor = await login(client, "a.user"), await login(client, "a.super")
    application_id = await create_draft(client, user)
    await upload(
        client,
        user,
        application_id,
        xlsx([("SAMSUNG", "SM-G9359", held), ("SAMSUNG", "SM-G9359", imei(SAMSUNG + "800002"))]),
    )
    await attach_documents(client, user, application_id)
    await gql(client, SUBMIT, {"id": application_id}, token=user)
    await gql(client, TO_ANALYSIS, {"id": application_id}, token=supervisor)
    await jobs.drain()
    devices, _ = await all_devices(client, user, application_id)
    assert {d["rowNumber"]: [r["code"] for r in d["reasons"]] for d in devices} == {
        2: ["ALREADY_REGISTERED"],
        3: [],
    }


async def test_the_registry_model_of_a_mismatch_is_read_with_its_reason(client):
    """Read off the registry with the reason (the first IMEI it blames); a reason stored
    before reasons named IMEIs shows the identity stored with the device then."""
    user, application_id, _ = await messy_list_in_analysis(client)
    await jobs.drain()
    devices, _ = await all_devices(client, user, application_id)
    shown = {d["rowNumber"]: (d["registryBrand"], d["registryModel"]) for d in devices}
    # Row 14: an APPLE IMEI and a SAMSUNG one declared APPLE: the SAMSUNG one mismatches.
    assert shown[10] == ("NOKIA", "3310") and shown[14] == ("SAMSUNG", "SM-G9359")
    assert shown[17] == ("APPLE", "A2403")  # declared "@APPLE"
    assert {row for row, identity in shown.items() if identity != (None, None)} == {10, 14, 17}

    from models.applications import Device, DeviceFailure

    await DeviceFailure.filter(application_id=application_id, row_number=10).update(
        imei_positions=None
    )
    await Device.filter(application_id=application_id, row_number=10).update(
        tac_brand="NOKIA (then)", tac_model="3310 (then)"
    )
    devices, _ = await all_devices(client, user, application_id)
    row = next(d for d in devices if d["rowNumber"] == 10)
    assert (row["registryBrand"], row["registryModel"]) == ("NOKIA (then)", "3310 (then)")
