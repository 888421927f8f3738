"""Database faults as an operator meets them: backends terminated, connections refused.

`terminate_backends` is PostgreSQL's own `pg_terminate_backend` on every other session of the
current database (only ever the test's or the bench's own database). `TcpProxy` stands
between the gateway and PostgreSQL: stopping it cuts the live connections and refuses new
ones, as a server that went away does, without touching the real server others use.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

TERMINATE_OTHERS = (
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
    "AND backend_type = 'client backend'"
)


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


async def admin_connection(url: str) -> Any:
    import asyncpg

    return await asyncpg.connect(asyncpg_dsn(url))


async def terminate_backends(admin: Any) -> int:
    """Terminate every other session of the admin connection's database; how many."""
    return int(await admin.fetchval(TERMINATE_OTHERS))


def via_port(url: str, port: int, host: str = "127.0.0.1") -> str:
    """The same database URL, reached through host:port (the proxy)."""
    parts = urlsplit(url)
    credentials = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{credentials}{host}:{port}"))


def target_of(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 5432


class _Link:
    """One proxied connection: the client's side and the upstream side."""

    def __init__(self, client: asyncio.StreamWriter, upstream: asyncio.StreamWriter) -> None:
        self.client = client
        self.upstream = upstream
        self.severed = False
        # The client sent last (a statement in flight): a backend dying now would have said
        # so at once (a FATAL notice), so a severed link in this state is cut at once too.
        self.awaiting_reply = False

    def abort(self) -> None:
        for end in (self.client, self.upstream):
            with contextlib.suppress(Exception):
                end.transport.abort()


class TcpProxy:
    """A loopback TCP proxy to one upstream address; `stop()` / `start()` make an outage,
    `sever()` kills the server side of live connections without the client knowing yet."""

    def __init__(self, upstream: tuple[str, int], port: int = 0) -> None:
        self.upstream = upstream
        self.port = port
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        """Refuse new connections and cut the live ones (RST, as a dead server's host)."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for link in list(self._links):
            link.abort()
        self._links.clear()

    def sever(self) -> int:
        """The backends of the live connections are gone, but the client learns it only when
        it next sends something (as after a terminated backend whose notice is not read yet):
        that message fails. New connections work. Returns how many were severed."""
        links = list(self._links)
        for link in links:
            link.severed = True
            if link.awaiting_reply:
                link.abort()
            else:
                with contextlib.suppress(Exception):
                    link.upstream.transport.abort()
        return len(links)

    @property
    def running(self) -> bool:
        return self._server is not None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        link = _Link(writer, up_writer)
        self._links.add(link)
        try:
            await asyncio.gather(self._forward(reader, link), self._backward(up_reader, link))
        finally:
            self._links.discard(link)

    @staticmethod
    async def _forward(reader: asyncio.StreamReader, link: _Link) -> None:
        try:
            while data := await reader.read(65536):
                if link.severed:
                    break  # the client spoke to a dead backend: now it finds out
                link.awaiting_reply = True
                link.upstream.write(data)
                await link.upstream.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        link.abort()

    @staticmethod
    async def _backward(reader: asyncio.StreamReader, link: _Link) -> None:
        try:
            while data := await reader.read(65536):
                link.awaiting_reply = False
                link.client.write(data)
                await link.client.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        if not link.severed:
            link.abort()


def server_processes(supervisor: int) -> set[int]:
    """A supervisor's server processes (spawned children, not multiprocessing's helpers)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == supervisor and b"spawn_main" in command:
            found.add(int(entry.name))
    return found
