"""The demo (development mode) verifies declarations against the simulated authorities."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx

from gateway.demo import load_demo, start_demo_authorities
from models import clock
from models.individuals import Registration, RegistrationStatus
from resolvers.settings import configure, get_settings, updated
from tests.support.individuals import (
    declaration,
    imei,
    national_id,
    seed_tacs,
    submit_edevlet,
)

ROOT = Path(__file__).resolve().parent.parent


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


async def test_the_demo_verifies_declarations_with_separate_workers(db, client):
    """With MCKS_IN_PROCESS_WORKER=0 the batches are sent by `mcks worker`, which must then
    reach the simulated authorities itself (a real worker process on the test database)."""
    await load_demo()
    await seed_tacs()
    updated(individual_device_limit=100)
    entered = clock.now().date() - timedelta(days=3)
    payload = await submit_edevlet(
        client, declaration("EDV-DEMO-WORKER", [imei(70)], national=national_id(1), entry=entered)
    )
    assert payload["errors"] == [], payload
    registration_id = payload["registration"]["id"]
    env = {
        **os.environ,
        "DATABASE_URL": db,
        "MCKS_ENV": "development",
        "MCKS_IN_PROCESS_WORKER": "0",
        "MCKS_WORKER_POLL_SECONDS": "0.2",
        "MCKS_LOG_LEVEL": "WARNING",
    }
    for name in [key for key in env if key.startswith("MCKS_AUTHORITY_")]:
        del env[name]
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli", "worker", cwd=ROOT, env=env
    )
    try:
        async with asyncio.timeout(120):
            while True:
                registration = await Registration.get(id=registration_id)
                if registration.status != RegistrationStatus.PENDING_VERIFICATION:
                    break
                await asyncio.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGTERM)
        async with asyncio.timeout(60):
            await worker.wait()
    assert registration.status == RegistrationStatus.VERIFIED
