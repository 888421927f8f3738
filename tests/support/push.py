"""A graphql-transport-ws client for the subscription tests: real sockets on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from gateway.push import push_channel
from resolvers.actor import Actor
from resolvers.settings import get_settings

PROTOCOL = "graphql-transport-ws"
# Generous: the machine may be loaded; what matters is that the event comes.
WAIT = 60.0
SYSTEM = Actor.system("test")

WHITELIST = """subscription($after: String, $first: Int! = 1000) {
  whitelistChanges(after: $after, first: $first) {
    items { cursor op imei status reason } pageInfo { endCursor hasNextPage }
  }
}"""


@asynccontextmanager
async def listening() -> AsyncIterator[None]:
    """This process's PostgreSQL listener (the app's lifespan runs it; tests serve the app
    without one). Nothing to run on SQLite."""
    async with push_channel(get_settings().database_url):
        yield


async def session(url: str, token: str, **options: Any) -> ClientConnection:
    socket = await connect(url, subprotocols=[PROTOCOL], **options)
    await socket.send(
        json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
    )
    message = json.loads(await asyncio.wait_for(socket.recv(), WAIT))
    assert message == {"type": "connection_ack"}, message
    return socket


async def subscribe(
    socket: ClientConnection, query: str, variables: dict[str, Any] | None = None, id: str = "1"
) -> None:
    payload = {"query": query, "variables": variables or {}}
    await socket.send(json.dumps({"id": id, "type": "subscribe", "payload": payload}))


# Messages received for other operations than the one awaited, per socket.
_held: dict[int, list[dict[str, Any]]] = {}


async def message(socket: ClientConnection, id: str = "1") -> dict[str, Any]:
    """The next message of operation `id` (pings answered, other operations' kept)."""
    held = _held.setdefault(id_of(socket), [])
    for index, raw in enumerate(held):
        if raw.get("id") == id:
            return held.pop(index)
    while True:
        raw = json.loads(await asyncio.wait_for(socket.recv(), WAIT))
        if raw.get("type") == "ping":
            await socket.send(json.dumps({"type": "pong"}))
            continue
        if raw.get("id") == id:
            return raw  # type: ignore[no-any-return]
        held.append(raw)


def id_of(socket: ClientConnection) -> int:
    return id(socket)


async def data(socket: ClientConnection, id: str = "1") -> dict[str, Any]:
    """The next result of operation `id`; fails on errors or completion."""
    received = await message(socket, id)
    assert received["type"] == "next" and not received["payload"].get("errors"), received
    return received["payload"]["data"]  # type: ignore[no-any-return]


async def feed_items(
    socket: ClientConnection, field: str, count: int, id: str = "1"
) -> tuple[list[dict[str, Any]], str]:
    """Pages of a feed subscription until `count` items came; the items and the last cursor."""
    items: list[dict[str, Any]] = []
    cursor = ""
    while len(items) < count:
        page = (await data(socket, id))[field]
        assert page["items"], "a feed subscription never sends an empty page"
        items.extend(page["items"])
        cursor = page["pageInfo"]["endCursor"]
    return items, cursor


async def close_code(socket: ClientConnection) -> int | None:
    """Wait for the server to close the socket (reading what it still sends); its code."""
    try:
        while True:
            await asyncio.wait_for(socket.recv(), WAIT)
    except ConnectionClosed:
        pass
    return socket.close_code
