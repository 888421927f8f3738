"""One client's check quota holds across gateway processes: `mcks serve --workers 2` on one
port, requests on fresh connections (the kernel spreads them over both processes), every
process counting against the same per-minute quota in the database."""

from __future__ import annotations

import asyncio
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from gateway.demo import load_demo
from models.accounts import MachineClient
from resolvers.settings import get_settings
from tests.support.faults import server_processes
from tests.support.operators import CHECK, OPERATOR_TOKEN, imei
from tests.test_serve import ROOT, free_port, healthy, serve_command, serve_env, wait_for

QUOTA = 40
REQUESTS = 100


async def test_the_quota_holds_across_two_processes(db):
    await load_demo()
    await MachineClient.filter(operator_code="DEMOGSM").update(checks_per_minute=QUOTA)
    await asyncio.to_thread(quota_scenario, db, get_settings().secret_key)


def quota_scenario(database_url: str, secret_key: str) -> None:
    port = free_port()
    supervisor = subprocess.Popen(
        serve_command(port), cwd=ROOT, env=serve_env(database_url, secret_key)
    )
    try:
        # Generous: starting two processes on a loaded machine takes a while.
        wait_for(lambda: len(server_processes(supervisor.pid)) == 2 and healthy(port), 120)
        for _ in range(3):
            # A burst takes a second or two: start it where it fits in one quota window.
            wait_for(lambda: 60 - time.time() % 60 > 15, 60)
            minute = time.time() // 60
            answers = burst(port)
            if time.time() // 60 == minute:
                break
            # It straddled (a stalled machine): the next window is used too, so take the one
            # after it.
            wait_for(lambda: time.time() // 60 >= minute + 2, 150)  # noqa: B023
        else:
            raise AssertionError("three bursts each straddled a minute boundary")
        allowed = [a for a in answers if a.get("data")]
        refused = [a for a in answers if a.get("errors")]
        # Exactly the quota, whichever process answered: not twice it.
        assert len(allowed) == QUOTA, answers
        assert len(refused) == REQUESTS - QUOTA
        for answer in refused:
            [error] = answer["errors"]
            assert error["extensions"]["code"] == "RATE_LIMITED"
            assert 1 <= error["extensions"]["retryAfter"] <= 60
    finally:
        supervisor.terminate()
        supervisor.wait(timeout=40)


def burst(port: int) -> list[dict]:
    def one(n: int) -> dict:
        # A fresh connection per request, so both processes get their share.
        response = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": CHECK, "variables": {"imeis": [imei(n)]}},
            headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(REQUESTS)))
