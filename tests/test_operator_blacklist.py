"""Operators and staff blacklist lost, stolen and barred IMEIs, and lift it on recovery."""

from __future__ import annotations

import pytest

from gateway.demo import load_demo
from models.audit import AuditEvent
from models.registry import BlacklistChange
from tests.support.api import error_codes, gql, login, make_world
from tests.support.operators import CHECK, OPERATOR_TOKEN, imei, make_operator, whitelist

ADD = """
mutation($imei: String!, $reason: BlacklistReason!, $reference: String!) {
  addToBlacklist(input: {imei: $imei, reason: $reason, reference: $reference, note: "ihbar"}) {
    entry { imei reason reference reportedBy createdAt }
    errors { code field message }
  }
}"""
REMOVE = """
mutation($imei: String!, $note: String!) {
  removeFromBlacklist(imei: $imei, note: $note) {
    entry { imei reason }
    errors { code field message }
  }
}"""


@pytest.fixture(autouse=True)
async def operator(db):
    await load_demo()


async def add(client, value, token=OPERATOR_TOKEN, reason="STOLEN", reference="EGM-2026/77"):
    body = await gql(
        client, ADD, {"imei": value, "reason": reason, "reference": reference}, token=token
    )
    return body["data"]["addToBlacklist"] if body.get("data") else body


async def status_of(client, value):
    body = await gql(client, CHECK, {"imeis": [value]}, token=OPERATOR_TOKEN)
    answer = body["data"]["checkImeis"][0]
    return answer["verdict"], answer["status"], answer["reason"]


async def test_a_stolen_phone_is_blocked_until_it_is_recovered(client):
    phone = imei(42)
    await whitelist(phone)
    assert await status_of(client, phone) == ("ALLOW", "REGISTERED", None)

    added = await add(client, phone[:14])  # the network form is accepted and normalised
    assert added["errors"] == []
    assert added["entry"]["imei"] == phone and added["entry"]["reportedBy"] == "DEMOGSM"
    assert await status_of(client, phone) == ("BLOCK", "BLACKLISTED", "STOLEN")

    removed = await gql(
        client, REMOVE, {"imei": phone, "note": "sahibine teslim edildi"}, token=OPERATOR_TOKEN
    )
    assert removed["data"]["removeFromBlacklist"] == {
        "entry": {"imei": phone, "reason": "STOLEN"},
        "errors": [],
    }
    assert await status_of(client, phone) == ("ALLOW", "REGISTERED", None)

    changes = await BlacklistChange.filter(imei=phone).order_by("id")
    assert [(c.op.value, c.reason, c.note) for c in changes] == [
        ("ADD", "STOLEN", "ihbar"),
        ("REMOVE", "STOLEN", "sahibine teslim edildi"),
    ]
    events = await AuditEvent.filter(subject_id=phone).order_by("id")
    assert [e.action for e in events] == ["blacklist.added", "blacklist.removed"]
    assert events[0].actor_role == "OPERATOR" and events[0].details["reference"] == "EGM-2026/77"


async def test_blacklisting_twice_or_a_bad_imei_is_refused(client):
    assert (await add(client, imei(1)))["errors"] == []
    again = await add(client, imei(1))
    assert [(e["code"], e["field"]) for e in again["errors"]] == [("ALREADY_EXISTS", "imei")]
    bad = await add(client, "12345")
    assert [(e["code"], e["field"]) for e in bad["errors"]] == [("INVALID_INPUT", "imei")]
    blank = await add(client, imei(2), reference="  ")
    assert [(e["code"], e["field"]) for e in blank["errors"]] == [("INVALID_INPUT", "reference")]


async def test_an_operator_lifts_only_its_own_reports_and_staff_lift_any(client):
    await make_world()
    await make_operator("Rakip GSM", "RAKIP", "rakip_operator_token")
    assert (await add(client, imei(5), token="rakip_operator_token"))["errors"] == []

    body = await gql(client, REMOVE, {"imei": imei(5), "note": "bulundu"}, token=OPERATOR_TOKEN)
    assert [e["code"] for e in body["data"]["removeFromBlacklist"]["errors"]] == ["NOT_FOUND"]

    staff = await login(client, "staff.reviewer")
    body = await gql(client, REMOVE, {"imei": imei(5), "note": "bulundu"}, token=staff)
    assert body["data"]["removeFromBlacklist"]["errors"] == []


async def test_firms_and_archive_staff_cannot_touch_the_blacklist(client):
    await make_world()
    firm = await add(client, imei(3), token=await login(client, "a.super"))
    assert error_codes(firm) == ["FORBIDDEN"]
    archive = await add(client, imei(3), token=await login(client, "staff.archive"))
    assert error_codes(archive) == ["FORBIDDEN"]
    staff = await add(client, imei(3), token=await login(client, "staff.admin"), reason="BARRED")
    assert staff["entry"]["reportedBy"] == "staff.admin"
