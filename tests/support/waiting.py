"""Waiting for what another process or task does: a deadline for an event, not a timing."""

from __future__ import annotations

import asyncio
from typing import Any


async def eventually(condition: Any, seconds: float = 90.0) -> Any:
    """`condition()`'s first truthy answer, asked again every 0.2 s for up to `seconds`."""
    async with asyncio.timeout(seconds):
        while True:
            if value := await condition():
                return value
            await asyncio.sleep(0.2)
