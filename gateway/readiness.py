"""Readiness that tells the truth, and a heartbeat of it for `mcks serve`'s supervisor.

A process whose pool is wedged still answers /healthz (the event loop runs), so liveness
probes never restart it. Readiness asks the database through the pool with a deadline; under
`mcks serve` each server process also beats a shared clock whenever it is ready, and the
supervisor replaces a process whose beat stops for `MCKS_UNREADY_RESTART_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from gateway.db import ping

# Set by the supervisor's child process before the app starts: a shared double holding the
# monotonic time (system-wide on Linux) of the last successful readiness check.
BEAT: Any = None
BEAT_EVERY_SECONDS = 1.0


async def ready(deadline: float) -> bool:
    return await ping(deadline)


async def beat_while_ready(stop: asyncio.Event, deadline: float) -> None:
    """Beat the supervisor's clock after every readiness check that passes, until `stop`."""
    while not stop.is_set():
        if BEAT is not None and await ready(deadline):
            BEAT.value = time.monotonic()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), BEAT_EVERY_SECONDS)
