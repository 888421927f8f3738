"""A firm asks for a TAC the registry lacks, with the manufacturer's letter (Tebliğ art. 8(4));
staff approve it into the registry or reject it with a reason. Firms see only their own."""

from __future__ import annotations

import json
from typing import Any

import httpx

from models.audit import AuditEvent
from models.files import StoredFile
from models.tac import TacModel, TacRequest
from resolvers.actor import Actor
from resolvers.tac.csv_import import import_tac_csv
from resolvers.tac.registry import models_for_tacs
from tests.support.api import error_codes, gql, login, make_world

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

REQUEST_FIELDS = (
    "id firmId requestedBy tac brand modelCode marketingName imeiCount letterFileId "
    "status statusLabel decisionReason decidedBy decidedAt"
)
REQUEST_TAC = f"""mutation($i: RequestTacInput!, $letter: Upload!) {{
  requestTac(input: $i, letter: $letter) {{ tacRequest {{ {REQUEST_FIELDS} }} errors {{ code field message }} }}
}}"""
APPROVE = f"""mutation($id: Int!) {{
  approveTacRequest(tacRequestId: $id) {{
    tacRequest {{ {REQUEST_FIELDS} }} tacModel {{ tac brand modelCode imeiCount isActive }}
    errors {{ code field message }}
  }}
}}"""
REJECT = f"""mutation($id: Int!, $reason: String!) {{
  rejectTacRequest(tacRequestId: $id, reason: $reason) {{
    tacRequest {{ {REQUEST_FIELDS} }} errors {{ code field message }}
  }}
}}"""
GET_REQUEST = f"query($id: Int!) {{ tacRequest(id: $id) {{ {REQUEST_FIELDS} }} }}"
LIST_REQUESTS = f"""query($status: TacRequestStatus) {{
  tacRequests(status: $status) {{ items {{ {REQUEST_FIELDS} }} pageInfo {{ hasNextPage }} }}
}}"""

GALAXY = {
    "tac": "35240811",
    "brand": "Samsung",
    "modelCode": "sm-s921b",
    "marketingName": "Galaxy S24",
    "imeiCount": 2,
}


async def request_tac(
    client: httpx.AsyncClient,
    token: str,
    fields: dict[str, Any] | None = None,
    letter: bytes = PDF,
    name: str = "uretici-yazisi.pdf",
) -> dict[str, Any]:
    """The portal's multipart request: the form's fields and the scanned letter."""
    operations = {"query": REQUEST_TAC, "variables": {"i": fields or GALAXY, "letter": None}}
    response = await client.post(
        "/graphql",
        files={
            "operations": (None, json.dumps(operations)),
            "map": (None, json.dumps({"0": ["variables.letter"]})),
            "0": (name, letter, "application/pdf"),
        },
        headers={"X-MCKS-Upload": "1", "Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    if body.get("data") is None:
        return body
    payload: dict[str, Any] = body["data"]["requestTac"]
    return payload


async def test_a_firm_requests_a_missing_tac_and_staff_approve_it_into_the_registry(client):
    world = await make_world()
    firm = await login(client, "a.user")
    submitted = await request_tac(client, firm)
    assert submitted["errors"] == []
    request = submitted["tacRequest"]
    assert request["status"] == "PENDING" and request["statusLabel"] == "Beklemede"
    assert (request["brand"], request["modelCode"]) == ("SAMSUNG", "SM-S921B")
    assert request["firmId"] == world.firm_a.id and request["requestedBy"] == "a.user"
    assert await models_for_tacs(["35240811"]) == {}

    # The letter is the firm's document: its colleague and staff can read it.
    supervisor = await login(client, "a.super")
    letter = await client.get(
        f"/files/{request['letterFileId']}", headers={"Authorization": f"Bearer {supervisor}"}
    )
    assert letter.status_code == 200 and letter.content == PDF
    stored = await StoredFile.get(id=request["letterFileId"])
    assert (stored.kind, stored.firm_id, stored.content_type) == (
        "TAC_LETTER",
        world.firm_a.id,
        "application/pdf",
    )

    reviewer = await login(client, "staff.reviewer")
    pending = await gql(client, LIST_REQUESTS, {"status": "PENDING"}, token=reviewer)
    assert [r["id"] for r in pending["data"]["tacRequests"]["items"]] == [request["id"]]
    approved = (await gql(client, APPROVE, {"id": request["id"]}, token=reviewer))["data"][
        "approveTacRequest"
    ]
    assert approved["errors"] == []
    assert approved["tacRequest"]["status"] == "APPROVED"
    assert approved["tacRequest"]["decidedBy"] == "staff.reviewer"
    assert approved["tacRequest"]["decidedAt"] is not None
    assert approved["tacModel"] == {
        "tac": "35240811",
        "brand": "SAMSUNG",
        "modelCode": "SM-S921B",
        "imeiCount": 2,
        "isActive": True,
    }
    assert (await models_for_tacs(["35240811"]))["35240811"].marketing_name == "Galaxy S24"

    again = (await gql(client, APPROVE, {"id": request["id"]}, token=reviewer))["data"]
    assert again["approveTacRequest"]["errors"][0]["code"] == "INVALID_STATE"
    assert await TacModel.filter(tac="35240811").count() == 1

    seen_by_firm = await gql(client, GET_REQUEST, {"id": request["id"]}, token=firm)
    assert seen_by_firm["data"]["tacRequest"]["statusLabel"] == "Onaylandı"
    actions = (
        await AuditEvent.filter(subject_type="TacRequest")
        .order_by("id")
        .values_list("action", "firm_id")
    )
    assert actions == [
        ("tac_request.submitted", world.firm_a.id),
        ("tac_request.approved", world.firm_a.id),
    ]


async def test_a_jpeg_letter_is_accepted_and_anything_else_refused_by_its_content(client):
    await make_world()
    firm = await login(client, "a.user")
    for content in (PNG, b"Sayin yetkili, ...", b""):
        refused = await request_tac(client, firm, letter=content, name="yazi.pdf")
        assert refused["tacRequest"] is None
        assert [(e["code"], e["field"]) for e in refused["errors"]] == [("INVALID_INPUT", "letter")]
        assert "PDF ya da JPEG" in refused["errors"][0]["message"]
    assert await TacRequest.all().count() == 0 and await StoredFile.all().count() == 0

    accepted = await request_tac(client, firm, letter=JPEG, name="yazi.jpg")
    assert accepted["errors"] == []
    assert (await StoredFile.get(id=accepted["tacRequest"]["letterFileId"])).content_type == (
        "image/jpeg"
    )


async def test_a_letter_over_5_mb_is_refused(client):
    await make_world()
    firm = await login(client, "a.user")
    big = PDF + b"0" * (5 * 1024 * 1024)
    refused = await request_tac(client, firm, letter=big)
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("INVALID_INPUT", "letter")]
    assert await TacRequest.all().count() == 0


async def test_the_request_form_is_checked_field_by_field(client):
    await make_world()
    firm = await login(client, "a.user")
    # A legacy 6-digit TAC is not something a manufacturer is allocated today.
    refused = await request_tac(
        client, firm, {"tac": "352408", "brand": " ", "modelCode": "X", "imeiCount": 7}
    )
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [
        ("INVALID_INPUT", "tac"),
        ("INVALID_INPUT", "brand"),
        ("INVALID_INPUT", "imeiCount"),
    ]
    assert "8 haneli" in refused["errors"][0]["message"]


async def test_a_tac_already_registered_or_already_asked_for_is_refused(client):
    await make_world()
    await import_tac_csv(
        Actor.system("test"),
        b"tac,brand,model,imei_count\n35240811,SAMSUNG,SM-S921B,2\n35000001,NOKIA,TA-1,1\n",
    )
    firm_a = await login(client, "a.user")
    registered = await request_tac(client, firm_a)
    assert registered["errors"][0]["code"] == "ALREADY_EXISTS"
    assert registered["errors"][0]["field"] == "tac"

    # A retired TAC may be asked for again; approving brings it back with the new data.
    await TacModel.filter(tac="35240811").update(is_active=False)
    first = await request_tac(client, firm_a, {**GALAXY, "imeiCount": 1})
    assert first["errors"] == []
    firm_b = await login(client, "b.user")
    second = await request_tac(client, firm_b)
    assert second["errors"][0]["code"] == "ALREADY_EXISTS"
    assert "bekleyen talep" in second["errors"][0]["message"]
    assert await TacRequest.all().count() == 1

    admin = await login(client, "staff.admin")
    approved = (await gql(client, APPROVE, {"id": first["tacRequest"]["id"]}, token=admin))["data"]
    model = approved["approveTacRequest"]["tacModel"]
    assert model["isActive"] is True and model["imeiCount"] == 1
    assert await TacModel.filter(tac="35240811").count() == 1
    event = await AuditEvent.get(action="tac_request.approved")
    assert event.details["registry"] == "reactivated"


async def test_a_rejection_needs_a_reason_which_the_firm_then_reads(client):
    await make_world()
    firm = await login(client, "a.super")
    request = (await request_tac(client, firm))["tacRequest"]
    reviewer = await login(client, "staff.reviewer")

    blank = (await gql(client, REJECT, {"id": request["id"], "reason": "   "}, token=reviewer))[
        "data"
    ]["rejectTacRequest"]
    assert [(e["code"], e["field"]) for e in blank["errors"]] == [("INVALID_INPUT", "reason")]
    assert (await TacRequest.get(id=request["id"])).status == "PENDING"

    reason = "Üretici yazısı imzasız; ıslak imzalı ya da e-imzalı yazı gönderiniz."
    rejected = (await gql(client, REJECT, {"id": request["id"], "reason": reason}, token=reviewer))[
        "data"
    ]["rejectTacRequest"]
    assert rejected["errors"] == []
    assert rejected["tacRequest"]["status"] == "REJECTED"
    assert rejected["tacRequest"]["statusLabel"] == "Reddedildi"

    seen = (await gql(client, GET_REQUEST, {"id": request["id"]}, token=firm))["data"]["tacRequest"]
    assert seen["decisionReason"] == reason and seen["decidedBy"] == "staff.reviewer"
    late = (await gql(client, APPROVE, {"id": request["id"]}, token=reviewer))["data"]
    assert late["approveTacRequest"]["errors"][0]["code"] == "INVALID_STATE"
    assert await models_for_tacs([request["tac"]]) == {}
    missing = (await gql(client, REJECT, {"id": 9999, "reason": "x"}, token=reviewer))["data"]
    assert missing["rejectTacRequest"]["errors"][0]["code"] == "NOT_FOUND"

    labels = await gql(
        client,
        '{ enumLabels(enum: "TacRequestStatus") { value label } }',
        headers={"Accept-Language": "en"},
    )
    assert {r["value"]: r["label"] for r in labels["data"]["enumLabels"]} == {
        "PENDING": "Pending",
        "APPROVED": "Approved",
        "REJECTED": "Rejected",
    }


async def test_firm_b_sees_neither_firm_a_request_nor_its_letter(client):
    await make_world()
    request = (await request_tac(client, await login(client, "a.user")))["tacRequest"]
    firm_b = await login(client, "b.super")

    one = await gql(client, GET_REQUEST, {"id": request["id"]}, token=firm_b)
    assert error_codes(one) == ["NOT_FOUND"] and one["data"] is None
    listed = await gql(client, LIST_REQUESTS, {}, token=firm_b)
    assert listed["data"]["tacRequests"]["items"] == []
    letter = await client.get(
        f"/files/{request['letterFileId']}", headers={"Authorization": f"Bearer {firm_b}"}
    )
    assert letter.status_code == 404 and b"%PDF" not in letter.content
    assert "35240811" not in str(one) + str(listed)

    # Firm A's own list holds it; staff see every firm's.
    own = await gql(client, LIST_REQUESTS, {}, token=await login(client, "a.super"))
    assert [r["id"] for r in own["data"]["tacRequests"]["items"]] == [request["id"]]
    archive = await login(client, "staff.archive")
    assert (await gql(client, GET_REQUEST, {"id": request["id"]}, token=archive))["data"][
        "tacRequest"
    ]["tac"] == "35240811"


async def test_only_firms_ask_and_only_reviewers_and_admins_decide(client):
    await make_world()
    request = (await request_tac(client, await login(client, "a.user")))["tacRequest"]

    staff = await login(client, "staff.admin")
    assert error_codes(await request_tac(client, staff, {**GALAXY, "tac": "35240899"})) == [
        "FORBIDDEN"
    ]
    for who in ("a.super", "b.user", "staff.archive"):
        token = await login(client, who)
        for query, variables in [
            (APPROVE, {"id": request["id"]}),
            (REJECT, {"id": request["id"], "reason": "Uygun değil"}),
        ]:
            assert error_codes(await gql(client, query, variables, token=token)) == ["FORBIDDEN"]
    assert (await TacRequest.get(id=request["id"])).status == "PENDING"
