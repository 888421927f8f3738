"""Staff admins create firms, users and machine clients; every field checks the role."""

from __future__ import annotations

import pytest

from models.accounts import User
from models.audit import AuditEvent
from tests.support.api import LOGIN, error_codes, gql, login, make_world

CREATE_FIRM = """mutation($i: CreateFirmInput!) {
  createFirm(input: $i) { firm { id name taxNumber kind allowedIps } errors { code field message } }
}"""
CREATE_USER = """mutation($i: CreateUserInput!) {
  createUser(input: $i) { user { id username role firmId mustChangePassword } temporaryPassword errors { code field } }
}"""
CREATE_CLIENT = """mutation($i: CreateMachineClientInput!) {
  createMachineClient(input: $i) { client { id name kind operatorCode } token accessToken { id } errors { code field } }
}"""


async def test_an_admin_onboards_a_firm_and_its_user_who_then_changes_the_password(client):
    await make_world()
    admin = await login(client, "staff.admin")
    firm = (
        await gql(
            client,
            CREATE_FIRM,
            {
                "i": {
                    "name": "  Ege   Telekom İthalat A.Ş. ",
                    "taxNumber": "3333333333",
                    "kind": "IMPORTER",
                    "contactEmail": "bilgi@egetelekom.example",
                    "allowedIps": ["203.0.113.7", "198.51.100.0/24"],
                }
            },
            token=admin,
        )
    )["data"]["createFirm"]
    assert firm["errors"] == []
    assert firm["firm"]["name"] == "Ege Telekom İthalat A.Ş."
    assert firm["firm"]["allowedIps"] == ["203.0.113.7", "198.51.100.0/24"]

    created = (
        await gql(
            client,
            CREATE_USER,
            {
                "i": {
                    "username": "Ege.Kullanici",
                    "fullName": "Can Ege",
                    "email": "can@egetelekom.example",
                    "role": "FIRM_SUPERVISOR",
                    "firmId": firm["firm"]["id"],
                }
            },
            token=admin,
        )
    )["data"]["createUser"]
    assert created["errors"] == []
    assert created["user"]["username"] == "ege.kullanici"
    assert created["user"]["mustChangePassword"] is True

    body = await gql(client, LOGIN, {"u": "ege.kullanici", "p": created["temporaryPassword"]})
    # Not from the firm's address: refused even with the right password (answered as any
    # failed login; the audit trail says why).
    assert body["data"]["login"]["errors"][0]["code"] == "INVALID_CREDENTIALS"


async def test_duplicate_and_invalid_input_name_the_field(client):
    await make_world()
    admin = await login(client, "staff.admin")
    duplicate = (
        await gql(
            client,
            CREATE_FIRM,
            {
                "i": {
                    "name": "X",
                    "taxNumber": "1111111111",
                    "kind": "IMPORTER",
                    "contactEmail": "a@b.co",
                }
            },
            token=admin,
        )
    )["data"]["createFirm"]
    assert duplicate["errors"][0]["code"] == "ALREADY_EXISTS"
    assert duplicate["errors"][0]["field"] == "taxNumber"
    assert "1111111111" in duplicate["errors"][0]["message"]

    bad_ip = (
        await gql(
            client,
            CREATE_FIRM,
            {
                "i": {
                    "name": "X",
                    "taxNumber": "4444444444",
                    "kind": "IMPORTER",
                    "contactEmail": "a@b.co",
                    "allowedIps": ["10.0.0.1", "300.1.1.1"],
                }
            },
            token=admin,
        )
    )["data"]["createFirm"]
    assert bad_ip["errors"][0]["field"] == "allowedIps"
    assert "300.1.1.1" in bad_ip["errors"][0]["message"]

    no_firm = (
        await gql(
            client,
            CREATE_USER,
            {
                "i": {
                    "username": "yalniz",
                    "fullName": "Yalnız",
                    "email": "y@example.com",
                    "role": "FIRM_USER",
                }
            },
            token=admin,
        )
    )["data"]["createUser"]
    assert no_firm["errors"] == [{"code": "INVALID_INPUT", "field": "firmId"}]
    assert not await User.filter(username="yalniz").exists()


async def test_machine_client_token_is_shown_once_works_and_can_be_revoked(client):
    await make_world()
    admin = await login(client, "staff.admin")
    created = (
        await gql(
            client,
            CREATE_CLIENT,
            {
                "i": {
                    "name": "GSM Bir",
                    "kind": "OPERATOR",
                    "operatorCode": "gsm1",
                }
            },
            token=admin,
        )
    )["data"]["createMachineClient"]
    assert created["errors"] == [] and created["client"]["operatorCode"] == "GSM1"
    token = created["token"]
    viewer = (await gql(client, "{ viewer { kind role operatorCode } }", token=token))["data"]
    assert viewer["viewer"] == {"kind": "CLIENT", "role": "OPERATOR", "operatorCode": "GSM1"}

    listed = await gql(
        client,
        "query($c: Int!) { clientTokens(clientId: $c) { id label revokedAt } }",
        {"c": created["client"]["id"]},
        token=admin,
    )
    assert [t["id"] for t in listed["data"]["clientTokens"]] == [created["accessToken"]["id"]]

    revoked = await gql(
        client,
        "mutation($t: Int!) { revokeAccessToken(tokenId: $t) { accessToken { revokedAt } errors { code } } }",
        {"t": created["accessToken"]["id"]},
        token=admin,
    )
    assert revoked["data"]["revokeAccessToken"]["accessToken"]["revokedAt"] is not None
    after = await gql(client, "{ viewer { kind } }", token=token, expect_status=401)
    assert error_codes(after) == ["UNAUTHENTICATED"]

    e_devlet = (
        await gql(
            client,
            CREATE_CLIENT,
            {
                "i": {
                    "name": "e-Devlet",
                    "kind": "E_DEVLET",
                    "operatorCode": "X1",
                }
            },
            token=admin,
        )
    )["data"]["createMachineClient"]
    assert e_devlet["errors"] == [{"code": "INVALID_INPUT", "field": "operatorCode"}]


async def test_deactivating_a_user_ends_their_sessions(client):
    world = await make_world()
    admin = await login(client, "staff.admin")
    token = await login(client, "a.user")
    body = await gql(
        client,
        "mutation($u: Int!) { setUserActive(userId: $u, active: false) { user { isActive } errors { code } } }",
        {"u": world.users["a_user"].id},
        token=admin,
    )
    assert body["data"]["setUserActive"]["user"]["isActive"] is False
    assert error_codes(
        await gql(client, "{ viewer { name } }", token=token, expect_status=401)
    ) == ["UNAUTHENTICATED"]


async def test_password_reset_gives_a_temporary_password_and_unlocks(client):
    world = await make_world()
    admin = await login(client, "staff.admin")
    body = await gql(
        client,
        "mutation($u: Int!) { resetUserPassword(userId: $u) { temporaryPassword user { mustChangePassword } errors { code } } }",
        {"u": world.users["b_user"].id},
        token=admin,
    )
    reset = body["data"]["resetUserPassword"]
    assert reset["user"]["mustChangePassword"] is True
    token = await login(client, "b.user", reset["temporaryPassword"])
    refused = await gql(
        client, "query($id: Int!) { firm(id: $id) { id } }", {"id": world.firm_b.id}, token=token
    )
    assert error_codes(refused) == ["PASSWORD_CHANGE_REQUIRED"]


ADMIN_ONLY = [
    (
        'mutation { createFirm(input: {name: "x", taxNumber: "5555555555", kind: IMPORTER, contactEmail: "a@b.co"}) { errors { code } } }'
    ),
    (
        'mutation { createUser(input: {username: "zz", fullName: "z", email: "z@b.co", role: STAFF_ADMIN}) { errors { code } } }'
    ),
    ('mutation { createMachineClient(input: {name: "x", kind: E_DEVLET}) { errors { code } } }'),
    ("mutation { setUserActive(userId: 1, active: false) { errors { code } } }"),
    ("mutation { resetUserPassword(userId: 1) { errors { code } } }"),
    ("mutation { revokeAccessToken(tokenId: 1) { errors { code } } }"),
    ("mutation { issueClientToken(clientId: 1) { errors { code } } }"),
    ("mutation { updateFirm(input: {firmId: 1, isActive: false}) { errors { code } } }"),
    ("mutation { updateMachineClient(input: {clientId: 1, isActive: false}) { errors { code } } }"),
]


@pytest.mark.parametrize(
    "who", ["a.user", "a.super", "staff.reviewer", "staff.archive", "operator"]
)
@pytest.mark.parametrize("operation", ADMIN_ONLY)
async def test_only_staff_admins_administer_accounts(client, who, operation):
    await make_world()
    if who == "operator":
        from gateway.demo import load_demo

        await load_demo()
        token = "mcks_demo_operator_token"
    else:
        token = await login(client, who)
    audit_before = await AuditEvent.filter(action__not_in=["auth.login"]).count()
    body = await gql(client, operation, token=token)
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["data"] is None
    assert await AuditEvent.filter(action__not_in=["auth.login"]).count() == audit_before


async def test_operators_reach_no_staff_or_firm_queries(client):
    await make_world()
    from gateway.demo import load_demo

    await load_demo()
    for query in (
        "{ firms { items { id } } }",
        "{ users { items { id } } }",
        "{ machineClients { items { id } } }",
        "{ auditEvents { items { id } } }",
        "{ firm(id: 1) { id } }",
        "{ user(id: 1) { id } }",
    ):
        body = await gql(client, query, token="mcks_demo_operator_token")
        assert error_codes(body) == ["FORBIDDEN"], query
