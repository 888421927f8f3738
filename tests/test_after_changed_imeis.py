"""Changed-IMEI reports (art. 16): an Ek-3 file is checked as a whole, its broken lines are
reported by number, and nothing changes until the firm applies the valid part or nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.demo import load_demo
from models import clock
from models.after import ReplacementLine
from models.audit import AuditEvent
from models.progress import HeldImei
from models.workflow import ApplicationKind
from resolvers.after.ek3 import read_ek3
from resolvers.settings import updated
from tests.support.after import (
    download,
    hold,
    imei,
    operator_view,
    pdf_text,
    pdf_workers,
    register,
    registered_application,
)
from tests.support.api import error_codes, gql, login, make_world
from tests.support.listed import listed_device
from tests.support.operators import OPERATOR_TOKEN
from tests.support.uploads import upload

__all__ = ["pdf_workers"]
pytestmark = pytest.mark.usefixtures("pdf_workers")

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)

UPLOAD = """mutation($file: Upload!) {
  uploadChangedImeiReport(file: $file) {
    report { id channel status lineCount validCount invalidCount appliedCount sourceFileId letterFileId }
    errors { code field message }
  }
}"""
CONFIRM = """mutation($id: Int!, $apply: Boolean!) {
  confirmChangedImeiReport(reportId: $id, applyValid: $apply) {
    report { id status validCount invalidCount appliedCount letterFileId decidedBy }
    errors { code field message }
  }
}"""
LINES = """query($id: Int!, $valid: Boolean) {
  replacementReportLines(reportId: $id, valid: $valid) {
    items { lineNumber oldImei newImei text valid problem problemLabel applied }
  }
}"""
REPORT_PAIRS = """mutation($pairs: [ReplacementPairInput!]!) {
  reportReplacements(pairs: $pairs) { errors { code } }
}"""
WHITELIST_FEED = "{ whitelistChanges(first: 100) { items { op imei reason } } }"

OLD1, OLD2, OLD3, B_OLD = imei(1), imei(2), imei(3), imei(4)
NEW1, NEW2, NEW3 = imei(101), imei(102), imei(103)


@pytest.fixture
async def world(db, settings):
    clock.freeze(NOW)  # letter numbers and file names carry the year
    updated(grace_period_days=0)
    world = await make_world()
    await load_demo()
    imports = await registered_application(world.firm_a)
    await register(imports, OLD1, OLD2, OLD3)
    swaps = await registered_application(world.firm_a, ApplicationKind.SWAP)
    await hold(swaps, NEW1, NEW2, NEW3)
    b_imports = await registered_application(world.firm_b)
    await register(b_imports, B_OLD)
    return world


def ek3_file(*lines: str) -> bytes:
    return "\r\n".join(("Ek-3", "", *lines)).encode()


# Lines 1–2: title and a blank line.
BROKEN = ek3_file(
    "Anadolu Mobil A.Ş., APPLE, A2403",  # 3
    "ESKİ IMEI NUMARASI YENİ IMEI NUMARASI",  # 4
    f"{OLD1} {NEW1}",  # 5: fine
    f"{OLD2};{NEW2}",  # 6: fine (another separator)
    f"{OLD3} {NEW3} {imei(9)}",  # 7: three values
    f"{OLD3[:-1]}0 {NEW3}",  # 8: wrong check digit
    f"{B_OLD} {imei(104)}",  # 9: firm B's IMEI
    "",
    f"{imei(60)}\t{imei(61)}",  # 11: nothing registered, nothing held
)


async def upload_report(client, token, content, name="degisen-imeiler.txt"):
    body = await upload(client, token, 0, content, name, query=UPLOAD, variables={})
    assert "errors" not in body, body
    return body["data"]["uploadChangedImeiReport"]


async def test_broken_lines_are_reported_and_nothing_changes_until_confirmed(client, world):
    token = await login(client, "a.user")
    before = await operator_view(client, OLD1, OLD2, NEW1, NEW2)

    payload = await upload_report(client, token, BROKEN)

    assert payload["errors"] == []
    report = payload["report"]
    assert (report["channel"], report["status"]) == ("EK3_FILE", "PENDING_CONFIRMATION")
    assert (report["lineCount"], report["validCount"], report["invalidCount"]) == (6, 2, 4)
    assert report["appliedCount"] == 0 and report["letterFileId"] is None
    refused = await gql(client, LINES, {"id": report["id"], "valid": False}, token=token)
    assert [
        (line["lineNumber"], line["problem"], line["text"])
        for line in refused["data"]["replacementReportLines"]["items"]
    ] == [
        (7, "UNRECOGNISED_LINE", f"{OLD3} {NEW3} {imei(9)}"),
        (8, "INVALID_OLD_IMEI", ""),
        (9, "OLD_OF_ANOTHER_FIRM", ""),
        (11, "OLD_NOT_REGISTERED", ""),
    ]
    assert (
        refused["data"]["replacementReportLines"]["items"][2]["problemLabel"]
        == "Eski IMEI firmanızca kaydedilmemiş"
    )
    # Checked, stored — and not applied.
    assert await operator_view(client, OLD1, OLD2, NEW1, NEW2) == before
    assert await HeldImei.filter(firm_id=world.firm_a.id).count() == 3
    source = await download(client, token, f"/files/{report['sourceFileId']}")
    assert source.content == BROKEN

    applied = await gql(client, CONFIRM, {"id": report["id"], "apply": True}, token=token)

    done = applied["data"]["confirmChangedImeiReport"]
    assert done["errors"] == []
    assert (done["report"]["status"], done["report"]["appliedCount"]) == ("APPLIED", 2)
    assert await operator_view(client, OLD1, OLD2, OLD3, NEW1, NEW2, NEW3) == {
        OLD1: ("BLOCK", "NOT_REGISTERED", "REPLACED"),
        OLD2: ("BLOCK", "NOT_REGISTERED", "REPLACED"),
        OLD3: ("ALLOW", "REGISTERED", None),
        NEW1: ("ALLOW", "REGISTERED", None),
        NEW2: ("ALLOW", "REGISTERED", None),
        NEW3: ("BLOCK", "NOT_REGISTERED", "HELD_REPLACEMENT"),
    }
    valid = await gql(client, LINES, {"id": report["id"], "valid": True}, token=token)
    assert [
        (x["lineNumber"], x["applied"]) for x in valid["data"]["replacementReportLines"]["items"]
    ] == [
        (5, True),
        (6, True),
    ]
    letter = await download(client, token, f"/files/{done['report']['letterFileId']}")
    text = pdf_text(letter.content)
    assert "Ek-3 dosyası ile yaptığınız" in text and "4 satırı kontrollerden geçmediği" in text
    again = await gql(client, CONFIRM, {"id": report["id"], "apply": False}, token=token)
    assert [e["code"] for e in again["data"]["confirmChangedImeiReport"]["errors"]] == [
        "INVALID_STATE"
    ]


async def test_the_firm_may_apply_nothing(client, world):
    token = await login(client, "a.super")
    report = (await upload_report(client, token, BROKEN))["report"]
    feed_before = await gql(client, WHITELIST_FEED, token=OPERATOR_TOKEN)

    discarded = await gql(client, CONFIRM, {"id": report["id"], "apply": False}, token=token)

    done = discarded["data"]["confirmChangedImeiReport"]
    assert (done["report"]["status"], done["report"]["appliedCount"]) == ("DISCARDED", 0)
    assert done["report"]["decidedBy"] == "a.super"
    assert await gql(client, WHITELIST_FEED, token=OPERATOR_TOKEN) == feed_before
    assert await operator_view(client, OLD1) == {OLD1: ("ALLOW", "REGISTERED", None)}
    assert await AuditEvent.exists(action="replacement_report.discarded")


async def test_lines_that_stopped_being_valid_stop_the_whole_apply(client, world):
    token = await login(client, "a.user")
    report = (await upload_report(client, token, ek3_file(f"{OLD1} {NEW1}", f"{OLD2} {NEW2}")))[
        "report"
    ]
    assert report["invalidCount"] == 0
    # Meanwhile the firm reports one of the pairs on screen.
    typed = await gql(
        client, REPORT_PAIRS, {"pairs": [{"oldImei": OLD2, "newImei": NEW2}]}, token=token
    )
    assert typed["data"]["reportReplacements"]["errors"] == []

    applied = await gql(client, CONFIRM, {"id": report["id"], "apply": True}, token=token)

    [error] = applied["data"]["confirmChangedImeiReport"]["errors"]
    assert (error["code"], error["field"]) == ("REPORT_OUTDATED", "reportId")
    assert "1 satır" in error["message"]
    assert await operator_view(client, OLD1, NEW1) == {
        OLD1: ("ALLOW", "REGISTERED", None),
        NEW1: ("BLOCK", "NOT_REGISTERED", "HELD_REPLACEMENT"),
    }
    line = await ReplacementLine.get(report_id=report["id"], line_number=4)
    assert line.problem == "OLD_NOT_REGISTERED"
    # Seen, decided again: the rest applies.
    retried = await gql(client, CONFIRM, {"id": report["id"], "apply": True}, token=token)
    assert retried["data"]["confirmChangedImeiReport"]["report"]["appliedCount"] == 1
    assert await operator_view(client, NEW1) == {NEW1: ("ALLOW", "REGISTERED", None)}


async def test_another_firm_cannot_see_or_decide_a_report(client, world):
    report = (await upload_report(client, await login(client, "a.user"), BROKEN))["report"]
    b_token = await login(client, "b.super")

    decided = await gql(client, CONFIRM, {"id": report["id"], "apply": True}, token=b_token)
    lines = await gql(client, LINES, {"id": report["id"]}, token=b_token)

    assert [e["code"] for e in decided["data"]["confirmChangedImeiReport"]["errors"]] == [
        "NOT_FOUND"
    ]
    assert error_codes(lines) == ["NOT_FOUND"]
    assert await operator_view(client, OLD1) == {OLD1: ("ALLOW", "REGISTERED", None)}
    staff = await gql(
        client, LINES, {"id": report["id"]}, token=await login(client, "staff.reviewer")
    )
    assert len(staff["data"]["replacementReportLines"]["items"]) == 6


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"%PDF-1.4 not a text file", "düz metin"),
        (
            ek3_file("Anadolu Mobil A.Ş., APPLE, A2403", "ESKİ IMEI NUMARASI YENİ IMEI NUMARASI"),
            "satırı yok",
        ),
    ],
)
async def test_a_file_without_pairs_is_refused(client, world, content, reason):
    payload = await upload_report(client, await login(client, "a.user"), content)
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == ("INVALID_INPUT", "file")
    assert reason in error["message"]


def test_the_reader_keeps_line_numbers_and_skips_text_lines():
    text = "\n".join(
        [
            "EK-3",
            "Firma 1234567890 Ltd. Şti., SAMSUNG, SM-G9359",  # digits, but a header
            "eski imei numarası   yeni imei numarası",
            "",
            "35693803-564380-9 | 35407115-000101-4",
            "35693803564380O 354071150001014",  # a letter O for a zero
            "not: değişimler 2012 yılında yapıldı",
        ]
    )
    lines = read_ek3(text)
    assert [(x.line_number, x.old_imei, x.new_imei, x.problem) for x in lines] == [
        (5, "356938035643809", "354071150001014", None),
        (6, "35693803564380O", "354071150001014", None),
    ]
    assert read_ek3("356938035643809\n")[0].problem == "UNRECOGNISED_LINE"


async def test_an_ek3_line_replacing_half_of_a_dual_imei_device_is_not_valid(client, world):
    """Art. 11 in the bulk report too: the lines of one device's IMEIs stand together."""
    phones = await registered_application(world.firm_a)
    first, second = imei(401), imei(402)
    await listed_device(phones.id, 1, first, second)
    await register(phones, first, second)
    boards = await registered_application(world.firm_a, ApplicationKind.MAINBOARD)
    await hold(boards, imei(501), imei(502))
    token = await login(client, "a.user")

    payload = await upload_report(
        client, token, ek3_file(f"{first} {imei(501)}", f"{OLD1} {imei(502)}")
    )

    report = payload["report"]
    assert (report["validCount"], report["invalidCount"]) == (1, 1)
    lines = await gql(client, LINES, {"id": report["id"], "valid": False}, token=token)
    [line] = lines["data"]["replacementReportLines"]["items"]
    assert (line["lineNumber"], line["problem"]) == (3, "DEVICE_INCOMPLETE")
    assert "birlikte değiştirilmeli" in line["problemLabel"]
