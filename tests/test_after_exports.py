"""An application's registered IMEIs as Ek-2 text and its replacements as Ek-3 text, in the
communiqué's formats, for the firm and staff only."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from gateway.demo import load_demo
from models import clock
from models.workflow import ApplicationKind
from resolvers.after.ek3 import read_ek3
from resolvers.after.exports import ek2_header
from resolvers.device_files import DeviceFileFormat, read_device_file
from tests.support.after import (
    download,
    hold,
    imei,
    pdf_workers,
    register,
    registered_application,
)
from tests.support.api import gql, login, make_world

__all__ = ["pdf_workers"]
pytestmark = pytest.mark.usefixtures("pdf_workers")

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)

REPORT = """mutation($pairs: [ReplacementPairInput!]!) {
  reportReplacements(pairs: $pairs) { errors { code } }
}"""


@pytest.fixture
async def world(db):
    clock.freeze(NOW)  # letter numbers and file names carry the year
    world = await make_world()
    await load_demo()
    imports = await registered_application(world.firm_a)
    await register(imports, imei(3), imei(1), imei(2))
    await register(imports, imei(7, tac="35332811"), brand="SAMSUNG", model="SM-G9359")
    mainboards = await registered_application(world.firm_a, ApplicationKind.MAINBOARD)
    await hold(mainboards, imei(101), imei(102), model="A2403-MB")
    world.imports, world.mainboards = imports, mainboards
    return world


async def test_the_ek2_export_is_what_the_ek2_reader_reads(client, world):
    token = await login(client, "a.user")
    replaced = await gql(
        client, REPORT, {"pairs": [{"oldImei": imei(2), "newImei": imei(101)}]}, token=token
    )
    assert replaced["data"]["reportReplacements"]["errors"] == []

    response = await download(client, token, f"/applications/{world.imports.id}/ek2.txt")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert "ek2-MCKS-2026-" in response.headers["content-disposition"]
    assert response.text.split("\r\n") == [
        "Anadolu Mobil A.Ş., APPLE A2403",
        "02.03.2026",
        "IMEI NUMARALARI",
        imei(1),
        imei(3),  # imei(2) was replaced: no longer registered with this application
        "Anadolu Mobil A.Ş., SAMSUNG SM-G9359",
        "02.03.2026",
        "IMEI NUMARALARI",
        imei(7, tac="35332811"),
        "",
    ]
    with read_device_file(response.content) as device_file:
        rows = [(row.brand, row.model, row.imeis) for row in device_file.rows]
        assert device_file.format is DeviceFileFormat.EK2_TEXT
        assert [(b.firm_name, b.import_date) for b in device_file.ek2_blocks] == [
            ("Anadolu Mobil A.Ş.", date(2026, 3, 2))
        ] * 2
    assert rows == [
        ("APPLE", "A2403", (imei(1),)),
        ("APPLE", "A2403", (imei(3),)),
        ("SAMSUNG", "SM-G9359", (imei(7, tac="35332811"),)),
    ]
    # The mainboard application's Ek-2 lists the IMEI that entered the whitelist with it.
    mainboard = await download(client, token, f"/applications/{world.mainboards.id}/ek2.txt")
    assert imei(101) in mainboard.text and imei(102) not in mainboard.text


async def test_the_ek3_export_lists_the_replacements_in_the_communique_layout(client, world):
    token = await login(client, "a.super")
    for old, new in ((imei(1), imei(101)), (imei(3), imei(102))):
        body = await gql(client, REPORT, {"pairs": [{"oldImei": old, "newImei": new}]}, token=token)
        assert body["data"]["reportReplacements"]["errors"] == []

    for application in (world.mainboards, world.imports):
        response = await download(client, token, f"/applications/{application.id}/ek3.txt")
        assert response.text.split("\r\n") == [
            "Anadolu Mobil A.Ş., APPLE, A2403-MB",
            "ESKİ IMEI NUMARASI YENİ IMEI NUMARASI",
            f"{imei(1)} {imei(101)}",
            f"{imei(3)} {imei(102)}",
            "",
        ]
    pairs = [(x.old_imei, x.new_imei) for x in read_ek3(response.text)]
    assert pairs == [(imei(1), imei(101)), (imei(3), imei(102))]


@pytest.mark.parametrize("annex", ["ek2", "ek3"])
async def test_only_the_firm_and_staff_download_an_applications_lists(client, world, annex):
    path = f"/applications/{world.imports.id}/{annex}.txt"
    assert (await download(client, await login(client, "b.user"), path)).status_code == 404
    assert (await client.get(path)).status_code == 401
    assert (await download(client, await login(client, "staff.archive"), path)).status_code == 200
    missing = await download(client, await login(client, "a.user"), f"/applications/x/{annex}.txt")
    assert missing.status_code == 404


def test_an_ambiguous_ek2_header_is_written_with_labels():
    assert ek2_header("Firma", "HMD GLOBAL", "TA-1203") == [
        "FİRMA ADI: Firma",
        "MARKA: HMD GLOBAL",
        "MODEL: TA-1203",
    ]
    assert ek2_header("Firma, Ltd.", "NOKIA", "TA 1203") == ["Firma, Ltd., NOKIA TA 1203"]
