"""Wakes this process's subscribers when another process (or this one) commits a change.

PostgreSQL: one dedicated asyncpg connection per gateway process LISTENs on
`resolvers.events.CHANNEL` and turns each notification into `events.dispatch(topic)`. The
connection is watched (termination callback, a ping every few seconds); after it is lost the
listener reconnects with backoff and, once listening again, wakes every subscriber to re-read
from its cursor — whatever was committed while nobody listened is in the tables. SQLite: the
writers dispatch in the process themselves (`events.notify`); nothing to run here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import asyncpg
from tortoise.backends.base.config_generator import expand_db_url

from resolvers import events
from resolvers.settings import get_settings, normalise_database_url

log = logging.getLogger("mcks.push")

PING_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 10.0
# How the listener shows in pg_stat_activity (operations can find it; tests cut it).
APPLICATION_NAME = "mcks-push-listener"


def _credentials(url: str) -> dict[str, Any] | None:
    url = normalise_database_url(url)
    if not url.startswith("postgres://"):
        return None
    credentials = expand_db_url(url)["credentials"]
    return {
        "host": credentials.get("host"),
        "port": int(credentials.get("port") or 5432),
        "user": credentials.get("user"),
        "password": credentials.get("password") or None,
        "database": credentials.get("database"),
    }


class Listener:
    def __init__(self, credentials: dict[str, Any]) -> None:
        self.credentials = credentials
        self.connected = asyncio.Event()
        self.reconnects = 0
        self.connection: asyncpg.Connection | None = None

    def _on_notification(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        # An unknown payload (a newer process's topic) wakes everybody: safe, never lost.
        events.dispatch(payload if payload in events.TOPICS else None)

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.2
        while not stop.is_set():
            try:
                connection = await asyncpg.connect(
                    **self.credentials,
                    timeout=10,
                    server_settings={"application_name": APPLICATION_NAME},
                )
            except Exception as error:
                log.warning("push listener: cannot connect (%s); retry in %.1fs", error, backoff)
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            lost = asyncio.Event()
            connection.add_termination_listener(lambda _c, lost=lost: lost.set())
            try:
                await connection.add_listener(events.CHANNEL, self._on_notification)
                self.connection = connection
                # Listening again: re-read everything after every cursor (nothing is lost).
                events.dispatch(None)
                self.connected.set()
                backoff = 0.2
                await self._watch(connection, stop, lost)
            except Exception as error:
                log.warning("push listener: connection lost (%s); reconnecting", error)
            finally:
                self.connected.clear()
                self.connection = None
                with suppress(Exception):
                    await asyncio.wait_for(connection.close(), 2)
                if not connection.is_closed():
                    connection.terminate()
            if not stop.is_set():
                self.reconnects += 1

    async def _watch(
        self, connection: asyncpg.Connection, stop: asyncio.Event, lost: asyncio.Event
    ) -> None:
        stopping = asyncio.ensure_future(stop.wait())
        dropped = asyncio.ensure_future(lost.wait())
        try:
            while not stop.is_set() and not lost.is_set():
                await asyncio.wait({stopping, dropped}, timeout=PING_SECONDS)
                if stop.is_set() or lost.is_set():
                    break
                # A silent network failure shows up only when we talk.
                await connection.fetchval("SELECT 1", timeout=PING_SECONDS)
        finally:
            stopping.cancel()
            dropped.cancel()


@asynccontextmanager
async def push_channel(database_url: str | None = None) -> AsyncIterator[Listener | None]:
    """Run this process's listener (PostgreSQL) for the duration of the block."""
    credentials = _credentials(database_url or get_settings().database_url)
    if credentials is None:
        yield None
        return
    listener = Listener(credentials)
    stop = asyncio.Event()
    task = asyncio.create_task(listener.run(stop))
    try:
        # Subscriptions opened from now on wake on commits; don't hold start-up for ever.
        with suppress(TimeoutError):
            await asyncio.wait_for(listener.connected.wait(), 10)
        yield listener
    finally:
        stop.set()
        task.cancel()
        with suppress(asyncio.CancelledError, Exception):
            await task
