"""Every state change leaves an audit event, in the same transaction as the change."""

from __future__ import annotations

import pytest

from models.accounts import Firm
from models.audit import AuditEvent
from models.roles import FirmKind
from resolvers import audit
from resolvers.accounts import admin
from resolvers.actor import Actor
from tests.support.api import error_codes, gql, login, make_world

pytestmark = pytest.mark.usefixtures("db")

AUDIT = """query($f: AuditFilterInput, $first: Int, $after: String) {
  auditEvents(filter: $f, first: $first, after: $after) {
    items { action actorName actorRole subjectType subjectId details requestId ip firmId }
    pageInfo { endCursor hasNextPage }
  }
}"""


async def test_an_admins_change_is_audited_with_who_where_and_which_request(make_client):
    await make_world()
    client = make_client("198.51.100.23")
    token = await login(client, "staff.admin")
    response = await client.post(
        "/graphql",
        json={
            "query": 'mutation { createFirm(input: {name: "Ege A.Ş.", taxNumber: "7777777777", kind: IMPORTER, contactEmail: "a@b.co"}) { firm { id } } }'
        },
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-42"},
    )
    firm_id = response.json()["data"]["createFirm"]["firm"]["id"]
    assert response.headers["x-request-id"] == "req-42"

    body = await gql(client, AUDIT, {"f": {"action": "firm.created"}}, token=token)
    [event] = body["data"]["auditEvents"]["items"]
    assert event == {
        "action": "firm.created",
        "actorName": "staff.admin",
        "actorRole": "STAFF_ADMIN",
        "subjectType": "Firm",
        "subjectId": str(firm_id),
        "details": {
            "name": "Ege A.Ş.",
            "taxNumber": "7777777777",
            "kind": "IMPORTER",
            "allowedIps": [],
        },
        "requestId": "req-42",
        "ip": "198.51.100.23",
        "firmId": firm_id,
    }


async def test_an_audit_event_rolls_back_with_its_operation(monkeypatch):
    real_record = audit.record

    async def record_then_fail(*args, **kwargs):
        await real_record(*args, **kwargs)
        raise RuntimeError("disk full after the audit write")

    monkeypatch.setattr(admin.audit, "record", record_then_fail)
    with pytest.raises(RuntimeError):
        await admin.create_firm(
            Actor.system(), "Ege A.Ş.", "7777777777", FirmKind.IMPORTER, "a@b.co"
        )
    assert await Firm.filter(tax_number="7777777777").count() == 0
    assert await AuditEvent.filter(action="firm.created").count() == 0


async def test_an_operation_fails_when_its_audit_event_cannot_be_written(monkeypatch):
    async def broken_record(*args, **kwargs):
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(admin.audit, "record", broken_record)
    with pytest.raises(RuntimeError):
        await admin.create_firm(
            Actor.system(), "Ege A.Ş.", "7777777777", FirmKind.IMPORTER, "a@b.co"
        )
    assert await Firm.filter(tax_number="7777777777").count() == 0


async def test_failed_logins_are_audited(client):
    await make_world()
    from tests.support.api import LOGIN

    await gql(client, LOGIN, {"u": "a.user", "p": "wrong-password-1"})
    event = await AuditEvent.get(action="auth.login_failed")
    assert event.actor_name == "a.user"
    assert event.details == {
        "reason": "WRONG_PASSWORD",
        "failures": 1,
        "addressFailures": 1,
        "accountFailures": 1,
    }


async def test_staff_page_through_the_trail_with_filters(client):
    world = await make_world()
    for n in range(5):
        await admin.update_firm(Actor.system(), world.firm_a.id, name=f"Anadolu {n}")
    await admin.update_firm(Actor.system(), world.firm_b.id, name="Kıbrıs 2")
    token = await login(client, "staff.reviewer")

    seen, after = [], None
    while True:
        body = await gql(
            client,
            AUDIT,
            {
                "f": {"action": "firm.updated", "firmId": world.firm_a.id},
                "first": 2,
                "after": after,
            },
            token=token,
        )
        page = body["data"]["auditEvents"]
        seen += [e["details"]["name"] for e in page["items"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"Anadolu {n}" for n in reversed(range(5))]

    bad = await gql(client, AUDIT, {"first": 0}, token=token)
    assert error_codes(bad) == ["INVALID_INPUT"]
    bad_cursor = await gql(client, AUDIT, {"after": "not-a-cursor"}, token=token)
    assert error_codes(bad_cursor) == ["INVALID_INPUT"]


async def test_firm_users_cannot_read_the_trail(client):
    await make_world()
    token = await login(client, "a.super")
    assert error_codes(await gql(client, AUDIT, token=token)) == ["FORBIDDEN"]
