"""Messy real-world device lists, as firms' tools write them (guide §3): every row gets every
reason that applies, a cell that cannot be an IMEI fails only its device, numbers that lost
their leading zero are settled against the TAC registry, and the groups are coloured from
the upload on, so CE certificates are asked only for the groups the firm goes on with."""

from __future__ import annotations

import io
import re
from typing import Any

from openpyxl import Workbook, load_workbook

from models import clock
from models.applications import Application, Device, DeviceImei
from models.imei import luhn_check_digit
from models.registry import WhitelistEntry, WhitelistSource, WhitelistStatus
from models.tac import TacModel
from models.workflow import ApplicationKind, ApplicationStatus
from resolvers import jobs
from resolvers.applications.checks import (
    AnalysisContext,
    DeviceLine,
    DuplicateInList,
    PendingElsewhere,
)
from resolvers.job_kinds import load_handlers
from tests.support.api import gql, login, make_world
from tests.support.uploads import imei, upload
from tests.support.workflow import WORKFLOW, attach_documents

load_handlers()

APPLE, SAMSUNG, HUAWEI_TAC = "35000011", "35000022", "35000044"
NOKIA = "01234567"  # TACs starting with 0 are common; a number cell loses the 0
ZTE_ZERO, ZTE = "08612345", "86123456"  # one model, two TACs: a 14-digit number fits both
VESTEL = "35111111"

CREATE = """mutation($data: ApplicationDataInput!) {
  createApplication(input: {kind: IMPORT, data: $data}) { application { id } errors { message } }
}"""
IMPORT_DATA = {
    "importDate": "2026-11-02",
    "customsDeclarationNo": "26341300IM012345",
    "originCountry": "CN",
    "invoiceNo": "INV-2026/118",
    "invoiceDate": "2026-10-28",
}
SUBMIT = "mutation($id: Int!) { submitApplication(applicationId: $id) { application { status } errors { field message } } }"
TO_ANALYSIS = (
    "mutation($id: Int!) { sendApplicationToAnalysis(applicationId: $id) { errors { message } } }"
)
GROUPS = """query($id: Int!) { applicationDeviceGroups(applicationId: $id) {
  brand model color deviceCount passedCount failedCount matchingCount analysed } }"""
UPLOAD = """mutation($id: Int!, $file: Upload!) { uploadDeviceList(applicationId: $id, file: $file) {
  deviceCount warnings { row column message } errors { field message }
  groups { brand model color deviceCount passedCount failedCount matchingCount analysed } } }"""
DEVICES = """query($id: Int!) { applicationDevices(applicationId: $id, first: 100) {
  items { rowNumber imeis passed reasons { code imeis detail } } } }"""


async def seed_registry() -> str:
    now = clock.now()
    for tac, brand, model, count in (
        (APPLE, "APPLE", "A2403", 2),
        (SAMSUNG, "SAMSUNG", "SM-G9359", 1),
        (HUAWEI_TAC, "SAMSUNG", "SM-A515F", 1),
        (NOKIA, "NOKIA", "TA-1203", 1),
        (ZTE_ZERO, "ZTE", "BLADE A52", 1),
        (ZTE, "ZTE", "BLADE A52", 1),
        (VESTEL, "VESTEL", "VENÜS V7", 2),
    ):
        await TacModel.create(
            tac=tac, brand=brand, model_code=model, imei_count=count, created_at=now, updated_at=now
        )
    registered = imei(VESTEL + "900001")
    await WhitelistEntry.create(
        imei=registered,
        tac=VESTEL,
        brand="VESTEL",
        model_code="VENÜS V7",
        status=WhitelistStatus.REGISTERED,
        source=WhitelistSource.FIRM_APPLICATION,
        registered_at=now,
    )
    return registered


def wrong_check_digit(prefix14: str) -> str:
    right = luhn_check_digit(prefix14)
    return prefix14 + ("1" if right == "0" else "0")


def fits_both_readings() -> str:
    """14 digits that are ZTE's 0-TAC IMEI with its zero lost and its other TAC's IMEI
    without the check digit: two readings, both of the declared model."""
    head = ZTE + "00001"  # 13 digits: "0" + head[:7] is ZTE_ZERO
    return head + luhn_check_digit("0" + head)


async def draft(client: Any, token: str) -> int:
    body = await gql(client, CREATE, {"data": IMPORT_DATA}, token=token)
    return int(body["data"]["createApplication"]["application"]["id"])


async def analyse(client: Any, user: str, supervisor: str, application_id: int) -> None:
    await attach_documents(client, user, application_id)
    submitted = await gql(client, SUBMIT, {"id": application_id}, token=user)
    assert submitted["data"]["submitApplication"]["errors"] == [], submitted
    await gql(client, TO_ANALYSIS, {"id": application_id}, token=supervisor)
    assert await jobs.drain() == 1


async def devices_by_row(client: Any, token: str, application_id: int) -> dict[int, Any]:
    body = await gql(client, DEVICES, {"id": application_id}, token=token)
    return {d["rowNumber"]: d for d in body["data"]["applicationDevices"]["items"]}


def codes(devices: dict[int, Any]) -> dict[int, list[str]]:
    return {row: [r["code"] for r in d["reasons"]] for row, d in devices.items()}


def excel_list() -> tuple[bytes, dict[int, list[str]]]:
    """An .xlsx as Turkish Excel users fill it: headers typed in Turkish case, IMEIs as
    numbers (some lost their leading zero), text pasted from elsewhere."""
    book = Workbook()
    sheet = book.active
    sheet.append(["Marka", "Model", "İmei 1", "İMEİ-2", "Açıklama"])
    rows: list[tuple[list[object], list[str]]] = [
        # 2: numbers, both right
        (["Apple", "a2403", int(imei(APPLE + "000001")), int(imei(APPLE + "000002"))], []),
        # 3: NOKIA's 0 lost; the one reading of its registered TAC is taken
        (["NOKIA", "TA-1203", int(imei(NOKIA + "000003"))], []),
        # 4: wrong check digit, and one IMEI for a dual-SIM model: both reasons
        (
            ["APPLE", "A2403", wrong_check_digit(APPLE + "000004")],
            ["INVALID_IMEI", "SIM_COUNT_MISMATCH"],
        ),
        # 5: Excel's scientific notation pasted as text
        (["SAMSUNG", "SM-G9359", "3,53212E+14"], ["INVALID_IMEI"]),
        # 6: a letter O for a zero
        (["SAMSUNG", "SM-G9359", "35000022OOOO06" + "1"], ["INVALID_IMEI"]),
        # 7: two readings fit the declared model: which one cannot be told
        (["ZTE", "BLADE A52", int(fits_both_readings())], ["INVALID_IMEI"]),
        # 8: a 14-digit number no reading of which fits a registered TAC
        (["SAMSUNG", "SM-G9359", int("99" + "000022000008")], ["INVALID_IMEI"]),
        # 9: another model's TAC with a wrong check digit: every reason
        (
            ["SAMSUNG", "SM-G9359", wrong_check_digit(APPLE + "000009")],
            ["INVALID_IMEI", "MODEL_MISMATCH", "SIM_COUNT_MISMATCH"],
        ),
        # 10: a float cell (3.53212E+14 typed as a number): 15 digits of an unknown TAC
        (["SAMSUNG", "SM-G9359", 353212e9], ["INVALID_IMEI", "TAC_NOT_FOUND"]),
        # 11: a group none of whose devices can pass the TAC and model match
        (["HUAWEI", "P40", int(imei(HUAWEI_TAC + "000011"))], ["MODEL_MISMATCH"]),
        # 12: a fine SAMSUNG, and a second IMEI cell with a date in it
        (["SAMSUNG", "SM-G9359", imei(SAMSUNG + "000012")], []),
        (
            ["SAMSUNG", "SM-G9359", imei(SAMSUNG + "000013"), clock.now().replace(tzinfo=None)],
            ["INVALID_IMEI", "SIM_COUNT_MISMATCH"],
        ),
    ]
    for cells, _ in rows:
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), {n: expected for n, (_, expected) in enumerate(rows, start=2)}


async def test_a_messy_excel_list_gives_every_row_every_reason(client: Any) -> None:
    await make_world()
    await seed_registry()
    user, supervisor = await login(client, "a.user"), await login(client, "a.super")
    application_id = await draft(client, user)
    content, expected = excel_list()

    payload = (await upload(client, user, application_id, content, query=UPLOAD))["data"][
        "uploadDeviceList"
    ]
    # One bad cell does not refuse the list: every device is read and checked.
    assert payload["errors"] == [] and payload["deviceCount"] == 12
    warnings = {(w["row"], w["column"]): w["message"] for w in payload["warnings"]}
    restored = imei(NOKIA + "000003")
    assert f"{restored} olarak alındı" in warnings[(3, "C")]
    assert "bilimsel gösterim" in warnings[(5, "C")]
    assert "birden fazla okuması" in warnings[(7, "C")]
    assert "hiçbir okuması" in warnings[(8, "C")]
    assert "tarih" in warnings[(13, "D")]
    stored = {d.row_number: d for d in await Device.filter(application_id=application_id)}
    assert stored[3].imei1 == restored and stored[7].imei1 == fits_both_readings()

    # Right after the upload: colours, and who can pass the TAC and model match, in the
    # upload's answer (the portal's popup) and in the groups query alike.
    body = await gql(client, GROUPS, {"id": application_id}, token=user)
    groups = {(g["brand"], g["model"]): g for g in body["data"]["applicationDeviceGroups"]}
    assert payload["groups"] == body["data"]["applicationDeviceGroups"]
    assert groups[("HUAWEI", "P40")]["color"] == "RED"
    assert groups[("ZTE", "BLADE A52")]["color"] == "RED"  # its one device cannot be read
    samsung = groups[("SAMSUNG", "SM-G9359")]
    assert samsung["color"] == "GREEN" and samsung["analysed"] is False
    # 12 matches; 5, 6, 8 and 13's second cell cannot be read, 9 is an APPLE, 10 an
    # unknown TAC.
    assert (samsung["deviceCount"], samsung["passedCount"], samsung["failedCount"]) == (7, 1, 6)
    assert samsung["matchingCount"] == 1
    # CE certificates only for the groups the firm goes on with.
    body = await gql(client, WORKFLOW, {"id": application_id}, token=user)
    asked = {
        (c["brand"], c["model"])
        for c in body["data"]["applicationWorkflow"]["requiredCeCertificates"]
    }
    assert asked == {("APPLE", "A2403"), ("NOKIA", "TA-1203"), ("SAMSUNG", "SM-G9359")}

    await analyse(client, user, supervisor, application_id)
    devices = await devices_by_row(client, user, application_id)
    assert codes(devices) == expected
    reasons = {row: {r["code"]: r for r in d["reasons"]} for row, d in devices.items()}
    assert reasons[5]["INVALID_IMEI"]["imeis"] == ["3,53212E+14"]
    assert "hücre (C) «3,53212E+14»" in reasons[5]["INVALID_IMEI"]["detail"]
    assert "kontrol hanesi" in reasons[4]["INVALID_IMEI"]["detail"]
    assert "1 IMEI verilmiş" in reasons[4]["SIM_COUNT_MISMATCH"]["detail"]
    assert "kayıtta APPLE A2403" in reasons[9]["MODEL_MISMATCH"]["detail"]
    assert "TAC 35321200 kayıtlı değil" in reasons[10]["TAC_NOT_FOUND"]["detail"]
    groups_after = await gql(client, GROUPS, {"id": application_id}, token=user)
    after = {(g["brand"], g["model"]): g for g in groups_after["data"]["applicationDeviceGroups"]}
    assert after[("HUAWEI", "P40")]["color"] == "RED" and after[("HUAWEI", "P40")]["analysed"]
    assert (after[("SAMSUNG", "SM-G9359")]["passedCount"], after[("APPLE", "A2403")]["color"]) == (
        1,
        "GREEN",
    )

    # The failed-devices export names, per row, which IMEI fails and why.
    headers = {"Authorization": f"Bearer {user}"}
    export = await client.get(
        f"/applications/{application_id}/devices.xlsx?outcome=failed", headers=headers
    )
    rows = list(load_workbook(io.BytesIO(export.content)).worksheets[0].iter_rows(values_only=True))
    by_row = {int(r[0]): r for r in rows[1:]}
    assert sorted(by_row) == sorted(row for row, wanted in expected.items() if wanted)
    assert by_row[5][9] == "3,53212E+14" and "bilimsel gösterim" in by_row[5][10]
    assert by_row[4][9] == wrong_check_digit(APPLE + "000004")
    assert by_row[4][10].startswith("Geçersiz IMEI: IMEI1 ") and "SIM Sayısı" in by_row[4][10]
    english = await client.get(
        f"/applications/{application_id}/devices.xlsx?outcome=failed",
        headers={**headers, "Accept-Language": "en"},
    )
    rows_en = list(
        load_workbook(io.BytesIO(english.content)).worksheets[0].iter_rows(values_only=True)
    )
    assert rows_en[0][9:] == ("FAILING IMEIS", "DETAILS")
    details_en = {int(r[0]): r[10] for r in rows_en[1:]}
    assert "the check digit (last digit) should be" in details_en[4]
    assert "more than one reading" in details_en[7]


async def test_a_semicolon_csv_from_turkish_excel_in_windows_turkish(client: Any) -> None:
    await make_world()
    registered = await seed_registry()
    user, supervisor = await login(client, "a.user"), await login(client, "a.super")
    application_id = await draft(client, user)
    a, b = imei(VESTEL + "000001"), imei(VESTEL + "000002")
    dup = imei(VESTEL + "000005")
    lines = [
        "Marka;Model;İmei1;İmei2;Not",
        f"Vestel;Venüs V7;{a};{b};ilk sevkiyat",  # 2 pass
        f"VESTEL;VENÜS V7;{imei(NOKIA + '000010')[1:]};{imei(VESTEL + '000003')}",  # 3
        f"vestel;venüs v7;3,53212E+14;{imei(VESTEL + '000004')};bozuk hücre",  # 4
        f"Vestel;Venüs V7;{dup};{wrong_check_digit(VESTEL + '000006')}",  # 5
        f"Vestel;Venüs V7;{dup};{registered}",  # 6
        "",
        f"Vestel;Venüs V7;{imei(VESTEL + '000007')[:14]};{imei(VESTEL + '000008')}",  # 8
    ]
    content = ("\r\n".join(lines) + "\r\n").encode("cp1254")
    payload = (await upload(client, user, application_id, content, filename="liste.csv"))["data"][
        "uploadDeviceList"
    ]
    assert payload["errors"] == [] and payload["deviceCount"] == 6
    warnings = {(w["row"], w["column"]): w["message"] for w in payload["warnings"]}
    # Row 3: NOKIA's TAC lost its 0, but the device is declared a VESTEL: no reading fits.
    assert "hiçbir okuması" in warnings[(3, "C")] and "VESTEL VENÜS V7" in warnings[(3, "C")]
    # Row 8: 14 digits without the check digit: the one reading of the declared model.
    assert f"{imei(VESTEL + '000007')} olarak alındı" in warnings[(8, "C")]

    await analyse(client, user, supervisor, application_id)
    devices = await devices_by_row(client, user, application_id)
    assert codes(devices) == {
        2: [],
        3: ["INVALID_IMEI"],
        4: ["INVALID_IMEI"],
        5: ["INVALID_IMEI", "DUPLICATE_IN_LIST"],
        6: ["DUPLICATE_IN_LIST", "ALREADY_REGISTERED"],
        8: [],
    }
    reasons = {row: {r["code"]: r for r in d["reasons"]} for row, d in devices.items()}
    assert reasons[5]["DUPLICATE_IN_LIST"]["imeis"] == [dup]
    assert "satır 6" in reasons[5]["DUPLICATE_IN_LIST"]["detail"]
    assert reasons[6]["ALREADY_REGISTERED"]["imeis"] == [registered]
    assert reasons[5]["INVALID_IMEI"]["imeis"] == [wrong_check_digit(VESTEL + "000006")]
    assert devices[8]["imeis"][0] == imei(VESTEL + "000007")


async def test_an_ek2_text_list_gives_every_line_its_reasons(client: Any) -> None:
    await make_world()
    await seed_registry()
    user, supervisor = await login(client, "a.user"), await login(client, "a.super")
    application_id = await draft(client, user)
    text = "\n".join(
        [
            "Ek-2",
            "FİRMA ADI, MARKA MODEL",
            "Anadolu Mobil A.Ş., SAMSUNG SM-G9359",
            "İTHALAT TARİHİ",
            "02.11.2026",
            "IMEI NUMARALARI",
            imei(SAMSUNG + "000021"),  # 7 pass
            "35000022 000022 " + imei(SAMSUNG + "000022")[-1] + "x",  # 8 a stray letter
            imei(SAMSUNG + "000023")[:14],  # 9 typed without its check digit
            f"{imei(SAMSUNG + '000024')};{imei(SAMSUNG + '000025')}",  # 10 two for one SIM
            wrong_check_digit("99999999000026"),  # 11
        ]
    )
    payload = (await upload(client, user, application_id, text.encode(), filename="ek2.txt"))[
        "data"
    ]["uploadDeviceList"]
    assert payload["errors"] == [] and payload["deviceCount"] == 5
    await analyse(client, user, supervisor, application_id)
    devices = await devices_by_row(client, user, application_id)
    assert codes(devices) == {
        7: [],
        8: ["INVALID_IMEI"],
        9: ["INVALID_IMEI"],
        10: ["SIM_COUNT_MISMATCH"],
        11: ["INVALID_IMEI", "TAC_NOT_FOUND"],
    }
    details = {row: d["reasons"][0]["detail"] for row, d in devices.items() if d["reasons"]}
    assert "yalnızca rakamlardan" in details[8]
    # Typed text is no number that lost a zero: it is 14 digits, reported as such.
    assert re.search(r"14 hane; IMEI 15 hanedir", details[9])
    assert "2 IMEI verilmiş" in details[10] and "1 IMEI'li" in details[10]


async def test_the_same_unreadable_cell_in_two_lists_is_not_one_device(client: Any) -> None:
    now = clock.now()
    other = await Application.create(
        firm_id=999,
        kind=ApplicationKind.IMPORT,
        status=ApplicationStatus.UNDER_REVIEW,
        created_by="x",
        created_at=now,
        updated_at=now,
    )
    pending = imei(SAMSUNG + "000077")
    for row, value in ((2, "3,53212E+14"), (3, pending)):
        await DeviceImei.create(application_id=other.id, row_number=row, imei=value)
    ctx = AnalysisContext(
        application_id=None,
        devices=[
            DeviceLine(2, "SAMSUNG", "SM-G9359", ("3,53212E+14",)),
            DeviceLine(3, "SAMSUNG", "SM-G9359", ("3,53212E+14",)),
            DeviceLine(4, "SAMSUNG", "SM-G9359", (pending,)),
        ],
    )
    assert await PendingElsewhere().failing(ctx) == {2}
    assert ctx.imei_positions(2, PendingElsewhere.code) == "1"
    assert await DuplicateInList().failing(ctx) == set()


async def test_alike_devices_are_grouped_by_names_and_the_tac_at_each_position(
    client: Any,
) -> None:
    samsung, apple = imei(SAMSUNG + "000081"), imei(APPLE + "000082")
    # Fifteen digits, but not ASCII ones: no TAC to read.
    arabic = "".join(chr(0x0660 + int(d)) for d in samsung)
    ctx = AnalysisContext(
        application_id=None,
        devices=[
            DeviceLine(2, "SAMSUNG", "SM-G9359", (samsung,)),
            DeviceLine(3, "SAMSUNG", "SM-G9359", (imei(SAMSUNG + "000083"),)),
            DeviceLine(4, "SAMSUNG", "SM-G9359", (samsung, imei(SAMSUNG + "000084"))),
            DeviceLine(5, "SAMSUNG", "SM-G9359", ("3,53212E+14",)),
            DeviceLine(6, "SAMSUNG", "SM-G9359", (arabic,)),
            DeviceLine(7, "SAMSUNG", "SM-G9359", ("3,53212E+14", apple)),
            DeviceLine(8, "SAMSUNG", "SM-G9360", (samsung,)),
            DeviceLine(9, "SAMSUNG", "SM-G9359", ()),
            DeviceLine(10, "SAMSUNG", "SM-G9359", (imei(APPLE + "000085"), samsung)),
        ],
    )
    groups = {
        tuple(ctx.devices[i].row for i in g.members): (g.device.row, g.positions, len(g.models))
        for g in await ctx.tac_groups()
    }
    assert groups == {
        (2, 3): (2, (1,), 1),
        (4,): (4, (1, 2), 2),
        (5, 6): (5, (), 0),
        (7,): (7, (2,), 1),
        (8,): (8, (1,), 1),
        (9,): (9, (), 0),
        (10,): (10, (1, 2), 2),
    }
