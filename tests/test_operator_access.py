"""Operators reach their own operations and nothing else; the token cache keeps that true."""

from __future__ import annotations

import pytest

from gateway.demo import load_demo
from gateway.token_cache import TOKENS
from models.roles import Role
from resolvers.settings import updated
from schema import build_schema
from schema.permissions import Requires
from tests.support.api import error_codes, gql, login, make_world
from tests.support.operators import CHECK, OPERATOR_TOKEN, imei

# Everything an operator machine client may call (a new one must be added here on purpose).
OPERATOR_FIELDS = {
    "Query": {
        # Individual registrations taken at the operator's AKM shops (its own only).
        "individualRegistration",
        "individualRegistrations",
        "checkImeis",
        "imeiStatus",
        # Public: whoever holds a signed document checks its code.
        "verifyDocument",
        "whitelistChanges",
        "blacklistChanges",
        # The pairings their EIRs enforce (art. 14).
        "pairingChanges",
        # The grey list their EIRs mirror, and their own attaches whose grace ends soon.
        "greylistChanges",
        "graceEndingSoon",
        "viewer",
        "enumLabels",
    },
    "Mutation": {
        "submitAkmRegistration",
        "addToBlacklist",
        "removeFromBlacklist",
        "submitObservations",
        "login",
        "logout",
        "changePassword",
    },
}


def operator_may_call(field) -> bool:
    [requires] = [e for e in field.extensions if isinstance(e, Requires)]
    if requires.public:
        return True
    return not requires.roles or Role.OPERATOR in requires.roles


def test_operators_are_allowed_only_their_own_root_fields():
    schema = build_schema()
    for root, allowed in OPERATOR_FIELDS.items():
        definition = schema.get_type_by_name(root)
        names = {schema.config.name_converter.get_graphql_name(f) for f in definition.fields}
        reachable = {
            schema.config.name_converter.get_graphql_name(f)
            for f in definition.fields
            if operator_may_call(f)
        }
        assert reachable <= allowed, f"{root}: operators reach {sorted(reachable - allowed)}"
        assert allowed <= names


@pytest.mark.parametrize(
    "query",
    [
        "{ firms { items { id } } }",
        "{ auditEvents { items { id } } }",
        "{ jobs { items { id } } }",
        "{ cloneSuspicions { items { imei } } }",
        "{ applications { items { id } } }",
        'mutation { createFirm(input: {name: "X", taxNumber: "1234567890", kind: IMPORTER, contactEmail: "a@b.co"}) { errors { code } } }',
    ],
)
async def test_an_operator_is_refused_everything_else(client, query):
    await load_demo()
    assert error_codes(await gql(client, query, token=OPERATOR_TOKEN)) == ["FORBIDDEN"]


@pytest.fixture
def token_cache():
    updated(token_cache_seconds=30)
    TOKENS.clear()
    yield TOKENS
    TOKENS.clear()


async def test_a_cached_token_still_ends_at_logout_and_is_checked_per_address(
    make_client, token_cache
):
    await make_world()
    await load_demo()
    client = make_client(ip="192.0.2.10")
    token = await login(client, "a.user")
    assert (await gql(client, "{ viewer { name } }", token=token))["data"]["viewer"]["name"]
    assert len(token_cache._entries) == 1
    await gql(client, "mutation { logout { ok } }", token=token)
    assert error_codes(
        await gql(client, "{ viewer { name } }", token=token, expect_status=401)
    ) == ["UNAUTHENTICATED"]

    await gql(client, CHECK, {"imeis": [imei(1)]}, token=OPERATOR_TOKEN)
    other_address = make_client(ip="192.0.2.11")
    await gql(other_address, CHECK, {"imeis": [imei(1)]}, token=OPERATOR_TOKEN)
    assert {ip for _, ip in token_cache._entries} == {"192.0.2.10", "192.0.2.11"}


async def test_a_revoked_client_token_is_refused_at_once_in_this_process(client, token_cache):
    await make_world()
    await load_demo()
    from models.accounts import AccessToken, MachineClient

    operator = await MachineClient.get(operator_code="DEMOGSM")
    access = await AccessToken.filter(client_id=operator.id).first()
    assert "errors" not in await gql(client, CHECK, {"imeis": [imei(1)]}, token=OPERATOR_TOKEN)
    admin = await login(client, "staff.admin")
    revoked = await gql(
        client,
        "mutation($id: Int!) { revokeAccessToken(tokenId: $id) { errors { code } } }",
        {"id": access.id},
        token=admin,
    )
    assert revoked["data"]["revokeAccessToken"]["errors"] == []
    refused = await gql(
        client, CHECK, {"imeis": [imei(1)]}, token=OPERATOR_TOKEN, expect_status=401
    )
    assert error_codes(refused) == ["UNAUTHENTICATED"]


async def test_an_actor_from_the_token_cache_carries_this_requests_id(
    client, token_cache, monkeypatch
):
    from resolvers.operators import lookup

    await load_demo()

    async def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(lookup, "lookup", broken)
    seen = set()
    for _ in range(2):  # the second request's actor comes from the cache
        response = await client.post(
            "/graphql",
            json={"query": CHECK, "variables": {"imeis": [imei(1)]}},
            headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
        )
        [error] = response.json()["errors"]
        assert error["extensions"]["requestId"] == response.headers["x-request-id"]
        seen.add(error["extensions"]["requestId"])
    assert len(seen) == 2 and len(token_cache._entries) == 1
