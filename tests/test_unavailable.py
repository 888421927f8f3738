"""Failures outside the resolvers still answer in GraphQL's error shape with a request id: a
database out of reach while authenticating (503), anything a route lets escape (500), never
the server's plain-text 500. (The real outages are in test_db_faults, on PostgreSQL.)"""

from __future__ import annotations

import asyncpg

import gateway.downloads
import gateway.middleware
from tests.support.api import login, make_world


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == code
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    assert response.headers["x-request-id"] in error["message"]


async def test_a_database_out_of_reach_while_authenticating_answers_503(client, monkeypatch):
    async def refused(*args, **kwargs):
        raise asyncpg.ConnectionDoesNotExistError(
            "connection was closed in the middle of operation"
        )

    monkeypatch.setattr(gateway.middleware, "authenticate", refused)
    answer = await client.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"Authorization": "Bearer some-token", "X-Request-ID": "req-db-down-1"},
    )
    assert_error(answer, 503, "SERVICE_UNAVAILABLE")
    assert answer.headers["x-request-id"] == "req-db-down-1"
    english = await client.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"Authorization": "Bearer some-token", "Accept-Language": "en"},
    )
    assert "cannot reach its database" in english.json()["errors"][0]["message"]


async def test_an_error_escaping_a_route_is_json_with_a_request_id(client, monkeypatch, caplog):
    def broken() -> bytes:
        raise RuntimeError("secret detail at db.internal")

    await make_world()
    token = await login(client, "staff.admin")
    monkeypatch.setattr(gateway.downloads, "build_template_xlsx", broken)
    answer = await client.get(
        "/templates/device-list.xlsx", headers={"Authorization": f"Bearer {token}"}
    )
    assert_error(answer, 500, "INTERNAL_ERROR")
    assert "secret detail" not in answer.text
    assert any(answer.headers["x-request-id"] in r.getMessage() for r in caplog.records)
