"""The demo (development mode) verifies declarations against the simulated authorities."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import replace

import httpx

from gateway.demo import start_demo_authorities
from resolvers.settings import configure, get_settings


async def test_development_serves_the_authority_simulator_when_none_is_configured(settings):
    configure(replace(settings, env="development"))
    async with AsyncExitStack() as stack:
        url = await start_demo_authorities(stack)
        assert url is not None and url.startswith("http://127.0.0.1:")
        assert get_settings().authority_border_records_url == url
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{url}/health")).json() == {"status": "ok"}


async def test_configured_authorities_are_left_alone(settings):
    configure(replace(settings, env="development", authority_customs_url="http://customs.example"))
    async with AsyncExitStack() as stack:
        assert await start_demo_authorities(stack) is None
    assert get_settings().authority_border_records_url == ""
