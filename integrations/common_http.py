"""What every integration's HTTP client and simulator share: a client that may own its
httpx pool, capped reads of answers, and serving a simulator on loopback inside the host's
event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Generator
from types import TracebackType
from typing import Any, Self

import httpx
import uvicorn


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside someone else's event loop: leave signal handling to the host process."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@contextlib.asynccontextmanager
async def serve_app(app: Any, host: str, port: int, what: str) -> AsyncIterator[str]:
    """Run `app` on `host:port` (0: a free port) in this loop; yields its base URL."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="off",
        # uvicorn's loggers are process-wide: a server embedded in the gateway's process (the
        # demo) must leave them as the gateway set them. No dictConfig, no levels, and
        # access_log=True only means "do not clear the access logger's handlers".
        log_config=None,
        log_level=None,
        access_log=True,
        # A request still held by a simulated fault must not hold shutdown for long.
        timeout_graceful_shutdown=1,
    )
    server = _EmbeddedServer(config)

    async def run() -> None:
        try:
            await server.serve()
        except SystemExit as exc:  # uvicorn exits the process when it cannot bind
            raise RuntimeError(f"{what} could not start on {host}:{port}") from exc

    task = asyncio.create_task(run())
    try:
        while not server.started:
            if task.done():
                await task  # raises why it stopped
                raise RuntimeError(f"{what} stopped before it started")
            await asyncio.sleep(0.005)
        yield f"http://{host}:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        await task


class ResponseTooLarge(Exception):
    pass


async def read_capped(response: httpx.Response, limit: int) -> bytes:
    """A streamed body, or ResponseTooLarge as soon as it passes `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise ResponseTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


class PooledClient:
    """Holds an `httpx.AsyncClient`: a shared one (its owner closes it) or its own, closed by
    `aclose()` or `async with`. Redirects are not followed: an endpoint that redirects is
    misconfigured."""

    def __init__(self, client: httpx.AsyncClient | None) -> None:
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(follow_redirects=False)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
