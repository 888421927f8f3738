"""Speaking GraphQL to the app in tests, and the accounts most scenarios start from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from models import clock
from models.accounts import Firm, User
from models.roles import FirmKind, Role
from resolvers.accounts.credentials import hash_password

PASSWORD = "Test.Sifre.123"


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    expect_status: int | None = 200,
) -> dict[str, Any]:
    all_headers = dict(headers or {})
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=all_headers
    )
    if expect_status is not None:
        assert response.status_code == expect_status, response.text
    body: dict[str, Any] = response.json()
    return body


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


LOGIN = """
mutation($u: String!, $p: String!) {
  login(username: $u, password: $p) { token expiresAt mustChangePassword errors { code message field } }
}"""


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    body = await gql(client, LOGIN, {"u": username, "p": password})
    payload = body["data"]["login"]
    assert payload["errors"] == [], payload
    token: str = payload["token"]
    return token


async def make_firm(
    name: str = "Anadolu Mobil A.Ş.", tax: str = "1111111111", allowed_ips: list[str] | None = None
) -> Firm:
    return await Firm.create(
        name=name,
        tax_number=tax,
        kind=FirmKind.IMPORTER,
        contact_email="firma@example.com",
        allowed_ips=allowed_ips or [],
        created_at=clock.now(),
    )


async def make_user(
    username: str,
    role: Role,
    firm: Firm | None = None,
    must_change_password: bool = False,
    password: str = PASSWORD,
) -> User:
    return await User.create(
        username=username,
        full_name=username.title(),
        email=f"{username}@example.com",
        role=role,
        firm_id=firm.id if firm else None,
        password_hash=await hash_password(password),
        must_change_password=must_change_password,
        created_at=clock.now(),
    )


@dataclass
class World:
    """Two firms with a user and a supervisor each, and staff of every role."""

    firm_a: Firm
    firm_b: Firm
    users: dict[str, User]


async def make_world() -> World:
    firm_a = await make_firm("Anadolu Mobil A.Ş.", "1111111111")
    firm_b = await make_firm("Kıbrıs Cihaz Ltd.", "2222222222")
    users = {
        "a_user": await make_user("a.user", Role.FIRM_USER, firm_a),
        "a_super": await make_user("a.super", Role.FIRM_SUPERVISOR, firm_a),
        "b_user": await make_user("b.user", Role.FIRM_USER, firm_b),
        "b_super": await make_user("b.super", Role.FIRM_SUPERVISOR, firm_b),
        "reviewer": await make_user("staff.reviewer", Role.STAFF_REVIEWER),
        "archive": await make_user("staff.archive", Role.STAFF_ARCHIVE),
        "admin": await make_user("staff.admin", Role.STAFF_ADMIN),
    }
    return World(firm_a=firm_a, firm_b=firm_b, users=users)
