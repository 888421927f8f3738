"""Lost and stolen: a report gets the registry's number, returned to the reporter; staff, or
any operator the owner brings that number to, lift it on recovery; staff look one report up;
the reasons are the live Turkish list's categories."""

from __future__ import annotations

import pytest

from gateway.demo import load_demo
from models.audit import AuditEvent
from models.registry import BlacklistChange, normalise_report_number
from tests.support.api import gql, login, make_world
from tests.support.operators import CHECK, OPERATOR_TOKEN, imei, make_operator

OTHER = "mcks_test_other_operator_token"
ADD = """
mutation($imei: String!, $reason: BlacklistReason!) {
  addToBlacklist(input: {imei: $imei, reason: $reason, reference: "EGM-2026/91", note: "ihbar"}) {
    entry { imei reason reasonLabel reference reportNumber reportedBy createdAt }
    errors { code field message }
  }
}"""
LIFT = """
mutation($imei: String!, $number: String) {
  removeFromBlacklist(imei: $imei, note: "bulundu", reportNumber: $number) {
    entry { imei reportNumber }
    errors { code field message }
  }
}"""
ENTRY = """query($imei: String!) { blacklistEntry(imei: $imei) {
  imei reason reasonLabel reference reportNumber reportedBy note createdAt } }"""
FEED = "{ blacklistChanges(first: 100) { items { op imei reason note } } }"


@pytest.fixture(autouse=True)
async def operators(db):
    await load_demo()
    await make_world()
    await make_operator("Öteki GSM", "OTHERGSM", OTHER)


async def report(client, phone, reason="STOLEN", token=OPERATOR_TOKEN):
    body = await gql(client, ADD, {"imei": phone, "reason": reason}, token=token)
    payload = body["data"]["addToBlacklist"]
    assert payload["errors"] == [], payload
    return payload["entry"]


async def lift(client, phone, number, token=OTHER):
    body = await gql(client, LIFT, {"imei": phone, "number": number}, token=token)
    return body["data"]["removeFromBlacklist"]


async def verdict(client, phone):
    body = await gql(client, CHECK, {"imeis": [phone]}, token=OPERATOR_TOKEN)
    answer = body["data"]["checkImeis"][0]
    return answer["verdict"], answer["status"], answer["reason"]


async def test_a_phone_recovered_abroad_is_lifted_at_another_operators_shop_by_its_number(
    client,
):
    phone = imei(1)
    entry = await report(client, phone)
    number = entry["reportNumber"]
    assert number and number.startswith("KL-") and len(number) == len("KL-XXXX-XXXX-XXXX")
    assert normalise_report_number(number) == number
    assert await verdict(client, phone) == ("BLOCK", "BLACKLISTED", "STOLEN")
    # The number is the owner's: the feed, which every operator reads, never carries it.
    feed = await gql(client, FEED, token=OTHER)
    assert number not in str(feed)

    # Another operator without the number (or with a wrong one) cannot lift it.
    for wrong in (None, "KL-0000-0000-0000", number[:-1]):
        refused = await lift(client, phone, wrong)
        assert [e["code"] for e in refused["errors"]] == ["NOT_FOUND"]
    assert await verdict(client, phone) == ("BLOCK", "BLACKLISTED", "STOLEN")

    # The owner reads it out at the shop: lower case, spaces, O for 0 all do.
    typed = number.lower().replace("-", " ").replace("0", "o")
    lifted = await lift(client, phone, typed)
    assert lifted["errors"] == []
    assert lifted["entry"]["reportNumber"] == number
    assert (await verdict(client, phone))[1] != "BLACKLISTED"
    [event] = await AuditEvent.filter(action="blacklist.removed")
    assert event.actor_name and event.details["byReportNumber"] is True
    assert event.details["reportedBy"] == "DEMOGSM"
    assert await BlacklistChange.filter(imei=phone, op="REMOVE").count() == 1


async def test_each_report_gets_its_own_number_and_staff_lift_any(client):
    first = await report(client, imei(2))
    second = await report(client, imei(3), token=OTHER)
    assert first["reportNumber"] != second["reportNumber"]
    admin = await login(client, "staff.admin")
    lifted = await lift(client, imei(3), None, token=admin)
    assert lifted["errors"] == []
    # The reporter lifts its own without the number.
    own = await lift(client, imei(2), None, token=OPERATOR_TOKEN)
    assert own["errors"] == []


@pytest.mark.parametrize(
    ("reason", "tr"),
    [
        ("LOST", "Kayıp"),
        ("STOLEN", "Çalıntı"),
        ("SMUGGLED", "Kaçak"),
        ("IDENTITY_ALTERED", "Kimliği (IMEI) değiştirilmiş"),
        ("BARRED", "Engellenmiş"),
    ],
)
async def test_the_reasons_are_the_live_lists_categories(client, reason, tr):
    phone = imei(10)
    entry = await report(client, phone, reason=reason)
    assert (entry["reason"], entry["reasonLabel"]) == (reason, tr)
    assert await verdict(client, phone) == ("BLOCK", "BLACKLISTED", reason)


async def test_staff_look_up_one_report(client):
    phone = imei(20)
    entry = await report(client, phone, reason="LOST")
    reviewer = await login(client, "staff.reviewer")
    body = await gql(client, ENTRY, {"imei": phone}, token=reviewer)
    found = body["data"]["blacklistEntry"]
    assert found == {
        "imei": phone,
        "reason": "LOST",
        "reasonLabel": "Kayıp",
        "reference": "EGM-2026/91",
        "reportNumber": entry["reportNumber"],
        "reportedBy": "DEMOGSM",
        "note": "ihbar",
        "createdAt": entry["createdAt"],
    }
    english = await gql(
        client, ENTRY, {"imei": phone}, token=reviewer, headers={"Accept-Language": "en"}
    )
    assert english["data"]["blacklistEntry"]["reasonLabel"] == "Lost"
    missing = await gql(client, ENTRY, {"imei": imei(21)}, token=reviewer)
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # Operators do not browse other operators' reports.
    refused = await gql(client, ENTRY, {"imei": phone}, token=OPERATOR_TOKEN)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
