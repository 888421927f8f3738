"""IMEI correction (art. 13): after approval a firm asks to correct wrongly declared IMEIs of
its application, with a petition and the import documents; the right IMEI must pass the
technical checks; staff approve (the whitelist swaps them) or reject with a reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.demo import load_demo
from models import clock
from models.after import CorrectionRequest
from models.audit import AuditEvent
from models.network import CloneSuspicion
from models.workflow import ApplicationKind, ApplicationStatus
from resolvers.settings import updated
from tests.support.after import (
    download,
    hold,
    imei,
    multipart,
    operator_view,
    pdf_text,
    pdf_workers,
    register,
    registered_application,
    scanned_pdf,
)
from tests.support.api import error_codes, gql, login, make_world
from tests.support.operators import OPERATOR_TOKEN, blacklist

__all__ = ["pdf_workers"]
pytestmark = pytest.mark.usefixtures("pdf_workers")

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)

REQUEST_FIELDS = """
    id firmId applicationId status statusLabel note petitionFileId documentsFileId
    pairs { wrongImei rightImei brand model }
    requestedBy decidedBy rejectionReason letterFileId
"""
REQUEST = (
    "mutation($input: RequestImeiCorrectionInput!, $petition: Upload!, $documents: Upload!) {"
    " requestImeiCorrection(input: $input, petition: $petition, documents: $documents) {"
    " request {" + REQUEST_FIELDS + "} errors { code field message } } }"
)
APPROVE = (
    "mutation($id: Int!) { approveImeiCorrection(requestId: $id) {"
    " request {" + REQUEST_FIELDS + "} errors { code field message } } }"
)
REJECT = (
    "mutation($id: Int!, $reason: String!) { rejectImeiCorrection(requestId: $id, reason: $reason) {"
    " request {" + REQUEST_FIELDS + "} errors { code field message } } }"
)
ONE = "query($id: Int!) { imeiCorrectionRequest(id: $id) { id status } }"
LIST = "query($app: Int) { imeiCorrectionRequests(applicationId: $app) { items { id status } } }"
WHITELIST_FEED = "{ whitelistChanges(first: 100) { items { op imei source reason } } }"

WRONG, OTHER_WRONG, B_IMEI = imei(1), imei(2), imei(3)
RIGHT, OTHER_RIGHT = imei(201), imei(202)


@pytest.fixture
async def world(db, settings):
    clock.freeze(NOW)  # letter numbers and file names carry the year
    updated(grace_period_days=0)
    world = await make_world()
    await load_demo()
    application = await registered_application(world.firm_a)
    await register(application, WRONG, OTHER_WRONG)
    b_application = await registered_application(world.firm_b)
    await register(b_application, B_IMEI)
    world.application = application
    world.b_application = b_application
    return world


async def request(client, token, application_id, *pairs, note="Dilekçe ekte sunulmuştur."):
    body = await multipart(
        client,
        token,
        REQUEST,
        {
            "input": {
                "applicationId": application_id,
                "pairs": [{"wrongImei": w, "rightImei": r} for w, r in pairs],
                "note": note,
            }
        },
        {
            "petition": ("dilekce.pdf", scanned_pdf("IMEI Düzeltme Dilekçesi")),
            "documents": ("beyanname.pdf", scanned_pdf("Gümrük Beyannamesi")),
        },
    )
    assert "errors" not in body, body
    return body["data"]["requestImeiCorrection"]


async def decide(client, query, variables, who="staff.reviewer"):
    body = await gql(client, query, variables, token=await login(client, who))
    assert "errors" not in body, body
    return next(iter(body["data"].values()))


async def test_staff_approve_a_correction_and_the_whitelist_swaps_the_imeis(client, world):
    token = await login(client, "a.user")
    # The wrong IMEI was seen cloned: the suspicion ends with it.
    await CloneSuspicion.create(
        imei=WRONG, firm_id=world.firm_a.id, imsi_count=2, detected_at=world.application.created_at
    )

    filed = await request(
        client, token, world.application.id, (f" {WRONG[:8]}-{WRONG[8:]} ", RIGHT)
    )

    assert filed["errors"] == []
    pending = filed["request"]
    assert (pending["status"], pending["statusLabel"], pending["requestedBy"]) == (
        "PENDING",
        "Kurum incelemesinde",
        "a.user",
    )
    assert pending["pairs"] == [
        {"wrongImei": WRONG, "rightImei": RIGHT, "brand": "APPLE", "model": "A2403"}
    ]
    petition = await download(client, token, f"/files/{pending['petitionFileId']}")
    assert "IMEI Düzeltme Dilekçesi" in pdf_text(petition.content)
    # Asking changes nothing yet.
    assert await operator_view(client, WRONG, RIGHT) == {
        WRONG: ("ALLOW", "CLONE_SUSPECTED", None),
        RIGHT: ("BLOCK", "NOT_REGISTERED", None),
    }

    approved = await decide(client, APPROVE, {"id": pending["id"]})

    assert approved["errors"] == []
    assert (approved["request"]["status"], approved["request"]["decidedBy"]) == (
        "APPROVED",
        "staff.reviewer",
    )
    assert await operator_view(client, WRONG, RIGHT) == {
        WRONG: ("BLOCK", "NOT_REGISTERED", "CORRECTED"),
        RIGHT: ("ALLOW", "REGISTERED", None),
    }
    feed = await gql(client, WHITELIST_FEED, token=OPERATOR_TOKEN)
    assert feed["data"]["whitelistChanges"]["items"][-2:] == [
        {"op": "REMOVE", "imei": WRONG, "source": "FIRM_APPLICATION", "reason": "CORRECTED"},
        {
            "op": "ADD",
            "imei": RIGHT,
            "source": "CORRECTION",
            "reason": f"MCKS-DZ-2026-{pending['id']:06d}",
        },
    ]
    assert (await CloneSuspicion.get(imei=WRONG)).status == "CLOSED"
    letter = await download(client, token, f"/files/{approved['request']['letterFileId']}")
    text = pdf_text(letter.content)
    assert "IMEI Düzeltme Talebi Sonucu" in text and "kabul edilmiştir" in text
    assert WRONG in text and RIGHT in text
    assert (
        await AuditEvent.filter(
            action__in=["imei_correction.requested", "imei_correction.approved"],
            firm_id=world.firm_a.id,
        ).count()
        == 2
    )
    again = await decide(client, APPROVE, {"id": pending["id"]}, who="staff.admin")
    assert [e["code"] for e in again["errors"]] == ["INVALID_STATE"]


async def test_the_right_imei_must_pass_the_technical_checks(client, world):
    await blacklist(RIGHT)
    mainboards = await registered_application(world.firm_a, ApplicationKind.MAINBOARD)
    await hold(mainboards, imei(204))
    token = await login(client, "a.super")

    refused = await request(
        client,
        token,
        world.application.id,
        (WRONG, RIGHT),  # blacklisted
        (OTHER_WRONG, B_IMEI),  # registered (by firm B)
    )

    assert refused["request"] is None
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [
        ("CORRECTION_CHECKS_FAILED", "pairs.0.rightImei"),
        ("CORRECTION_CHECKS_FAILED", "pairs.1.rightImei"),
    ]
    assert "Kara listede kayıtlı IMEI" in refused["errors"][0]["message"]
    assert "Adada mevcut IMEI" in refused["errors"][1]["message"]
    other_checks = await request(
        client,
        token,
        world.application.id,
        (WRONG, imei(203, tac="86012345")),  # a Xiaomi TAC for an iPhone
        (OTHER_WRONG, imei(204)),  # held for a mainboard replacement
    )
    assert [e["code"] for e in other_checks["errors"]] == ["CORRECTION_CHECKS_FAILED"] * 2
    assert "Marka/model TAC ile uyuşmuyor" in other_checks["errors"][0]["message"]
    assert "Başka bir başvuruda işlemde" in other_checks["errors"][1]["message"]
    assert not await CorrectionRequest.exists()
    assert await operator_view(client, WRONG, OTHER_WRONG) == {
        WRONG: ("ALLOW", "REGISTERED", None),
        OTHER_WRONG: ("ALLOW", "REGISTERED", None),
    }


async def test_only_the_applications_own_registered_imeis_are_corrected(client, world):
    token = await login(client, "a.user")

    not_its_own = await request(client, token, world.application.id, (B_IMEI, RIGHT))
    others_application = await request(client, token, world.b_application.id, (B_IMEI, RIGHT))
    draft = await registered_application(world.firm_a, status=ApplicationStatus.UNDER_REVIEW)
    not_registered_yet = await request(client, token, draft.id, (WRONG, RIGHT))

    assert [(e["code"], e["field"]) for e in not_its_own["errors"]] == [
        ("NOT_FOUND", "pairs.0.wrongImei")
    ]
    assert [(e["code"], e["field"]) for e in others_application["errors"]] == [
        ("NOT_FOUND", "applicationId")
    ]
    assert [e["code"] for e in not_registered_yet["errors"]] == ["INVALID_STATE"]


async def test_an_imei_is_in_one_pending_request_at_a_time(client, world):
    token = await login(client, "a.user")
    assert (await request(client, token, world.application.id, (WRONG, RIGHT)))["errors"] == []

    second = await request(client, token, world.application.id, (OTHER_WRONG, RIGHT))

    assert [(e["code"], e["field"]) for e in second["errors"]] == [
        ("ALREADY_EXISTS", "pairs.0.rightImei")
    ]


async def test_staff_reject_with_a_reason_the_letter_gives(client, world):
    token = await login(client, "a.user")
    pending = (await request(client, token, world.application.id, (WRONG, RIGHT)))["request"]

    rejected = await decide(
        client,
        REJECT,
        {"id": pending["id"], "reason": "Gümrük beyannamesi sureti okunamıyor."},
    )

    assert rejected["request"]["status"] == "REJECTED"
    assert rejected["request"]["rejectionReason"] == "Gümrük beyannamesi sureti okunamıyor."
    letter = await download(client, token, f"/files/{rejected['request']['letterFileId']}")
    text = pdf_text(letter.content)
    assert "reddedilmiştir" in text and "Gümrük beyannamesi sureti okunamıyor." in text
    assert await operator_view(client, WRONG, RIGHT) == {
        WRONG: ("ALLOW", "REGISTERED", None),
        RIGHT: ("BLOCK", "NOT_REGISTERED", None),
    }
    # Rejected: the IMEIs are free for a new request.
    assert (await request(client, token, world.application.id, (WRONG, RIGHT)))["errors"] == []


async def test_approval_checks_again(client, world):
    token = await login(client, "a.user")
    pending = (await request(client, token, world.application.id, (WRONG, RIGHT)))["request"]
    await blacklist(RIGHT)

    approved = await decide(client, APPROVE, {"id": pending["id"]}, who="staff.admin")

    assert [(e["code"], e["field"]) for e in approved["errors"]] == [
        ("CORRECTION_CHECKS_FAILED", "pairs.0.rightImei")
    ]
    assert (await CorrectionRequest.get(id=pending["id"])).status == "PENDING"
    assert await operator_view(client, WRONG) == {WRONG: ("ALLOW", "REGISTERED", None)}


async def test_who_sees_and_decides(client, world):
    token = await login(client, "a.user")
    pending = (await request(client, token, world.application.id, (WRONG, RIGHT)))["request"]
    b_token = await login(client, "b.user")

    assert error_codes(await gql(client, ONE, {"id": pending["id"]}, token=b_token)) == [
        "NOT_FOUND"
    ]
    listed = await gql(client, LIST, {"app": world.application.id}, token=b_token)
    assert listed["data"]["imeiCorrectionRequests"]["items"] == []
    assert (
        await download(client, b_token, f"/files/{pending['petitionFileId']}")
    ).status_code == 404
    for who in ("a.super", "staff.archive"):
        body = await gql(client, APPROVE, {"id": pending["id"]}, token=await login(client, who))
        assert error_codes(body) == ["FORBIDDEN"]
    own = await gql(client, LIST, {"app": world.application.id}, token=token)
    assert own["data"]["imeiCorrectionRequests"]["items"] == [
        {"id": pending["id"], "status": "PENDING"}
    ]


async def test_the_attachments_must_be_pdf_or_jpeg(client, world):
    body = await multipart(
        client,
        await login(client, "a.user"),
        REQUEST,
        {
            "input": {
                "applicationId": world.application.id,
                "pairs": [{"wrongImei": WRONG, "rightImei": RIGHT}],
            }
        },
        {
            "petition": ("dilekce.docx", b"PK\x03\x04 a Word file"),
            "documents": ("b.pdf", scanned_pdf("B")),
        },
    )
    [error] = body["data"]["requestImeiCorrection"]["errors"]
    assert (error["code"], error["field"]) == ("INVALID_INPUT", "petition")
