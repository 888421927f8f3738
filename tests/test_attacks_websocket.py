"""WebSocket sessions end with their token: a real uvicorn on loopback and a
graphql-transport-ws client. The socket authenticates in connection_init, runs no queries or
mutations, and is closed when its session ends, however it ends."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from models import clock
from models.accounts import AccessToken
from models.applications import Application
from models.roles import Role
from resolvers.settings import updated
from tests.support.api import gql, login, make_firm, make_user
from tests.support.individuals import serve_gateway

PROTOCOL = "graphql-transport-ws"
# Generous: the machine may be loaded; the point is that the close comes, not how fast.
WAIT = 60


@asynccontextmanager
async def live(app: Any) -> AsyncIterator[tuple[Any, str]]:
    async with serve_gateway(app) as client:
        yield client, f"ws://127.0.0.1:{client.base_url.port}/graphql"


async def opened(
    url: str, token: str | None, ip_header: dict[str, str] | None = None
) -> ClientConnection:
    socket = await connect(url, subprotocols=[PROTOCOL], additional_headers=ip_header or {})
    payload = {"Authorization": f"Bearer {token}"} if token else {}
    await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
    return socket


async def acked(url: str, token: str) -> ClientConnection:
    socket = await opened(url, token)
    message = json.loads(await asyncio.wait_for(socket.recv(), WAIT))
    assert message == {"type": "connection_ack"}
    return socket


async def close_code(socket: ClientConnection) -> int | None:
    """Wait for the server to close the socket; its close code."""
    with pytest.raises(ConnectionClosed):
        while True:
            await asyncio.wait_for(socket.recv(), WAIT)
    return socket.close_code


@pytest.fixture
async def firm_user(db):
    firm = await make_firm()
    await make_user("a.user", Role.FIRM_USER, firm)
    await make_user("staff.admin", Role.STAFF_ADMIN)
    return firm


CREATE = (
    'mutation { createApplication(input: {kind: IMPORT, data: {importDate: "2026-11-02", '
    'customsDeclarationNo: "26341300IM012345", originCountry: "CN", invoiceNo: "F-1", '
    'invoiceDate: "2026-10-28"}}) { application { id } errors { code } } }'
)


async def test_a_socket_without_a_valid_token_is_refused(app, firm_user):
    async with live(app) as (_, url):
        for token in (None, "not-a-token"):
            socket = await opened(url, token)
            assert await close_code(socket) == 4403


async def test_a_socket_that_never_initialises_is_closed(app, firm_user, settings):
    updated(ws_init_timeout_seconds=1)
    from gateway.app import create_app

    async with live(create_app(manage_db=False)) as (_, url):
        socket = await connect(url, subprotocols=[PROTOCOL])
        assert await close_code(socket) == 4408


async def test_queries_and_mutations_do_not_run_over_the_socket(app, firm_user):
    async with live(app) as (client, url):
        token = await login(client, "a.user")
        socket = await acked(url, token)
        for i, query in enumerate(("{ viewer { kind } }", CREATE)):
            await socket.send(
                json.dumps({"id": str(i), "type": "subscribe", "payload": {"query": query}})
            )
            answer = json.loads(await asyncio.wait_for(socket.recv(), WAIT))
            assert answer["type"] == "error" and answer["id"] == str(i)
            assert answer["payload"][0]["extensions"]["code"] == "BAD_REQUEST"
        await socket.close()
    assert await Application.all().count() == 0


async def test_logout_closes_the_socket_at_once(app, firm_user, settings):
    updated(ws_recheck_seconds=3600)  # only the logout itself can end it in time
    async with live(app) as (client, url):
        token = await login(client, "a.user")
        socket = await acked(url, token)
        body = await gql(client, "mutation { logout { errors { code } } }", token=token)
        assert body["data"]["logout"]["errors"] == []
        assert await close_code(socket) == 4401


async def test_a_token_revoked_by_another_process_ends_the_session_at_the_next_check(
    app, firm_user, settings
):
    updated(ws_recheck_seconds=1)
    async with live(app) as (client, url):
        token = await login(client, "a.user")
        socket = await acked(url, token)
        # Another gateway process wrote this: no hook runs here.
        await AccessToken.filter(revoked_at__isnull=True).update(revoked_at=clock.now())
        assert await close_code(socket) == 4401


async def test_an_expiring_token_ends_the_session_when_it_expires(app, firm_user, settings):
    updated(ws_recheck_seconds=3600)
    async with live(app) as (client, url):
        token = await login(client, "a.user")
        await AccessToken.filter(revoked_at__isnull=True).update(
            expires_at=clock.now() + timedelta(seconds=2)
        )
        socket = await acked(url, token)
        assert await close_code(socket) == 4401


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ("updateFirm(input: {firmId: FIRM, isActive: false})", 4401),
        ('updateFirm(input: {firmId: FIRM, allowedIps: ["192.0.2.1"]})', 4403),
        ("setUserActive(userId: USER, active: false)", 4401),
    ],
)
async def test_staff_changes_end_the_firms_sessions(app, firm_user, settings, change, code):
    updated(ws_recheck_seconds=3600)
    async with live(app) as (client, url):
        user_token = await login(client, "a.user")
        admin_token = await login(client, "staff.admin")
        socket = await acked(url, user_token)
        from models.accounts import User

        user = await User.get(username="a.user")
        mutation = change.replace("FIRM", str(firm_user.id)).replace("USER", str(user.id))
        body = await gql(
            client, f"mutation {{ {mutation} {{ errors {{ code }} }} }}", token=admin_token
        )
        assert next(iter(body["data"].values()))["errors"] == []
        assert await close_code(socket) == code


async def test_a_live_session_keeps_running_while_its_token_works(app, firm_user, settings):
    updated(ws_recheck_seconds=1)
    async with live(app) as (client, url):
        token = await login(client, "a.user")
        socket = await acked(url, token)
        # Several re-checks pass; the socket still answers pings.
        for _ in range(3):
            await socket.send(json.dumps({"type": "ping"}))
            assert json.loads(await asyncio.wait_for(socket.recv(), WAIT)) == {"type": "pong"}
            await asyncio.sleep(1)
        await socket.close()
