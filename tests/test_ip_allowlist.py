"""A firm's or client's IP allowlist on every request; X-Forwarded-For only from our proxies."""

from __future__ import annotations

from dataclasses import replace

import pytest

from models import clock
from models.accounts import AccessToken, MachineClient
from models.ip_rules import client_ip, ip_allowed
from models.roles import ClientKind, Role
from resolvers.accounts.credentials import hash_token
from resolvers.settings import configure, get_settings
from tests.support.api import LOGIN, PASSWORD, error_codes, gql, login, make_firm, make_user

VIEWER = "{ viewer { name } }"


async def test_a_firm_user_logs_in_only_from_the_firms_addresses(make_client):
    firm = await make_firm(allowed_ips=["203.0.113.7", "198.51.100.0/28"])
    await make_user("ayse", Role.FIRM_USER, firm)

    assert await login(make_client("203.0.113.7"), "ayse")
    assert await login(make_client("198.51.100.14"), "ayse")

    # Refused like a wrong password: the answer tells nobody the account exists (the audit
    # trail keeps the cause, tests/test_auth_throttle.py).
    body = await gql(make_client("192.0.2.1"), LOGIN, {"u": "ayse", "p": PASSWORD})
    assert body["data"]["login"]["errors"][0]["code"] == "INVALID_CREDENTIALS"


async def test_a_token_used_from_another_address_is_refused(make_client):
    firm = await make_firm(allowed_ips=["203.0.113.7"])
    await make_user("ayse", Role.FIRM_USER, firm)
    token = await login(make_client("203.0.113.7"), "ayse")

    response = await make_client("192.0.2.50").post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "IP_NOT_ALLOWED"


async def test_narrowing_the_allowlist_takes_effect_on_live_tokens(make_client):
    firm = await make_firm()
    await make_user("ayse", Role.FIRM_USER, firm)
    token = await login(make_client("192.0.2.50"), "ayse")
    firm.allowed_ips = ["203.0.113.7"]
    await firm.save()
    body = await gql(make_client("192.0.2.50"), VIEWER, token=token, expect_status=403)
    assert error_codes(body) == ["IP_NOT_ALLOWED"]


async def test_machine_clients_have_allowlists_too(make_client):
    client = await MachineClient.create(
        name="GSM A",
        kind=ClientKind.OPERATOR,
        operator_code="GSMA",
        allowed_ips=["10.20.0.0/16"],
        created_at=clock.now(),
    )
    await AccessToken.create(
        token_hash=hash_token("op-token"),
        client_id=client.id,
        created_at=clock.now(),
        expires_at=clock.now().replace(year=clock.now().year + 1),
    )
    ok = await gql(make_client("10.20.3.4"), VIEWER, token="op-token")
    assert ok["data"]["viewer"]["name"] == "GSM A"
    refused = await gql(make_client("10.21.0.1"), VIEWER, token="op-token", expect_status=403)
    assert error_codes(refused) == ["IP_NOT_ALLOWED"]


async def test_forwarded_for_is_believed_only_from_a_trusted_proxy(make_client):
    configure(replace(get_settings(), trusted_proxies=("10.0.0.0/8",)))
    firm = await make_firm(allowed_ips=["203.0.113.7"])
    await make_user("ayse", Role.FIRM_USER, firm)

    via_proxy = make_client("10.0.0.2")
    body = await gql(
        via_proxy,
        LOGIN,
        {"u": "ayse", "p": PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    assert body["data"]["login"]["errors"] == []

    # A client writing the header itself from outside: ignored, its own address counts.
    spoofed = await gql(
        make_client("192.0.2.9"),
        LOGIN,
        {"u": "ayse", "p": PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    assert spoofed["data"]["login"]["errors"][0]["code"] == "INVALID_CREDENTIALS"

    # Behind the proxy, a client-written hop further left is not believed either.
    chained = await gql(
        via_proxy,
        LOGIN,
        {"u": "ayse", "p": PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.7, 192.0.2.9"},
    )
    assert chained["data"]["login"]["errors"][0]["code"] == "INVALID_CREDENTIALS"


@pytest.mark.parametrize(
    ("peer", "header", "trusted", "expected"),
    [
        ("192.0.2.1", None, ("10.0.0.0/8",), "192.0.2.1"),
        ("192.0.2.1", "203.0.113.7", ("10.0.0.0/8",), "192.0.2.1"),
        ("10.0.0.2", "203.0.113.7", ("10.0.0.0/8",), "203.0.113.7"),
        ("10.0.0.2", "198.51.100.1, 203.0.113.7, 10.0.0.3", ("10.0.0.0/8",), "203.0.113.7"),
        ("10.0.0.2", "garbage", ("10.0.0.0/8",), "10.0.0.2"),
        ("10.0.0.2", "203.0.113.7", (), "10.0.0.2"),
    ],
)
def test_client_address_rules(peer, header, trusted, expected):
    assert client_ip(peer, header, trusted) == expected


def test_allowlist_matching():
    assert ip_allowed("203.0.113.9", [])
    assert ip_allowed("203.0.113.9", ["203.0.113.0/24"])
    assert not ip_allowed("203.0.114.9", ["203.0.113.0/24"])
    assert ip_allowed("2001:db8::5", ["2001:db8::/64"])
    assert not ip_allowed("not-an-ip", ["0.0.0.0/0"])
